"""The key line at the bottom of the dashboard: the shown bindings with the user's keymap applied.

Plain Statics, built once per keymap: Textual's Footer recomposes a widget per key whenever the
bindings change (each dialog opened and closed), which was half the cost of opening a dialog.
In read-only mode the keys that would change the fleet are dimmed (pressing them says why).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from wsfleet.tui.keymap import DESTRUCTIVE


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


class KeyBar(Horizontal):
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyBar > #key-list {
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    KeyBar > #key-palette {
        width: auto;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="key-list")
        yield Static("[@click=app.command_palette][bold $footer-key-foreground]^p[/] palette[/]", id="key-palette")

    def show_keys(self, keys: list[tuple[str, str, str, str]], *, read_only: bool) -> None:
        """keys: (key display, short description, binding id, action) in the order to show."""
        parts = []
        for key, description, binding_id, action in keys:
            dim = read_only and binding_id in DESTRUCTIVE
            key_style = "dim" if dim else "bold $footer-key-foreground"
            text = f"[dim strike]{_escape(description)}[/]" if dim else _escape(description)
            parts.append(f"[@click=screen.{action}][{key_style}]{_escape(key)}[/] {text}[/]")
        self.query_one("#key-list", Static).update(" " + "  ".join(parts))

    def plain(self) -> str:
        return str(self.query_one("#key-list", Static).render())
