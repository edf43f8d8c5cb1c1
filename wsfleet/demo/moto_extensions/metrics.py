"""moto_extensions, metrics: GetMetricData in time linear in the datapoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend

from wsfleet.demo.moto_extensions._state import _is_demo

# ------------------------------------------------------------------------------------ metrics

_original_get_metric_data = CloudWatchBackend.get_metric_data


def _get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """moto's own semantics (periods from StartTime, a query with dimensions matches them exactly
    and ignores the namespace, the statistic from moto's Statistics), one pass over the data."""
    from collections import defaultdict
    from datetime import timedelta

    from moto.cloudwatch.models import Dimension, Statistics

    simple = all("MetricStat" in q and "Expression" not in q for q in queries)
    if not _is_demo(self.account_id, self.region_name) or not simple or start_time.replace(microsecond=0) >= end_time.replace(microsecond=0):
        return _original_get_metric_data(self, queries, start_time, end_time, scan_by)
    start = start_time.replace(microsecond=0)
    end = end_time.replace(microsecond=0)
    in_range = [md for md in self.get_all_metrics() if start <= md.timestamp < end]
    results = []
    for query in queries:
        stat_spec = query["MetricStat"]
        metric = stat_spec["Metric"]
        period = int(stat_spec["Period"])
        stat = stat_spec["Stat"]
        unit = stat_spec.get("Unit")
        dims = sorted(Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
        if dims:
            chosen = [md for md in in_range if md.name == metric["MetricName"] and sorted(md.dimensions) == dims]
        else:
            chosen = [md for md in in_range if md.namespace == metric["Namespace"] and md.name == metric["MetricName"]]
        if unit:
            chosen = [md for md in chosen if md.unit == unit]
        buckets: dict[int, list[Any]] = defaultdict(list)
        for md in chosen:
            buckets[int((md.timestamp - start).total_seconds()) // period].append(md)
        values, timestamps = [], []
        for index in sorted(buckets):
            stats = Statistics([stat], start + timedelta(seconds=index * period))
            stats.metric_data = buckets[index]
            values.append(stats.get_statistics_for_type(stat))
            timestamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            values.reverse()
            timestamps.reverse()
        if query.get("ReturnData", True):
            results.append({
                "id": query["Id"],
                "label": query.get("Label") or f"{metric['MetricName']} {stat}",
                "values": values,
                "timestamps": timestamps,
                "status_code": "Complete",
            })
    return results
