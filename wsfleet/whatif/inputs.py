"""The what-if replay's inputs: the metric history, the scaling configuration to replay, and a
proposal (`propose`) changing it as `thresholds set` would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from wsfleet.errors import ConfigError
from wsfleet.model import FleetConfig, MetricSeries, ScaleInConfig, ScaleOutConfig, StepRange
from wsfleet.scaling import format_steps_spec, shift_steps, validate_steps


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
