"""The dashboard's view: titles, panels, filter, sort, chart view and window, panel switching,
help, export and fleet switching (a mixin of DashboardScreen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from wsfleet.balance import serving
from wsfleet.errors import WsfleetError
from wsfleet.tui.view import COLUMNS, FLAG_ERROR, FLAG_OVER
from wsfleet.tui.widgets.balance import BalanceStrip, SkewTrendLine
from wsfleet.tui.widgets.chart import VIEW_ALARM, VIEW_DISTRIBUTION, ChartData, ChartInfo, ChartPlot
from wsfleet.tui.widgets.header import FleetHeader
from wsfleet.tui.widgets.instances import InstanceTable
from wsfleet.tui.widgets.panels import ScalingPanel, WarmPoolPanel

WINDOWS = (15, 60, 180, 360, 1440)  # chart windows, minutes
PANELS = ("instances", "chart", "scaling", "warm_pool")
PANEL_TITLES = {"instances": "Instances", "chart": "Alarms", "scaling": "Scaling", "warm_pool": "Warm pool"}


class DashboardView:
    """Needs DashboardScreen's state (service, status, panel, narrow, chart_view, window_minutes, ...)."""

    # ------------------------------------------------------------------ titles

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
        chart_title = f"Alarm chart · {_window_label(self.window_minutes)}" if self.chart_view == VIEW_ALARM else "Per-instance distribution"
        for selector, attribute, text in (
            ("#instances-panel", "border_title", title),
            ("#chart-panel", "border_title", chart_title),
            ("#chart-panel", "border_subtitle", "c view · [ ] window"),
            ("#scaling-panel", "border_title", "Scaling"),
            ("#warm-panel", "border_title", "Warm pool"),
        ):
            # setting a title repaints the whole panel, even to the same text: this runs on every
            # batch of counts, and repainting four panels for it was most of a sweep's paint
            if self.titles_shown.get((selector, attribute)) != text:
                self.titles_shown[(selector, attribute)] = text
                setattr(self.query_one(selector), attribute, text)

    def _theme_changed(self, _theme: Any) -> None:
        if not self.query_one(InstanceTable).set_styles_from_theme():
            return  # drawn in this theme's colours already (the check after the first frame, usually)
        for widget in (self.query_one(ScalingPanel), self.query_one(WarmPoolPanel)):
            widget.show(widget.build())
        self.refresh(recompose=False)

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

    # ------------------------------------------------------------------ actions: view

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if self.narrow and self.panel != "instances":
            self.action_panel("instances")
        box.display = True
        box.focus()

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



def _window_label(minutes: int) -> str:
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
