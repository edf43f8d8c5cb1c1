"""moto, extended for the demo: what the embedded fleet needs AWS to answer and moto does not.

moto stores an Auto Scaling group, its policies and CloudWatch alarms, but launches instances
InService at once, never fills a warm pool and keeps no scaling activities or alarm history. The
demo's engine supplies the behaviour; this module is the ONE place that teaches moto's in-process
backend to hold it and answer for it through the ordinary AWS API, so the CLI and the dashboard
read the demo exactly as they read production:

- DescribeScalingActivities returns the group's recorded activities (launches, terminations,
  warm pool moves) with cause, status and progress, newest first;
- DescribeWarmPool returns the pool's instances (Warmed:Pending, Warmed:Stopped, ...);
- DescribeAlarmHistory returns state changes, configuration updates and actions;
- every capacity change (SetDesiredCapacity, UpdateAutoScalingGroup, TerminateInstance...) takes
  instances from the warm pool first, starts launches in Pending (the engine moves them InService
  after a boot delay), returns scaled-in instances to the pool when ReuseOnScaleIn is set, and
  SetDesiredCapacity outside MinSize..MaxSize is refused as AWS refuses it;
- a new alarm starts in INSUFFICIENT_DATA and PutMetricAlarm on an existing alarm keeps its state,
  as in AWS;
- GetMetricData answers MetricStat queries in time linear in the datapoints (moto compares every
  datapoint with every period: seconds per dashboard refresh once a demo has run for half an hour).

Only backends enabled with `enable(account_id, region)` behave differently: any other moto user in
the same process (a test) sees stock moto. One re-entrant lock serialises the moto server's Auto
Scaling and CloudWatch requests with the engine's direct changes, because both run in threads of
one process and touch the same objects.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from moto.autoscaling.exceptions import ValidationError as AutoScalingValidationError
from moto.autoscaling.models import (
    Activity,
    AutoScalingBackend,
    FakeAutoScalingGroup,
    InstanceState,
    autoscaling_backends,
)
from moto.autoscaling.responses import AutoScalingResponse
from moto.cloudwatch.models import Alarm as MotoAlarm
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse

LIVE_STATES = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")
WARM_READY_STATES = ("Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated")
ACTIVITY_LIMIT = 500  # per group, newest kept
HISTORY_LIMIT = 1000  # per region
CAUSE_TTL = 5.0  # seconds an engine-supplied cause waits for the change it explains

Origin = str  # "initial" | "launch" | "warm-pool"

_LOCK = threading.RLock()
_ENABLED: set[tuple[str, str]] = set()
_installed = False


@dataclass(frozen=True)
class InstanceView:
    """One instance as the engine needs it: where it came from and since when it is in its state."""

    id: str
    lifecycle: str
    origin: Origin
    since: float  # time.time() when it entered `lifecycle`
    private_ip: str | None
    az: str
    protected: bool = False


@dataclass(frozen=True)
class GroupChange:
    """Instances that joined or left the group in one request (or one engine step)."""

    group: str
    launched: tuple[InstanceView, ...]
    removed: tuple[str, ...]


Listener = Callable[[GroupChange], None]


# ------------------------------------------------------------------------------- per-group state


class _GroupExtras:
    def __init__(self) -> None:
        self.activities: list[Activity] = []  # newest first
        self.launch_activity: dict[str, Activity] = {}
        self.warm: list[InstanceState] = []
        self.origin: dict[str, Origin] = {}
        self.since: dict[str, float] = {}
        self.known: set[str] = set()
        self.returned: set[str] = set()  # left the group for the warm pool, not terminated
        self.desired_seen: int | None = None
        self.cause: tuple[str, float] | None = None
        self.listener: Listener | None = None


def _extras(group: FakeAutoScalingGroup) -> _GroupExtras:
    extras = getattr(group, "_wsfleet_demo", None)
    if extras is None:
        extras = _GroupExtras()
        group._wsfleet_demo = extras  # type: ignore[attr-defined]
    return extras


def _is_demo(account_id: str, region: str) -> bool:
    return (account_id, region) in _ENABLED


def _is_demo_group(group: FakeAutoScalingGroup) -> bool:
    return _is_demo(group.account_id, group.region)


def _now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)  # moto's own timestamps are naive UTC


def _record(group: FakeAutoScalingGroup, description: str, cause: str, status: str, progress: int) -> Activity:
    extras = _extras(group)
    activity = Activity(description, cause, group, status_code=status)
    activity.progress = progress
    if status == "InProgress":
        activity.end_time = None  # type: ignore[assignment]  # AWS gives no EndTime until it ends
    extras.activities.insert(0, activity)
    del extras.activities[ACTIVITY_LIMIT:]
    return activity


def _finish(activity: Activity | None) -> None:
    if activity is not None and activity.status_code == "InProgress":
        activity.status_code = "Successful"
        activity.progress = 100
        activity.end_time = _utcnow()


def _view(group: FakeAutoScalingGroup, state: InstanceState) -> InstanceView:
    extras = _extras(group)
    iid = state.instance.id
    return InstanceView(
        id=iid,
        lifecycle=state.lifecycle_state,
        origin=extras.origin.get(iid, "initial"),
        since=extras.since.get(iid, 0.0),
        private_ip=getattr(state.instance, "private_ip", None),
        az=str(state.availability_zone or ""),
        protected=bool(state.protected_from_scale_in),
    )


# ------------------------------------------------------------------------ capacity (models patch)

_original_group_set_desired = FakeAutoScalingGroup.set_desired_capacity
_original_backend_set_desired = AutoScalingBackend.set_desired_capacity


def _group_set_desired_capacity(self: FakeAutoScalingGroup, new_capacity: int | None) -> None:
    if not _is_demo_group(self) or self.mixed_instances_policy:
        return _original_group_set_desired(self, new_capacity)
    self.desired_capacity = self.min_size if new_capacity is None else new_capacity
    live = [s for s in self.instance_states if s.lifecycle_state in LIVE_STATES]
    delta = (self.desired_capacity or 0) - len(live)
    if delta > 0:
        _scale_out(self, delta)
    elif delta < 0:
        _scale_in(self, -delta)
    if self.name in self.autoscaling_backend.autoscaling_groups:
        self.autoscaling_backend.update_attached_elbs(self.name)
        self.autoscaling_backend.update_attached_target_groups(self.name)


def _scale_out(group: FakeAutoScalingGroup, count: int) -> None:
    """Warm pool first (ready instances, oldest first), then cold launches; all start Pending."""
    extras = _extras(group)
    now = time.time()
    ready = [s for s in extras.warm if s.lifecycle_state in WARM_READY_STATES][:count]
    if ready:
        extras.warm = [s for s in extras.warm if s not in ready]
        stopped = [s.instance.id for s in ready if s.lifecycle_state != "Warmed:Running"]
        if stopped:
            group.ec2_backend.start_instances(stopped)
        for state in ready:
            state.lifecycle_state = "Pending"
            extras.origin[state.instance.id] = "warm-pool"
            extras.since[state.instance.id] = now
        group.instance_states = group.instance_states + ready
    cold = count - len(ready)
    if cold > 0:
        for state in _launch(group, cold):
            state.lifecycle_state = "Pending"
            extras.origin[state.instance.id] = "launch"
            extras.since[state.instance.id] = now
            group.instance_states = group.instance_states + [state]


def _launch(group: FakeAutoScalingGroup, count: int) -> list[InstanceState]:
    """New EC2 instances from the group's launch template, by moto's own launch code, detached."""
    before = list(group.instance_states)
    known = {s.instance.id for s in before}
    group.replace_autoscaling_group_instances(count, group.get_propagated_tags())
    new = [s for s in group.instance_states if s.instance.id not in known]
    group.instance_states = before
    return new


def _termination_order(group: FakeAutoScalingGroup, states: list[InstanceState]) -> list[InstanceState]:
    # Not yet in service first (newest first: nothing to drain), then the oldest in service.
    extras = _extras(group)
    since = extras.since

    def key(s: InstanceState) -> tuple[int, float]:
        t = since.get(s.instance.id, 0.0)
        return (0, -t) if s.lifecycle_state != "InService" else (1, t)

    return sorted(states, key=key)


def _scale_in(group: FakeAutoScalingGroup, count: int) -> None:
    extras = _extras(group)
    candidates = [s for s in group.instance_states if s.lifecycle_state in LIVE_STATES and not s.protected_from_scale_in]
    victims = _termination_order(group, candidates)[:count]
    if not victims:
        return
    group.instance_states = [s for s in group.instance_states if s not in victims]
    pool = group.warm_pool
    reuse = bool(pool is not None and _reuse_on_scale_in(pool))
    if reuse:
        now = time.time()
        for state in victims:
            state.lifecycle_state = "Warmed:Pending"
            extras.since[state.instance.id] = now
            extras.origin[state.instance.id] = "returned"
        extras.warm = extras.warm + victims
        extras.returned |= {s.instance.id for s in victims}
    else:
        group.ec2_backend.terminate_instances([s.instance.id for s in victims])


def _reuse_on_scale_in(pool: Any) -> bool:
    policy = pool.instance_reuse_policy or {}
    value = policy.get("ReuseOnScaleIn", False)
    return value is True or str(value).lower() == "true"


def _backend_set_desired_capacity(self: AutoScalingBackend, group_name: str, desired_capacity: int | None) -> None:
    group = self.autoscaling_groups.get(group_name)
    if group is not None and _is_demo_group(group) and desired_capacity is not None:
        if group.max_size is not None and desired_capacity > group.max_size:
            raise AutoScalingValidationError(
                f"New SetDesiredCapacity value {desired_capacity} is above max value {group.max_size} for the AutoScalingGroup."
            )
        if group.min_size is not None and desired_capacity < group.min_size:
            raise AutoScalingValidationError(
                f"New SetDesiredCapacity value {desired_capacity} is below min value {group.min_size} for the AutoScalingGroup."
            )
    return _original_backend_set_desired(self, group_name, desired_capacity)


# --------------------------------------------------------------- membership diff -> activities


def _sync(group: FakeAutoScalingGroup, action: str | None = None) -> None:
    """Record an activity for every instance that joined or left since the last look; tell the listener."""
    extras = _extras(group)
    current = {s.instance.id: s for s in group.instance_states}
    launched = [s for iid, s in current.items() if iid not in extras.known]
    removed = [iid for iid in extras.known if iid not in current]
    old_desired = extras.desired_seen
    extras.desired_seen = group.desired_capacity
    if not launched and not removed:
        return
    cause = _take_cause(extras) or _default_cause(group, action, old_desired, len(launched), len(removed))
    for iid in removed:
        if iid in extras.returned:
            _record(group, f"Returning EC2 instance to the warm pool: {iid}", cause, "Successful", 100)
            extras.returned.discard(iid)
        else:
            _record(group, f"Terminating EC2 instance: {iid}", cause, "Successful", 100)
        extras.launch_activity.pop(iid, None)
    for state in launched:
        iid = state.instance.id
        extras.since.setdefault(iid, time.time())
        origin = extras.origin.setdefault(iid, "initial")
        source = " from warm pool" if origin == "warm-pool" else ""
        in_service = state.lifecycle_state == "InService"
        activity = _record(
            group,
            f"Launching a new EC2 instance{source}: {iid}",
            cause,
            "Successful" if in_service else "InProgress",
            100 if in_service else 30,
        )
        if not in_service:
            extras.launch_activity[iid] = activity
    extras.known = set(current)
    if extras.listener is not None:
        extras.listener(GroupChange(group.name, tuple(_view(group, s) for s in launched), tuple(removed)))


def _take_cause(extras: _GroupExtras) -> str | None:
    if extras.cause is None:
        return None
    text, at = extras.cause
    extras.cause = None
    return text if time.time() - at <= CAUSE_TTL else None


def _default_cause(group: FakeAutoScalingGroup, action: str | None, old: int | None, launched: int, removed: int) -> str:
    at = f"At {_now_text()}"
    new = group.desired_capacity
    change = f" changing the desired capacity from {old} to {new}" if old is not None and old != new else ""
    if action == "SetDesiredCapacity":
        return f"{at} a user request explicitly set group desired capacity{change}."
    if action == "UpdateAutoScalingGroup":
        return f"{at} a user request update of AutoScalingGroup constraints to min: {group.min_size}, max: {group.max_size}, desired: {new}{change}."
    if action == "TerminateInstanceInAutoScalingGroup" and removed and not change:
        return f"{at} an instance was taken out of service in response to a user request; a replacement was started to keep the desired capacity at {new}."
    live = len(group.instance_states)
    if launched and not removed:
        return f"{at} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {live - launched} to {live}."
    if removed and not launched:
        return f"{at} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from {live + removed} to {live}."
    return f"{at} the group's instances changed in response to a user request{change}."


def _sync_region(account_id: str, region: str, action: str | None) -> None:
    backend = autoscaling_backends[account_id][region]
    for group in list(backend.autoscaling_groups.values()):
        if getattr(group, "_wsfleet_demo", None) is not None:
            _sync(group, action)


# ------------------------------------------------------------------------------ response patches

_original_as_call_action = AutoScalingResponse.call_action
_original_cw_call_action = CloudWatchResponse.call_action
_original_describe_scaling_activities = AutoScalingResponse.describe_scaling_activities
_original_describe_warm_pool = AutoScalingResponse.describe_warm_pool


def _as_call_action(self: AutoScalingResponse) -> Any:
    with _LOCK:
        result = _original_as_call_action(self)
        if _is_demo(self.current_account, self.region):
            _sync_region(self.current_account, self.region, self._get_action())
        return result


def _cw_call_action(self: CloudWatchResponse) -> Any:
    with _LOCK:
        return _original_cw_call_action(self)


def _describe_scaling_activities(self: AutoScalingResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        return _original_describe_scaling_activities(self)
    backend = autoscaling_backends[self.current_account][self.region]
    name = self._get_param("AutoScalingGroupName")
    wanted = set(self._get_param("ActivityIds", []) or [])
    groups = [backend.autoscaling_groups[name]] if name in backend.autoscaling_groups else []
    if not name:
        groups = list(backend.autoscaling_groups.values())
    activities: list[Activity] = []
    for group in groups:
        extras = getattr(group, "_wsfleet_demo", None)
        if extras is not None:
            activities.extend(extras.activities)
    activities.sort(key=lambda a: a.start_time, reverse=True)
    if wanted:
        activities = [a for a in activities if a.activity_id in wanted]
    start = int(self._get_param("NextToken") or 0)
    limit = self._get_int_param("MaxRecords") or 100
    page = activities[start : start + limit]
    token = str(start + limit) if start + limit < len(activities) else None
    return ActionResult({"Activities": page, "NextToken": token})


def _describe_warm_pool(self: AutoScalingResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        return _original_describe_warm_pool(self)
    name = self._get_param("AutoScalingGroupName")
    backend = autoscaling_backends[self.current_account][self.region]
    pool = backend.describe_warm_pool(group_name=name)
    group = backend.autoscaling_groups[name]
    extras = getattr(group, "_wsfleet_demo", None)
    instances = list(extras.warm) if extras is not None else []
    return ActionResult({"WarmPoolConfiguration": pool, "Instances": instances})


# ------------------------------------------------------------------------- alarms and history

_original_put_metric_alarm = CloudWatchBackend.put_metric_alarm
_original_update_state = MotoAlarm.update_state


def _history(backend: CloudWatchBackend) -> list[dict[str, Any]]:
    items = getattr(backend, "_wsfleet_demo_history", None)
    if items is None:
        items = []
        backend._wsfleet_demo_history = items  # type: ignore[attr-defined]
    return items


def _add_history(backend: CloudWatchBackend, alarm_name: str, kind: str, summary: str, data: dict[str, Any]) -> None:
    items = _history(backend)
    items.insert(
        0,
        {
            "AlarmName": alarm_name,
            "AlarmType": "MetricAlarm",
            "Timestamp": datetime.now(timezone.utc),
            "HistoryItemType": kind,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data),
        },
    )
    del items[HISTORY_LIMIT:]


def _put_metric_alarm(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> MotoAlarm:
    previous = self.alarms.get(name)
    alarm = _original_put_metric_alarm(self, name, *args, **kwargs)
    if not _is_demo(self.account_id, self.region_name):
        return alarm
    alarm._wsfleet_backend = self  # type: ignore[attr-defined]
    if previous is None:
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_reason = "Unchecked: Initial alarm creation"
        _add_history(self, name, "ConfigurationUpdate", f'Alarm "{name}" created', {"type": "Create", "version": "1.0"})
    else:
        # AWS: updating an alarm overwrites its configuration and leaves its state alone.
        for attr in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
            setattr(alarm, attr, getattr(previous, attr))
        _add_history(self, name, "ConfigurationUpdate", f'Alarm "{name}" updated', {"type": "Update", "version": "1.0"})
    return alarm


def _update_state(self: MotoAlarm, reason: str, reason_data: str, state_value: str) -> None:
    old_state, old_reason = self.state_value, self.state_reason
    _original_update_state(self, reason, reason_data, state_value)
    backend = getattr(self, "_wsfleet_backend", None)
    if backend is None or old_state == state_value:
        return
    new_state: dict[str, Any] = {"stateValue": state_value, "stateReason": reason}
    if reason_data:
        try:
            new_state["stateReasonData"] = json.loads(reason_data)
        except ValueError:
            pass
    _add_history(
        backend,
        self.name,
        "StateUpdate",
        f"Alarm updated from {old_state} to {state_value}",
        {"version": "1.0", "oldState": {"stateValue": old_state, "stateReason": old_reason}, "newState": new_state},
    )


def _describe_alarm_history(self: CloudWatchResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        raise NotImplementedError("The describe_alarm_history action has not been implemented")
    backend = cloudwatch_backends[self.current_account][self.region]
    items = list(_history(backend))
    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    start, end = self._get_param("StartDate"), self._get_param("EndDate")
    if name:
        items = [i for i in items if i["AlarmName"] == name]
    if kind:
        items = [i for i in items if i["HistoryItemType"] == kind]
    if start is not None:
        items = [i for i in items if i["Timestamp"] >= _aware(start)]
    if end is not None:
        items = [i for i in items if i["Timestamp"] <= _aware(end)]
    if self._get_param("ScanBy") == "TimestampAscending":
        items.reverse()
    offset = int(self._get_param("NextToken") or 0)
    limit = self._get_int_param("MaxRecords") or 100
    page = items[offset : offset + limit]
    token = str(offset + limit) if offset + limit < len(items) else None
    return ActionResult({"AlarmHistoryItems": page, "NextToken": token})


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


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


# ---------------------------------------------------------------------------------- public API


def install() -> None:
    """Patch moto's classes once per process; harmless for backends that are not enabled."""
    global _installed
    with _LOCK:
        if _installed:
            return
        FakeAutoScalingGroup.set_desired_capacity = _group_set_desired_capacity  # type: ignore[method-assign]
        AutoScalingBackend.set_desired_capacity = _backend_set_desired_capacity  # type: ignore[method-assign]
        AutoScalingResponse.call_action = _as_call_action  # type: ignore[method-assign]
        AutoScalingResponse.describe_scaling_activities = _describe_scaling_activities  # type: ignore[method-assign]
        AutoScalingResponse.describe_warm_pool = _describe_warm_pool  # type: ignore[method-assign]
        CloudWatchResponse.call_action = _cw_call_action  # type: ignore[method-assign]
        CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]
        CloudWatchBackend.put_metric_alarm = _put_metric_alarm  # type: ignore[method-assign]
        CloudWatchBackend.get_metric_data = _get_metric_data  # type: ignore[method-assign]
        MotoAlarm.update_state = _update_state  # type: ignore[method-assign]
        _installed = True


def enable(account_id: str, region: str) -> None:
    """Make this account/region's Auto Scaling and CloudWatch behave as the demo needs."""
    install()
    with _LOCK:
        _ENABLED.add((account_id, region))


def disable(account_id: str, region: str) -> None:
    with _LOCK:
        _ENABLED.discard((account_id, region))


class DemoGroup:
    """The engine's handle on one Auto Scaling group inside moto: what the API cannot say or do.

    Every method takes the lock, and every membership change it makes is recorded as an activity
    and reported to the listener, exactly like a change made through the API.
    """

    def __init__(self, account_id: str, region: str, name: str, listener: Listener | None = None) -> None:
        if not _is_demo(account_id, region):
            raise RuntimeError(f"moto extensions are not enabled for {account_id}/{region}: call enable() first")
        self.account_id, self.region, self.name = account_id, region, name
        with _LOCK:
            _extras(self._group()).listener = listener
            _sync(self._group())  # the instances the group started with count as launched

    def _group(self) -> FakeAutoScalingGroup:
        return autoscaling_backends[self.account_id][self.region].autoscaling_groups[self.name]

    def close(self) -> None:
        with _LOCK:
            group = autoscaling_backends[self.account_id][self.region].autoscaling_groups.get(self.name)
            if group is not None:
                _extras(group).listener = None

    # -- reading

    def instances(self) -> list[InstanceView]:
        with _LOCK:
            group = self._group()
            return [_view(group, s) for s in group.instance_states]

    def warm_instances(self) -> list[InstanceView]:
        with _LOCK:
            group = self._group()
            return [_view(group, s) for s in _extras(group).warm]

    def capacity(self) -> tuple[int, int, int]:
        """(min size, max size, desired capacity) as the group holds them now."""
        with _LOCK:
            group = self._group()
            return int(group.min_size or 0), int(group.max_size or 0), int(group.desired_capacity or 0)

    def warm_pool_config(self) -> dict[str, Any] | None:
        """The pool's configuration as stored, or None when the group has no warm pool."""
        with _LOCK:
            pool = self._group().warm_pool
            if pool is None:
                return None
            return {
                "min_size": int(pool.min_size or 0),
                "max_prepared_capacity": None if pool.max_group_prepared_capacity in (None, -1, "-1") else int(pool.max_group_prepared_capacity),
                "pool_state": pool.pool_state or "Stopped",
                "reuse_on_scale_in": _reuse_on_scale_in(pool),
            }

    # -- changing

    def explain_next_change(self, cause: str) -> None:
        """The cause to record for the next membership change (the engine's policy or schedule)."""
        with _LOCK:
            _extras(self._group()).cause = (cause, time.time())

    def set_lifecycle(self, instance_id: str, state: str) -> bool:
        """Move a group instance (Pending -> InService) or a pool instance (Warmed:Pending ->
        Warmed:Stopped/Running); finishes its launch activity. False when it is gone."""
        with _LOCK:
            group = self._group()
            extras = _extras(group)
            for s in group.instance_states:
                if s.instance.id == instance_id:
                    s.lifecycle_state = state
                    extras.since[instance_id] = time.time()
                    if state == "InService":
                        _finish(extras.launch_activity.pop(instance_id, None))
                        group.autoscaling_backend.update_attached_elbs(group.name)
                        group.autoscaling_backend.update_attached_target_groups(group.name)
                    return True
            for s in extras.warm:
                if s.instance.id == instance_id:
                    if state == "Warmed:Stopped" and s.instance.state != "stopped":
                        group.ec2_backend.stop_instances([instance_id])
                    s.lifecycle_state = state
                    extras.since[instance_id] = time.time()
                    _finish(extras.launch_activity.pop(instance_id, None))
                    return True
            return False

    def add_to_warm_pool(self, count: int, cause: str) -> list[str]:
        """Launch `count` instances into the warm pool (Warmed:Pending until the engine readies them)."""
        if count <= 0:
            return []
        with _LOCK:
            group = self._group()
            extras = _extras(group)
            now = time.time()
            new = _launch(group, count)
            for state in new:
                iid = state.instance.id
                state.lifecycle_state = "Warmed:Pending"
                extras.origin[iid] = "warm-pool"
                extras.since[iid] = now
                extras.launch_activity[iid] = _record(group, f"Launching a new EC2 instance into warm pool: {iid}", cause, "InProgress", 30)
            extras.warm = extras.warm + new
            return [s.instance.id for s in new]

    def remove_from_warm_pool(self, instance_ids: Iterable[str], cause: str) -> list[str]:
        """Terminate pool instances (the pool shrank or was deleted)."""
        wanted = set(instance_ids)
        with _LOCK:
            group = self._group()
            extras = _extras(group)
            gone = [s for s in extras.warm if s.instance.id in wanted]
            if not gone:
                return []
            extras.warm = [s for s in extras.warm if s.instance.id not in wanted]
            ids = [s.instance.id for s in gone]
            group.ec2_backend.terminate_instances(ids)
            for iid in ids:
                _finish(extras.launch_activity.pop(iid, None))
                _record(group, f"Terminating EC2 instance from warm pool: {iid}", cause, "Successful", 100)
            return ids

    def record_activity(self, description: str, cause: str, status: str = "Successful") -> None:
        with _LOCK:
            _record(self._group(), description, cause, status, 100 if status != "InProgress" else 0)

    def record_alarm_action(self, alarm_name: str, summary: str) -> None:
        """An "Action" item in the alarm's history (AWS records each policy it invoked)."""
        with _LOCK:
            backend = cloudwatch_backends[self.account_id][self.region]
            _add_history(backend, alarm_name, "Action", summary, {"actionState": "Succeeded", "notificationResource": summary})
