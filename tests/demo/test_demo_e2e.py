"""`wsfleet demo --no-ui` end to end, as a user runs it: a subprocess, read by the real CLI meanwhile.

While the demo runs, `wsfleet --config <its config> counts` (real SSH to the demo's instances, the
real count command) must report exactly the connections the demo's own servers hold, for every
instance: the test holds the demo still while `counts` runs (the demo's hold file: no engine step
until it is removed, so no connection moves however long the subprocess takes on a busy machine),
with a per-host SSH timeout of 20 s in the test's copy of the config; in the spike story the high alarm fires, desired capacity rises, and `status` shows the
scaling activity (DescribeScalingActivities) and warm-pool instances (DescribeWarmPool). After it
exits nothing it made is left: no process, no listening port, no temporary directory.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = [
    pytest.mark.timeout(180),
    # handed out among the first (--dist loadgroup: bigger groups first), on one worker
    pytest.mark.xdist_group("demo-cli"),
]
HOLD_DEADLINE = 30.0  # seconds for the demo to finish its current step and hold still
LOADED_TIMEOUT = 20  # the test's per-host SSH timeout: a loaded machine is slow, not failed
DEMO_SECONDS = 180  # an upper bound: the test ends the demo once its checks pass


class RunningDemo:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wsfleet", "demo", "--no-ui", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: anything it leaves behind is findable
        )
        self.frames: queue.Queue[dict] = queue.Queue()
        self.all_frames: list[dict] = []
        self.stderr: list[str] = []
        self._config = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            frame = json.loads(line)
            self.all_frames.append(frame)
            self.frames.put(frame)

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)
            if "config: " in line:
                self._config.set()

    def config_path(self, timeout: float = 30) -> Path:
        assert self._config.wait(timeout), f"the demo printed no config path: {''.join(self.stderr)}"
        line = next(x for x in self.stderr if "config: " in x)
        return Path(line.split("config: ", 1)[1].strip())

    def kill_if_running(self) -> None:
        """A test that failed midway: the demo's whole process group goes, by its id."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def assert_left_nothing(self, workdir: Path, ports: list[int]) -> None:
        time.sleep(0.2)
        assert process_group_members(self.proc.pid) == []
        assert not workdir.exists()
        assert not [p for p in ports if listening(p)]

    def wait_frame(self, predicate, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = self.frames.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, f"the demo exited early: {''.join(self.stderr)}"
                continue
            if predicate(frame):
                return frame
        raise AssertionError(f"no such frame within {timeout} s; last: {self.all_frames[-1:]}")


def wsfleet(config: Path, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "wsfleet", "--config", str(config), *args],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _state(config: Path) -> dict:
    try:
        return json.loads((config.parent / "state.json").read_text())
    except (OSError, ValueError):  # not written yet (it is replaced atomically, never half written)
        return {}


@contextmanager
def held(config: Path):
    """The demo held still for the block (its hold file next to the config); yields its state:
    the counts of the last step, which its servers hold until the block ends."""
    hold = config.parent / "hold"
    hold.touch()
    try:
        deadline = time.monotonic() + HOLD_DEADLINE
        while (snap := _state(config)).get("state") != "held":
            assert time.monotonic() < deadline, f"the demo did not hold still within {HOLD_DEADLINE} s"
            time.sleep(0.02)
        yield snap
    finally:
        hold.unlink(missing_ok=True)


def counts_against_snapshot(config: Path, tmp_path: Path) -> tuple[dict, dict]:
    """One `counts` run while the demo holds still, and the demo's own counts it must match."""
    with held(config) as snap:
        # the test's config: the demo's (its host map is current: the group does not change while
        # held) with a per-host timeout for a loaded machine
        text = re.sub(r"(?m)^timeout = \d+$", f"timeout = {LOADED_TIMEOUT}", config.read_text(), count=1)
        assert f"timeout = {LOADED_TIMEOUT}" in text
        mine = tmp_path / "wsfleet.toml"
        mine.write_text(text)
        counts = wsfleet(mine, "counts", "--format", "json")
        assert _state(config) == snap  # still held: nothing moved while counts ran
    return counts, snap


def process_group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp
                members.append(int(entry.name))
    return members


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_spike_demo_counts_scaling_and_clean_exit(tmp_path):
    # long enough for every check below on a loaded machine (a hold does not stop the demo's clock)
    demo = RunningDemo("--scenario", "spike", "--seconds", str(DEMO_SECONDS))
    try:
        config = demo.config_path()
        workdir = config.parent
        first = demo.wait_frame(lambda f: True, timeout=10)
        assert set(first) >= {"t", "scenario", "desired", "in_service", "warm", "total_connections",
                              "avg_connections", "alarms", "event"}
        assert first["scenario"] == "spike" and set(first["alarms"]) == {"high", "low"}

        # the real count path (SSH, the count command on each instance's port) vs the demo's own servers
        counts, snap = counts_against_snapshot(config, tmp_path)
        measured = {i["id"]: i["connections"] for i in counts["instances"]}
        assert all(i["error"] is None for i in counts["instances"]), counts["instances"]
        assert measured == {iid: s["connections"] for iid, s in snap["instances"].items() if iid in measured}
        assert set(measured) <= set(snap["instances"]) and len(measured) == first["in_service"] == 2
        assert sum(measured.values()) > 0

        # the high alarm fires and its step policy raises desired capacity
        scaled = demo.wait_frame(lambda f: f["desired"] > 2, timeout=45)
        assert scaled["alarms"]["high"] == "ALARM"
        assert "high_tcp_connections_policy" in (scaled["event"] or "")

        status = wsfleet(config, "status", "--format", "json")
        assert status["group"]["desired"] >= scaled["desired"]
        assert (status["high_alarm"] or {}).get("state") == "ALARM", status.get("problems")
        policy_runs = [a for a in status["activities"] if "triggered policy high_tcp_connections_policy" in a["cause"]]
        assert policy_runs, status["activities"]
        assert any("from warm pool" in a["description"] for a in policy_runs)
        assert status["warm_pool"]["instances"], status["warm_pool"]
        assert {i["lifecycle"] for i in status["warm_pool"]["instances"]} <= {"Warmed:Pending", "Warmed:Stopped"}

        # counts again once the new instances serve: every instance of the bigger group is measured
        demo.wait_frame(lambda f: f["in_service"] == f["desired"] > 2, timeout=45)
        counts, snap = counts_against_snapshot(config, tmp_path)
        assert len(counts["instances"]) > 2
        assert all(i["error"] is None for i in counts["instances"]), counts["instances"]
        assert {i["id"]: i["connections"] for i in counts["instances"]} == {
            i["id"]: snap["instances"][i["id"]]["connections"] for i in counts["instances"]
        }

        ports = [urlparse(wsfleet_endpoint(config)).port]
        ports += [p for s in snap["instances"].values() for p in (s["ssh_port"], s["service_port"])]
        assert all(listening(p) for p in ports)

        demo.proc.send_signal(signal.SIGTERM)  # done: the end by --seconds is the next test's
        assert demo.proc.wait(timeout=30) == 0, "".join(demo.stderr)
    finally:
        demo.kill_if_running()
    demo.assert_left_nothing(workdir, ports)


def test_seconds_ends_the_demo_by_itself_and_leaves_nothing_behind():
    seconds = 6
    demo = RunningDemo("--scenario", "spike", "--instances", "2", "--seconds", str(seconds))
    try:
        workdir = demo.config_path().parent
        demo.wait_frame(lambda f: True, timeout=30)
        snap = _state(workdir / "wsfleet.toml")
        ports = [p for s in snap.get("instances", {}).values() for p in (s["ssh_port"], s["service_port"])]
        assert demo.proc.wait(timeout=60) == 0, "".join(demo.stderr)
    finally:
        demo.kill_if_running()
    demo.assert_left_nothing(workdir, ports)
    # it stopped on its own (no signal was sent) within its seconds, counted from its start (the boot included)
    assert demo.all_frames and demo.all_frames[-1]["t"] <= seconds + 3


def wsfleet_endpoint(config: Path) -> str:
    return re.search(r'endpoint_url = "([^"]+)"', config.read_text()).group(1)


@pytest.mark.parametrize("signals", [(signal.SIGINT,), (signal.SIGTERM, signal.SIGHUP)], ids=["ctrl-c", "term-then-hup"])
def test_a_signal_stops_the_demo_cleanly_and_a_second_does_not_cut_the_clean_up(signals):
    demo = RunningDemo("--scenario", "flap")
    try:
        config = demo.config_path()
        demo.wait_frame(lambda f: True, timeout=15)
        for sig in signals:
            os.kill(demo.proc.pid, sig)
            time.sleep(0.1)
        assert demo.proc.wait(timeout=20) == 0, "".join(demo.stderr)
    finally:
        if demo.proc.poll() is None:
            os.killpg(demo.proc.pid, signal.SIGKILL)
            demo.proc.wait()
    assert process_group_members(demo.proc.pid) == []
    assert not config.parent.exists()
    assert any("stopping" in line for line in demo.stderr)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--scenario", "tsunami"], "spike, deploy, flap, leak"),
        (["--instances", "13"], "1..12"),
        (["--instances", "0"], "1..12"),
        (["--seconds", "0"], "positive number of seconds"),
        (["--seconds", "-5"], "positive number of seconds"),
    ],
)
def test_bad_demo_arguments_are_one_sentence_and_exit_2(args, words):
    out = subprocess.run([sys.executable, "-m", "wsfleet", "demo", "--no-ui", *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert words in out.stderr and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stdout == ""
