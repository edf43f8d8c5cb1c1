"""`s`: the group's scheduled actions — list, add, edit, delete (each change previewed and confirmed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from wsfleet.errors import ConfigError, WsfleetError
from wsfleet.model import FleetStatus, ScheduledAction, ScheduledActionConfig
from wsfleet.tui.screens.actions import ActionScreen, FormError, whole_number
from wsfleet.tui.styling import app_styles
from wsfleet.tui.view import MUTED, OK


def next_run_text(a: ScheduledAction | ScheduledActionConfig, now: datetime) -> str:
    if not a.recurrence:
        return a.start_time.strftime("%Y-%m-%d %H:%M %Z") if a.start_time else "—"
    from wsfleet.cron import next_run

    try:
        nxt = next_run(a.recurrence, a.time_zone, now)
    except (ConfigError, ValueError):
        return "?"
    return nxt.strftime("%a %d %b %H:%M %Z") if nxt else "never"


class ScheduleLoaded(Message):
    def __init__(self, actions: tuple[ScheduledAction, ...] | None, error: str | None = None) -> None:
        super().__init__()
        self.actions = actions
        self.error = error


class ScheduleScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="modal_cancel"),
        Binding("a", "add", "Add", id="schedule_add"),
        Binding("e", "edit", "Edit", id="schedule_edit"),
        Binding("d", "delete", "Delete", id="schedule_delete"),
    ]

    def __init__(self, service: Any, status: FleetStatus, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.service = service
        self.status = status
        self.clock = clock
        self.actions: tuple[ScheduledAction, ...] = tuple(status.scheduled_actions)
        self.messages: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="schedule"):
            yield Static(f"Scheduled actions of {self.service.fleet.asg}", classes="dialog-title")
            yield DataTable(id="schedule-table", cursor_type="row")
            yield Static(id="schedule-empty")
            yield Static("a add · e/enter edit · d delete · esc close", classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # what matters first, so 80 columns show it: the time zone is also in the next run's abbreviation
        for label, key, width in (("name", "name", 16), ("recurrence", "recurrence", 15), ("next run", "next", 20), ("min", "min", 3), ("max", "max", 3), ("des", "desired", 3), ("time zone", "tz", 16)):
            table.add_column(label, key=key, width=width)
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()  # a short list re-read after a write, not a live table
        now = self.clock()
        for a in sorted(self.actions, key=lambda a: a.name):
            table.add_row(a.name, a.recurrence or "once", next_run_text(a, now),
                          _n(a.min_size), _n(a.max_size), _n(a.desired_capacity), a.time_zone or "UTC", key=a.name)
        empty = self.query_one("#schedule-empty", Static)
        empty.update("" if self.actions else Text("No scheduled actions. Press a to add one (e.g. scale up before a known peak).", style="dim"))
        empty.display = not self.actions

    def _selected(self) -> ScheduledAction | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((a for a in self.actions if a.name == key), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_add(self) -> None:
        self.app.push_screen(ScheduleFormScreen(self.service, self.status, None, self.clock), self._child_done)

    def action_edit(self) -> None:
        current = self._selected()
        if current is None:
            self.app.notify("No scheduled action selected; press a to add one.", timeout=3)
            return
        self.app.push_screen(ScheduleFormScreen(self.service, self.status, current, self.clock), self._child_done)

    def action_delete(self) -> None:
        current = self._selected()
        if current is None:
            self.app.notify("No scheduled action selected.", timeout=3)
            return
        self.app.push_screen(ScheduleDeleteScreen(self.service, self.status, current.name), self._child_done)

    def _child_done(self, message: str | None) -> None:
        if message:
            self.messages.append(message)
            self.app.notify(message, title="Applied", timeout=5)
            self._reload()

    @work(thread=True, group="schedule", exit_on_error=False)
    def _reload(self) -> None:
        try:
            self.post_message(ScheduleLoaded(tuple(self.service.read_schedule())))
        except WsfleetError as exc:
            self.post_message(ScheduleLoaded(None, exc.message))
        except Exception as exc:
            self.post_message(ScheduleLoaded(None, f"unexpected error: {type(exc).__name__}: {exc}"))

    @on(ScheduleLoaded)
    def _loaded(self, msg: ScheduleLoaded) -> None:
        if msg.actions is None:
            self.app.notify(f"Could not re-read the scheduled actions: {msg.error}", severity="error", timeout=6)
            return
        self.actions = msg.actions
        self._fill()

    def action_close(self) -> None:
        self.dismiss(" ".join(self.messages) if self.messages else None)


def _n(v: int | None) -> str:
    return "—" if v is None else str(v)


class ScheduleFormScreen(ActionScreen):
    def __init__(self, service: Any, status: FleetStatus, current: ScheduledAction | None, clock: Callable[[], datetime]) -> None:
        super().__init__(service, status)
        self.current = current
        self.clock = clock
        self.DIALOG_TITLE = f"Edit scheduled action {current.name}" if current else "Add a scheduled action"

    def form(self) -> ComposeResult:
        c = self.current
        yield Label("Name")
        name = Input(c.name if c else "", id="name", placeholder="e.g. weekday-morning", compact=True)
        if c is not None:
            name.add_class("fixed")  # the name is the action's key: editing it would add another
        yield name
        yield Label("Cron (5 fields, in the time zone below)")
        yield Input(c.recurrence or "" if c else "", id="cron", placeholder="0 7 * * MON-FRI", compact=True)
        yield Label("Time zone (IANA)")
        yield Input((c.time_zone or "UTC") if c else "UTC", id="tz", placeholder="Europe/Berlin", compact=True)
        yield Label("Sizes it sets (blank: leave that one as the group has it)")
        with Horizontal(classes="sizes"):
            yield Label("min")
            yield Input(_blank(c.min_size) if c else "", id="min", compact=True)
            yield Label("max")
            yield Input(_blank(c.max_size) if c else "", id="max", compact=True)
            yield Label("desired")
            yield Input(_blank(c.desired_capacity) if c else "", id="desired", compact=True)

    def _action(self) -> ScheduledActionConfig:
        from wsfleet import cron

        name = self.query_one("#name", Input).value.strip()
        if not name:
            raise FormError("the name is empty; give the action a name, e.g. weekday-morning.")
        recurrence = self.query_one("#cron", Input).value.strip()
        if not recurrence:
            raise FormError("the cron expression is empty; give 5 fields, e.g. 0 7 * * MON-FRI.")
        try:
            cron.parse_cron(recurrence)
        except ConfigError as exc:
            raise FormError(exc.message) from None
        tz = self.query_one("#tz", Input).value.strip() or "UTC"
        try:
            cron.zone(tz)
        except ConfigError as exc:
            raise FormError(exc.message) from None
        sizes = {
            key: whole_number(self.query_one(f"#{key}", Input).value, f"the {label}", minimum=0, blank=None)
            for key, label in (("min", "min size"), ("max", "max size"), ("desired", "desired capacity"))
        }
        action = ScheduledActionConfig(name=name, recurrence=recurrence, time_zone=tz, min_size=sizes["min"], max_size=sizes["max"], desired_capacity=sizes["desired"])
        from wsfleet.actions import validate_scheduled_action

        problems = validate_scheduled_action(action, self.clock())
        if problems:
            raise FormError(problems[0])
        if self.current is None and any(a.name == name for a in self.status.scheduled_actions):
            raise FormError(f"a scheduled action named {name!r} already exists; pick another name or edit that one.")
        return action

    def live(self) -> Text:
        a = self._action()
        s = app_styles(self.app)
        t = Text()
        t.append("next run ", style=s[MUTED])
        t.append(next_run_text(a, self.clock()), style=s[OK])
        return t

    def request(self) -> Callable[[Any], Any]:
        action = self._action()
        return lambda service: service.plan_schedule_put(action)


def _blank(v: int | None) -> str:
    return "" if v is None else str(v)


class ScheduleDeleteScreen(ActionScreen):
    PREVIEW_ON_MOUNT = True

    def __init__(self, service: Any, status: FleetStatus, name: str) -> None:
        super().__init__(service, status)
        self.name_to_delete = name
        self.DIALOG_TITLE = f"Delete scheduled action {name}"

    def request(self) -> Callable[[Any], Any]:
        name = self.name_to_delete
        return lambda service: service.plan_schedule_delete(name)
