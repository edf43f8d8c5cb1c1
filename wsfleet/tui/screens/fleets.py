"""`f`: pick another configured fleet. Each keeps its own session (and so its own account)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from wsfleet.model import FleetConfig


class FleetScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal_cancel")]

    def __init__(self, fleets: list[FleetConfig], current: str) -> None:
        super().__init__()
        self.fleets = fleets
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for f in self.fleets:
            label = Text(no_wrap=True)
            label.append(("● " if f.name == self.current else "  ") + f.name, style="bold")
            label.append(f"  {f.asg}  {f.region or 'default region'}" + (f"  profile {f.profile}" if f.profile else ""), style="dim")
            options.append(Option(label, id=f.name))
        with Vertical(id="dialog", classes="fleets"):
            yield Static("Switch fleet", classes="dialog-title")
            yield OptionList(*options, id="fleet-list")
            yield Static("enter switch · esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        lst = self.query_one(OptionList)
        names = [f.name for f in self.fleets]
        if self.current in names:
            lst.highlighted = names.index(self.current)
        lst.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
