"""What if the thresholds were different? Replay a metric history through a scaling configuration. Pure.

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

import csv
import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from wsfleet.errors import ConfigError
from wsfleet.model import FleetConfig, MetricSeries, ScaleInConfig, ScaleOutConfig, StepRange
from wsfleet.scaling import (
    ALARM,
    INSUFFICIENT_DATA,
    SCALE_IN_COMPARISON,
    SCALE_OUT_COMPARISON,
    default_evaluation_range,
    evaluate_window,
    format_steps_spec,
    shift_steps,
    step_for,
    validate_steps,
)

DEFAULT_FLAP_PERIODS = 30  # with one-minute history: a scale-out within 30 minutes of a scale-in


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class MetricHistory:
    """The group's average connections per instance, one value a period, oldest first.

    `instances` (optional) is how many instances the group had in each period, so that the
    total load can be rebuilt; None entries carry the previous count forward.
    `start` (optional) is when the first period began, for the events' times.
    """

    period: int
    averages: tuple[float | None, ...]
    instances: tuple[int | None, ...] | None = None
    start: datetime | None = None

    @classmethod
    def from_series(cls, series: MetricSeries, instances: Sequence[int | None] | None = None) -> MetricHistory:
        """From a CloudWatch read (`aws.metrics.read_group_metric`), optionally with the group sizes."""
        if instances is not None and len(instances) != len(series.values):
            raise ValueError(f"{len(instances)} instance counts for {len(series.values)} datapoints")
        return cls(
            period=series.period,
            averages=tuple(series.values),
            instances=None if instances is None else tuple(instances),
            start=series.timestamps[0] if series.timestamps else None,
        )

    def __len__(self) -> int:
        return len(self.averages)


@dataclass(frozen=True)
class WhatIfConfig:
    """The scaling setup to replay: both alarms and policies, the group's bounds, the ceiling."""

    scale_out: ScaleOutConfig = ScaleOutConfig()
    scale_in: ScaleInConfig = ScaleInConfig()
    min_size: int = 1
    max_size: int = 12
    capacity: float = 28000

    @classmethod
    def from_fleet(cls, fleet: FleetConfig, *, min_size: int, max_size: int) -> WhatIfConfig:
        """The fleet's configured alarms and policies, with the group's min/max (from AWS)."""
        return _checked(cls(scale_out=fleet.scale_out, scale_in=fleet.scale_in, min_size=min_size, max_size=max_size, capacity=fleet.capacity))

    def summary(self) -> dict[str, Any]:
        return {
            "high": self.scale_out.threshold,
            "low": self.scale_in.threshold,
            "steps": format_steps_spec(self.scale_out.steps),
            "high_alarm": f"{self.scale_out.datapoints_to_alarm} of {self.scale_out.evaluation_periods} x {self.scale_out.period} s",
            "low_alarm": f"{self.scale_in.datapoints_to_alarm} of {self.scale_in.evaluation_periods} x {self.scale_in.period} s",
            "warmup": self.scale_out.warmup,
            "remove": self.scale_in.remove,
            "cooldown": self.scale_in.cooldown,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "capacity": self.capacity,
        }


def propose(
    config: WhatIfConfig,
    *,
    high: float | None = None,
    low: float | None = None,
    steps: Sequence[StepRange] | None = None,
    remove: int | None = None,
    cooldown: int | None = None,
    warmup: int | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
) -> WhatIfConfig:
    """`config` with some values changed, as `thresholds set` would change them (rule 2).

    `high` alone moves the steps with it, keeping their widths; `steps` are absolute and must
    start at the (new) high threshold. Raises ConfigError with one sentence for a bad proposal.
    """
    out = config.scale_out
    new_high = out.threshold if high is None else high
    if steps is not None:
        problems = validate_steps(new_high, steps)
        if problems:
            raise ConfigError(f"proposed steps: {problems[0]}.")
        new_steps = tuple(steps)
    else:
        new_steps = shift_steps(out.threshold, new_high, out.steps)
    scale_out = replace(out, threshold=new_high, steps=new_steps, warmup=out.warmup if warmup is None else warmup)
    scale_in = replace(
        config.scale_in,
        threshold=config.scale_in.threshold if low is None else low,
        remove=config.scale_in.remove if remove is None else remove,
        cooldown=config.scale_in.cooldown if cooldown is None else cooldown,
    )
    return _checked(
        replace(
            config,
            scale_out=scale_out,
            scale_in=scale_in,
            min_size=config.min_size if min_size is None else min_size,
            max_size=config.max_size if max_size is None else max_size,
        )
    )


def _checked(config: WhatIfConfig) -> WhatIfConfig:
    out, inn = config.scale_out, config.scale_in
    if not out.threshold > 0 or not inn.threshold > 0:
        raise ConfigError(f"thresholds must be above 0 connections (high {out.threshold}, low {inn.threshold}).")
    if inn.threshold >= out.threshold:
        raise ConfigError(f"the low threshold {inn.threshold:g} is not below the high threshold {out.threshold:g}; the low (scale-in) threshold must be lower.")
    if not (isinstance(config.min_size, int) and isinstance(config.max_size, int) and 0 <= config.min_size <= config.max_size and config.max_size >= 1):
        raise ConfigError(f"min size {config.min_size} and max size {config.max_size}: need whole numbers with 0 <= min <= max and max >= 1.")
    if inn.remove < 1 or inn.cooldown < 0 or out.warmup < 0:
        raise ConfigError(f"remove ({inn.remove}) must be at least 1, cooldown ({inn.cooldown}) and warm-up ({out.warmup}) at least 0 seconds.")
    return config


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ScalingEvent:
    """One policy action: at the end of history period `period_index`, `offset_s` into the history."""

    kind: Literal["out", "in"]
    period_index: int
    offset_s: int
    before: int
    after: int
    value: float | None  # the alarm datapoint that triggered it (average per instance)
    at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat() if self.at else None,
            "offset_s": self.offset_s,
            "before": self.before,
            "after": self.after,
            "value": self.value,
        }


@dataclass(frozen=True)
class Flap:
    scale_in: ScalingEvent
    scale_out: ScalingEvent

    @property
    def gap_s(self) -> int:
        return self.scale_out.offset_s - self.scale_in.offset_s


@dataclass(frozen=True)
class WhatIfReport:
    config: WhatIfConfig
    period: int  # seconds per history period
    periods: int
    events: tuple[ScalingEvent, ...]
    flaps: tuple[Flap, ...]
    peak_per_instance: float | None
    peak_period_index: int | None
    seconds_over_capacity: int  # time the average per instance was above the ceiling
    instance_hours: float
    min_instances: int
    max_instances: int
    final_instances: int
    blocked_at_max: int  # scale-out evaluations that wanted more instances at max_size
    instances: tuple[int, ...] = field(repr=False, default=())  # simulated size per period
    per_instance: tuple[float | None, ...] = field(repr=False, default=())  # simulated average per period
    high_states: tuple[str, ...] = field(repr=False, default=())  # after each high-alarm evaluation
    low_states: tuple[str, ...] = field(repr=False, default=())

    @property
    def scale_outs(self) -> int:
        return sum(1 for e in self.events if e.kind == "out")

    @property
    def scale_ins(self) -> int:
        return sum(1 for e in self.events if e.kind == "in")

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.summary(),
            "period": self.period,
            "periods": self.periods,
            "scale_outs": self.scale_outs,
            "scale_ins": self.scale_ins,
            "flaps": len(self.flaps),
            "peak_per_instance": self.peak_per_instance,
            "seconds_over_capacity": self.seconds_over_capacity,
            "instance_hours": round(self.instance_hours, 3),
            "min_instances": self.min_instances,
            "max_instances": self.max_instances,
            "final_instances": self.final_instances,
            "blocked_at_max": self.blocked_at_max,
            "events": [e.to_dict() for e in self.events],
            "flap_pairs": [{"scale_in": f.scale_in.to_dict(), "scale_out": f.scale_out.to_dict(), "gap_s": f.gap_s} for f in self.flaps],
        }


@dataclass(frozen=True)
class WhatIfComparison:
    current: WhatIfReport
    proposed: WhatIfReport

    def rows(self) -> list[tuple[str, Any, Any]]:
        """(what, current, proposed) for a side-by-side table."""
        c, p = self.current, self.proposed
        return [
            ("scale-outs", c.scale_outs, p.scale_outs),
            ("scale-ins", c.scale_ins, p.scale_ins),
            ("flaps", len(c.flaps), len(p.flaps)),
            ("peak per instance", c.peak_per_instance, p.peak_per_instance),
            ("time over ceiling (s)", c.seconds_over_capacity, p.seconds_over_capacity),
            ("instance-hours", round(c.instance_hours, 2), round(p.instance_hours, 2)),
            ("instances min..max", f"{c.min_instances}..{c.max_instances}", f"{p.min_instances}..{p.max_instances}"),
            ("blocked at max", c.blocked_at_max, p.blocked_at_max),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current.to_dict(), "proposed": self.proposed.to_dict()}


# --------------------------------------------------------------------------- the replay


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


# --------------------------------------------------------------------------- CSV history

_TIME_NAMES = ("timestamp", "time", "ts", "date")
_VALUE_NAMES = ("value", "average", "avg", "tcpconnections", "connections")
_COUNT_NAMES = ("instances", "count", "n", "size", "capacity")


def load_history_csv(path: str | Path) -> MetricHistory:
    """Read `timestamp,value[,instances]` rows (a header line is optional) into a MetricHistory.

    Timestamps are ISO 8601 (no offset = UTC) or Unix seconds; rows may come in any order. The
    period is the most common spacing; missing periods become gaps (None). Raises ConfigError
    naming the file and line for anything it cannot use.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: history file not found; give a CSV of timestamp,value[,instances] rows.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the history file ({getattr(exc, 'strerror', None) or exc}).") from None
    return parse_history_csv(text, str(path))


def parse_history_csv(text: str, source: str = "<csv>") -> MetricHistory:
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), start=1) if row and any(c.strip() for c in row)]
    rows = [(n, row) for n, row in rows if not row[0].lstrip().startswith("#")]
    if not rows:
        raise ConfigError(f"{source}: no rows; write one timestamp,value[,instances] row per period.")
    columns = (0, 1, 2)
    first_line, first = rows[0]
    if _parse_time(first[0]) is None:  # a header
        names = [c.strip().lower() for c in first]
        columns = (_find(names, _TIME_NAMES, 0), _find(names, _VALUE_NAMES, 1), _find(names, _COUNT_NAMES, 2 if len(names) > 2 else -1))
        rows = rows[1:]
    points: dict[datetime, tuple[float | None, int | None, int]] = {}
    for line, row in rows:
        cells = [c.strip() for c in row]
        when = _parse_time(cells[columns[0]]) if len(cells) > columns[0] else None
        if when is None:
            raise ConfigError(f"{source}: line {line}: {cells[columns[0]] if cells else ''!r} is not a timestamp; use ISO 8601 (2026-11-26T07:00:00Z) or Unix seconds.")
        value = _cell_number(cells, columns[1], source, line, "value", integer=False)
        count = _cell_number(cells, columns[2], source, line, "instances", integer=True) if columns[2] >= 0 else None
        if when in points:
            raise ConfigError(f"{source}: line {line}: {when.isoformat()} also appears on line {points[when][2]}; give one row per period.")
        points[when] = (value, count, line)
    times = sorted(points)
    if len(times) < 2:
        raise ConfigError(f"{source}: only one row; the history needs at least two periods.")
    gaps = [int((b - a).total_seconds()) for a, b in zip(times, times[1:])]
    period = Counter(gaps).most_common(1)[0][0]
    if period <= 0:
        raise ConfigError(f"{source}: timestamps must be whole seconds apart.")
    for (a, b), gap in zip(zip(times, times[1:]), gaps):
        if gap % period:
            raise ConfigError(
                f"{source}: line {points[b][2]}: {b.isoformat()} is {gap} s after the previous row, not a multiple of the "
                f"{period}-second period; give one row per period (gaps are fine)."
            )
    slots = int((times[-1] - times[0]).total_seconds()) // period + 1
    averages: list[float | None] = [None] * slots
    counts: list[int | None] = [None] * slots
    for when in times:
        i = int((when - times[0]).total_seconds()) // period
        averages[i], counts[i] = points[when][0], points[when][1]
    return MetricHistory(
        period=period,
        averages=tuple(averages),
        instances=tuple(counts) if any(c is not None for c in counts) else None,
        start=times[0],
    )


def _find(names: list[str], wanted: tuple[str, ...], fallback: int) -> int:
    for i, name in enumerate(names):
        if name in wanted:
            return i
    return fallback


def _parse_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return datetime.fromtimestamp(seconds, tz=timezone.utc) if math.isfinite(seconds) and seconds > 1e8 else None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _cell_number(cells: list[str], index: int, source: str, line: int, what: str, *, integer: bool) -> Any:
    if index >= len(cells) or cells[index] == "":
        return None
    text = cells[index]
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number of instances" if integer else "a number of connections (or empty for a missing datapoint)"
        raise ConfigError(f"{source}: line {line}: {what} {text!r} is not {kind}.") from None
    if not integer and not math.isfinite(value):
        raise ConfigError(f"{source}: line {line}: {what} {text!r} is not a finite number.")
    if value < 0 or (integer and value == 0):
        least = "at least 1" if integer else "at least 0"
        raise ConfigError(f"{source}: line {line}: {what} {text} is below {least.split()[-1]}; it must be {least}.")
    return value
