"""What the demo's Auto Scaling does, decided without I/O: policy runs, warm pool size, boot timers.

The engine reads the state, asks these functions, then acts through the AWS API. Alarm states
themselves come from `wsfleet.scaling.evaluate_alarm`, the evaluator the dashboard also uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from wsfleet.demo.scenarios import DemoTiming
from wsfleet.model import StepRange
from wsfleet.scaling import warm_pool_size  # noqa: F401  (the engine's pool target: one rule, in scaling)

COMPARISON_WORDS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


@dataclass(frozen=True)
class ScaleOut:
    """The last scale-out a step policy made, remembered for its warm-up."""

    at: float
    from_capacity: int
    to_capacity: int


@dataclass(frozen=True)
class CapacityDecision:
    desired: int | None  # the new desired capacity; None = no change
    why: str  # short text for the event line


def new_capacity(adjustment_type: str | None, adjustment: int, current: int) -> int:
    """Desired capacity after one policy adjustment of the given AWS AdjustmentType."""
    if adjustment_type == "ExactCapacity":
        return adjustment
    if adjustment_type == "PercentChangeInCapacity":
        change = current * adjustment / 100.0
        step = math.ceil(change) if 0 < change < 1 else (math.floor(change) if change > 0 else math.ceil(change))
        return current + (step or (1 if adjustment > 0 else -1 if adjustment < 0 else 0))
    return current + adjustment  # ChangeInCapacity (and AWS's default)


def step_scale_out(
    *,
    step: StepRange | None,
    adjustment_type: str | None,
    desired: int,
    max_size: int,
    now: float,
    warmup: float,
    last: ScaleOut | None,
) -> CapacityDecision:
    """A step policy run. While the last scale-out is still warming up, AWS counts its instances as
    already added: only a larger step adds the difference."""
    if step is None:
        return CapacityDecision(None, "no step covers the value")
    if last is not None and now - last.at < warmup:
        target = new_capacity(adjustment_type, step.add, last.from_capacity)
        if target <= desired:
            return CapacityDecision(None, f"warming up ({warmup - (now - last.at):.0f} s left)")
    else:
        target = new_capacity(adjustment_type, step.add, desired)
    capped = min(target, max_size)
    if capped <= desired:
        return CapacityDecision(None, f"at max size {max_size}")
    note = f" (capped at max {max_size})" if capped < target else ""
    return CapacityDecision(capped, f"+{capped - desired}{note}")


def simple_scale_in(
    *,
    adjustment: int,
    adjustment_type: str | None,
    desired: int,
    min_size: int,
    now: float,
    cooldown: float,
    last_scale_in: float | None,
    last_scale_out: ScaleOut | None,
    warmup: float,
) -> CapacityDecision:
    """A simple policy run: waits out its cooldown, and never removes capacity still warming up."""
    if last_scale_in is not None and now - last_scale_in < cooldown:
        return CapacityDecision(None, f"cooldown ({cooldown - (now - last_scale_in):.0f} s left)")
    if last_scale_out is not None and now - last_scale_out.at < warmup:
        return CapacityDecision(None, "instances warming up")
    target = max(min_size, new_capacity(adjustment_type, adjustment, desired))
    if target >= desired:
        return CapacityDecision(None, f"at min size {min_size}")
    return CapacityDecision(target, f"{target - desired}")


def boot_time(origin: str, timing: DemoTiming) -> float:
    return timing.warm_start if origin == "warm-pool" else timing.cold_launch


def due_transitions(
    instances: Sequence[tuple[str, str, str, float]],
    *,
    pool_state: str,
    now: float,
    timing: DemoTiming,
) -> list[tuple[str, str]]:
    """(instance id, new lifecycle) for every instance whose boot or preparation is done.

    `instances` are (id, lifecycle, origin, since) for the group's and the pool's instances."""
    out = []
    for iid, lifecycle, origin, since in instances:
        if lifecycle in ("Pending", "Pending:Proceed") and now - since >= boot_time(origin, timing):
            out.append((iid, "InService"))
        elif lifecycle == "Warmed:Pending" and now - since >= timing.warm_prepare:
            out.append((iid, f"Warmed:{pool_state}"))
    return out


def alarm_reason(
    points: Sequence[tuple[datetime, float]],
    *,
    threshold: float,
    comparison: str,
    datapoints_to_alarm: int,
    evaluation_periods: int,
    old: str,
    new: str,
) -> str:
    """A StateReason in CloudWatch's words, listing the newest datapoints first."""
    if not points:
        return f"Insufficient Data: {evaluation_periods} datapoints were unknown."
    recent = list(points)[-evaluation_periods:][::-1]
    shown = ", ".join(f"{v:g} ({at.astimezone(timezone.utc):%d/%m/%y %H:%M:%S})" for at, v in recent)
    words = COMPARISON_WORDS.get(comparison, comparison)
    if new == "ALARM":
        return (
            f"Threshold Crossed: {datapoints_to_alarm} out of the last {evaluation_periods} datapoints [{shown}] "
            f"were {words} the threshold ({threshold:g}) (minimum {datapoints_to_alarm} datapoint"
            f"{'s' if datapoints_to_alarm != 1 else ''} for {old} -> ALARM transition)."
        )
    return (
        f"Threshold Crossed: the last {len(recent)} datapoints [{shown}] were not {words} the threshold "
        f"({threshold:g}) often enough for ALARM ({old} -> {new} transition)."
    )
