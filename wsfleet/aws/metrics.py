"""The connection-count metric in CloudWatch: the group's series, each instance's latest value, and
writing the group's datapoint (the demo plays the CloudWatch agent with it).

The group metric has one dimension, AutoScalingGroupName (the agent's aggregation_dimensions);
the per-instance metric has two, AutoScalingGroupName and InstanceId (its append_dimensions), as
`wsfleet agent-config` writes them. CloudWatch matches dimensions exactly, so both must agree.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from wsfleet.aws._time import as_utc as _utc
from wsfleet.aws.errors import aws_errors
from wsfleet.aws.session import AwsSession
from wsfleet.model import FleetConfig, MetricSeries

QUERIES_PER_CALL = 500  # GetMetricData's limit


def group_dimensions(fleet: FleetConfig) -> list[dict[str, str]]:
    return [{"Name": fleet.metric.dimension, "Value": fleet.asg}]


def instance_dimensions(fleet: FleetConfig, instance_id: str) -> list[dict[str, str]]:
    return [*group_dimensions(fleet), {"Name": "InstanceId", "Value": instance_id}]


def read_group_metric(session: AwsSession, fleet: FleetConfig, start: datetime, end: datetime, period: int) -> MetricSeries:
    """The group's metric (configured statistic) for every period in [start, end), oldest first;
    None where CloudWatch has no datapoint."""
    period = max(1, int(period))
    # Start on a period boundary, as CloudWatch aligns its own (moto buckets from StartTime).
    first = _floor(_utc(start), period)
    query = _query("g", fleet, group_dimensions(fleet), period)
    with aws_errors(f"reading metric {fleet.metric.namespace}/{fleet.metric.name} of {fleet.asg}"):
        found = _get_metric_data(session, [query], first, end).get("g", {})
    timestamps: list[datetime] = []
    at = first
    while at < _utc(end):
        timestamps.append(at)
        at += timedelta(seconds=period)
    slots: list[float | None] = [None] * len(timestamps)
    for when, value in found.items():
        index = int((when - first).total_seconds()) // period
        if 0 <= index < len(slots):
            slots[index] = value
    values = tuple(slots)
    return MetricSeries(period=period, timestamps=tuple(timestamps), values=values)


def read_instance_metric(
    session: AwsSession, fleet: FleetConfig, instance_ids: Sequence[str], start: datetime, end: datetime, period: int
) -> dict[str, tuple[datetime, float] | None]:
    """Each instance's latest datapoint in [start, end) as (timestamp, value); None when it has none.
    One GetMetricData call per 500 instances."""
    return {i: (points[-1] if points else None) for i, points in read_instance_points(session, fleet, instance_ids, start, end, period).items()}


def read_instance_points(
    session: AwsSession, fleet: FleetConfig, instance_ids: Sequence[str], start: datetime, end: datetime, period: int
) -> dict[str, tuple[tuple[datetime, float], ...]]:
    """Every datapoint of each instance in [start, end), oldest first (empty when it has none).
    One GetMetricData call per 500 instances."""
    ids = list(dict.fromkeys(instance_ids))
    out: dict[str, tuple[tuple[datetime, float], ...]] = {i: () for i in ids}
    for offset in range(0, len(ids), QUERIES_PER_CALL):
        batch = ids[offset : offset + QUERIES_PER_CALL]
        queries = [_query(f"i{offset + n}", fleet, instance_dimensions(fleet, i), period) for n, i in enumerate(batch)]
        with aws_errors(f"reading metric {fleet.metric.namespace}/{fleet.metric.name} of {len(batch)} instances"):
            found = _get_metric_data(session, queries, start, end)
        for n, instance_id in enumerate(batch):
            points = found.get(f"i{offset + n}") or {}
            out[instance_id] = tuple(sorted(points.items()))
    return out


# ----------------------------------------------------------------------------- helpers


def _query(query_id: str, fleet: FleetConfig, dimensions: list[dict[str, str]], period: int) -> dict[str, Any]:
    # GetMetricData ids must match ^[a-z][a-zA-Z0-9_]*$
    assert re.fullmatch(r"[a-z][a-zA-Z0-9_]*", query_id)
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": fleet.metric.namespace, "MetricName": fleet.metric.name, "Dimensions": dimensions},
            "Period": int(period),
            "Stat": fleet.metric.statistic,
        },
        "ReturnData": True,
    }


def _get_metric_data(
    session: AwsSession, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    """query id -> {timestamp: value}, every page read."""
    cw = session.client("cloudwatch")
    params: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": _utc(start),
        "EndTime": _utc(end),
        "ScanBy": "TimestampAscending",
    }
    out: dict[str, dict[datetime, float]] = {}
    while True:
        page = cw.get_metric_data(**params)
        for result in page.get("MetricDataResults", ()):
            points = out.setdefault(result["Id"], {})
            for at, value in zip(result.get("Timestamps", ()), result.get("Values", ())):
                points[_utc(at)] = float(value)
        if not page.get("NextToken"):
            return out
        params["NextToken"] = page["NextToken"]


def _floor(at: datetime, period: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period, tz=timezone.utc)
