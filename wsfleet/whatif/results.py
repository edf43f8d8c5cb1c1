"""What a what-if replay reports: the scaling events, the flaps, one report per configuration, and
the current and proposed reports side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from wsfleet.whatif.inputs import WhatIfConfig


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
