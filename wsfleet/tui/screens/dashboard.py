"""The main screen and its refresh loop.

The loop (dolphie's): one cycle = an AWS read in a thread worker, then a count sweep in an async
worker whose results arrive one message per host. The next cycle is armed only when the current
one has ended, `interval` after it started (never less than MIN_INTERVAL after it ended), so cycles
never overlap and a slow read is never cancelled by a tick (NOTES.md: set_interval + exclusive).
A cycle that comes due while paused or while a dialog is open waits until that ends.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from wsfleet.errors import WsfleetError
from wsfleet.model import RESUME_ALARMS_TAG, FleetStatus, InstanceCount
from wsfleet.tui.messages import CountArrived, GroupLoaded, StatusFailed, StatusLoaded, SweepDone, SweepFailed
from wsfleet.tui.screens.dashboard_actions import DashboardActions
from wsfleet.tui.screens.dashboard_view import PANEL_TITLES, PANELS, WINDOWS, DashboardView, _window_label  # noqa: F401  (re-exported)
from wsfleet.tui.widgets.balance import BalanceStrip, SkewTrendLine
from wsfleet.tui.widgets.chart import VIEW_ALARM, VIEW_DISTRIBUTION, ChartInfo, ChartPlot
from wsfleet.tui.widgets.header import FleetHeader
from wsfleet.tui.widgets.instances import InstanceTable
from wsfleet.tui.widgets.keybar import KeyBar
from wsfleet.tui.widgets.panels import ScalingPanel, WarmPoolPanel

MIN_INTERVAL = 1.0  # seconds between the end of one cycle and the start of the next, at least
FLUSH_INTERVAL = 0.1  # streamed counts are applied to the table at most this often
NARROW_WIDTH, NARROW_HEIGHT = 120, 32


def unexpected(exc: BaseException) -> str:
    return f"unexpected error: {type(exc).__name__}: {exc} (run with -v and report it)."


class DashboardScreen(DashboardView, DashboardActions, Screen):
    # the view and write actions live in the mixins; @on handlers stay here (Textual collects them
    # only from classes built by its message-pump metaclass, which plain mixins are not)
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("p", "pause", "Pause", id="pause"),
        Binding("plus", "scale_out", "Scale out", id="scale_out"),
        Binding("minus", "scale_in", "Scale in", id="scale_in"),
        Binding("t", "thresholds", "Thresholds", id="thresholds"),
        Binding("s", "schedule", "Schedule", id="schedule"),
        Binding("w", "warm_pool", "Warm pool", id="warm_pool"),
        Binding("d", "start_refresh", "Deploy", id="start_refresh", show=False),
        Binding("b", "rebalance", "Rebalance", id="rebalance", show=False),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("o", "sort", "Sort", id="sort"),
        Binding("O", "sort_reverse", "Reverse", id="sort_reverse", show=False),
        Binding("c", "chart_view", "Chart view", id="chart_view", show=False),
        Binding("left_square_bracket", "window(-1)", "Shorter window", id="window_shorter", show=False),
        Binding("right_square_bracket", "window(1)", "Longer window", id="window_longer", show=False),
        Binding("f", "switch_fleet", "Fleet", id="switch_fleet"),
        Binding("e", "export", "Export", id="export"),
        Binding("1", "panel('instances')", "Instances", id="panel_instances", show=False),
        Binding("2", "panel('chart')", "Alarms", id="panel_chart", show=False),
        Binding("3", "panel('scaling')", "Scaling", id="panel_scaling", show=False),
        Binding("4", "panel('warm_pool')", "Warm pool", id="panel_warm_pool", show=False),
    ]

    def __init__(self, directory: Any, fleet_name: str, *, clock: Callable[[], datetime], poll: bool = True, window_minutes: int = 60, export_dir: Path | None = None, scale_step: int = 1, min_interval: float = MIN_INTERVAL) -> None:
        super().__init__()
        self.directory = directory
        self.clock = clock
        self.poll = poll
        self.window_minutes = window_minutes
        self.export_dir = export_dir
        self.scale_step = scale_step
        self.min_interval = min_interval
        self.service = directory.service(fleet_name)
        self.generation = 0
        self.status: FleetStatus | None = None  # the last good read of this fleet
        self.status_error: str | None = None
        self.sweep_error: str | None = None
        self.sweep_failed_now = False
        self.counts_at: datetime | None = None
        self.paused = False
        self.suspended = False  # a dialog is open over this screen
        self.cycle_running = False
        self.cycle_started = 0.0
        self.poll_due = False
        self.next_timer: Timer | None = None
        self.pending: list[InstanceCount] = []
        self.flush_timer: Timer | None = None
        self.flushed_at = 0.0
        self.panel = "instances"
        self.narrow = False
        self.chart_view = VIEW_ALARM
        self.cycles = 0  # completed cycles, for tests
        # a cycle ends when its status read has come back and its sweep (if one started) is done; the
        # sweep starts from the group, which the read gives before the rest (GroupLoaded)
        self.swept = False
        self.sweep_finished = False
        self.status_in = False
        self.reported_problems: tuple[str, ...] = ()
        self.titles_shown: dict[tuple[str, str], str] = {}  # (panel, border_title|border_subtitle) -> text

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        fleet = self.service.fleet
        yield FleetHeader(self.clock, id="header")
        yield BalanceStrip(id="balance")
        yield SkewTrendLine(id="trend")
        yield Static(id="tabs")
        with Vertical(id="instances-panel", classes="panel"):
            yield InstanceTable(capacity=fleet.capacity, max_skew=fleet.counts.max_skew, address_kind=fleet.ssh.address, id="table")
            yield Input(placeholder="filter: words that must all appear (id, AZ, address, state, error, LT: old) — Enter keeps, Esc clears", id="filter")
        with Horizontal(id="side"):
            with Vertical(id="chart-panel", classes="panel"):
                yield ChartPlot(id="chart")
                yield ChartInfo(id="chart-info")
            with VerticalScroll(id="scaling-panel", classes="panel"):
                yield ScalingPanel(self.clock, id="scaling")
            with VerticalScroll(id="warm-panel", classes="panel"):
                yield WarmPoolPanel(id="warm")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(KeyBar).show_keys(self.shown_keys(), read_only=bool(self.service.read_only))
        self._reset_header()
        self._titles()
        self.set_interval(1.0, self._tick_header)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        # the theme may have been published before this screen subscribed (seen on Python 3.12+):
        # apply the current one once the first frame is drawn
        self.call_after_refresh(self._theme_changed, None)
        self._apply_layout()
        if self.poll:
            self.start_cycle()

    def on_resize(self) -> None:
        self._apply_layout()

    def _apply_layout(self) -> None:
        width, height = self.size.width or self.app.size.width, self.size.height or self.app.size.height
        was_narrow = self.narrow
        self.narrow = width < NARROW_WIDTH or height < NARROW_HEIGHT
        instances = self.query_one("#instances-panel")
        side = self.query_one("#side")
        tabs = self.query_one("#tabs", Static)
        panels = {"chart": self.query_one("#chart-panel"), "scaling": self.query_one("#scaling-panel"), "warm_pool": self.query_one("#warm-panel")}
        if not self.narrow:
            tabs.display = False
            instances.display = True
            side.display = True
            for p in panels.values():
                p.display = True
            self.set_class(False, "-narrow")
            self._fit_panels(height)
        else:
            self.set_class(True, "-narrow")
            tabs.display = True
            instances.display = self.panel == "instances"
            side.display = self.panel != "instances"
            for name, p in panels.items():
                p.display = name == self.panel
            tabs.update(self._tabs_text())
        if self.narrow != was_narrow:
            self.refresh_bindings()  # the 1-4 panel keys exist only when narrow (check_action)

    def _fit_panels(self, height: int | None = None) -> None:
        """A small fleet's table takes the lines it needs and gives the rest to the chart and panels."""
        if self.narrow:
            return
        height = height or self.size.height or self.app.size.height
        body = max(height - 4, 10)  # header, balance strip, trend line, footer
        needed = len(self.query_one(InstanceTable).rows_by_id) + 4  # borders, column header, a spare line
        instances, side = self.query_one("#instances-panel"), self.query_one("#side")
        if needed < body * 0.6:
            instances.styles.height = max(needed, 8)
            side.styles.height = "1fr"
        else:
            instances.styles.height = "3fr"
            side.styles.height = "2fr"

    # ------------------------------------------------------------------ refresh loop

    def _arm(self, delay: float) -> None:
        if self.next_timer is not None:
            self.next_timer.stop()
        self.next_timer = self.set_timer(max(delay, 0.0), self._timer_fired)

    def _timer_fired(self) -> None:
        self.next_timer = None
        self.start_cycle()

    def start_cycle(self) -> None:
        """Begin a cycle now, or remember it is due when one is running, paused or a dialog is up."""
        if self.cycle_running or self.paused or self.suspended:
            self.poll_due = True
            return
        self.poll_due = False
        if self.next_timer is not None:
            self.next_timer.stop()
            self.next_timer = None
        self.cycle_running = True
        self.swept = self.sweep_finished = self.status_in = False
        self.cycle_started = time.monotonic()
        self.query_one(FleetHeader).update_state(busy=True)
        self._read_status(self.generation, self.service, self.window_minutes)

    def _maybe_end_cycle(self) -> None:
        """The cycle ends once both are in: the status read's answer and the sweep it started."""
        if self.cycle_running and self.status_in and (self.sweep_finished or not self.swept):
            self._end_cycle()

    def _end_cycle(self) -> None:
        self.cycle_running = False
        self.cycles += 1
        self.query_one(FleetHeader).update_state(busy=False)
        if not self.poll:
            return
        if self.poll_due and not (self.paused or self.suspended):
            self._arm(self.min_interval)
            return
        elapsed = time.monotonic() - self.cycle_started
        interval = max(float(self.service.fleet.counts.interval), self.min_interval)
        self._arm(max(interval - elapsed, self.min_interval))
        if self.paused or self.suspended:
            self.next_timer.stop()
            self.next_timer = None
            self.poll_due = True

    @work(thread=True, group="aws", exit_on_error=False)
    def _read_status(self, generation: int, service: Any, window_minutes: int) -> None:
        started = time.monotonic()
        reload = getattr(self.directory, "reload_if_changed", None)
        note = None
        try:
            note = reload() if reload else None
        except Exception as exc:  # a config re-read must not stop the refresh
            note = f"Could not re-read the config file: {type(exc).__name__}: {exc}."
        if note:
            try:
                self.app.call_from_thread(self.app.notify, note, title="Config", severity="warning", timeout=8)
            except RuntimeError:  # the app is closing
                return
        try:
            status = service.read_status(window_minutes, on_group=lambda group: self.post_message(GroupLoaded(generation, group)))
        except WsfleetError as exc:
            self.post_message(StatusFailed(generation, exc.message))
        except Exception as exc:  # a bug below must not end the dashboard
            self.post_message(StatusFailed(generation, unexpected(exc)))
        else:
            self.post_message(StatusLoaded(generation, status, time.monotonic() - started))
            self._resume_alarms(service, status)

    def _resume_alarms(self, service: Any, status: Any) -> None:
        """wsfleet paused the scaling alarms for a refresh that has ended: resume them (audited)."""
        resume = getattr(service, "resume_alarms_if_due", None)
        if resume is None or status.group.tag(RESUME_ALARMS_TAG) is None:
            return
        try:
            outcome = resume(status)
        except WsfleetError as exc:  # --read-only, or AWS refusing: say so, keep polling
            message, severity = exc.message, "warning"
        except Exception as exc:
            message, severity = unexpected(exc), "error"
        else:
            if outcome is None:
                return
            message = outcome.plan.summary if outcome.ok else f"Could not resume the scaling alarms: {outcome.error}"
            severity = "information" if outcome.ok else "error"
        try:
            self.app.call_from_thread(self.app.notify, message, title="Scaling alarms", severity=severity, timeout=10)
        except RuntimeError:  # the app is closing
            pass

    @work(group="sweep", exit_on_error=False)
    async def _sweep(self, generation: int, service: Any, group: Any) -> None:
        started = time.monotonic()
        answered = 0
        try:
            async for count in service.sweep(group):
                answered += 1
                self.post_message(CountArrived(generation, count))
        except WsfleetError as exc:
            self.post_message(SweepFailed(generation, exc.message))
        except Exception as exc:
            self.post_message(SweepFailed(generation, unexpected(exc)))
        finally:
            self.post_message(SweepDone(generation, time.monotonic() - started, answered))

    @on(StatusLoaded)
    def _status_loaded(self, msg: StatusLoaded) -> None:
        if msg.generation != self.generation:
            return
        if msg.status.fleet != self.service.fleet.name:
            # never show one fleet's data under another's name
            self._status_failed(StatusFailed(msg.generation, f"the read came back for fleet {msg.status.fleet!r}, not {self.service.fleet.name!r}; ignored."))
            return
        self.status = msg.status
        if self.status_error is not None:
            self.app.notify(f"AWS reads of {self.service.fleet.name} work again.", title="Recovered", timeout=5)
        self.status_error = None
        self._show_members(msg.status.group)
        self._fit_panels()
        self.query_one(FleetHeader).update_state(account_id=msg.status.account_id, account_read=True, region=msg.status.region or self.service.fleet.region, status_at=msg.status.taken_at, stale=False)
        if msg.status.problems and msg.status.problems != self.reported_problems:
            self.app.notify(" ".join(msg.status.problems), title="Part of the read failed", severity="warning", timeout=8)
        self.reported_problems = msg.status.problems
        self._refresh_panels()
        self.status_in = True
        self._start_sweep(msg.generation, msg.status.group)
        self._maybe_end_cycle()  # its sweep came from the group and is done already

    @on(GroupLoaded)
    def _group_loaded(self, msg: GroupLoaded) -> None:
        """The group before the rest of the status: its rows, and the sweep, start now."""
        if msg.generation != self.generation or self.swept:
            return
        self._show_members(msg.group)
        self._start_sweep(msg.generation, msg.group)

    def _show_members(self, group: Any) -> None:
        table = self.query_one(InstanceTable)
        table.now = self.clock()
        table.set_instances(group.instances, group.launch_template)

    def _start_sweep(self, generation: int, group: Any) -> None:
        if self.swept:  # once a cycle: from the group, or from the status when no group came first
            return
        self.swept = True
        self._sweep(generation, self.service, group)

    @on(StatusFailed)
    def _status_failed(self, msg: StatusFailed) -> None:
        if msg.generation != self.generation:
            return
        if msg.error != self.status_error:  # once per distinct error, not every cycle; the header stays "stale"
            self.app.notify(msg.error + (" Showing the last good data." if self.status else ""), title="AWS read failed", severity="error", timeout=8)
        self.status_error = msg.error
        self.query_one(FleetHeader).update_state(stale=True)
        self.status_in = True
        if self.swept:  # the group came before the failure: the cycle ends with its sweep
            self._maybe_end_cycle()
            return
        if self.status is not None:
            # counts do not need AWS: keep sweeping the last known members
            self._start_sweep(msg.generation, self.status.group)
        else:
            self._end_cycle()

    @on(CountArrived)
    def _count_arrived(self, msg: CountArrived) -> None:
        if msg.generation != self.generation:
            return
        self.pending.append(msg.count)
        if self.flush_timer is None:
            # leading edge: the first answer after a quiet spell shows at once, the rest in batches
            since = time.monotonic() - self.flushed_at
            if since >= FLUSH_INTERVAL:
                self._flush()
            else:
                self.flush_timer = self.set_timer(FLUSH_INTERVAL - since, self._flush)

    def _flush(self) -> None:
        self.flush_timer = None
        if not self.pending:
            return
        self.flushed_at = time.monotonic()
        batch, self.pending = self.pending, []
        table = self.query_one(InstanceTable)
        table.now = self.clock()
        table.apply_counts(batch)
        self.counts_at = self.clock()
        self.query_one(FleetHeader).update_state(counts_at=self.counts_at)
        self._refresh_balance()

    @on(SweepFailed)
    def _sweep_failed(self, msg: SweepFailed) -> None:
        if msg.generation != self.generation:
            return
        if msg.error != self.sweep_error:
            self.app.notify(msg.error, title="Count sweep failed", severity="error", timeout=8)
        self.sweep_error = msg.error
        self.sweep_failed_now = True

    @on(SweepDone)
    def _sweep_done(self, msg: SweepDone) -> None:
        if msg.generation != self.generation:
            return
        if self.flush_timer is not None:
            self.flush_timer.stop()
            self.flush_timer = None
        self._flush()
        if self.sweep_error is not None and not self.sweep_failed_now:
            self.app.notify("Counting works again.", title="Recovered", timeout=5)
            self.sweep_error = None
        self.sweep_failed_now = False
        table = self.query_one(InstanceTable)
        table.resort()
        self.query_one(SkewTrendLine).update_trend(table.sweep_ended(), table.history.skews())
        if self.chart_view == VIEW_DISTRIBUTION:  # the status-only panels were drawn when the status came
            self._refresh_panels()
        shown = getattr(getattr(self.app, "boot", None), "counts_shown", None)
        if shown is not None:  # a booting fleet waits for the first counts on screen (the demo's provisioning)
            shown()
        self.sweep_finished = True
        self._maybe_end_cycle()

    def on_worker_state_changed(self, event) -> None:
        """The workers catch their own errors; should one still die, say so and keep polling."""
        from textual.worker import WorkerState

        if event.state != WorkerState.ERROR or event.worker.group not in ("aws", "sweep"):
            return
        error = event.worker.error
        self.app.notify(unexpected(error) if error else "a refresh worker failed.", title="Refresh failed", severity="error", timeout=8)
        if event.worker.group == "aws" and self.cycle_running:
            self.status_in = True  # no answer will come: the cycle ends with its sweep, if one started
            self._maybe_end_cycle()

    # ------------------------------------------------------------------ dialogs pause polling

    def on_screen_suspend(self) -> None:
        self.suspended = True

    def on_screen_resume(self) -> None:
        self.suspended = False
        if self.poll_due and self.poll and not self.paused:
            self.start_cycle()

    # ------------------------------------------------------------------ actions: the loop, the filter box

    async def action_quit(self) -> None:
        await self.app.action_quit_app()

    def action_refresh(self) -> None:
        if self.paused:
            self.paused = False
            self.query_one(FleetHeader).update_state(paused=False)
        if self.cycle_running:
            self.poll_due = True
            self.app.notify("A refresh is running; another follows right after it.", timeout=2)
            return
        self.start_cycle()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.query_one(FleetHeader).update_state(paused=self.paused)
        if self.paused:
            if self.next_timer is not None:
                self.next_timer.stop()
                self.next_timer = None
                self.poll_due = True
        elif self.poll and (self.poll_due or not self.cycle_running):
            self.start_cycle()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(InstanceTable).set_filter(event.value)
        self._titles()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(event.value.strip())
        self.query_one(InstanceTable).focus()

    def on_key(self, event) -> None:
        box = self.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            box.display = False
            self.query_one(InstanceTable).set_filter("")
            self.query_one(InstanceTable).focus()
            self._titles()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, _event) -> None:
        self._titles()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "panel":
            return True if self.narrow else None
        return True
