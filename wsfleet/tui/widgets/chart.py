"""The alarm chart (average metric vs. thresholds, coloured by alarm state) and the per-instance
distribution, drawn with plotext 5 into Rich text (NOTES.md: clear the figure on every build)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import plotext as plt
from rich.text import Text
from textual.widget import Widget

from wsfleet.balance import serving
from wsfleet.model import FleetConfig, FleetStatus
from wsfleet.scaling import live_steps, step_for
from wsfleet.tui.styling import app_styles, plotext_color
from wsfleet.tui.view import (
    ERROR,
    MUTED,
    OK,
    SEG_HIGH,
    SEG_LOW,
    SEG_NODATA,
    SEG_OK,
    WARNING,
    InstanceRow,
    alarm_states,
    fmt_int,
    fmt_short,
    fmt_step,
    high_alarm_params,
    latest,
    low_alarm_params,
    runs,
    segment_kinds,
)

VIEW_ALARM, VIEW_DISTRIBUTION = "alarm", "distribution"


@dataclass
class ChartData:
    fleet: FleetConfig | None = None
    status: FleetStatus | None = None
    rows: Sequence[InstanceRow] = field(default_factory=tuple)
    window_minutes: int = 60


class ChartPlot(Widget):
    """The plotext figure, rebuilt only when its data, size, view or theme changed."""

    DEFAULT_CSS = """
    ChartPlot { height: 1fr; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data = ChartData()
        self.view = VIEW_ALARM
        self._version = 0
        self._inputs = _figure_inputs(self.data, self.view)
        self._cache: tuple[tuple, Text] | None = None

    def set_data(self, data: ChartData) -> None:
        # every AWS read and sweep brings new data, mostly drawing the same figure (the metric
        # moves once a period): rebuild the plotext figure only when what it draws changed
        self.data = data
        inputs = _figure_inputs(data, self.view)
        if inputs != self._inputs:
            self._inputs = inputs
            self._version += 1
            self.refresh()

    def set_view(self, view: str) -> None:
        self.view = view
        self._inputs = _figure_inputs(self.data, view)
        self._version += 1
        self.refresh()

    def render(self) -> Text:
        w, h = self.size.width, self.size.height
        key = (w, h, self.view, self._version, self.app.theme)
        if self._cache and self._cache[0] == key:
            return self._cache[1]
        try:
            if w < 20 or h < 5:
                text = Text("(too small for a chart)", style="dim")
            elif self.view == VIEW_ALARM:
                text = self._alarm(w, h)
            else:
                text = self._distribution(w, h)
        except Exception as exc:  # plotext on odd data must not take the dashboard down
            text = Text(f"chart unavailable: {type(exc).__name__}: {exc}", style="dim")
        self._cache = (key, text)
        return text

    def _colors(self):
        v = self.app.theme_variables
        ansi = bool(getattr(self.app.current_theme, "ansi", False))
        return {
            SEG_OK: plotext_color(v, "success", ansi, "green"),
            SEG_HIGH: plotext_color(v, "error", ansi, "red"),
            SEG_LOW: plotext_color(v, "primary", ansi, "blue"),
            SEG_NODATA: plotext_color(v, "foreground-darken-3", ansi, "gray"),
            "high_line": plotext_color(v, "warning", ansi, "yellow"),
            "low_line": plotext_color(v, "primary", ansi, "blue"),
            "bar": plotext_color(v, "secondary", ansi, "cyan"),
            "over": plotext_color(v, "error", ansi, "red"),
        }

    def _alarm(self, w: int, h: int) -> Text:
        d = self.data
        if d.fleet is None or d.status is None or d.status.metric is None or all(v is None for v in d.status.metric.values):
            return Text(f"no datapoints of {d.fleet.metric.namespace}/{d.fleet.metric.name} in this window yet" if d.fleet else "no data yet", style="dim")
        series = d.status.metric
        hp = high_alarm_params(d.fleet, d.status.high_alarm)
        lp = low_alarm_params(d.fleet, d.status.low_alarm)
        kinds = segment_kinds(alarm_states(series, hp), alarm_states(series, lp))
        n = len(series.values)
        period_min = series.period / 60
        xs = [(i - (n - 1)) * period_min for i in range(n)]
        # zoom to the data: a new fleet (or the demo) has a few minutes of a one-hour window
        first = next(i for i, v in enumerate(series.values) if v is not None)
        start = max(0, first - 1)
        colors = self._colors()
        present = [v for v in series.values if v is not None]
        lo = min(present + [lp.threshold])
        hi = max(present + [hp.threshold])
        pad = max((hi - lo) * 0.08, 1.0)
        plt.clf()
        plt.plotsize(w, h)
        plt.theme("clear")
        plt.hline(hp.threshold, color=colors["high_line"])
        plt.hline(lp.threshold, color=colors["low_line"])
        for kind, a, b in runs(kinds):
            idx = [i for i in range(max(a, start), b + 1) if series.values[i] is not None]
            if idx:
                plt.plot([xs[i] for i in idx], [series.values[i] for i in idx], color=colors[kind], marker="braille")
        plt.ylim(max(lo - pad, 0), hi + pad)
        left = min(xs[start], -period_min)
        plt.xlim(left, 0)
        plt.yticks([lp.threshold, hp.threshold], [fmt_short(lp.threshold), fmt_short(hp.threshold)])
        ticks = _time_ticks(left)
        plt.xticks(ticks, [_tick_label(t) for t in ticks])
        return Text.from_ansi(plt.build(), no_wrap=True)

    def _distribution(self, w: int, h: int) -> Text:
        d = self.data
        measured = sorted((r for r in d.rows if r.connections is not None and not r.error), key=lambda r: (-r.connections, r.id))
        if not measured or d.fleet is None:
            return Text("no counts yet", style="dim")
        if len(measured) <= h:
            return self._per_instance(measured, w)
        colors = self._colors()
        cap = d.fleet.capacity
        values = [r.connections for r in measured]
        mean = sum(values) / len(values)
        plt.clf()
        plt.plotsize(w, h)
        plt.theme("clear")
        plt.hist(values, bins=min(30, max(5, (w - 8) // 2)), color=colors["bar"])
        plt.vline(cap, color=colors["over"])
        plt.vline(mean, color=colors["high_line"])
        plt.xlabel("connections per instance (instances per bin)")
        return Text.from_ansi(plt.build(), no_wrap=True)

    def _per_instance(self, rows: Sequence[InstanceRow], w: int) -> Text:
        """One line per instance, busiest first: a bar against the ceiling (│) and the mean (┊)."""
        styles = app_styles(self.app)
        cap = self.data.fleet.capacity
        values = [r.connections for r in rows]
        in_balance = [r.connections for r in rows if serving(r)] or values  # the mean the table uses
        mean = sum(in_balance) / len(in_balance)
        top = max(max(values), cap) * 1.04
        label_w = max(len(r.id) for r in rows)
        bar_w = max(w - label_w - 10, 8)
        cap_col = min(int(cap / top * bar_w), bar_w - 1)
        mean_col = min(int(mean / top * bar_w), bar_w - 1)
        t = Text(no_wrap=True)
        for i, r in enumerate(rows):
            if i:
                t.append("\n")
            c = r.connections
            skew = self.data.fleet.counts.max_skew
            role = ERROR if c > cap else WARNING if c < mean / skew or c > mean * skew else OK
            t.append(r.id.ljust(label_w) + " ", style=styles[MUTED])
            filled = c / top * bar_w
            for col in range(bar_w):
                if col < int(filled):
                    t.append("█", style=styles[ERROR] if col >= cap_col else styles[role])
                elif col == int(filled) and filled - col >= 0.5:
                    t.append("▌", style=styles[ERROR] if col >= cap_col else styles[role])
                elif col == cap_col:
                    t.append("│", style=styles[ERROR])
                elif col == mean_col:
                    t.append("┊", style=styles[WARNING])
                else:
                    t.append(" ")
            t.append(f" {fmt_int(c):>7}", style=styles[role] if role != OK else "")
        return t


def _figure_inputs(data: ChartData, view: str) -> tuple:
    """What `ChartPlot` draws from `data` in `view`: equal tuples draw the same figure."""
    if view == VIEW_ALARM:
        status = data.status
        return (data.fleet, None) if status is None else (data.fleet, status.metric, status.high_alarm, status.low_alarm)
    return (data.fleet, tuple((r.id, r.connections, r.error, serving(r)) for r in data.rows))


def _time_ticks(first: float) -> list[float]:
    """At most ~5 round ticks from `first` (minutes, negative) to now."""
    span = max(-first, 1e-6)
    step = 360.0
    for candidate in (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 180, 360):
        if span / candidate <= 5:
            step = candidate
            break
    ticks = []
    t = 0.0
    while t >= first - 1e-9:
        ticks.append(t)
        t -= step
    return sorted(ticks)


def _tick_label(minutes: float) -> str:
    if minutes == 0:
        return "now"
    if abs(minutes) < 1:
        return f"{minutes * 60:.0f}s"
    if abs(minutes) >= 120:
        return f"{minutes / 60:g}h"
    return f"{minutes:g}m"


class ChartInfo(Widget):
    """Under the chart: each alarm's state from CloudWatch, the current value, the step that would fire."""

    DEFAULT_CSS = """
    ChartInfo { height: auto; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data = ChartData()
        self.view = VIEW_ALARM
        self._drawn: Text | None = None  # the line last rendered or asked for

    def set_data(self, data: ChartData, view: str) -> None:
        self.data, self.view = data, view
        line = self._line()
        if line != self._drawn:  # the same line: no layout, no repaint
            self._drawn = line
            # hidden (80x24, another panel shown): repaint when shown, which lays it out anyway
            self.refresh(layout=bool(self.region))

    def render(self) -> Text:
        self._drawn = self._line()
        return self._drawn

    def _line(self) -> Text:
        d = self.data
        styles = app_styles(self.app)
        t = Text(no_wrap=False)
        if d.fleet is None:
            return t
        if self.view == VIEW_DISTRIBUTION:
            t.append("connections per instance, busiest first · ", style=styles[MUTED])
            t.append("│ ceiling", style=styles[ERROR])
            t.append(f" {fmt_int(d.fleet.capacity)} · ", style=styles[MUTED])
            t.append("┊ mean", style=styles[WARNING])
            return t
        status = d.status
        hp = high_alarm_params(d.fleet, status.high_alarm if status else None)
        lp = low_alarm_params(d.fleet, status.low_alarm if status else None)
        for label, p, alarm in (("high", hp, status.high_alarm if status else None), ("low", lp, status.low_alarm if status else None)):
            state = alarm.state if alarm else "missing"
            role = ERROR if state == "ALARM" else OK if state == "OK" else MUTED if state == "INSUFFICIENT_DATA" else WARNING
            op = "≥" if "Greater" in p.comparison else "≤"
            t.append(f"{label} {op}{fmt_int(p.threshold)} ", style=styles[MUTED])
            t.append(state, style=styles[role])
            t.append("  ")
        value, _ = latest(status.metric if status else None)
        t.append("now ", style=styles[MUTED])
        t.append(fmt_int(value) if value is not None else "—", style="bold")
        threshold, steps, origin = live_steps(d.fleet, status)
        step = step_for(value, threshold, steps) if value is not None else None
        t.append("  → ", style=styles[MUTED])
        if step is None:
            t.append("no step fires", style=styles[OK])
        else:
            t.append(f"step {fmt_step(step)}", style=styles[ERROR])
        return t
