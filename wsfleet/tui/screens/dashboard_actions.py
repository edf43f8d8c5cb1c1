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

from wsfleet.balance import serving
from wsfleet.errors import WsfleetError
from wsfleet.model import RESUME_ALARMS_TAG, FleetStatus, InstanceCount
from wsfleet.tui.messages import CountArrived, StatusFailed, StatusLoaded, SweepDone, SweepFailed
from wsfleet.tui.view import COLUMNS, FLAG_ERROR, FLAG_OVER
from wsfleet.tui.widgets.balance import BalanceStrip, SkewTrendLine
from wsfleet.tui.widgets.chart import VIEW_ALARM, VIEW_DISTRIBUTION, ChartData, ChartInfo, ChartPlot
from wsfleet.tui.widgets.header import FleetHeader
from wsfleet.tui.widgets.instances import InstanceTable
from wsfleet.tui.widgets.keybar import KeyBar
from wsfleet.tui.widgets.panels import ScalingPanel, WarmPoolPanel

MIN_INTERVAL = 1.0  # seconds between the end of one cycle and the start of the next, at least
FLUSH_INTERVAL = 0.1  # streamed counts are applied to the table at most this often
WINDOWS = (15, 60, 180, 360, 1440)  # chart windows, minutes
PANELS = ("instances", "chart", "scaling", "warm_pool")
PANEL_TITLES = {"instances": "Instances", "chart": "Alarms", "scaling": "Scaling", "warm_pool": "Warm pool"}
NARROW_WIDTH, NARROW_HEIGHT = 120, 32


def unexpected(exc: BaseException) -> str:
    return f"unexpected error: {type(exc).__name__}: {exc} (run with -v and report it)."


class DashboardScreen(Screen):
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
        self.reported_problems: tuple[str, ...] = ()

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        fleet = self.service.fleet
        yield FleetHeader(self.clock, id="header")
        yield BalanceStrip(id="balance")
        yield SkewTrendLine(id="trend")
        yield Static(id="tabs")
        with Vertical(id="body"):
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

    def _tabs_text(self) -> str:
        parts = []
        for i, name in enumerate(PANELS, 1):
            label = f" {i} {PANEL_TITLES[name]} "
            parts.append(f"[reverse bold]{label}[/]" if name == self.panel else f"[@click=screen.panel('{name}')]{label}[/]")
        return "".join(parts)

    def _titles(self) -> None:
        table = self.query_one(InstanceTable)
        sort_label = next(c.label for c in COLUMNS if c.key == table.sort_column).strip() or "flag"
        title = f"Instances {table.visible_count()}"
        if len(table.rows_by_id) != table.visible_count():
            title += f"/{len(table.rows_by_id)}"
        title += f" · sort {sort_label} {'▼' if table.sort_reverse else '▲'}"
        if table.filter_text:
            title += f" · filter “{table.filter_text}”"
        self.query_one("#instances-panel").border_title = title
        chart_title = f"Alarm chart · {_window_label(self.window_minutes)}" if self.chart_view == VIEW_ALARM else "Per-instance distribution"
        self.query_one("#chart-panel").border_title = chart_title
        self.query_one("#chart-panel").border_subtitle = "c view · [ ] window"
        self.query_one("#scaling-panel").border_title = "Scaling"
        self.query_one("#warm-panel").border_title = "Warm pool"

    def _theme_changed(self, _theme: Any) -> None:
        self.query_one(InstanceTable).set_styles_from_theme()
        for widget in (self.query_one(ScalingPanel), self.query_one(WarmPoolPanel)):
            widget.update(widget.build())
        self.refresh(recompose=False)

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
        self.cycle_started = time.monotonic()
        self.query_one(FleetHeader).update_state(busy=True)
        self._read_status(self.generation, self.service, self.window_minutes)

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
            status = service.read_status(window_minutes)
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
        table = self.query_one(InstanceTable)
        table.now = self.clock()
        table.set_instances(msg.status.group.instances, msg.status.group.launch_template)
        self._fit_panels()
        self.query_one(FleetHeader).update_state(account_id=msg.status.account_id, account_read=True, region=msg.status.region or self.service.fleet.region, status_at=msg.status.taken_at, stale=False)
        if msg.status.problems and msg.status.problems != self.reported_problems:
            self.app.notify(" ".join(msg.status.problems), title="Part of the read failed", severity="warning", timeout=8)
        self.reported_problems = msg.status.problems
        self._refresh_panels()
        self._sweep(msg.generation, self.service, msg.status.group)

    @on(StatusFailed)
    def _status_failed(self, msg: StatusFailed) -> None:
        if msg.generation != self.generation:
            return
        if msg.error != self.status_error:  # once per distinct error, not every cycle; the header stays "stale"
            self.app.notify(msg.error + (" Showing the last good data." if self.status else ""), title="AWS read failed", severity="error", timeout=8)
        self.status_error = msg.error
        self.query_one(FleetHeader).update_state(stale=True)
        if self.status is not None:
            # counts do not need AWS: keep sweeping the last known members
            self._sweep(msg.generation, self.service, self.status.group)
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
        self._end_cycle()

    def on_worker_state_changed(self, event) -> None:
        """The workers catch their own errors; should one still die, say so and keep polling."""
        from textual.worker import WorkerState

        if event.state != WorkerState.ERROR or event.worker.group not in ("aws", "sweep"):
            return
        error = event.worker.error
        self.app.notify(unexpected(error) if error else "a refresh worker failed.", title="Refresh failed", severity="error", timeout=8)
        if event.worker.group == "aws" and self.cycle_running:
            self._end_cycle()

    # ------------------------------------------------------------------ panels

    def _refresh_balance(self) -> None:
        table = self.query_one(InstanceTable)
        flags = [j.flag for j in table.judgements.values()]
        self.query_one(BalanceStrip).update_state(
            stats=table.stats,
            over_ceiling=flags.count(FLAG_OVER),
            not_serving=sum(1 for r in table.rows_by_id.values() if not serving(r)),
            errors=flags.count(FLAG_ERROR),
            capacity=self.service.fleet.capacity,
            max_skew=self.service.fleet.counts.max_skew,
            group=self.status.group if self.status else None,
        )
        self._titles()

    def _refresh_panels(self) -> None:
        table = self.query_one(InstanceTable)
        data = ChartData(fleet=self.service.fleet, status=self.status, rows=table.rows_in_order(), window_minutes=self.window_minutes)
        self.query_one(ChartPlot).set_data(data)
        self.query_one(ChartInfo).set_data(data, self.chart_view)
        self.query_one(ScalingPanel).set_data(self.service.fleet, self.status)
        self.query_one(WarmPoolPanel).set_data(self.status)
        self._refresh_balance()

    def _tick_header(self) -> None:
        self.query_one(FleetHeader).refresh()

    def _reset_header(self) -> None:
        fleet = self.service.fleet
        self.query_one(FleetHeader).update_state(
            fleet=fleet.name,
            account_id=None,
            account_read=False,
            region=fleet.region,
            profile=fleet.profile,
            source=self.service.source_name,
            interval=max(float(fleet.counts.interval), self.min_interval),
            status_at=None,
            counts_at=None,
            stale=False,
            read_only=bool(self.service.read_only),
            paused=self.paused,
        )

    # ------------------------------------------------------------------ dialogs pause polling

    def on_screen_suspend(self) -> None:
        self.suspended = True

    def on_screen_resume(self) -> None:
        self.suspended = False
        if self.poll_due and self.poll and not self.paused:
            self.start_cycle()

    # ------------------------------------------------------------------ actions: view

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

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if self.narrow and self.panel != "instances":
            self.action_panel("instances")
        box.display = True
        box.focus()

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

    def action_sort(self) -> None:
        table = self.query_one(InstanceTable)
        keys = [c.key for c in COLUMNS]
        nxt = keys[(keys.index(table.sort_column) + 1) % len(keys)]
        table.sort_by(nxt, reverse=nxt in ("connections", "bar", "delta", "error"))
        self._titles()

    def action_sort_reverse(self) -> None:
        table = self.query_one(InstanceTable)
        table.sort_by(table.sort_column, reverse=not table.sort_reverse)
        self._titles()

    def sort_by(self, column: str) -> None:
        self.query_one(InstanceTable).sort_by(column)
        self._titles()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, _event) -> None:
        self._titles()

    def action_chart_view(self) -> None:
        self.set_chart_view(VIEW_DISTRIBUTION if self.chart_view == VIEW_ALARM else VIEW_ALARM)

    def set_chart_view(self, view: str) -> None:
        self.chart_view = view
        self.query_one(ChartPlot).set_view(view)
        self._refresh_panels()
        if self.narrow and self.panel != "chart":
            self.action_panel("chart")

    def action_window(self, step: int) -> None:
        i = WINDOWS.index(self.window_minutes) if self.window_minutes in WINDOWS else 1
        j = min(max(i + step, 0), len(WINDOWS) - 1)
        if j == i:
            self.app.notify(f"The chart window is already at its {'shortest' if step < 0 else 'longest'} ({_window_label(self.window_minutes)}).", timeout=3)
            return
        self.window_minutes = WINDOWS[j]
        self._titles()
        self.action_refresh()

    def action_panel(self, name: str) -> None:
        if name not in PANELS:
            return
        self.panel = name
        self._apply_layout()
        target = {"instances": "#table", "chart": "#chart-panel", "scaling": "#scaling-panel", "warm_pool": "#warm-panel"}[name]
        widget = self.query_one(target)
        if widget.can_focus:
            widget.focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "panel":
            return True if self.narrow else None
        return True

    # ------------------------------------------------------------------ actions: fleet, export, help

    def action_help(self) -> None:
        from wsfleet.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.live_keymap(), read_only=bool(self.service.read_only)))

    def shown_keys(self) -> list[tuple[str, str, str, str]]:
        """(key, short description, binding id, action) of the bindings shown in the key line."""
        live = self._bindings.copy()
        live.apply_keymap(getattr(self.app, "_keymap", {}))
        first: dict[str, tuple[str, str, str, str]] = {}
        for key, bindings in live.key_to_bindings.items():
            for b in bindings:
                if b.show and b.id and b.id not in first:
                    first[b.id] = (self.app.get_key_display(b), b.description, b.id, b.action)
        order = [b.id for b in self.BINDINGS if b.show]
        return [first[i] for i in order if i in first]

    def live_keymap(self) -> list[tuple[str, str, str]]:
        """(keys, description, binding id) for every dashboard binding, with the user's keymap applied."""
        from wsfleet.tui.keymap import DASHBOARD_BINDINGS

        by_id: dict[str, list[str]] = {}
        live = self._bindings.copy()
        live.apply_keymap(getattr(self.app, "_keymap", {}))  # what Screen._binding_chain does per key press
        for key, bindings in live.key_to_bindings.items():
            for b in bindings:
                if b.id:
                    by_id.setdefault(b.id, []).append(self.app.get_key_display(b))
        rows = []
        for binding_id, what in DASHBOARD_BINDINGS.items():
            keys = by_id.get(binding_id)
            if keys:
                rows.append((" ".join(sorted(set(keys))), what, binding_id))
        return rows

    def action_switch_fleet(self) -> None:
        from wsfleet.tui.screens.fleets import FleetScreen

        names = self.directory.names()
        if len(names) < 2:
            self.app.notify(f"Only one fleet is configured ({names[0]}); add more under [fleets.NAME] in the config.", timeout=5)
            return
        fleets = [self.directory.app_config.fleets[n] for n in names]
        self.app.push_screen(FleetScreen(fleets, current=self.service.fleet.name), self.switch_fleet)

    def switch_fleet(self, name: str | None) -> None:
        if not name or name == self.service.fleet.name:
            return
        try:
            service = self.directory.service(name)
        except WsfleetError as exc:  # e.g. its AWS profile is missing: stay on the current fleet
            self.app.notify(exc.message, title=f"Cannot switch to {name}", severity="error", timeout=8)
            return
        self.generation += 1  # results still in flight for the old fleet are dropped on arrival
        self.workers.cancel_group(self, "sweep")
        if self.flush_timer is not None:
            self.flush_timer.stop()
            self.flush_timer = None
        if self.next_timer is not None:
            self.next_timer.stop()
            self.next_timer = None
        self.pending = []
        self.service = service
        self.status = None
        self.status_error = None
        self.sweep_error = None
        self.sweep_failed_now = False
        self.counts_at = None
        self.reported_problems = ()
        self.cycle_running = False
        fleet = self.service.fleet
        self.query_one(InstanceTable).reset(capacity=fleet.capacity, address_kind=fleet.ssh.address, max_skew=fleet.counts.max_skew)
        self.query_one(SkewTrendLine).update_trend(None)
        self._reset_header()
        self._refresh_panels()
        self.app.notify(f"Switched to fleet {name}.", timeout=3)
        if self.poll:
            self.start_cycle()

    def action_export(self) -> None:
        from wsfleet.tui.export import export_snapshot

        table = self.query_one(InstanceTable)
        try:
            json_path, csv_path = export_snapshot(
                fleet=self.service.fleet,
                status=self.status,
                rows=table.rows_in_order(),
                stats=table.stats,
                judgements=table.judgements,
                source=self.service.source_name,
                account_id=self.status.account_id if self.status else None,
                counts_at=self.counts_at,
                now=self.clock(),
                directory=self.export_dir or Path.cwd(),
            )
        except OSError as exc:
            self.app.notify(f"Could not write the export: {exc.strerror or exc}; start wsfleet from a writable directory.", title="Export failed", severity="error", timeout=8)
            return
        self.app.notify(f"Wrote {json_path} and {csv_path.name}.", title="Exported", timeout=8)

    # ------------------------------------------------------------------ actions: writes (modals)

    def _refuse_read_only(self, what: str) -> bool:
        if self.service.read_only:
            self.app.notify(f"Read-only: {what} is disabled because wsfleet was started with --read-only; restart without it to change the fleet.", title="Read-only", severity="warning", timeout=6)
            return True
        return False

    def _need_status(self, what: str) -> bool:
        if self.status is None:
            self.app.notify(f"Wait for the first read of {self.service.fleet.name} before {what}.", severity="warning", timeout=4)
            return True
        return False

    def _after_write(self, message: str | None) -> None:
        if message:
            self.app.notify(message, title="Applied", timeout=6)
            self.poll_due = True  # read the change back at once (runs on resume)

    def action_scale_out(self) -> None:
        self._open_scale("out")

    def action_scale_in(self) -> None:
        self._open_scale("in")

    def _open_scale(self, op: str) -> None:
        if self._refuse_read_only("scaling " + op) or self._need_status("scaling " + op):
            return
        from wsfleet.tui.screens.actions import ScaleScreen

        table = self.query_one(InstanceTable)
        self.app.push_screen(ScaleScreen(self.service, self.status, op, self.scale_step, mean=table.stats.mean), self._after_write)

    def action_thresholds(self) -> None:
        if self._refuse_read_only("changing thresholds") or self._need_status("changing thresholds"):
            return
        from wsfleet.tui.screens.actions import ThresholdsScreen

        self.app.push_screen(ThresholdsScreen(self.service, self.status), self._after_write)

    def action_schedule(self) -> None:
        if self._refuse_read_only("editing scheduled actions") or self._need_status("editing scheduled actions"):
            return
        from wsfleet.tui.screens.schedule import ScheduleScreen

        self.app.push_screen(ScheduleScreen(self.service, self.status, self.clock), self._after_write)

    def action_warm_pool(self) -> None:
        if self._refuse_read_only("changing the warm pool") or self._need_status("changing the warm pool"):
            return
        from wsfleet.tui.screens.actions import WarmPoolScreen

        self.app.push_screen(WarmPoolScreen(self.service, self.status), self._after_write)


    def action_start_refresh(self) -> None:
        if self._refuse_read_only("starting an instance refresh") or self._need_status("starting an instance refresh"):
            return
        from wsfleet.tui.screens.deploy import RefreshScreen

        table = self.query_one(InstanceTable)
        self.app.push_screen(RefreshScreen(self.service, self.status, mean=table.stats.mean), self._after_write)

    def action_rebalance(self) -> None:
        if self._refuse_read_only("rebalancing") or self._need_status("rebalancing"):
            return
        from wsfleet.tui.screens.deploy import RebalanceScreen

        table = self.query_one(InstanceTable)
        counts = {iid: r.connections for iid, r in table.rows_by_id.items() if r.connections is not None}
        self.app.push_screen(RebalanceScreen(self.service, self.status, counts, target_skew=self.service.fleet.counts.max_skew),
                             self._after_write)


def _window_label(minutes: int) -> str:
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
