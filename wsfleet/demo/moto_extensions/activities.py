"""moto_extensions, activities: the membership diff that records scaling activities, and the
Auto Scaling and CloudWatch response patches that answer for them (and for the warm pool).
"""

from __future__ import annotations

import time
from typing import Any

from moto.autoscaling.models import Activity, FakeAutoScalingGroup, autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.cloudwatch.responses import CloudWatchResponse

from wsfleet.demo.moto_extensions._state import (
    CAUSE_TTL,
    GroupChange,
    _GroupExtras,
    _LOCK,
    _extras,
    _is_demo,
    _now_text,
    _record,
    _view,
)
from wsfleet.demo.moto_extensions.capacity import _launch_spec

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
        extras.launched_at.setdefault(iid, extras.since[iid])
        if iid not in extras.version:  # launched by stock moto before the group was the demo's
            version = _launch_spec(group)[1]
            if version is not None:
                extras.version[iid] = version
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
