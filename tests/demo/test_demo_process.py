"""The demo fleet in its own process for the dashboard (wsfleet.demo.process): the dashboard waits
for the child's config line, reports a child that died with its last sentence, stops the child by
its PID, and a child whose dashboard's process is gone stops by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from wsfleet.demo.process import DemoProcess
from wsfleet.errors import WsfleetError

ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo"}


def child(code: str) -> DemoProcess:
    return DemoProcess([sys.executable, "-c", code], fleet_name="demo")


def test_a_child_that_dies_before_its_config_is_one_sentence_with_its_last_words():
    proc = child("import sys; print('wsfleet demo: starting'); print('wsfleet demo: --instances 99 is outside the demo group', file=sys.stderr); sys.exit(2)")
    with proc, pytest.raises(WsfleetError) as err:
        proc.wait()
    assert err.value.message == "the demo fleet did not start (exit code 2): --instances 99 is outside the demo group"


def test_the_config_line_opens_the_fleet_and_stop_ends_the_child_by_its_pid(tmp_path, monkeypatch):
    config = tmp_path / "wsfleet.toml"
    config.write_text('[fleets.demo]\nasg = "demo-chat-asg"\nregion = "us-east-1"\nendpoint_url = "http://127.0.0.1:9"\n')
    from wsfleet.demo.env import DUMMY_ENV

    for key in DUMMY_ENV:  # wait() sets them: monkeypatch puts this process's values back afterwards
        monkeypatch.setenv(key, "before")
    monkeypatch.setenv("AWS_PROFILE", "someone-real")  # the dashboard then talks only to the demo's moto, with dummy keys
    proc = child(f"import sys, time; print('wsfleet demo: the story', file=sys.stderr); "
                 f"print('wsfleet demo: config: {config}', file=sys.stderr, flush=True); time.sleep(60)")
    try:
        directory = proc.wait()
        assert directory.default_name(None) == "demo" and proc.config_path == str(config)
        assert os.environ["AWS_ACCESS_KEY_ID"] == "demo" and "AWS_PROFILE" not in os.environ
        assert proc.progress() == ["the story", f"config: {config}"]
        pid = proc.pid
    finally:
        code = proc.stop()
    assert code == -15  # SIGTERM, from stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_cancel_ends_the_wait_at_once():
    proc = child("import time; time.sleep(60)")
    with proc:
        threading.Timer(0.2, proc.cancel).start()
        started = time.monotonic()
        with pytest.raises(WsfleetError, match="stopped before its fleet started"):
            proc.wait()
        assert time.monotonic() - started < 5


@pytest.mark.timeout(120)
def test_a_child_demo_stops_by_itself_when_its_dashboards_process_is_gone():
    # its --parent-pid is not its parent: as if the dashboard's process had died and the child been re-parented
    out = subprocess.run([sys.executable, "-m", "wsfleet", "demo", "--no-ui", "--instances", "2", "--parent-pid", "1"],
                         capture_output=True, text=True, timeout=100, env=ENV)
    assert out.returncode == 0, out.stderr
    assert "the dashboard's process is gone: stopping." in out.stderr
    assert "config: " in out.stderr  # it had started: the watch runs alongside the fleet
