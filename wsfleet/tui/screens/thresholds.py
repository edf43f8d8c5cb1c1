"""The thresholds and steps dialog: checked as typed, with the step that would fire now, the flap
check and the chart window's history replayed through the current and the proposed settings."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label

from wsfleet.errors import ConfigError
from wsfleet.model import FleetStatus, StepRange
from wsfleet.scaling import live_steps
from wsfleet.tui.screens.actions import ActionScreen, FormError, connections
from wsfleet.tui.view import ERROR, MUTED, OK, WARNING, fmt_int, fmt_step, latest, low_alarm_params


class ThresholdsScreen(ActionScreen):
    DIALOG_TITLE = "Thresholds and steps"

    def __init__(self, service: Any, status: FleetStatus) -> None:
        super().__init__(service, status)
        from wsfleet.scaling import format_steps_spec

        fleet = service.fleet
        self.high0, self.steps0, _ = live_steps(fleet, status)
        self.low0 = low_alarm_params(fleet, status.low_alarm).threshold
        self.spec0 = format_steps_spec(self.steps0)

    def form(self) -> ComposeResult:
        yield Label("High threshold (scale out at avg ≥, connections per instance)")
        yield Input(f"{self.high0:g}", id="high", compact=True)
        yield Label("Low threshold (scale in at avg ≤)")
        yield Input(f"{self.low0:g}", id="low", compact=True)
        yield Label("Steps, absolute: FROM:TO:+N,…,FROM::+N (leave as is to keep their widths)")
        yield Input(self.spec0, id="steps", compact=True)

    def _values(self) -> tuple[float, float, tuple[StepRange, ...], bool]:
        from wsfleet import scaling

        high = connections(self.query_one("#high", Input).value, "the high threshold")
        low = connections(self.query_one("#low", Input).value, "the low threshold")
        if low >= high:
            raise FormError(f"the low threshold {fmt_int(low)} must be below the high threshold {fmt_int(high)}, or the group scales in and out at once.")
        spec = self.query_one("#steps", Input).value.strip()
        steps_given = spec != self.spec0
        if steps_given:
            if not spec:
                raise FormError("the steps are empty; give them like 22000:25000:+2,25000:30000:+2,30000::+3.")
            try:
                steps = scaling.parse_steps_spec(spec)
            except ConfigError as exc:
                raise FormError(exc.message.replace("--steps", "the steps", 1)) from None
        else:
            steps = scaling.shift_steps(self.high0, high, self.steps0)
        problems = scaling.validate_steps(high, steps)
        if problems:
            raise FormError(f"steps: {problems[0]}")
        return high, low, tuple(steps), steps_given

    def live(self) -> Text:
        from wsfleet.scaling import flap_unsafe_sizes, step_for

        s = self.styles_map
        high, low, steps, steps_given = self._values()
        g = self.status.group
        t = Text()
        t.append("steps" + (" (shifted with the threshold)" if not steps_given and high != self.high0 else "") + ": ", style=s[MUTED])
        t.append(", ".join(fmt_step(x) for x in steps))
        value, _ = latest(self.status.metric)
        fires = step_for(value, high, steps) if value is not None else None
        t.append("\nnow ", style=s[MUTED])
        t.append(fmt_int(value) if value is not None else "—")
        t.append(" → " + (f"step {fmt_step(fires)} would fire" if fires else "no step fires"), style=s[ERROR] if fires else s[OK])
        remove = self.service.fleet.scale_in.remove
        unsafe = flap_unsafe_sizes(low, high, g.min_size, g.max_size, remove=remove)
        if unsafe:
            from wsfleet.tui.widgets.panels import _ranges

            worst = max(unsafe, key=lambda n: low * n / max(n - remove, 1))
            t.append(f"\n↯ flap: at n = {_ranges(unsafe)} removing {remove} at {fmt_int(low)} leaves up to {fmt_int(low * worst / max(worst - remove, 1))} each, ≥ {fmt_int(high)}.", style=s[ERROR])
        else:
            t.append(f"\nflap-safe: removing {remove} at {fmt_int(low)} stays below {fmt_int(high)} for {g.min_size}..{g.max_size} instances.", style=s[OK])
        t.append_text(self._what_if(high, low, steps))
        return t

    def _what_if(self, high: float, low: float, steps: tuple[StepRange, ...]) -> Text:
        """The chart window's history replayed through the current and the proposed settings."""
        from dataclasses import replace

        from wsfleet import whatif

        s = self.styles_map
        series = self.status.metric
        if series is None or not any(v is not None for v in series.values):
            return Text("\nwhat-if: no metric history in this window to replay yet.", style=s[MUTED])
        fleet, g = self.service.fleet, self.status.group
        try:
            base = whatif.WhatIfConfig.from_fleet(fleet, min_size=g.min_size, max_size=g.max_size)
            current = replace(
                base,
                scale_out=replace(base.scale_out, threshold=self.high0, steps=self.steps0),
                scale_in=replace(base.scale_in, threshold=self.low0),
            )
            proposed = whatif.propose(current, high=high, low=low, steps=steps)
            result = whatif.compare(whatif.MetricHistory.from_series(series), current, proposed, initial_instances=g.desired)
        except (ConfigError, ValueError) as exc:
            return Text(f"\nwhat-if: cannot replay this window ({exc}).", style=s[MUTED])
        c, p = result.current, result.proposed
        minutes = max(1, round(len(series.values) * series.period / 60))  # 361 ten-second points: "60 min"
        t = Text(f"\nwhat-if, last {minutes} min replayed: ", style=s[MUTED])
        t.append(f"scale-outs {c.scale_outs} → {p.scale_outs}, scale-ins {c.scale_ins} → {p.scale_ins}, ")
        t.append(f"flaps {len(c.flaps)} → {len(p.flaps)}", style=s[ERROR] if len(p.flaps) > len(c.flaps) else "")
        if c.peak_per_instance is not None and p.peak_per_instance is not None:
            t.append(f", peak {fmt_int(c.peak_per_instance)} → {fmt_int(p.peak_per_instance)}")
        if c.blocked_at_max or p.blocked_at_max:
            t.append(f", held at max {c.blocked_at_max} → {p.blocked_at_max} periods", style=s[WARNING])
        return t

    def request(self) -> Callable[[Any], Any]:
        high, low, steps, steps_given = self._values()
        changed_high = high if high != self.high0 else None
        changed_low = low if low != self.low0 else None
        changed_steps = steps if steps_given else None
        if changed_high is None and changed_low is None and changed_steps is None:
            raise FormError("nothing changed: edit the high or low threshold or the steps first.")
        return lambda service: service.plan_thresholds(high=changed_high, low=changed_low, steps=changed_steps)
