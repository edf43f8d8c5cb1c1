"""Is the fleet balanced? Statistics over one sweep of per-instance connection counts. Pure.

An instance whose count could not be read (None) is *not measured*: it is counted in
`instances` but never as zero connections, so one dead SSH host cannot make a fleet look
imbalanced or lower its mean. Only InService instances take part (`sweep_balance`): a Pending
instance that has not joined the load balancer yet, or a Terminating one draining away, holds
few connections by design and would make every scale-out look like an imbalance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from wsfleet.model import BalanceStats, InstanceCount

DEFAULT_MAX_SKEW = 1.25  # the busiest instance may hold 25% more than the mean

Verdict = Literal["balanced", "imbalanced"]


def balance_stats(connections: Iterable[int | None]) -> BalanceStats:
    """Mean, min, max, skew (max/mean) and cv (population stdev/mean) over the measured instances.

    When every measured instance holds zero connections the mean is 0 and nothing is uneven:
    skew is 1.0 and cv 0.0 (as for any fleet where every instance holds the same count).
    With nothing measured, mean/min/max/skew/cv are None.
    """
    values = list(connections)
    measured = [int(v) for v in values if v is not None]
    if not measured:
        return BalanceStats(instances=len(values), measured=0, total=0, mean=None, min=None, max=None, skew=None, cv=None)
    total = sum(measured)
    mean = total / len(measured)
    low, high = min(measured), max(measured)
    if mean == 0:
        skew, cv = 1.0, 0.0
    else:
        variance = sum((v - mean) ** 2 for v in measured) / len(measured)
        skew = high / mean
        cv = math.sqrt(variance) / mean
    return BalanceStats(
        instances=len(values),
        measured=len(measured),
        total=total,
        mean=mean,
        min=low,
        max=high,
        skew=skew,
        cv=cv,
    )


def serving(row: InstanceCount) -> bool:
    """Whether the instance takes part in the balance: InService (or lifecycle unknown)."""
    return row.lifecycle in ("InService", "")


def sweep_balance(rows: Iterable[InstanceCount]) -> BalanceStats:
    """`balance_stats` over the serving instances of a sweep; a row in error is not measured."""
    return balance_stats(None if r.error else r.connections for r in rows if serving(r))


def verdict(stats: BalanceStats, max_skew: float = DEFAULT_MAX_SKEW) -> Verdict:
    """"balanced" when the busiest instance holds at most `max_skew` times the mean.

    A sweep that measured nothing is "imbalanced": a deploy pipeline must not pass a fleet it
    could not count.
    """
    if isinstance(max_skew, bool) or not isinstance(max_skew, (int, float)) or not max_skew >= 1.0:
        raise ValueError(f"max skew must be a number of at least 1.0 (max/mean is never below 1), not {max_skew!r}")
    if stats.measured == 0 or stats.skew is None:
        return "imbalanced"
    return "balanced" if stats.skew <= max_skew else "imbalanced"
