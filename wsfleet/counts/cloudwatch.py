"""Connection counts from the CloudWatch agent's per-instance metric: no access to the instances.

One `GetMetricData` call per 500 instances (`wsfleet.aws.metrics.read_instance_metric`), the
latest datapoint of each in the last `WINDOW`. Values are about a minute old: every row carries
its `age_s`. An instance with no datapoint in the window is `not-found` (agent silent, wrong
namespace, or dimensions that differ from the agent's).
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Callable, Sequence

from wsfleet.aws.metrics import read_instance_metric
from wsfleet.counts.base import failed, measured
from wsfleet.model import CountTarget, FleetConfig, InstanceCount

WINDOW = timedelta(minutes=10)
PERIOD_S = 60  # the agent publishes once a minute (metrics_collection_interval = 60)


class CloudWatchSource:
    name = "cloudwatch"

    def __init__(self, session, fleet: FleetConfig, *, now: Callable[[], datetime] | None = None) -> None:
        self._session = session
        self._fleet = fleet
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._lock = asyncio.Lock()

    async def sweep(self, targets: Sequence[CountTarget]) -> AsyncIterator[InstanceCount]:
        async with self._lock:
            end = self._now()
            start = end - WINDOW
            latest = await asyncio.to_thread(
                read_instance_metric, self._session, self._fleet, [t.instance_id for t in targets], start, end, PERIOD_S
            )
            metric = f"{self._fleet.metric.namespace}/{self._fleet.metric.name}"
            for target in targets:
                point = latest.get(target.instance_id)
                if point is None:
                    yield failed(target, "not-found", f"no {metric} datapoint for {target.instance_id} in the last {WINDOW.seconds // 60} min (is its CloudWatch agent running?)")
                    continue
                at, value = point
                if not math.isfinite(value) or value < 0:
                    yield failed(target, "parse", f"{metric} for {target.instance_id} is {value!r}, not a connection count")
                    continue
                yield measured(target, int(round(value)), age_s=max(0.0, (end - at).total_seconds()))

    async def aclose(self) -> None:
        pass
