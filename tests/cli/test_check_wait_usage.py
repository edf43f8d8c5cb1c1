"""`check --wait` / `--interval` refused on the command line: exit 2, one sentence on stderr,
nothing on stdout, and no AWS session ever made."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.asyncssh_hosts import closed_port
from tests.helpers.moto_fleet import write_config
from wsfleet import cli
from wsfleet.context import Context


@pytest.fixture
def config(tmp_path):
    return str(write_config(tmp_path, f"http://127.0.0.1:{closed_port()}", "prod-chat-asg"))


@pytest.fixture
def aws_sessions(monkeypatch):
    made: list[str] = []

    def aws(self, fleet=None):
        made.append("session")
        raise AssertionError("an AWS session was made for a refused command line")

    monkeypatch.setattr(Context, "aws", aws)
    return made


@pytest.mark.parametrize("argv", [
    ["--wait", "abc"], ["--wait", "0"], ["--wait=-5m"], ["--wait", "-5"], ["--wait", "10x"], ["--wait", "1h30"],
    ["--wait", "25h"], ["--wait", ""],
    ["--wait", "15m", "--interval", "abc"], ["--wait", "15m", "--interval", "0"], ["--wait", "15m", "--interval", "-1"],
    ["--wait", "15m", "--interval", "0.5"],
    ["--interval", "5"], ["--no-refresh-wait"],
])
def test_a_bad_wait_or_interval_is_exit_2_in_one_sentence_before_any_aws_call(config, aws_sessions, capsys, argv):
    code = cli.main(["--config", config, "check", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and aws_sessions == []
    assert err.startswith("wsfleet: ") and err.count("\n") == 1 and "Traceback" not in err
    flag = "--interval" if "--interval" in " ".join(argv) else "--wait"
    assert flag in err


def test_a_dash_led_wait_value_without_equals_is_still_exit_2(config):
    """argparse reads `--wait -5m` as a missing value: its own one-line usage error."""
    done = subprocess.run([sys.executable, "-m", "wsfleet", "--config", config, "check", "--wait", "-5m"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "--wait" in done.stderr


def test_a_bad_wait_as_a_subprocess_touches_no_endpoint(config):
    done = subprocess.run([sys.executable, "-m", "wsfleet", "--config", config, "check", "--wait", "abc"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("wsfleet: --wait 'abc' is not a duration: give a number of seconds or hours, minutes and "
                           "seconds in that order (e.g. 90, 90s, 15m, 1h or 1h30m).\n")
