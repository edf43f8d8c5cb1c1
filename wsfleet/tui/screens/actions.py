"""Dialogs that change the fleet, all through `wsfleet.actions` (via the FleetService):
edit → preview the plan (before/after, warnings) → apply → the outcome.

A wrong value shows one sentence under the form and nothing is planned or written. Building the
plan and applying it read and write AWS, so both run in thread workers; the dialog says what it is
doing meanwhile and ignores a second Enter.

This module is the base `ActionScreen` and what the dialogs share; the dialogs are beside it
(`scale`, `thresholds`, `warm_pool`, and `schedule`, `deploy`).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from wsfleet.errors import WsfleetError
from wsfleet.model import FleetStatus
from wsfleet.tui.styling import app_styles
from wsfleet.tui.view import ERROR, MUTED, OK, WARNING

class Tick(Checkbox):
    """A checkbox whose state reads without colour: X when ticked, blank when not."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.BUTTON_INNER = "X" if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
        super().watch_value()
        self.refresh()


class FormError(Exception):
    """A wrong value in a dialog: one sentence saying what, where and what to do."""


class PlanReady(Message):
    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan


class PlanFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class Applied(Message):
    def __init__(self, outcome: Any) -> None:
        super().__init__()
        self.outcome = outcome


class ApplyFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


def whole_number(text: str, what: str, *, minimum: int = 0, blank: int | None | str = "required") -> int | None:
    """Parse one whole-number field; FormError with one sentence when it isn't one."""
    t = text.strip().replace("_", "").replace(",", "")
    if not t:
        if blank == "required":
            raise FormError(f"{what} is empty; type a whole number.")
        return blank  # type: ignore[return-value]
    if not t.lstrip("+-").isdigit():
        raise FormError(f"{what} must be a whole number, not {text.strip()!r}.")
    value = int(t)
    if value < minimum:
        raise FormError(f"{what} must be {minimum} or more, not {value}.")
    return value


def connections(text: str, what: str) -> float:
    t = text.strip().replace("_", "").replace(",", "")
    try:
        value = float(t)
    except ValueError:
        raise FormError(f"{what} must be a number of connections per instance, like 20000, not {text.strip()!r}.") from None
    if value <= 0 or value != value or value in (float("inf"),):
        raise FormError(f"{what} must be a positive number of connections per instance, not {text.strip()!r}.")
    return value


def render_plan(plan: Any, styles: dict) -> Group:
    """A plan as the user reads it: the summary, each change field by field, warnings, notes."""
    parts: list[Any] = [Text(plan.summary, style="bold")]
    for change in plan.changes:
        head = Text()
        kind_role = {"create": OK, "update": WARNING, "delete": ERROR}.get(change.kind, MUTED)
        head.append(f"\n{change.kind:<9}", style=styles[kind_role])
        head.append(f" {change.resource} {change.name}")
        parts.append(head)
        diffs = change.diffs if hasattr(change, "diffs") else ()
        if diffs:
            table = Table.grid(padding=(0, 2))
            table.add_column(style=styles[MUTED], no_wrap=True)
            table.add_column(justify="right", no_wrap=False)
            table.add_column(no_wrap=True)
            table.add_column(justify="left", style="bold", no_wrap=False)
            for d in diffs:
                table.add_row("  " + d.field, _value(d.before), "→", _value(d.after))
            parts.append(table)
    for w in getattr(plan, "all_warnings", getattr(plan, "warnings", ())):
        parts.append(Text(f"⚠ {w}", style=styles[WARNING]))
    for n in getattr(plan, "notes", ()):
        parts.append(Text(n, style=styles[MUTED]))
    return Group(*parts)


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v.is_integer():
        return f"{int(v):,}"
    if isinstance(v, (int, float)):
        return f"{v:,}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) if not isinstance(x, (list, tuple)) else "(" + " ".join(_value(y) for y in x) + ")" for x in v)
    return str(v)


class ActionScreen(ModalScreen[str | None]):
    """Base dialog: subclasses give `form()`, `live()` and `request()`."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="modal_cancel"),
        Binding("y", "apply", "Apply", id="modal_apply"),
    ]
    DIALOG_TITLE = ""
    PREVIEW_ON_MOUNT = False

    def __init__(self, service: Any, status: FleetStatus | None) -> None:
        super().__init__()
        self.service = service
        self.status = status
        self.phase = "edit"  # edit | planning | review | applying
        self.plan: Any = None
        self.outcome: Any = None

    # -------------------------------------------------------------- subclass hooks

    def form(self) -> ComposeResult:
        return iter(())

    def live(self) -> Text:
        return Text()

    def request(self) -> Callable[[Any], Any]:
        """Validate the form; return a function service -> Plan. Raise FormError on a wrong value."""
        raise NotImplementedError

    # -------------------------------------------------------------- composition

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.DIALOG_TITLE, classes="dialog-title")
            with VerticalScroll(id="dialog-body"):
                with Vertical(id="form"):
                    yield from self.form()
                yield Static(id="live")
                yield Static(id="problem")
                yield Static(id="plan")
            with Horizontal(id="buttons"):
                yield Button("Preview", id="preview", variant="primary", compact=True)
                yield Button("Apply", id="apply", variant="error", compact=True)
                yield Button("Back", id="back", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Static("enter preview · esc cancel", id="hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.styles_map = app_styles(self.app)
        self._set_phase("edit")
        self._update_live()
        if self.PREVIEW_ON_MOUNT:
            self.action_preview()
        else:
            first = next((w for w in self.query("#form Input, #form Select, #form Checkbox") if not w.disabled), None)
            if first is not None:
                first.focus()

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        reviewing = phase in ("review", "applying")
        self.query_one("#preview").display = phase in ("edit", "planning")
        self.query_one("#apply").display = reviewing
        self.query_one("#back").display = reviewing and not self.PREVIEW_ON_MOUNT
        self.query_one("#apply", Button).disabled = phase == "applying"
        self.query_one("#preview", Button).disabled = phase == "planning"
        for w in self.query("#form Input, #form Select, #form Checkbox"):
            w.disabled = phase != "edit" or w.has_class("fixed")
        self.query_one("#plan").display = reviewing
        self.query_one("#live").display = phase in ("edit", "planning")
        hint = {
            "edit": "enter preview · esc cancel",
            "planning": "reading the current state…",
            "review": "y apply · esc cancel" + ("" if self.PREVIEW_ON_MOUNT else " · back to edit"),
            "applying": "applying… (reading back the result)",
        }[phase]
        self.query_one("#hint", Static).update(hint)

    def _problem(self, sentence: str | None) -> None:
        if sentence and not sentence.rstrip().endswith((".", "?", "!")):
            sentence = sentence.rstrip() + "."
        box = self.query_one("#problem", Static)
        box.update(Text(sentence, style=self.styles_map[ERROR]) if sentence else "")
        box.display = bool(sentence)

    def _update_live(self) -> None:
        try:
            text = self.live()
        except FormError as exc:
            text = Text(str(exc), style=self.styles_map[ERROR])
        except WsfleetError as exc:
            text = Text(exc.message, style=self.styles_map[ERROR])
        self.query_one("#live", Static).update(text)

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        if self.phase == "edit":
            self._problem(None)
            self._update_live()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#preview")
    def _preview_pressed(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.plan = None
        self._problem(None)
        self._set_phase("edit")
        self._update_live()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    # -------------------------------------------------------------- preview → apply

    def action_preview(self) -> None:
        if self.phase != "edit":
            return
        try:
            make = self.request()
        except FormError as exc:
            self._problem(str(exc))
            return
        except WsfleetError as exc:
            self._problem(exc.message)
            return
        self._problem(None)
        self._set_phase("planning")
        self._make_plan(make)

    @work(thread=True, group="dialog", exit_on_error=False)
    def _make_plan(self, make: Callable[[Any], Any]) -> None:
        try:
            plan = make(self.service)
        except WsfleetError as exc:
            self.post_message(PlanFailed(exc.message))
        except Exception as exc:
            self.post_message(PlanFailed(f"unexpected error while planning: {type(exc).__name__}: {exc}."))
        else:
            self.post_message(PlanReady(plan))

    @on(PlanFailed)
    def _plan_failed(self, msg: PlanFailed) -> None:
        self._problem(msg.error)
        self._set_phase("edit")
        if self.PREVIEW_ON_MOUNT:
            self.query_one("#preview").display = False
            self.query_one("#hint", Static).update("esc close")

    @on(PlanReady)
    def _plan_ready(self, msg: PlanReady) -> None:
        self.plan = msg.plan
        self.query_one("#plan", Static).update(render_plan(msg.plan, self.styles_map))
        self._set_phase("review")
        if not getattr(msg.plan, "has_changes", True):
            self.query_one("#apply").display = False
            self.query_one("#hint", Static).update("nothing to change · esc close")
            self.query_one("#cancel", Button).focus()
            return
        self.query_one("#apply", Button).focus()

    def action_apply(self) -> None:
        if self.phase != "review" or self.plan is None or not getattr(self.plan, "has_changes", True):
            return
        self._set_phase("applying")
        self._execute(self.plan)

    @work(thread=True, group="dialog", exit_on_error=False)
    def _execute(self, plan: Any) -> None:
        try:
            outcome = self.service.execute(plan)
        except WsfleetError as exc:
            self.post_message(ApplyFailed(exc.message))
        except Exception as exc:
            self.post_message(ApplyFailed(f"unexpected error while applying: {type(exc).__name__}: {exc}."))
        else:
            self.post_message(Applied(outcome))

    @on(ApplyFailed)
    def _apply_failed(self, msg: ApplyFailed) -> None:
        self._problem(msg.error)
        self._set_phase("review")
        self.query_one("#apply").display = False
        self.query_one("#hint", Static).update("esc close")
        self.query_one("#cancel", Button).focus()

    @on(Applied)
    def _applied(self, msg: Applied) -> None:
        self.outcome = msg.outcome
        ok = getattr(msg.outcome, "ok", True)
        if ok:
            self.dismiss(self.plan.summary)
            return
        error = getattr(msg.outcome, "error", None) or f"the change ended as {getattr(msg.outcome, 'status', 'failed')}."
        self._apply_failed(ApplyFailed(error))

    def action_cancel(self) -> None:
        if self.phase == "applying":
            self.app.notify("The change is being applied; wait for its result.", severity="warning", timeout=3)
            return
        self.dismiss(None)


# The dialogs import the base from here; they are imported on first use, so that
# `from wsfleet.tui.screens.actions import ScaleScreen` keeps working without an import cycle.
_DIALOGS = {
    "ScaleScreen": "wsfleet.tui.screens.scale",
    "ThresholdsScreen": "wsfleet.tui.screens.thresholds",
    "WarmPoolScreen": "wsfleet.tui.screens.warm_pool",
}


def __getattr__(name: str) -> Any:
    module = _DIALOGS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
