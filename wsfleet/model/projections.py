"""What a write would do to the load per instance: a scale-in's and an instance refresh's projection."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScaleInProjection:
    """Removing `n - remaining` of n instances at `average` leaves `per_instance` on each of the rest."""

    n: int
    remaining: int
    average: float
    per_instance: float | None  # None when nothing remains
    reaches_high: bool  # would trigger the scale-out alarm again: the group flaps (rule 5)
    over_capacity: bool  # above the per-instance ceiling


@dataclass(frozen=True)
class RefreshProjection:
    """An instance refresh's dip (rule 9): while a batch is replaced only `serving` of `n` instances
    take connections, so each carries about `per_instance` = average · n / serving."""

    n: int
    min_healthy: int
    max_healthy: int
    serving: int  # instances in service during a batch
    batch: int  # instances replaced at once
    average: float
    per_instance: float
    reaches_high: bool  # the scale-out policy would fire in the middle of the deploy
    over_capacity: bool  # above the per-instance ceiling
    safe_min_healthy: int | None  # the lowest min healthy % whose dip stays safe; None when none does
