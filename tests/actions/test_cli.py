"""The write commands end to end: the real CLI against moto's server on loopback.

Most tests run `wsfleet` as a subprocess; the read-only sweep calls `cli.main` in this process
(same code path from argv on, against the same HTTP server) to keep the suite fast, and one
subprocess call proves the gate there too.
"""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.actions.conftest import ASG, Other
from tests.helpers.moto_fleet import make_fleet, write_config
from tests.helpers.moto_server import moto_server  # noqa: F401  (pytest fixture)
from wsfleet import cli

ROOT = Path(__file__).resolve().parents[2]
FLEET_KEYS = dict(
    env="prod",
    app="chat",
    warm_pool={"min_size": 2, "max_prepared_capacity": 6, "pool_state": "Stopped", "reuse_on_scale_in": True},
    schedule=[{"name": "weekday-morning", "recurrence": "0 7 * * MON-FRI", "time_zone": "Europe/Berlin", "min_size": 4, "desired_capacity": 4}],
)


def _config(tmp_path: Path, endpoint_url: str) -> Path:
    path = write_config(tmp_path, endpoint_url, ASG, fleet="prod-chat", **FLEET_KEYS)
    path.write_text(f'audit_log = "{tmp_path / "audit.jsonl"}"\n' + path.read_text())
    return path


@pytest.fixture
def env(moto_server, tmp_path):  # noqa: F811
    make_fleet(None, ASG, instances=4, endpoint_url=moto_server.endpoint_url)
    return _Env(_config(tmp_path, moto_server.endpoint_url), Other(moto_server.endpoint_url), tmp_path)


class _Env:
    def __init__(self, config: Path, other: Other, tmp: Path) -> None:
        self.config, self.other, self.tmp = config, other, tmp

    def run(self, *args: str, stdin=subprocess.DEVNULL, config: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "wsfleet", "--config", str(config or self.config), *args],
            capture_output=True, text=True, stdin=stdin, cwd=ROOT, timeout=60,
        )

    def main(self, *args: str) -> int:
        return cli.main(["--config", str(self.config), *args])

    def audit(self) -> list[dict]:
        path = self.tmp / "audit.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _one_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wsfleet: ") and lines[0].endswith("."), lines[0]
    assert "Traceback" not in stderr
    return lines[0]


def test_provision_dry_run_then_apply_then_nothing_to_do(env):
    before = env.other.snapshot()
    dry = env.run("provision", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "+ create    alarm prod-chat-high-tcp-connections" in dry.stdout and "Dry run: nothing was written." in dry.stdout
    assert env.other.snapshot() == before

    done = env.run("provision", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("(read back: as intended)") == 6
    policy = env.other.policy("high_tcp_connections_policy")
    assert env.other.alarm("prod-chat-high-tcp-connections")["AlarmActions"] == [policy["PolicyARN"]]
    assert [s.get("MetricIntervalUpperBound") for s in policy["StepAdjustments"]] == [5000.0, 10000.0, None]
    assert env.other.warm_pool()["MinSize"] == 2
    assert "weekday-morning" in env.other.actions()

    again = env.run("provision", "--yes")
    assert again.returncode == 0 and "Nothing to change." in again.stdout
    assert "+ create" not in again.stdout and "~ update" not in again.stdout
    assert [e["result"] for e in env.audit()] == ["applied"]


WRITES = [
    ("provision", "--yes"),
    ("scale", "out", "2", "--yes"),
    ("scale", "in", "1", "--yes"),
    ("scale", "to", "6", "--yes"),
    ("thresholds", "set", "--high", "22000", "--yes"),
    ("schedule", "put", "evening", "--cron", "0 18 * * *", "--min", "2", "--yes"),
    ("schedule", "delete", "weekday-morning", "--yes"),
    ("warm-pool", "set", "--min-size", "3", "--yes"),
]


def test_read_only_refuses_every_write_path(env, capsys):
    assert env.main("provision", "--yes") == 0  # so thresholds/delete have something to refuse to change
    env.other.asg.delete_warm_pool(AutoScalingGroupName=ASG, ForceDelete=True)  # ... and provision too
    before = env.other.snapshot()
    capsys.readouterr()
    for argv in WRITES:
        code = env.main("--read-only", *argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert "--read-only is set" in _one_sentence(err), argv
    proc = env.run("--read-only", "scale", "out", "1", "--yes")
    assert proc.returncode == 2 and "--read-only is set" in _one_sentence(proc.stderr)
    assert env.other.snapshot() == before
    refused = [e for e in env.audit() if e["result"] == "refused"]
    assert len(refused) == len(WRITES) + 1


def test_without_a_terminal_or_yes_nothing_is_written(env):
    before = env.other.snapshot()
    proc = env.run("scale", "out", "1")
    assert proc.returncode == 2
    assert "pass --yes" in _one_sentence(proc.stderr)
    assert env.other.snapshot() == before


@pytest.mark.parametrize("answer, code, desired", [("y\n", 0, 5), ("n\n", 2, 4)])
def test_interactive_prompt_repeats_the_change(env, answer, code, desired):
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wsfleet", "--config", str(env.config), "scale", "out", "1"],
            stdin=follower, stdout=subprocess.PIPE, stderr=follower, cwd=ROOT, text=True,
        )
        seen = b""
        while b"[y/N]" not in seen:
            chunk = os.read(leader, 1024)
            assert chunk, seen
            seen += chunk
        assert b"Scale prod-chat-asg out from 4 to 5 instances. Apply 1 change to prod-chat-asg? [y/N]" in seen
        os.write(leader, answer.encode())
        proc.wait(timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == code
    assert env.other.group()["DesiredCapacity"] == desired


def test_scale_past_max_then_raise_max(env):
    proc = env.run("scale", "out", "9", "--yes")
    assert proc.returncode == 2 and "--raise-max" in _one_sentence(proc.stderr)
    assert env.other.group()["DesiredCapacity"] == 4
    proc = env.run("scale", "out", "9", "--raise-max", "--yes")
    assert proc.returncode == 0, proc.stderr
    g = env.other.group()
    assert (g["MaxSize"], g["DesiredCapacity"]) == (13, 13)


def test_thresholds_schedule_and_warm_pool_through_the_cli(env):
    assert env.run("provision", "--yes").returncode == 0
    proc = env.run("thresholds", "set", "--high", "22,000", "--steps", "22000:26000:+2,26000::+3", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert env.other.alarm("prod-chat-high-tcp-connections")["Threshold"] == 22000.0
    assert [s.get("MetricIntervalLowerBound") for s in env.other.policy("high_tcp_connections_policy")["StepAdjustments"]] == [0.0, 4000.0]

    proc = env.run("schedule", "put", "evening", "--cron", "0 18 * * *", "--time-zone", "America/New_York",
                   "--min", "2", "--max", "8", "--desired", "3", "--yes")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(env.run("schedule", "list", "--format", "json").stdout)
    evening = next(a for a in listed["scheduled_actions"] if a["name"] == "evening")
    assert evening["next_run"].endswith("18:00:00-05:00") or evening["next_run"].endswith("18:00:00-04:00")
    assert (evening["min_size"], evening["max_size"], evening["desired_capacity"]) == (2, 8, 3)
    assert env.run("schedule", "delete", "evening", "--yes").returncode == 0
    assert "evening" not in env.other.actions()

    proc = env.run("warm-pool", "set", "--max-prepared", "none", "--state", "Hibernated", "--no-reuse-on-scale-in", "--yes")
    assert proc.returncode == 0, proc.stderr
    pool = env.other.warm_pool()
    assert (pool["PoolState"], pool.get("MaxGroupPreparedCapacity", -1), pool["InstanceReusePolicy"]["ReuseOnScaleIn"]) == ("Hibernated", -1, False)

    log = json.loads(env.run("audit", "-n", "3", "--format", "json").stdout)
    assert [e["action"] for e in log] == ["schedule put", "schedule delete", "warm-pool set"]
    assert "warm-pool set" in env.run("audit").stdout


class _CountingListener:
    """A loopback TCP port that counts connections: the config's AWS endpoint for bad-input tests."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


BAD = [
    (("schedule", "put", "x", "--cron", "0 7 * * * MON", "--min", "1"), "6 fields"),
    (("schedule", "put", "x", "--cron", "0 25 * * *", "--min", "1"), "hour 25 is out of range"),
    (("schedule", "put", "x", "--cron", "0 7 * * *", "--time-zone", "Mars/Base", "--min", "1"), "not an IANA time zone"),
    (("schedule", "put", "x", "--cron", "0 7 * * *", "--min", "5", "--max", "2"), "min size 5 is above max size 2"),
    (("schedule", "put", "x", "--cron", "0 7 * * *", "--min", "1", "--max", "3", "--desired", "4"), "outside min..max"),
    (("schedule", "put", "x", "--cron", "0 7 * * *", "--min", "four"), "--min must be a whole number"),
    (("schedule", "put", "x", "--cron", "0 7 * * *", "--min", "1", "--start", "next tuesday"), "not an ISO 8601 time"),
    (("scale", "out", "0", "--yes"), "at least 1"),
    (("scale", "in", "-1", "--yes"), "at least 1"),
    (("scale", "out", "two", "--yes"), "invalid int value"),
    (("thresholds", "set", "--high", "lots", "--yes"), "--high must be a number"),
    (("thresholds", "set", "--high", "20000", "--steps", "20000:26000:+2,25000::+3", "--yes"), "overlap"),
    (("thresholds", "set", "--high", "10000", "--low", "12000", "--yes"), "must be below --high"),
    (("warm-pool", "set", "--min-size", "-2", "--yes"), "0 or more"),
    (("warm-pool", "set", "--max-prepared", "many", "--yes"), "whole number"),
]


def test_bad_input_is_one_sentence_and_never_reaches_aws(tmp_path):
    listener = _CountingListener()
    try:
        config = write_config(tmp_path, listener.url, ASG, fleet="prod-chat", env="prod", app="chat")
        args = [sys.executable, "-c", _BATCH, str(config), json.dumps([list(a) for a, _ in BAD])]
        proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=60)
        results = json.loads(proc.stdout)
    finally:
        listener.close()
    for (argv, words), (code, err) in zip(BAD, results):
        assert code == 2, (argv, err)
        line = err.strip()
        assert "\n" not in line and line.startswith("wsfleet: "), (argv, err)
        assert words in line, (argv, line)
    assert listener.connections == 0


# One interpreter for all the bad inputs (each through cli.main from argv, as the console script does).
_BATCH = r"""
import contextlib, io, json, sys
from wsfleet import cli
config, cases = sys.argv[1], json.loads(sys.argv[2])
out = []
for argv in cases:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli.main(["--config", config, *argv])
        except SystemExit as e:
            code = e.code
    out.append((code, err.getvalue()))
print(json.dumps(out))
"""


def test_simulate_from_csv(env, tmp_path):
    rows = ["timestamp,value,instances"]
    for minute in range(120):
        value = 10000 if minute < 30 else 19000 if minute < 90 else 10000  # never below the low 9,500 at 4
        rows.append(f"2026-11-26T{6 + minute // 60:02d}:{minute % 60:02d}:00Z,{value},4")
    csv = tmp_path / "history.csv"
    csv.write_text("\n".join(rows) + "\n")
    before = env.other.snapshot()
    proc = env.run("thresholds", "simulate", "--high", "18000", "--csv", str(csv), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["current"]["config"]["high"] == 20000 and report["proposed"]["config"]["high"] == 18000
    assert report["proposed"]["scale_outs"] > report["current"]["scale_outs"] == 0
    assert env.other.snapshot() == before


def test_simulate_from_cloudwatch_history(env, capsys):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    data = [{"MetricName": "TCPconnections", "Dimensions": [{"Name": "AutoScalingGroupName", "Value": ASG}],
             "Timestamp": now - timedelta(minutes=m), "Value": 19000.0 if m < 40 else 12000.0} for m in range(1, 60)]
    env.other.cw.put_metric_data(Namespace="TCP_Connections", MetricData=data)
    assert env.main("thresholds", "simulate", "--high", "18000", "--hours", "1") == 0
    out = capsys.readouterr().out
    assert "CloudWatch TCP_Connections/TCPconnections, last 1 h at 60 s, 4 instances assumed" in out
    assert "scale-outs" in out and "Nothing was written" in out


def test_simulate_reads_history_at_the_alarms_own_short_period(moto_server, tmp_path, capsys):  # noqa: F811
    """A fleet whose alarms evaluate every 10 s (the demo's) is replayed at 10 s, not refused."""
    from datetime import datetime, timedelta, timezone

    make_fleet(None, ASG, instances=2, endpoint_url=moto_server.endpoint_url)
    fast = {"period": 10, "evaluation_periods": 2, "datapoints_to_alarm": 2}
    config = write_config(tmp_path, moto_server.endpoint_url, ASG, fleet="fast", scale_out=fast, scale_in=dict(fast))
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    data = [{"MetricName": "TCPconnections", "Dimensions": [{"Name": "AutoScalingGroupName", "Value": ASG}],
             "Timestamp": now - timedelta(seconds=10 * k), "Value": 21000.0} for k in range(1, 60)]
    Other(moto_server.endpoint_url).cw.put_metric_data(Namespace="TCP_Connections", MetricData=data)
    assert cli.main(["--config", str(config), "thresholds", "simulate", "--high", "22000", "--hours", "1"]) == 0
    assert "last 1 h at 10 s" in capsys.readouterr().out
