"""The `metric-ratio` check: does the metric that scales the fleet count what its thresholds mean?

The thresholds are client connections; the alarms read whatever the CloudWatch agent publishes.
Its `netstat` `tcp_established` counts every established socket on the host (all ports, both ends
of a loopback proxy hop, SSH, SSM, its own HTTPS), so on a host with nginx in front of the app one
client is two or three sockets (DESIGN rule 8). This check puts each reachable instance's
per-instance datapoint next to the exact count doctor read on it (the facts script's ESTABLISHED
on the service port) and reports the fleet's ratio.

Pairing: the count belongs to the minute it was taken in (`counted_at` floored to the period). The
agent publishes a minute's datapoint after that minute ends, so the count's own minute is often not
in CloudWatch yet: each instance's datapoint of the count's minute is used when there is one, else
the nearest one within one period of it (the minute before or after), else the instance is unpaired.

Pure over data: the command reads the points (one GetMetricData batch) and the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from wsfleet.doctor._text import _ids, _n, _ok, _section
from wsfleet.model import FleetConfig, Finding, InstanceFacts

CHECK = "metric-ratio"
TOLERANCE = 0.10  # within ±10% the metric counts what the thresholds mean
# A host's own sockets (SSH, SSM, the agent's HTTPS) are a handful: below ~50 connections an
# instance, that handful alone is over 10%, so the ratio says nothing about the thresholds.
MIN_EXACT_PER_INSTANCE = 50
WINDOW_PERIODS = 5  # how far back the command reads the per-instance metric


@dataclass(frozen=True)
class InstanceMetric:
    """Every instance's per-instance datapoints around the count (oldest first), and when the
    counts were taken; `error` is the sentence when CloudWatch could not be read."""

    counted_at: datetime
    period: int = 60
    points: Mapping[str, tuple[tuple[datetime, float], ...]] = field(default_factory=dict)
    error: str | None = None


def _minute(at: datetime, period: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period, tz=timezone.utc)


def pair(points: Sequence[tuple[datetime, float]], counted_at: datetime, period: int) -> tuple[datetime, float] | None:
    """The datapoint of the count's minute, else the nearest within one period; None when none is."""
    minute = _minute(counted_at, period)
    near = [(abs((at - minute).total_seconds()), -at.timestamp(), at, v) for at, v in points
            if abs((at - minute).total_seconds()) <= period]
    if not near:
        return None
    _, _, at, value = min(near)  # same distance: the later minute (fresher)
    return at, value


def _thresholds(fleet: FleetConfig, ratio: float) -> str:
    out, low = fleet.scale_out.threshold, fleet.scale_in.threshold
    return (f"your scale-out at {_n(out)} fires at about {_n(round(out / ratio))} clients; "
            f"scale-in at {_n(low)} at about {_n(round(low / ratio))}")


def check_metric_ratio(fleet: FleetConfig, facts: Sequence[InstanceFacts] | None, metric: InstanceMetric | None) -> list[Finding]:
    if facts is None:  # instance checks skipped: instance-reach says so
        return []
    m = fleet.metric
    name = f"{m.namespace}/{m.name}"
    if metric is None:
        return [Finding(CHECK, "info", f"the per-instance metric {name} was not read: not compared with the exact counts", subject=name)]
    counted = [f for f in facts if f.error is None and f.established is not None]
    unreachable = len(facts) - len(counted)
    if metric.error:
        return [Finding(CHECK, "info", f"cannot compare the metric with the exact counts: {metric.error}", subject=name)]
    if not counted:
        return [Finding(CHECK, "info", f"cannot compare {name} with exact counts: none of the {len(facts)} instances could be counted", subject=name)]
    with_points = [f for f in counted if metric.points.get(f.instance_id)]
    if not with_points:
        minutes = WINDOW_PERIODS * metric.period // 60
        return [Finding(
            CHECK, "info",
            f"cannot compare: no per-instance datapoints of {name} ({m.dimension}, InstanceId) in the last {minutes} minutes",
            "the agent publishes the per-instance metric with the InstanceId dimension (append_dimensions); without it the scaling metric cannot be checked against the exact count",
            "wsfleet agent-config > amazon-cloudwatch-agent.json   # install it on the instances, then restart the agent",
            subject=name,
        )]
    pairs: list[tuple[InstanceFacts, float]] = []
    for f in with_points:
        point = pair(metric.points[f.instance_id], metric.counted_at, metric.period)
        if point is not None:
            pairs.append((f, point[1]))
    if not pairs:
        latest = max(at for f in with_points for at, _ in metric.points[f.instance_id])
        return [Finding(
            CHECK, "info",
            f"cannot compare: the latest per-instance datapoint of {name} is from {latest:%H:%M}, the counts from {metric.counted_at:%H:%M} (more than one period apart)",
            subject=name,
        )]
    skipped = len(facts) - len(pairs)
    scope = f"{len(pairs)} of {len(facts)} instances" + (
        f" ({unreachable} unreachable, {len(counted) - len(pairs)} without a datapoint in the count's minute)" if skipped else "")
    exact = sum(f.established or 0 for f, _ in pairs)
    published = sum(v for _, v in pairs)
    subject = _ids([f.instance_id for f, _ in pairs])
    if exact < MIN_EXACT_PER_INSTANCE * len(pairs):
        return [Finding(CHECK, "info", f"too few connections to compare: {_n(exact)} exact on the port against {_n(round(published))} in {name}, on {scope}",
                        f"below {MIN_EXACT_PER_INSTANCE} connections an instance the host's own sockets (SSH, SSM, the agent) weigh more than {TOLERANCE:.0%}",
                        subject=subject)]
    ratio = published / exact
    each = [v / f.established for f, v in pairs if f.established]
    spread = f"per instance {min(each):.2f}–{max(each):.2f}" if len(each) > 1 else ""
    found = f"{name} / exact count on port {fleet.port} = {ratio:.2f} over {scope}" + (f"; {spread}" if spread else "")
    if abs(ratio - 1) <= TOLERANCE:
        return [_ok(CHECK, found + ": the metric counts client connections", subject)]
    if ratio > 1:
        what = f"the metric counts {ratio:.1f} sockets per client: {_thresholds(fleet, ratio)}"
        why = ("the agent's netstat tcp_established counts every established socket on the host (all ports, both ends of a local proxy hop), "
               "so the group scales out early and runs more instances than the thresholds plan")
        if fleet.scale_out.threshold / ratio <= fleet.scale_in.threshold:
            why += f"; it scales out below the {_n(fleet.scale_in.threshold)} clients you meant for scale-in"
        severity = "warning"
    else:
        what = f"the metric counts {ratio:.2f} per client connection: {_thresholds(fleet, ratio)}"
        why = "the metric misses connections, so the group scales out late"
        severity = "warning"
        if fleet.scale_out.threshold / ratio >= fleet.capacity:
            # Scale-out would fire only past the per-instance ceiling: instances overload first.
            why += f", past the per-instance ceiling of {_n(fleet.capacity)}"
            severity = "error"
    if ratio > 1:  # counting more than clients: netstat's host-wide count, most likely
        fix = ("publish the exact per-port count instead: wsfleet agent-config > /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json "
               "and wsfleet agent-config --sender (its `install`) on each instance, then restart the agent\n"
               f"or multiply the thresholds by {ratio:.2f}: wsfleet thresholds set --high {round(fleet.scale_out.threshold * ratio)} "
               f"--low {round(fleet.scale_in.threshold * ratio)}"
               f"   # and write them as the threshold in {_section(fleet, 'scale_out')} and {_section(fleet, 'scale_in')}, or provision puts them back")
    else:  # counting fewer: another port, a filter, or instances that do not publish
        fix = ("check what publishes the metric on each instance: `wsfleet agent-config --sender` prints the exact per-port sender "
               f"(its `print` shows the count it would send)\nor multiply the thresholds by {ratio:.2f}: wsfleet thresholds set "
               f"--high {round(fleet.scale_out.threshold * ratio)} --low {round(fleet.scale_in.threshold * ratio)}"
               f"   # and write them as the threshold in {_section(fleet, 'scale_out')} and {_section(fleet, 'scale_in')}, or provision puts them back")
    return [Finding(CHECK, severity, f"{found} — {what}", why, fix, subject=subject)]


def window(counted_at: datetime, period: int) -> tuple[datetime, datetime]:
    """The [start, end) the command reads: the last WINDOW_PERIODS periods and the count's own."""
    minute = _minute(counted_at, period)
    return minute - timedelta(seconds=period * WINDOW_PERIODS), minute + timedelta(seconds=period * 2)
