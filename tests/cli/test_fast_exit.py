"""`wsfleet.cli.entry`: counts and check leave by os._exit after atexit and a flush; the rest exit as usual."""

from __future__ import annotations

import threading

import pytest

from wsfleet import cli


class _Exited(Exception):
    pass


@pytest.fixture
def exits(monkeypatch):
    seen: dict = {}

    def fake_exit(code):
        seen["os._exit"] = code
        raise _Exited

    monkeypatch.setattr("os._exit", fake_exit)
    monkeypatch.setattr("atexit._run_exitfuncs", lambda: seen.setdefault("atexit", True))
    return seen


@pytest.mark.parametrize("argv, code", [(["counts"], 3), (["--fleet", "x", "check"], 1)])
def test_counts_and_check_leave_by_os_exit_with_their_code(monkeypatch, exits, argv, code):
    monkeypatch.setattr("sys.argv", ["wsfleet", *argv])
    monkeypatch.setattr(cli, "main", lambda a: code)
    with pytest.raises(_Exited):
        cli.entry()
    assert exits == {"os._exit": code, "atexit": True}


def test_other_commands_exit_as_usual(monkeypatch, exits):
    monkeypatch.setattr("sys.argv", ["wsfleet", "status"])
    monkeypatch.setattr(cli, "main", lambda a: 0)
    with pytest.raises(SystemExit) as raised:
        cli.entry()
    assert raised.value.code == 0 and exits == {}


def test_a_thread_still_running_means_the_usual_exit(monkeypatch, exits):
    monkeypatch.setattr("sys.argv", ["wsfleet", "counts"])
    monkeypatch.setattr(cli, "main", lambda a: 0)
    release = threading.Event()
    worker = threading.Thread(target=release.wait, args=(10,))
    worker.start()
    try:
        with pytest.raises(SystemExit):
            cli.entry()
    finally:
        release.set()
        worker.join()
    assert exits == {}


def test_output_that_cannot_be_written_is_an_error_not_a_silent_success(tmp_path):
    """stdout on a full disk: the result is lost, so the exit is not 0 (Python's own 120, as
    every other command), though `main()` said 0."""
    import os
    import subprocess
    import sys

    script = ("import sys\nfrom wsfleet import cli\n"
              "cli.main = lambda argv: (print('{\"instances\": []}'), 0)[1]\n"
              "sys.argv = ['wsfleet', 'counts']\ncli.entry()\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a user's shell has it
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", script], stdout=full, stderr=subprocess.PIPE, env=env, timeout=60)
    assert done.returncode == 120, done.stderr
    assert b"No space left on device" in done.stderr
