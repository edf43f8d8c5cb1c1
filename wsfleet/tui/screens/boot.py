"""The screen shown while the dashboard's fleet is still being made (the demo's, booting in its own
process): what is starting, the seconds it has taken, and the lines it has printed so far. `q`
quits; when the fleet is ready the app replaces this screen with the dashboard."""

from __future__ import annotations

import time
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static


class BootScreen(Screen):
    BINDINGS = [Binding("q", "app.quit_app", "Quit")]
    DEFAULT_CSS = """
    BootScreen { align: center middle; }
    BootScreen > Vertical { width: 84; max-width: 100%; height: auto; padding: 1 2; border: round $accent; }
    BootScreen #boot-title { width: 100%; text-style: bold; }
    BootScreen #boot-log { width: 100%; height: auto; color: $text-muted; }
    """

    def __init__(self, title: str, progress: Callable[[], list[str]]) -> None:
        super().__init__()
        self._title = title
        self._progress = progress  # the lines the booting side printed so far (any thread)
        self._started = time.monotonic()
        self._shown_title = ""
        self._shown_log = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, id="boot-title")
            yield Static("", id="boot-log")
        yield Footer()

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(0.2, self._tick)

    def _tick(self) -> None:
        # five times a second while the fleet boots on the same GIL: repaint the seconds, lay the
        # box out again only when a line's length or the log changed (Static.update lays out)
        elapsed = time.monotonic() - self._started
        title = f"{self._title} {elapsed:4.1f} s"
        log = "\n".join(self._progress()[-4:])
        if title != self._shown_title:
            self.query_one("#boot-title", Static).update(title, layout=len(title) != len(self._shown_title))
            self._shown_title = title
        if log != self._shown_log:
            self.query_one("#boot-log", Static).update(log)
            self._shown_log = log
