"""Which way the imbalance moves, and roughly when it will be under the target. Pure: no I/O, no
clock of its own; times are seconds on any monotonic scale the caller keeps.

    history = CountHistory()
    history.record_sweep(t, {"i-0abc": 300, "i-0def": 50}, skew=1.71)   # after every sweep
    history.trend(max_skew).sentence()     # "shrinking: skew 1.71 → under 1.25 in ~12 min at the current churn"
    history.counts("i-0abc")               # the instance's last counts, oldest first (sparklines)

After a deploy, old instances keep their clients and new ones start empty (DESIGN rule 9); the
skew shrinks only as clients leave and reconnect. The estimate fits a straight line to the
fleet's skew over the window (ordinary least squares on (t, skew)) and calls the trend
shrinking or growing only when the fitted change over the window is at least MIN_CHANGE and the
slope is at least twice its standard error; otherwise the skew is steady. When shrinking, the
time to the target is where the fitted line crosses it, from the newest sweep.

Memory is bounded: each instance keeps its last `points` counts in a ring buffer, an instance
not seen for `forget_after_s` is dropped, and the points of all instances together are capped at
`max_points` (instances seen longest ago go first, then every buffer is cut to a fair share).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Literal

POINTS_PER_INSTANCE = 32  # counts kept per instance: a sparkline, and some hours at a slow cadence
SKEW_WINDOW = 24  # fleet skew points the trend is fitted over (2 min at the default 5 s interval)
MIN_POINTS = 4  # fewer sweeps than this: "not enough sweeps yet"
MIN_CHANGE = 0.02  # a fitted change of skew over the window below this is "steady"
FORGET_AFTER_S = 600.0  # an instance not seen for this long (it left the group) is dropped
MAX_POINTS = 100_000  # counts kept over all instances together
MAX_ETA_S = 86_400.0  # an estimate past a day is no estimate

Direction = Literal["unknown", "shrinking", "steady", "growing"]


@dataclass(frozen=True)
class SkewFit:
    """A least-squares line skew = intercept + slope * t over the window's points."""

    n: int
    slope: float  # skew per second
    intercept: float  # at t = the window's first point
    stderr: float  # the slope's standard error (0 for exactly linear points, inf for n <= 2)
    span_s: float  # seconds from the first to the newest point

    def at(self, dt: float) -> float:
        """The fitted skew `dt` seconds after the window's first point."""
        return self.intercept + self.slope * dt


def fit_line(points: Iterable[tuple[float, float]]) -> SkewFit | None:
    """Ordinary least squares over (t, y); None with fewer than two points or all at one time."""
    pts = list(points)
    n = len(pts)
    if n < 2:
        return None
    t0 = pts[0][0]
    ts = [t - t0 for t, _ in pts]
    ys = [y for _, y in pts]
    t_mean = sum(ts) / n
    y_mean = sum(ys) / n
    sxx = sum((t - t_mean) ** 2 for t in ts)
    if sxx <= 0:
        return None
    sxy = sum((t - t_mean) * (y - y_mean) for t, y in zip(ts, ys))
    slope = sxy / sxx
    intercept = y_mean - slope * t_mean
    if n > 2:
        ssr = sum((y - (intercept + slope * t)) ** 2 for t, y in zip(ts, ys))
        stderr = math.sqrt(ssr / (n - 2) / sxx)
    else:
        stderr = math.inf
    return SkewFit(n=n, slope=slope, intercept=intercept, stderr=stderr, span_s=ts[-1])


@dataclass(frozen=True)
class Trend:
    """The skew's direction over the window and, when shrinking above the target, the time to it."""

    direction: Direction
    target: float
    points: int  # skew points in the window
    skew: float | None = None  # the newest sweep's skew
    first_skew: float | None = None  # the window's oldest skew
    span_s: float = 0.0
    rate_per_min: float | None = None  # the fitted change of skew per minute
    eta_s: float | None = None  # shrinking above the target: seconds until the line reaches it

    @property
    def within_target(self) -> bool:
        return self.skew is not None and self.skew <= self.target

    @property
    def converging(self) -> bool:
        return self.direction == "shrinking" or self.within_target

    def sentence(self) -> str:
        """One line for a person: the direction and, when it has one, the estimate."""
        if self.direction == "unknown" or self.skew is None:
            return f"not enough sweeps yet ({self.points} of {MIN_POINTS}) for a trend"
        skew, target = f"{self.skew:.2f}", f"{self.target:.2f}"
        rate = f"{abs(self.rate_per_min or 0.0):.2f}/min"
        if self.within_target:
            if self.direction == "growing":
                return f"growing: skew {skew} (+{rate}), within {target} for now"
            return f"{self.direction}: skew {skew}, within {target}"
        if self.direction == "shrinking":
            return f"shrinking: skew {skew} → under {target} {fmt_eta(self.eta_s)} at the current churn"
        if self.direction == "growing":
            return f"not converging: skew {skew} growing (+{rate})"
        return f"not converging: old instances keep their connections (skew steady at {skew})"


    def short(self) -> str:
        """The same in a few words, for a narrow screen."""
        if self.direction == "unknown" or self.skew is None:
            return f"{self.points}/{MIN_POINTS} sweeps"
        if self.within_target:
            return f"{self.direction}, within {self.target:.2f}"
        if self.direction == "shrinking":
            return f"shrinking, under {self.target:.2f} {fmt_eta(self.eta_s)}"
        if self.direction == "growing":
            return f"not converging (+{abs(self.rate_per_min or 0.0):.2f}/min)"
        return "not converging (steady)"


def fmt_eta(seconds: float | None) -> str:
    """'in ~12 min', 'within a minute', 'in ~2.5 h', 'in more than a day'."""
    if seconds is None or seconds > MAX_ETA_S:
        return "in more than a day"
    if seconds < 60:
        return "within a minute"
    minutes = seconds / 60
    if minutes < 90:
        return f"in ~{math.floor(minutes + 0.5)} min"
    return f"in ~{seconds / 3600:.1f} h"


def estimate(points: Iterable[tuple[float, float]], target: float) -> Trend:
    """The trend of (t, skew) points, oldest first (see the module docstring for the method)."""
    pts = list(points)
    n = len(pts)
    newest = pts[-1][1] if pts else None
    oldest = pts[0][1] if pts else None
    fit = fit_line(pts) if n >= MIN_POINTS else None
    if fit is None:
        return Trend("unknown", target, n, newest, oldest)
    change = fit.slope * fit.span_s
    significant = abs(change) >= MIN_CHANGE and abs(fit.slope) >= 2 * fit.stderr
    direction: Direction = "steady" if not significant else ("shrinking" if fit.slope < 0 else "growing")
    eta = None
    if direction == "shrinking" and newest is not None and newest > target:
        eta = max(0.0, (fit.at(fit.span_s) - target) / -fit.slope)
    return Trend(direction, target, n, newest, oldest, fit.span_s, fit.slope * 60, eta)


class CountHistory:
    """Per-instance counts and the fleet's skew, sweep after sweep, in bounded memory."""

    def __init__(self, *, points: int = POINTS_PER_INSTANCE, window: int = SKEW_WINDOW,
                 forget_after_s: float = FORGET_AFTER_S, max_points: int = MAX_POINTS) -> None:
        if points < 1 or window < 2 or max_points < 1:
            raise ValueError("a history needs at least 1 point per instance, a window of 2 and 1 point in all")
        self.points = points
        self.forget_after_s = forget_after_s
        self.max_points = max_points
        self._counts: dict[str, deque[tuple[float, int]]] = {}
        self._seen: dict[str, float] = {}
        self._skews: deque[tuple[float, float]] = deque(maxlen=window)

    # ------------------------------------------------------------------ recording

    def observe(self, instance_id: str, t: float, count: int | None) -> None:
        """One instance's count at `t`; None (not measured) marks it seen and adds no point."""
        self._seen[instance_id] = t
        if count is None:
            return
        buf = self._counts.get(instance_id)
        if buf is None:
            buf = self._counts[instance_id] = deque(maxlen=self.points)
        buf.append((t, int(count)))

    def observe_skew(self, t: float, skew: float | None) -> None:
        """The fleet's skew after a sweep; None (nothing measured) adds no point."""
        if skew is not None:
            self._skews.append((t, float(skew)))

    def record_sweep(self, t: float, counts: Mapping[str, int | None], skew: float | None) -> None:
        """A whole sweep: every instance's count, the skew over them, then the memory bounds."""
        for instance_id, count in counts.items():
            self.observe(instance_id, t, count)
        self.observe_skew(t, skew)
        self.prune(t)

    def prune(self, now: float) -> None:
        """Drop instances not seen for `forget_after_s`, then enforce `max_points`."""
        cutoff = now - self.forget_after_s
        for gone in [i for i, seen in self._seen.items() if seen < cutoff]:
            self.forget(gone)
        total = self.total_points
        if total <= self.max_points:
            return
        for instance_id in sorted(self._counts, key=lambda i: self._seen.get(i, -math.inf)):
            if total <= self.max_points or self._seen.get(instance_id) == now:
                break  # what is left was seen in this sweep: cut buffers instead
            total -= len(self._counts[instance_id])
            self.forget(instance_id)
        if total > self.max_points:
            share = max(1, self.max_points // max(1, len(self._counts)))
            for buf in self._counts.values():
                while len(buf) > share:
                    buf.popleft()

    def forget(self, instance_id: str) -> None:
        self._counts.pop(instance_id, None)
        self._seen.pop(instance_id, None)

    def clear(self) -> None:
        self._counts.clear()
        self._seen.clear()
        self._skews.clear()

    # ------------------------------------------------------------------ reading

    def counts(self, instance_id: str, last: int | None = None) -> list[int]:
        """The instance's counts, oldest first (the newest `last` of them)."""
        buf = self._counts.get(instance_id)
        if not buf:
            return []
        if last and last < len(buf):
            return [c for _, c in islice(reversed(buf), last)][::-1]
        return [c for _, c in buf]

    def skews(self) -> list[tuple[float, float]]:
        """The window's (t, skew) points, oldest first."""
        return list(self._skews)

    def trend(self, target: float) -> Trend:
        return estimate(self._skews, target)

    @property
    def instances(self) -> int:
        return len(self._counts)

    @property
    def total_points(self) -> int:
        return sum(len(b) for b in self._counts.values())
