"""The `scale` planner: a new desired capacity within min..max, with the scale-in projection
from the metric's latest datapoint."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from wsfleet.actions._reads import _read_group
from wsfleet.actions.plan import Change, Plan
from wsfleet.actions.validate import _positive_int
from wsfleet.actions.writes import SetCapacity
from wsfleet.aws.provision import group_fields
from wsfleet.errors import UsageError, WsfleetError
from wsfleet.model import FleetConfig

METRIC_LOOKBACK = timedelta(minutes=15)


def latest_average(session: Any, fleet: FleetConfig, now: datetime) -> tuple[float | None, str]:
    """The group metric's latest datapoint and a sentence saying where it came from."""
    from wsfleet.aws import metrics

    period = fleet.scale_out.period
    where = f"CloudWatch {fleet.metric.namespace}/{fleet.metric.name} ({fleet.metric.statistic}, {period} s periods)"
    try:
        series = metrics.read_group_metric(session, fleet, now - METRIC_LOOKBACK, now, period)
    except WsfleetError as e:
        return None, f"Could not read the current average from {where}: {e.message}"
    for t, v in zip(reversed(series.timestamps), reversed(series.values)):
        if v is not None:
            age = max(0, int((now - t).total_seconds() // 60)) if t.tzinfo else None
            when = t.astimezone(timezone.utc).strftime("%H:%M UTC") if t.tzinfo else str(t)
            ago = f", {age} min ago" if age is not None else ""
            return float(v), f"Current average {v:,.0f} connections per instance from {where}, datapoint at {when}{ago}."
    return None, f"No datapoint in the last {int(METRIC_LOOKBACK.total_seconds() // 60)} minutes from {where}: no projection."


def plan_scale(session: Any, fleet: FleetConfig, op: str, n: int, *, raise_max: bool = False, now: datetime | None = None) -> Plan:
    """SetDesiredCapacity, kept within min..max (moto does not enforce MaxSize: this check is ours)."""
    from wsfleet import scaling

    if op not in ("out", "in", "to"):
        raise UsageError(f"scale direction must be out, in or to, not {op!r}.")
    n = _positive_int(n, f"scale {op} N", zero=(op == "to"))
    group = _read_group(session, fleet)
    current = group.desired
    target = current + n if op == "out" else current - n if op == "in" else n
    verb = {"out": f"out by {n}", "in": f"in by {n}", "to": f"to {n}"}[op]
    if target < group.min_size:
        raise UsageError(
            f"scaling {fleet.asg} {verb} would leave {max(target, 0)} instances, below its MinSize {group.min_size}; "
            f"scale to {group.min_size} at the least, or lower MinSize first."
        )
    warnings: list[str] = []
    notes: list[str] = []
    after: dict[str, Any] = {"desired": target}
    max_size = None
    if target > group.max_size:
        if not raise_max:
            raise UsageError(
                f"scaling {fleet.asg} {verb} needs {target} instances, above its MaxSize {group.max_size}; "
                f"pass --raise-max to raise MaxSize to {target} as well, or scale to {group.max_size}."
            )
        max_size = target
        after = {"max_size": target, "desired": target}
        warnings.append(f"MaxSize goes up from {group.max_size} to {target}: scaling policies may then grow the group that far too.")

    if target < current:
        in_service = sum(1 for i in group.instances if i.lifecycle == "InService")
        count = in_service or current
        average, where = latest_average(session, fleet, now or datetime.now(timezone.utc))
        notes.append(where)
        if average is not None and count > 0:
            proj = scaling.project_scale_in(average, count, current - target, fleet.scale_out.threshold, fleet.capacity)
            if proj.per_instance is None:
                notes.append(f"Removing every instance leaves no capacity for the {average * count:,.0f} connections now held.")
                warnings.append("No instance would remain to hold the current connections.")
            else:
                notes.append(
                    f"Projection: {proj.n} → {proj.remaining} instances puts about {proj.per_instance:,.0f} connections on each remaining one "
                    f"(high threshold {fleet.scale_out.threshold:,.0f}, ceiling {fleet.capacity:,})."
                )
                if proj.reaches_high:
                    warnings.append(
                        f"{proj.per_instance:,.0f} per instance reaches the scale-out threshold {fleet.scale_out.threshold:,.0f}: "
                        f"the group would scale straight back out (flap)."
                    )
                if proj.over_capacity:
                    warnings.append(f"{proj.per_instance:,.0f} per instance is over the per-instance ceiling of {fleet.capacity:,} connections.")
    if target == current and max_size is None:
        change = Change("group", fleet.asg, "unchanged", group_fields(group), after)
        summary = f"{fleet.asg} is already at {current} instances."
    else:
        change = Change("group", fleet.asg, "update", group_fields(group), after, write=SetCapacity(fleet.asg, target, max_size))
        word = "out" if target > current else "in" if target < current else "to"
        summary = f"Scale {fleet.asg} {word} from {current} to {target} instance{'s' if target != 1 else ''}" + (
            f", raising MaxSize to {target}." if max_size is not None else "."
        )
    return Plan(f"scale {op}", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, (change,),
                tuple(warnings), tuple(notes), session=session)
