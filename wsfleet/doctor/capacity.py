"""Capacity and flap: a scale-in must not push the instances left past the high threshold, and the
high threshold and the warm-up must leave the group room to react before instances reach their
per-instance ceiling.

Rules where a number had to be chosen (documented here, named below):

- **ceiling**: the high threshold must leave room for the instances launched at the threshold to
  warm up. Error when it is at or above the per-instance ceiling; warning above
  `HEADROOM_FRACTION` (80 %) of it; warning too when, at the fastest rise of the average seen in
  the metric window (sustained over the alarm's datapoints), the average would reach the ceiling
  before the alarm fires and the new instances are warm (`datapoints_to_alarm * period + warmup`).
- **warmup**: warning when the policy's warm-up is shorter than the median launch-to-InService
  time of recent launches (the policy adds again before the first instances carry load); info when
  it is more than `WARMUP_SLACK` (2×) that time plus a minute (a growing spike waits for nothing).
"""

from __future__ import annotations

import math
import re
import statistics

from wsfleet import scaling
from wsfleet.doctor._text import _n, _ok, _provision_fix, _section, _snippet
from wsfleet.model import FleetConfig, FleetStatus, Finding

HEADROOM_FRACTION = 0.8
WARMUP_SLACK = 2.0


# --------------------------------------------------------------------------- flap


def _remove_of(fleet: FleetConfig, status: FleetStatus) -> int:
    p = status.scale_in_policy
    if p is not None and p.scaling_adjustment is not None and p.scaling_adjustment < 0:
        return -p.scaling_adjustment
    return fleet.scale_in.remove


def _largest_safe_low(high: float, min_size: int, max_size: int, remove: int) -> int | None:
    """The highest whole low threshold that is flap-safe for every size (strictly below the bound)."""
    bound = scaling.max_flap_safe_low(high, min_size, max_size, remove)
    if bound is None or bound <= 0:
        return None
    return math.ceil(bound) - 1


def check_flap(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """Rule 5: removing `remove` of n at the low threshold must not reach the high one, for every n."""
    g = status.group
    remove = _remove_of(fleet, status)
    sources = []
    if status.low_alarm is not None and status.high_alarm is not None:
        sources.append((f"alarms {status.low_alarm.name} / {status.high_alarm.name}", status.low_alarm.threshold, status.high_alarm.threshold, False))
    cfg = (fleet.scale_in.threshold, fleet.scale_out.threshold)
    if not sources or (sources[0][1], sources[0][2]) != cfg:
        sources.append((f"config {_section(fleet)}", cfg[0], cfg[1], True))
    out = []
    for subject, low, high, from_config in sources:
        unsafe = scaling.flap_unsafe_sizes(low, high, g.min_size, g.max_size, remove)
        if not unsafe:
            out.append(_ok("flap", f"{subject}: removing {remove} at {_n(low)} stays below {_n(high)} for every size {g.min_size}..{g.max_size}", subject))
            continue
        n = min(unsafe)
        p = scaling.project_scale_in(low, n, remove, high, fleet.capacity)
        left = f"{_n(p.per_instance)} on each of the {p.remaining} left" if p.per_instance is not None else "nothing left"
        safe = _largest_safe_low(high, g.min_size, g.max_size, remove)
        fix = f"wsfleet thresholds set --low {safe}" if safe is not None else f"raise the minimum size above {max(unsafe)}"
        if from_config and safe is not None:
            fix = _snippet(fleet, "scale_in", f"threshold = {safe}")
        out.append(Finding(
            "flap", "error",
            f"{subject}: at {_n(low)} connections, removing {remove} of {n} leaves {left}, at or above the high threshold {_n(high)} "
            f"(flaps at n = {', '.join(map(str, unsafe))})",
            "the seed's churn: scale in, the others take the drained connections, they breach the high alarm, scale out again — and hit their limit meanwhile",
            fix, subject=subject,
        ))
    return out


# --------------------------------------------------------------------------- room to react


def _fastest_rise(status: FleetStatus, window: int) -> float | None:
    """Connections per second: the steepest rise of the average sustained over `window` periods."""
    s = status.metric
    if s is None:
        return None
    pts = [(t, v) for t, v in zip(s.timestamps, s.values) if v is not None]
    window = max(1, min(window, len(pts) - 1))
    best = None
    for i in range(len(pts) - window):
        (t0, v0), (t1, v1) = pts[i], pts[i + window]
        dt = (t1 - t0).total_seconds()
        if dt > 0 and v1 > v0:
            rate = (v1 - v0) / dt
            best = rate if best is None else max(best, rate)
    return best


def check_ceiling(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """The high threshold leaves room under the per-instance ceiling for new instances to warm up."""
    so = fleet.scale_out
    alarm, policy = status.high_alarm, status.scale_out_policy
    high = alarm.threshold if alarm is not None else so.threshold
    period = alarm.period if alarm is not None else so.period
    datapoints = (alarm.datapoints_to_alarm or alarm.evaluation_periods) if alarm is not None else so.datapoints_to_alarm
    warmup = policy.warmup if policy is not None and policy.warmup is not None else so.warmup
    cap = fleet.capacity
    subject = alarm.name if alarm is not None else _section(fleet, "scale_out")
    suggested = int(cap * HEADROOM_FRACTION * 0.9)
    ratio = high / cap if cap else math.inf
    why_fill = "the instances already running take every new connection until the new ones are InService and warm; past the ceiling (28,000 in the seed) they are marked unhealthy and latency follows"
    if ratio >= 1:
        return [Finding(
            "ceiling", "error",
            f"the high threshold {_n(high)} is at or above the per-instance ceiling {_n(cap)}",
            "scale-out starts only after instances are already past what they can hold",
            f"wsfleet thresholds set --high {suggested}", subject=subject,
        )]
    if ratio > HEADROOM_FRACTION:
        return [Finding(
            "ceiling", "warning",
            f"the high threshold {_n(high)} is {ratio:.0%} of the per-instance ceiling {_n(cap)} (more than {HEADROOM_FRACTION:.0%})",
            why_fill,
            f"wsfleet thresholds set --high {suggested}", subject=subject,
        )]
    reaction = datapoints * period + warmup
    rate = _fastest_rise(status, datapoints)
    if rate is not None:
        to_ceiling = (cap - high) / rate
        if to_ceiling < reaction:
            return [Finding(
                "ceiling", "warning",
                f"at the fastest rise in the metric window (+{_n(rate * 60)}/min) the average goes from {_n(high)} to the ceiling {_n(cap)} "
                f"in {to_ceiling:.0f} s, but the alarm plus warm-up take {reaction} s ({datapoints}×{period} s + {warmup} s)",
                why_fill,
                _react_sooner_fix(fleet, status, round(cap - rate * reaction)),
                subject=subject,
            )]
        tail = f"; at the fastest rise seen (+{_n(rate * 60)}/min) the ceiling is {to_ceiling:.0f} s away, reaction takes {reaction} s"
    else:
        tail = ""
    return [_ok("ceiling", f"the high threshold {_n(high)} is {ratio:.0%} of the ceiling {_n(cap)}{tail}", subject)]


def _react_sooner_fix(fleet: FleetConfig, status: FleetStatus, high: int) -> str:
    """A high threshold low enough to react in time, if one fits above the low threshold."""
    low = status.low_alarm.threshold if status.low_alarm is not None else fleet.scale_in.threshold
    schedule = 'wsfleet schedule put before-peak --cron "0 7 * * MON-FRI" --min 4 --desired 4   # capacity before the known peak'
    if high > low:
        return f"wsfleet thresholds set --high {high}\n# or: {schedule}"
    return schedule


_LAUNCH = re.compile(r"^Launching a new EC2 instance", re.IGNORECASE)


def launch_durations(status: FleetStatus) -> list[float]:
    """Seconds from launch to InService of the successful launches in the activity history."""
    out = []
    for a in status.activities:
        if _LAUNCH.match(a.description or "") and a.status == "Successful" and a.start_time and a.end_time:
            d = (a.end_time - a.start_time).total_seconds()
            if d > 0:  # a zero-length launch is a record without timing (moto), not a fast instance
                out.append(d)
    return out


def check_warmup(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    policy = status.scale_out_policy
    warmup = policy.warmup if policy is not None and policy.warmup is not None else fleet.scale_out.warmup
    subject = policy.name if policy is not None else _section(fleet, "scale_out")
    durations = launch_durations(status)
    if not durations:
        return [Finding(
            "warmup", "info",
            f"no successful launch in the recent activity history to compare the warm-up ({warmup} s) with",
            subject=subject,
        )]
    median = statistics.median(durations)
    launches = f"the last {len(durations)} launches" if len(durations) != 1 else "the last launch"
    seen = f"the median launch-to-InService time of {launches} is {median:.1f} s" if median < 10 else f"the median launch-to-InService time of {launches} is {median:.0f} s"
    fix = _snippet(fleet, "scale_out", f"warmup = {int(math.ceil(median / 10) * 10)}") + "\n" + _provision_fix()
    if warmup < median:
        return [Finding(
            "warmup", "warning",
            f"the scale-out warm-up is {warmup} s but {seen}",
            "the step policy stops counting new instances as warming before they carry connections, and adds more on the same breach",
            fix, subject=subject,
        )]
    if warmup > WARMUP_SLACK * median + 60:
        return [Finding(
            "warmup", "info",
            f"the scale-out warm-up is {warmup} s, well above what launches take ({seen})",
            "a growing spike waits out the warm-up before the next step adds anything: the seed's too-slow scale-out",
            fix, subject=subject,
        )]
    return [_ok("warmup", f"the warm-up {warmup} s covers launches ({seen})", subject)]
