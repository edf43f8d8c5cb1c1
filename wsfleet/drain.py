"""Where a drained instance's connections land, and which instances to drain (rule 9). Pure: no I/O.

WebSocket connections stay where they were opened. Draining an instance (Standby: the group takes
it out of its target groups) closes its connections, and its clients reconnect through the load
balancer, which places each reconnect by the target group's routing algorithm:

- round robin (`round_robin`, ALB's default; `weighted_random` spreads the same way on average):
  each serving instance gets an equal share of the reconnects, whatever it already holds;
- least outstanding requests (`least_outstanding_requests`): each reconnect goes to the instance
  with the fewest open requests, and an open WebSocket is an outstanding request for as long as
  it lasts, so the reconnects fill the emptiest instances first, up to a common level
  ("water-filling").

When the drain ends the instance returns to service empty (ExitStandby), so a drain lowers the
maximum but leaves one instance at zero until new connections reach it; the mean is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

ROUND_ROBIN = "round_robin"
LEAST_OUTSTANDING = "least_outstanding_requests"
WEIGHTED_RANDOM = "weighted_random"
ALGORITHMS = (ROUND_ROBIN, LEAST_OUTSTANDING, WEIGHTED_RANDOM)


@dataclass(frozen=True)
class DrainProjection:
    """Draining `instance` (holding `moved` connections) over the `serving` others."""

    instance: str
    moved: int
    algorithm: str
    during: Mapping[str, int]  # the others while it is out (it holds none)
    after: Mapping[str, int]  # everyone once it is back in service, empty
    skew_before: float | None
    skew_after: float | None
    average_during: float  # the group metric's average while n-1 instances serve
    over_capacity: tuple[str, ...]  # instances the reconnects would push over the ceiling
    reaches_high: bool  # the average over the serving ones reaches the scale-out threshold

    @property
    def safe(self) -> bool:
        return not self.over_capacity and not self.reaches_high

    @property
    def hottest_after(self) -> tuple[str, int] | None:
        if not self.after:
            return None
        iid = max(self.after, key=lambda k: (self.after[k], k))
        return iid, self.after[iid]


def skew(counts: Mapping[str, int]) -> float | None:
    """max / mean (1.0 is perfectly even); None with no connections."""
    values = list(counts.values())
    if not values or sum(values) == 0:
        return None
    return max(values) / (sum(values) / len(values))


def excess(counts: Mapping[str, int]) -> float:
    """Connections above the mean, summed: what a perfect rebalance would have to move."""
    if not counts:
        return 0.0
    mean = sum(counts.values()) / len(counts)
    return sum(max(0.0, v - mean) for v in counts.values())


def spread_round_robin(others: Mapping[str, int], moved: int) -> dict[str, int]:
    """Each of the others gets moved / len(others); the remainder one each, coldest first."""
    if not others:
        return {}
    share, extra = divmod(moved, len(others))
    order = sorted(others, key=lambda k: (others[k], k))
    return {k: others[k] + share + (1 if i < extra else 0) for i, k in enumerate(order)}


def spread_least_outstanding(others: Mapping[str, int], moved: int) -> dict[str, int]:
    """Water-filling: each reconnect to the least-loaded instance, so the coldest rise to a common
    level L with sum(max(0, L - c)) = moved (in whole connections: the remainder one each, to the
    instances at the level, by id)."""
    if not others:
        return {}
    order = sorted(others, key=lambda k: (others[k], k))
    values = [others[k] for k in order]
    remaining, level, k = moved, values[0], 1  # the coldest k instances stand at `level`
    while remaining > 0:
        if k < len(values) and (values[k] - level) * k <= remaining:
            remaining -= (values[k] - level) * k
            level, k = values[k], k + 1
            continue
        rise, extra = divmod(remaining, k)
        level += rise
        bottom = {order[i]: level + (1 if i < extra else 0) for i in range(k)}
        return {**others, **bottom}
    return {**others, **{order[i]: level for i in range(k)}}


def spread(algorithm: str, others: Mapping[str, int], moved: int) -> dict[str, int]:
    if algorithm == LEAST_OUTSTANDING:
        return spread_least_outstanding(others, moved)
    return spread_round_robin(others, moved)  # round robin and weighted random alike


def project_drain(counts: Mapping[str, int], instance: str, algorithm: str, *, threshold: float, capacity: float) -> DrainProjection:
    """Draining `instance` of `counts` (every serving instance's count) under `algorithm`."""
    if instance not in counts:
        raise ValueError(f"{instance} is not among the serving instances")
    others = {k: v for k, v in counts.items() if k != instance}
    moved = counts[instance]
    during = spread(algorithm, others, moved)
    after = {**during, instance: 0}
    total = sum(counts.values())
    average_during = total / len(others) if others else math.inf
    return DrainProjection(
        instance=instance,
        moved=moved,
        algorithm=algorithm,
        during=during,
        after=after,
        skew_before=skew(counts),
        skew_after=skew(after),
        average_during=average_during,
        over_capacity=tuple(sorted(k for k, v in during.items() if v > capacity)) if others else (instance,),
        reaches_high=average_during >= threshold,
    )


@dataclass(frozen=True)
class DrainChoice:
    """The drains to make, in order, and why the sequence stops where it does."""

    steps: tuple[DrainProjection, ...]
    stop_reason: str  # one sentence


def choose_drains(
    counts: Mapping[str, int],
    algorithm: str,
    *,
    target_skew: float,
    max_drains: int,
    threshold: float,
    capacity: float,
    excluded: Sequence[str] = (),
) -> DrainChoice:
    """Drain the hottest instance, then the next hottest of the projected result, until the skew is
    at or under `target_skew`, `max_drains` is reached, or the next drain would lower neither the
    skew nor the load above the mean (instances tied at the top), or would not be safe (over the ceiling, or the average during it at the threshold).
    An instance already drained in the sequence is not drained again."""
    current = dict(counts)
    steps: list[DrainProjection] = []
    done = set(excluded)
    while True:
        s = skew(current)
        if s is None:
            return DrainChoice(tuple(steps), "no instance holds connections, so there is nothing to move.")
        if s <= target_skew:
            return DrainChoice(tuple(steps), f"the skew {s:.2f} is at or under the target {target_skew:.2f}.")
        if len(steps) >= max_drains:
            return DrainChoice(tuple(steps), f"--max-drains {max_drains} reached with the skew at {s:.2f}.")
        candidates = [k for k in current if k not in done]
        if not candidates or len(current) < 2:
            return DrainChoice(tuple(steps), "every instance has been drained once; draining again would only move the same connections.")
        hottest = max(candidates, key=lambda k: (current[k], k))
        p = project_drain(current, hottest, algorithm, threshold=threshold, capacity=capacity)
        if not p.safe:
            return DrainChoice(tuple(steps), refusal(p, threshold, capacity))
        # progress is a lower maximum, or (when instances tie at the top) less load above the mean
        if p.skew_after is not None and p.skew_after >= s - 1e-9 and excess(p.after) >= excess(current) - 1e-9:
            return DrainChoice(tuple(steps), f"draining {hottest} would not lower the skew ({s:.2f} → {p.skew_after:.2f}) under "
                               f"{algorithm.replace('_', ' ')}: its connections would pile onto the next hottest.")
        steps.append(p)
        done.add(hottest)
        current = dict(p.after)


def refusal(p: DrainProjection, threshold: float, capacity: float) -> str:
    """The one sentence saying why a drain is not safe."""
    parts = []
    if p.over_capacity:
        worst = max(p.over_capacity, key=lambda k: p.during.get(k, 0))
        parts.append(f"{worst} would reach {p.during.get(worst, 0):,} connections, over the ceiling of {capacity:,.0f}")
    if p.reaches_high:
        parts.append(f"the average over the {len(p.during)} serving instances would be {p.average_during:,.0f}, "
                     f"at or over the scale-out threshold {threshold:,.0f}")
    return f"draining {p.instance} ({p.moved:,} connections) is not safe: {' and '.join(parts)}."
