"""What the dashboard shows, decided without Textual: row cells and flags, sort keys, filter,
bars, ages, alarm-state segments for the chart, steps in absolute terms.

Widgets turn these plain values into styled text; tests check them without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from datetime import datetime, timezone
from typing import Sequence

from wsfleet.counts.base import launch_template_label
from wsfleet.model import (
    Alarm,
    FleetConfig,
    Instance,
    InstanceCount,
    LaunchTemplateRef,
    MetricSeries,
    StepRange,
)

# Roles a cell can have; the widget maps each to a theme colour.
OK, MUTED, WARNING, ERROR, ACCENT = "ok", "muted", "warning", "error", "accent"

# Row flags, worst first. Each has a symbol so the state reads without colour too.
FLAG_ERROR, FLAG_OVER, FLAG_HIGH, FLAG_LOW, FLAG_PENDING, FLAG_NONE = "error", "over", "high", "low", "pending", "ok"
FLAG_SYMBOL = {FLAG_ERROR: "✗", FLAG_OVER: "▲", FLAG_HIGH: "↑", FLAG_LOW: "↓", FLAG_PENDING: "·", FLAG_NONE: " "}
FLAG_ROLE = {FLAG_ERROR: ERROR, FLAG_OVER: ERROR, FLAG_HIGH: WARNING, FLAG_LOW: WARNING, FLAG_PENDING: MUTED, FLAG_NONE: ""}
FLAG_MEANING = {
    FLAG_ERROR: "not measured (error)",
    FLAG_OVER: "over the per-instance ceiling",
    FLAG_HIGH: "far above the mean",
    FLAG_LOW: "far below the mean",
    FLAG_PENDING: "waiting for its count",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


BAR_WIDTH = 10
SPARK_WIDTH = 8  # the last 8 counts of each instance
# Most telling first, so an 80-column terminal still shows the counts, how they compare, which way
# they move and which instances a deploy has not replaced yet.
COLUMNS: tuple[Column, ...] = (
    Column("flag", " ", 1),
    Column("id", "instance", 19),
    Column("connections", "conns", 7),
    Column("bar", "% ceiling", BAR_WIDTH + 5),
    Column("delta", "Δ mean", 8),
    Column("spark", "trend", SPARK_WIDTH),
    Column("template", "LT", 7),
    Column("az", "AZ", 10),
    Column("lifecycle", "lifecycle", 11),
    Column("health", "health", 9),
    Column("age", "age", 5),
    Column("address", "address", 15),
    Column("error", "error", 24),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)


@dataclass(frozen=True)
class InstanceRow:
    """One instance as the table knows it: from the group read, then its latest count."""

    id: str
    az: str = ""
    lifecycle: str = ""
    health: str = ""
    launch_time: datetime | None = None
    address: str | None = None
    connections: int | None = None
    error: str | None = None
    detail: str | None = None
    latency_ms: float | None = None
    count_age_s: float | None = None
    counted: bool = False
    launch_template_version: str | None = None
    current: bool | None = None  # runs the group's current launch template version; None = unknown
    spark: str = ""  # the last counts as a sparkline (`sparkline`)
    change: int | None = None  # newest minus oldest of those counts

    @classmethod
    def from_instance(cls, inst: Instance, address_kind: str = "private_ip", template: LaunchTemplateRef | None = None) -> "InstanceRow":
        address = {"public_ip": inst.public_ip, "public_dns": inst.public_dns}.get(address_kind, inst.private_ip)
        return cls(id=inst.id, az=inst.az, lifecycle=inst.lifecycle, health=inst.health, launch_time=inst.launch_time, address=address,
                   launch_template_version=inst.launch_template_version, current=_current(inst, template))

    def with_instance(self, inst: Instance, template: LaunchTemplateRef | None = None) -> "InstanceRow":
        return replace(self, az=inst.az, lifecycle=inst.lifecycle, health=inst.health, launch_time=inst.launch_time,
                       launch_template_version=inst.launch_template_version, current=_current(inst, template))

    def with_history(self, counts: Sequence[int]) -> "InstanceRow":
        """The row with its recent counts (oldest first) drawn as its sparkline."""
        return replace(self, spark=sparkline(counts), change=(counts[-1] - counts[0]) if counts else None)

    def with_count(self, count: InstanceCount, history: Sequence[int] | None = None) -> "InstanceRow":
        """The row with a new count and, when given, its recent counts (oldest first: `with_history`),
        in one copy (a sweep of 1,000 rows makes 1,000 of them)."""
        extra = {} if history is None else {"spark": sparkline(history), "change": (history[-1] - history[0]) if history else None}
        return replace(
            self,
            **extra,
            az=count.az or self.az,
            address=count.address or self.address,
            connections=count.connections,
            error=count.error,
            detail=count.detail,
            latency_ms=count.latency_ms,
            count_age_s=count.age_s,
            counted=True,
        )


def _current(inst: Instance, template: LaunchTemplateRef | None) -> bool | None:
    return template.is_current(inst.launch_template_version) if template is not None else None


@dataclass(frozen=True)
class Judgement:
    """How one row compares with the fleet: its flag, its share of the ceiling, its distance to the mean."""

    flag: str
    fraction: float | None  # connections / capacity
    delta: float | None  # connections / mean - 1


def judge(row: InstanceRow, mean: float | None, capacity: int, max_skew: float, serving: bool = True) -> Judgement:
    """`serving`: the row takes part in the balance (balance.serving). A Pending or Terminating
    instance holds few connections by design: it is never "far from the mean", only over the ceiling."""
    if row.error:
        return Judgement(FLAG_ERROR, None, None)
    if row.connections is None:
        return Judgement(FLAG_PENDING, None, None)
    c = row.connections
    fraction = c / capacity if capacity > 0 else None
    delta = (c / mean - 1.0) if mean and serving else None
    if capacity > 0 and c > capacity:
        flag = FLAG_OVER
    elif not serving:
        flag = FLAG_NONE
    elif mean and c > mean * max_skew:
        flag = FLAG_HIGH
    elif mean and c < mean / max_skew:
        flag = FLAG_LOW
    else:
        flag = FLAG_NONE
    return Judgement(flag, fraction, delta)


Cell = tuple[str, str]  # (text, role)


def row_cells(row: InstanceRow, j: Judgement, now: datetime | None) -> dict[str, Cell]:
    """The text and role of every column of one row."""
    role = FLAG_ROLE[j.flag]
    if row.error:
        error_text = row.error if not row.detail else f"{row.error}: {row.detail}"
    elif row.count_age_s is not None:
        error_text = f"value {fmt_age(row.count_age_s)} old"
    else:
        error_text = ""
    return {
        "flag": (FLAG_SYMBOL[j.flag], role),
        "id": (row.id, role),
        "az": (row.az, ""),
        "address": (row.address or "—", MUTED if not row.address else ""),
        "lifecycle": (row.lifecycle, "" if row.lifecycle == "InService" else WARNING),
        "health": (row.health, "" if row.health in ("Healthy", "") else ERROR),
        "age": (fmt_age(age_seconds(row.launch_time, now)), MUTED),
        "connections": (fmt_int(row.connections) if row.connections is not None else ("—" if row.error else "…"), role),
        "bar": (bar(j.fraction), ERROR if j.flag == FLAG_OVER else (role or OK) if j.fraction is not None else MUTED),
        "delta": (fmt_delta(j.delta), role),
        "spark": (row.spark.rjust(SPARK_WIDTH), ""),  # no colour: a shape is no judgement (the accent reads as a warning)
        "template": template_cell(row),
        "error": (error_text, ERROR if row.error else MUTED),
    }


def template_cell(row: InstanceRow) -> Cell:
    """"v7", or "v6 old" marked, or "—" when the instance does not say."""
    return _template_cell(row.launch_template_version, row.current)


@lru_cache(maxsize=256)  # a fleet has a few versions; every row of every render asks
def _template_cell(version: str | None, current: bool | None) -> Cell:
    label = launch_template_label(version, current)
    if not label:
        return ("—", MUTED)
    return (label, WARNING if current is False else "")


_FLAG_ORDER = (FLAG_ERROR, FLAG_OVER, FLAG_HIGH, FLAG_LOW, FLAG_PENDING, FLAG_NONE)


def sort_value(column: str, row: InstanceRow, j: Judgement, reverse: bool = False) -> tuple:
    """A sort key per column; rows without a value sort after those with one in either direction
    (pass the direction: the key of a missing value flips so a reversed sort still puts it last)."""
    missing = (-1,) if reverse else (1,)
    if column in ("connections", "bar"):
        return missing if row.connections is None else (0, row.connections)
    if column == "delta":
        return missing if j.delta is None else (0, j.delta)
    if column == "age":
        return missing if row.launch_time is None else (0, -row.launch_time.timestamp())
    if column == "flag":
        return (0, _FLAG_ORDER.index(j.flag), row.id)
    if column == "address":
        return missing if not row.address else (0, _address_key(row.address))
    if column == "error":
        return missing if not row.error else (0, row.error, row.id)
    if column == "spark":
        return missing if row.change is None else (0, row.change)
    if column == "template":
        if row.launch_template_version is None:
            return missing
        version = row.launch_template_version
        return (0, row.current is not False, (0, int(version)) if version.isdigit() else (1, version), row.id)
    value = getattr(row, column, "") or ""
    return (0, str(value), row.id)


def _address_key(address: str) -> tuple:
    host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
    parts = host.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts), int(port) if port.isdigit() else 0)
    return (1, address)


def matches(row: InstanceRow, query: str) -> bool:
    """The `/` filter: every word must appear in the row (id, AZ, address, lifecycle, health, error,
    launch template: "old" finds the instances a deploy has not replaced)."""
    words = query.lower().split()
    if not words:
        return True
    template = launch_template_label(row.launch_template_version, row.current)
    hay = " ".join(x for x in (row.id, row.az, row.address or "", row.lifecycle, row.health, row.error or "", row.detail or "", template) if x).lower()
    return all(w in hay for w in words)


# ------------------------------------------------------------------------------- formatting


def fmt_int(n: int | float | None) -> str:
    if n is None:
        return "—"
    return f"{round(n):,}"


def fmt_short(n: int | float | None, *, whole_k_from: float = 10_000) -> str:
    """A count in a few characters: 950, 1.5k, and whole thousands (12k) from `whole_k_from` on."""
    if n is None:
        return "—"
    if abs(n) >= whole_k_from:
        return f"{n / 1000:.0f}k"
    if abs(n) >= 1000:
        return f"{n / 1000:.1f}k"
    return f"{n:.0f}"


def fmt_delta(delta: float | None) -> str:
    if delta is None:
        return ""
    pct = delta * 100
    if abs(pct) < 0.05:
        return "0%"
    return f"{pct:+.0f}%" if abs(pct) >= 10 else f"{pct:+.1f}%"


def fmt_age(seconds: float | None) -> str:
    """Compact age: 45s, 12m, 3h05, 4d02."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}"


def age_seconds(then: datetime | None, now: datetime | None) -> float | None:
    if then is None or now is None:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return (now - then).total_seconds()


_EIGHTHS = " ▏▎▍▌▋▊▉"
_LEVELS = "▁▂▃▄▅▆▇█"
SPARK_MIN_SPAN = 0.1  # of the largest value: smaller wiggles stay near the floor, so noise reads flat


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH, *, min_span: float = SPARK_MIN_SPAN) -> str:
    """The newest `width` values as blocks ▁..█ between their own minimum and maximum (a span of
    at least `min_span` of the largest, so a steady count is a flat line, not noise blown up)."""
    if len(values) > width:
        values = values[-width:]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    scale = (len(_LEVELS) - 1) / max(hi - lo, min_span * abs(hi), 1e-9)
    levels = _LEVELS
    return "".join([levels[int((v - lo) * scale + 0.5)] for v in values])


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """A bar of `width` cells for 0..1 of the ceiling, then the percentage; past 100% it is full."""
    if fraction is None:
        return ""
    clipped = min(max(fraction, 0.0), 1.0)
    eighths = round(clipped * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    text = text.ljust(width)
    pct = f"{fraction * 100:.0f}%"
    return f"{text}{pct:>5}"


# ------------------------------------------------------------------------------- alarms and steps


@dataclass(frozen=True)
class AlarmParams:
    """The parts of an alarm that decide its state: from CloudWatch when read, else from the config."""

    threshold: float
    comparison: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str


def high_alarm_params(fleet: FleetConfig, alarm: Alarm | None) -> AlarmParams:
    c = fleet.scale_out
    if alarm is not None and alarm.comparison:
        return AlarmParams(alarm.threshold, alarm.comparison, alarm.period, alarm.evaluation_periods, alarm.datapoints_to_alarm or alarm.evaluation_periods, alarm.treat_missing_data)
    return AlarmParams(c.threshold, "GreaterThanOrEqualToThreshold", c.period, c.evaluation_periods, c.datapoints_to_alarm, c.treat_missing_data)


def low_alarm_params(fleet: FleetConfig, alarm: Alarm | None) -> AlarmParams:
    c = fleet.scale_in
    if alarm is not None and alarm.comparison:
        return AlarmParams(alarm.threshold, alarm.comparison, alarm.period, alarm.evaluation_periods, alarm.datapoints_to_alarm or alarm.evaluation_periods, alarm.treat_missing_data)
    return AlarmParams(c.threshold, "LessThanOrEqualToThreshold", c.period, c.evaluation_periods, c.datapoints_to_alarm, c.treat_missing_data)


def resample(values: Sequence[float | None], factor: int) -> list[float | None]:
    """Average groups of `factor` periods, aligned on the newest, so a 300 s alarm reads a 60 s series."""
    if factor <= 1:
        return list(values)
    out: list[float | None] = []
    start = len(values) % factor
    if start:
        head = [v for v in values[:start] if v is not None]
        out.append(sum(head) / len(head) if head else None)
    for i in range(start, len(values), factor):
        group = [v for v in values[i : i + factor] if v is not None]
        out.append(sum(group) / len(group) if group else None)
    return out


def _expand(states: list[str], factor: int, n: int) -> list[str]:
    if factor <= 1:
        return states
    out: list[str] = []
    start = n % factor
    idx = 0
    if start:
        out.extend([states[0]] * start)
        idx = 1
    for s in states[idx:]:
        out.extend([s] * factor)
    return out[:n]


def alarm_states(series: MetricSeries, p: AlarmParams) -> list[str]:
    """The alarm's state after each of the series' periods, by the shared evaluator (rule 3)."""
    from wsfleet.scaling import evaluate_alarm

    factor = max(1, round(p.period / series.period)) if series.period else 1
    values = resample(series.values, factor)
    states = evaluate_alarm(
        values,
        threshold=p.threshold,
        comparison=p.comparison,
        evaluation_periods=p.evaluation_periods,
        datapoints_to_alarm=p.datapoints_to_alarm,
        treat_missing_data=p.treat_missing_data,
    )
    return _expand(list(states), factor, len(series.values))


SEG_HIGH, SEG_LOW, SEG_OK, SEG_NODATA = "high", "low", "ok", "nodata"


def segment_kinds(high: Sequence[str], low: Sequence[str]) -> list[str]:
    """One colour class per point: high alarm wins over low; OK only when one alarm has data."""
    out = []
    for h, lo in zip(high, low):
        if h == "ALARM":
            out.append(SEG_HIGH)
        elif lo == "ALARM":
            out.append(SEG_LOW)
        elif h == "OK" or lo == "OK":
            out.append(SEG_OK)
        else:
            out.append(SEG_NODATA)
    return out


def runs(kinds: Sequence[str]) -> list[tuple[str, int, int]]:
    """Contiguous runs as (kind, start, end inclusive); each run after the first starts one point
    earlier so the drawn line stays connected."""
    out: list[tuple[str, int, int]] = []
    start = 0
    for i in range(1, len(kinds) + 1):
        if i == len(kinds) or kinds[i] != kinds[start]:
            out.append((kinds[start], max(0, start - 1) if out else start, i - 1))
            start = i
    return out


def latest(series: MetricSeries | None) -> tuple[float | None, datetime | None]:
    if series is None:
        return None, None
    for t, v in zip(reversed(series.timestamps), reversed(series.values)):
        if v is not None:
            return v, t
    return None, None


def fmt_step(step: StepRange) -> str:
    upper = f"{fmt_int(step.upper)}" if step.upper is not None else "∞"
    return f"{fmt_int(step.lower)}–{upper} → {step.add:+d}"
