"""The real `wsfleet demo` in a real terminal (tmux): the table fills with counts, `+` then confirm
raises the desired capacity, `q` exits 0 and leaves the terminal as it found it.

Keys go one at a time with a pause (NOTES.md: tmux may apply a burst out of order). The test uses
its own tmux server (-L) so it never touches a user's sessions, and kills it at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None and not os.environ.get("CI"), reason="tmux is not installed (CI installs it)")


class Terminal:
    def __init__(self, width: int = 120, height: int = 36) -> None:
        self.socket = f"wsfleet-test-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height

    def tmux(self, *args: str) -> str:
        out = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        return out.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height), f"env {exports} {command}")
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")
        self.tmux("resize-window", "-t", "t", "-x", str(self.width), "-y", str(self.height))

    def screen(self) -> str:
        return self.tmux("capture-pane", "-t", "t", "-p")

    def value(self, fmt: str) -> str:
        return self.tmux("display-message", "-t", "t", "-p", fmt).strip()

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "t", key)
            time.sleep(0.2)

    def wait(self, predicate, timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen was:\n{self.screen()}")

    def close(self) -> None:
        """Let the demo stop itself (it removes its servers and temp dir), then end this tmux server."""
        try:
            if "WSFLEET_EXIT=" not in self.screen():
                for key in ("Escape", "Escape", "q"):
                    self.keys(key)
                deadline = time.monotonic() + 15
                while "WSFLEET_EXIT=" not in self.screen() and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=20)


def _desired(text: str) -> int | None:
    m = re.search(r"(?:desired|des) (\d+) \[", text)
    return int(m.group(1)) if m else None


def _counted_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.search(r"i-[0-9a-f]{17}\s+\d[\d,]*\s", line)]


@pytest.fixture
def terminal():
    term = Terminal()
    try:
        yield term
    finally:
        term.close()


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


# the dashboard forked into a process of its own (a free core), and beside the fleet on a thread:
# the demo chooses by the load, the test names each
@pytest.mark.parametrize("split", ["fork", "thread"])
def test_wsfleet_demo_in_a_terminal_fills_scales_out_and_quits_cleanly(terminal, tmp_path, split):
    env = {
        "WSFLEET_DEMO_SPLIT": split,
        "TERM": "xterm-256color",
        "PYTHONPATH": os.getcwd(),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    # a shell around it, so the pane lives on after the app: its state is what the user is left with
    terminal.start(f"sh -c '{sys.executable} -m wsfleet demo --scenario deploy; echo WSFLEET_EXIT=$?; exec sleep 120'", env)
    screen = terminal.wait(lambda t: len(_counted_rows(t)) >= 2 and "…" not in "".join(_counted_rows(t)), 60, "counts in the table")
    before = _desired(screen)
    assert before is not None, terminal.value("#{pane_width}x#{pane_height}") + "\n" + screen

    terminal.keys("+")
    terminal.wait(lambda t: "Scale out" in t and "enter preview" in t, 10, "the scale-out dialog")
    terminal.keys("Enter")
    terminal.wait(lambda t: "y apply" in t, 15, "the plan")
    terminal.keys("y")
    screen = terminal.wait(lambda t: "Applied" in t or "Scale demo-chat-asg out" in t and "y apply" not in t, 15, "the change applied")
    m = re.search(r"out from (\d+) to (\d+)", screen)
    assert m and int(m.group(2)) == int(m.group(1)) + 1, screen
    terminal.wait(lambda t: (_desired(t) or 0) >= int(m.group(2)), 15, "the new desired capacity on screen")

    terminal.keys("q")
    after = terminal.wait(lambda t: "WSFLEET_EXIT=" in t, 20, "the demo to exit")
    assert "WSFLEET_EXIT=0" in after
    # the terminal is restored: normal screen, visible cursor, no mouse reporting, no UI left on it
    assert terminal.value("#{alternate_on}") == "0"
    assert terminal.value("#{cursor_flag}") == "1"
    assert terminal.value("#{mouse_any_flag}") == "0"
    assert "Instances" not in after and "╭" not in after
    assert "wsfleet demo:" in after  # what the demo printed before the dashboard is still there


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked dashboard is Linux only")
def test_a_stop_signal_to_the_forked_demo_stops_both_processes_and_restores_the_terminal(terminal, tmp_path):
    env = {
        "WSFLEET_DEMO_SPLIT": "fork",
        "TERM": "xterm-256color",
        "PYTHONPATH": os.getcwd(),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    terminal.start(f"sh -c '{sys.executable} -m wsfleet demo; echo WSFLEET_EXIT=$?; exec sleep 120'", env)
    terminal.wait(lambda t: len(_counted_rows(t)) >= 2, 60, "counts in the table")
    (fleet,) = _children(int(terminal.value("#{pane_pid}")))
    (dashboard,) = _children(fleet)  # the dashboard's process, forked from the fleet's
    os.kill(fleet, signal.SIGTERM)  # as `kill` would
    after = terminal.wait(lambda t: "WSFLEET_EXIT=" in t, 30, "the demo to exit")
    assert "WSFLEET_EXIT=0" in after, after
    assert terminal.value("#{alternate_on}") == "0" and terminal.value("#{cursor_flag}") == "1"
    assert "stopped: its servers, moto and temporary directory are gone." in after
    for pid in (fleet, dashboard):
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
