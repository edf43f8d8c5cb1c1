"""DemoFleet refuses bad arguments before anything starts, and a failed start leaves nothing behind."""

from __future__ import annotations

import socket
import threading

import pytest

from wsfleet.demo import DemoFleet


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_a_failed_start_leaves_nothing_behind(monkeypatch):
    from wsfleet.demo import bootstrap
    from wsfleet.errors import WsfleetError

    def broken(session, fleet, audit_path):
        raise WsfleetError("the demo could not provision its fleet: boom")

    monkeypatch.setattr(bootstrap, "provision", broken)
    threads_before = {t.ident for t in threading.enumerate()}
    fleet = DemoFleet(scenario="spike", instances=2)
    with pytest.raises(WsfleetError, match="boom"):
        fleet.start()
    assert [t.name for t in threading.enumerate() if t.ident not in threads_before] == []
    assert not fleet.workdir.exists()
    assert not [e for e in fleet.hosts().values() if _listening(e.ssh_port) or _listening(e.service_port)]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"scenario": "tsunami"}, "spike, deploy, flap, leak"),
        ({"instances": 0}, "1..12"),
        ({"instances": 13}, "1..12"),
        ({"max_connections": 20000}, "1..8000"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(kwargs, words):
    from wsfleet.errors import UsageError

    with pytest.raises(UsageError, match=words.replace(".", r"\.")):
        DemoFleet(**kwargs)


def test_stop_right_after_start_is_quick_and_clean():
    import time

    threads_before = {t.ident for t in threading.enumerate()}
    fleet = DemoFleet(scenario="spike").start()
    started = time.monotonic()
    fleet.stop()
    assert time.monotonic() - started < 5
    assert [t.name for t in threading.enumerate() if t.ident not in threads_before] == []
    assert not fleet.workdir.exists()
    fleet.stop()  # twice is fine


def test_a_killed_demos_directory_is_removed_by_the_next_demo(tmp_path):
    import subprocess
    import sys

    from wsfleet.demo.fleet import OWNER_FILE, _process_identity, remove_stale_workdirs

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = tmp_path / "wsfleet-demo-dead"
    dead.mkdir()
    (dead / OWNER_FILE).write_text(f"{gone.pid} 1")  # its process has exited
    alive = tmp_path / "wsfleet-demo-alive"
    alive.mkdir()
    (alive / OWNER_FILE).write_text(_process_identity())
    foreign = tmp_path / "wsfleet-demo-not-ours"  # no owner file: not made by a demo
    foreign.mkdir()
    other = tmp_path / "something-else"
    other.mkdir()
    (other / OWNER_FILE).write_text(f"{gone.pid} 1")
    assert remove_stale_workdirs(str(tmp_path)) == [dead]
    assert not dead.exists() and alive.exists() and foreign.exists() and other.exists()
