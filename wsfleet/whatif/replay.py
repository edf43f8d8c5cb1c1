"""Replay a metric history through a scaling configuration, period by period. Pure.

`simulate(history, config)` walks the history period by period, computes what the group's
average would have been at the simulated size, feeds it through the same alarm evaluator the
dashboard and the demo use (`scaling.evaluate_window`), acts as the policies would, and reports
scale-outs, scale-ins, flaps, peak load per instance, time above the per-instance ceiling and
instance-hours. `compare(history, current, proposed)` runs both.

The load model (what the replay assumes):

* Total connections at period t = the history's group average x the instances the history had
  then (its instance column; without one, the starting size throughout). That total does not
  depend on the simulated size: clients are neither lost nor gained by scaling.
* The simulated group average is total / simulated instances: connections of removed instances
  reconnect to the rest, and a launched instance takes its share from the next period on.
  That is exactly the average the alarm sees; the per-instance figures are means, not the
  busiest instance (imbalance is the dashboard's job, not this replay's).
* Each alarm's datapoint is the mean of the per-period averages over its own period, aligned to
  the start of the history, evaluated at the end of each of its periods (periods before the
  history count as missing, as for a new metric).
* Scale-out (step policy): while the high alarm is in ALARM, every evaluation executes the
  step for its datapoint. Instances launched less than `warmup` seconds ago count against it,
  so a breach in the same step adds nothing more and a higher step adds only the difference
  (AWS's step scaling with an estimated instance warm-up). Capped at max_size.
* Scale-in (simple policy): while the low alarm is in ALARM and the policy's cooldown since
  its last scale-in has passed, remove `remove` instances, never below min_size. A period that
  scaled out does not also scale in.
* A flap is a scale-out within `flap_periods` history periods of the scale-in before it: the
  seed's churn, where the instances left after a scale-in hit the high threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from wsfleet.errors import ConfigError
from wsfleet.model import MetricSeries
from wsfleet.scaling import (
    ALARM,
    INSUFFICIENT_DATA,
    SCALE_IN_COMPARISON,
    SCALE_OUT_COMPARISON,
    default_evaluation_range,
    evaluate_window,
    step_for,
)
from wsfleet.whatif.inputs import MetricHistory, WhatIfConfig, _checked
from wsfleet.whatif.results import Flap, ScalingEvent, WhatIfComparison, WhatIfReport

DEFAULT_FLAP_PERIODS = 30  # with one-minute history: a scale-out within 30 minutes of a scale-in


class _Alarm:
    """One alarm's datapoints at its own period, built from the history's periods."""

    def __init__(self, period: int, base: int, threshold: float, comparison: str, n: int, m: int, treat: str, which: str) -> None:
        if period < base or period % base:
            raise ConfigError(
                f"the history has {base}-second periods but the {which} alarm's period is {period} s; "
                f"the history's period must divide the alarm's (e.g. one-minute history for 60 s and 300 s alarms)."
            )
        self.every = period // base
        self.threshold, self.comparison, self.n, self.m, self.treat = threshold, comparison, n, m, treat
        self.span = default_evaluation_range(n)
        self.datapoints: list[float | None] = [None] * (self.span - 1)  # before the history: missing
        self.state = INSUFFICIENT_DATA
        self.states: list[str] = []
        self._sum = 0.0
        self._count = 0

    def add(self, value: float | None) -> None:
        if value is not None:
            self._sum += value
            self._count += 1

    def close_period(self) -> float | None:
        """End of one alarm period: its datapoint, and the evaluation."""
        value = self._sum / self._count if self._count else None
        self._sum, self._count = 0.0, 0
        self.datapoints.append(value)
        self.state = evaluate_window(
            self.datapoints[-self.span :],
            threshold=self.threshold,
            comparison=self.comparison,
            evaluation_periods=self.n,
            datapoints_to_alarm=self.m,
            treat_missing_data=self.treat,
            previous=self.state,
        )
        self.states.append(self.state)
        return value


def simulate(
    history: MetricHistory | MetricSeries,
    config: WhatIfConfig,
    *,
    initial_instances: int | None = None,
    flap_periods: int = DEFAULT_FLAP_PERIODS,
) -> WhatIfReport:
    """Replay `history` through `config` (see the module docstring for the load model).

    The simulated group starts at `initial_instances`, else the history's first known instance
    count, else min_size, clamped to min..max.
    """
    if isinstance(history, MetricSeries):
        history = MetricHistory.from_series(history)
    _checked(config)
    base = history.period
    if not isinstance(base, int) or base <= 0:
        raise ConfigError(f"the history's period must be a whole number of seconds above 0, not {base!r}.")
    out, inn = config.scale_out, config.scale_in
    high = _Alarm(out.period, base, out.threshold, SCALE_OUT_COMPARISON, out.evaluation_periods, out.datapoints_to_alarm, out.treat_missing_data, "high")
    low = _Alarm(inn.period, base, inn.threshold, SCALE_IN_COMPARISON, inn.evaluation_periods, inn.datapoints_to_alarm, inn.treat_missing_data, "low")

    known_sizes = [n for n in (history.instances or ()) if n is not None]
    start = initial_instances if initial_instances is not None else (known_sizes[0] if known_sizes else config.min_size)
    size = min(config.max_size, max(config.min_size, start))
    recorded_size = known_sizes[0] if known_sizes else size  # the history's own size, for the total

    events: list[ScalingEvent] = []
    launches: list[tuple[int, int]] = []  # (offset_s, instances) still warming
    last_scale_in: int | None = None
    sizes: list[int] = []
    loads: list[float | None] = []
    instance_seconds = 0
    over_capacity = 0
    blocked = 0
    peak: float | None = None
    peak_index: int | None = None
    recorded = history.instances

    for t, average in enumerate(history.averages):
        if recorded is not None and recorded[t] is not None:
            recorded_size = recorded[t]
        # no instances: nothing reports, so the alarm sees missing data
        per_instance = None if average is None or size == 0 else average * recorded_size / size
        sizes.append(size)
        loads.append(per_instance)
        instance_seconds += size * base
        if per_instance is not None:
            if per_instance > config.capacity:
                over_capacity += base
            if peak is None or per_instance > peak:
                peak, peak_index = per_instance, t
        high.add(per_instance)
        low.add(per_instance)
        now = (t + 1) * base
        at = history.start + timedelta(seconds=now) if history.start is not None else None

        scaled_out = False
        if (t + 1) % high.every == 0:
            value = high.close_period()
            if high.state == ALARM and value is not None:
                step = step_for(value, out.threshold, out.steps)
                if step is not None:
                    launches = [(when, n) for when, n in launches if now - when < out.warmup]
                    wanted = step.add - sum(n for _, n in launches)
                    if wanted > 0:
                        after = min(config.max_size, size + wanted)
                        if after > size:
                            events.append(ScalingEvent("out", t, now, size, after, value, at))
                            launches.append((now, after - size))
                            size, scaled_out = after, True
                        else:
                            blocked += 1
        if (t + 1) % low.every == 0:
            value = low.close_period()
            cooled = last_scale_in is None or now - last_scale_in >= inn.cooldown
            if low.state == ALARM and not scaled_out and cooled:
                after = max(config.min_size, size - inn.remove)
                if after < size:
                    events.append(ScalingEvent("in", t, now, size, after, value, at))
                    size, last_scale_in = after, now

    return WhatIfReport(
        config=config,
        period=base,
        periods=len(history.averages),
        events=tuple(events),
        flaps=_flaps(events, flap_periods * base),
        peak_per_instance=peak,
        peak_period_index=peak_index,
        seconds_over_capacity=over_capacity,
        instance_hours=instance_seconds / 3600,
        min_instances=min(sizes + [size]),
        max_instances=max(sizes + [size]),
        final_instances=size,
        blocked_at_max=blocked,
        instances=tuple(sizes),
        per_instance=tuple(loads),
        high_states=tuple(high.states),
        low_states=tuple(low.states),
    )


def _flaps(events: Sequence[ScalingEvent], window_s: int) -> tuple[Flap, ...]:
    """Each scale-out paired with the latest unpaired scale-in before it, when within the window."""
    flaps: list[Flap] = []
    pending_in: ScalingEvent | None = None
    for event in events:
        if event.kind == "in":
            pending_in = event
        elif pending_in is not None:
            if event.offset_s - pending_in.offset_s <= window_s:
                flaps.append(Flap(pending_in, event))
            pending_in = None
    return tuple(flaps)


def compare(
    history: MetricHistory | MetricSeries,
    current: WhatIfConfig,
    proposed: WhatIfConfig,
    *,
    initial_instances: int | None = None,
    flap_periods: int = DEFAULT_FLAP_PERIODS,
) -> WhatIfComparison:
    """Replay the same history through the current and the proposed configuration."""
    return WhatIfComparison(
        current=simulate(history, current, initial_instances=initial_instances, flap_periods=flap_periods),
        proposed=simulate(history, proposed, initial_instances=initial_instances, flap_periods=flap_periods),
    )
