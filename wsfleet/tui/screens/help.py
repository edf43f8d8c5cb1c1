"""`?`: the live keymap (after the user's [ui.keymap]) and what the row symbols mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wsfleet.tui.view import FLAG_MEANING, FLAG_SYMBOL


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="modal_cancel"),
        Binding("question_mark,q", "dismiss", "Close", show=False, id="help_close"),
    ]

    def __init__(self, keymap: list[tuple[str, str, str]], *, read_only: bool = False) -> None:
        super().__init__()
        self.keymap = keymap
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        keys.add_column(style="dim", no_wrap=True)
        for key, what, binding_id in self.keymap:
            keys.add_row(key, what, binding_id)
        keys.add_row("ctrl+p", "command palette: every action, themes", "")
        flags = Table.grid(padding=(0, 2))
        flags.add_column(style="bold")
        flags.add_column()
        for flag, meaning in FLAG_MEANING.items():
            flags.add_row(FLAG_SYMBOL[flag], meaning)
        with Vertical(id="dialog", classes="help"):
            yield Static("Keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(keys)
                yield Static(Text("\nRow symbols", style="bold"))
                yield Static(flags)
                note = "Remap any key by its id in the config: [ui.keymap] scale_out = \"a\"."
                if self.read_only:
                    note += "\nRead-only: the keys that change the fleet say why and do nothing."
                yield Static(Text("\n" + note, style="dim"))
            yield Static("esc close", classes="dialog-hint")
