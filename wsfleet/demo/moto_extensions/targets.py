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
  datapoint with every period: seconds per dashboard refresh once a demo has run for half an hour);
- every instance reports the launch template version it was launched from (moto reports the
  template's *default* version for every instance, whatever the group resolved when it launched);
- StartInstanceRefresh, DescribeInstanceRefreshes, CancelInstanceRefresh and
  RollbackInstanceRefresh exist (moto 5 has none: NotImplementedError in-process, an HTML 500 from
  its server), with AWS's validation of the preferences and AWS's error codes; the refresh records
  live here and the engine (`refresh.py`) carries them out, replacing instances through `DemoGroup`;
- the group's target groups hold its InService instances only: EnterStandby deregisters an
  instance, ExitStandby registers it again, a scale-in or a termination deregisters it (moto keeps
  every member registered, Standby ones too, and never deregisters); a deregistered target is
  `draining` for the target group's deregistration delay, then gone (moto: `unused` at once, or
  `draining` for ever after a termination); EnterStandby and ExitStandby check the instance's state
  and MinSize and record their activities, and ExitStandby sets the desired capacity as AWS does.

Only backends enabled with `enable(account_id, region)` behave differently: any other moto user in
the same process (a test) sees stock moto. One re-entrant lock serialises the moto server's Auto
Scaling and CloudWatch requests with the engine's direct changes, because both run in threads of
one process and touch the same objects.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from moto.autoscaling.exceptions import AutoscalingClientError
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
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends
from moto.elbv2.responses import ELBV2Response

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
    launch_template_version: str | None = None  # the version it was launched from ("2"); None: a launch configuration
    launched_at: float = 0.0  # time.time() when it was launched (first seen, for the group's first instances)


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
        self.version: dict[str, str] = {}  # instance id -> launch template version it was launched from
        self.launched_at: dict[str, float] = {}
        self.refreshes: list[_Refresh] = []  # newest first
        self.standby_decremented: dict[str, bool] = {}  # Standby instance -> EnterStandby decremented desired


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
        launch_template_version=extras.version.get(iid),
        launched_at=extras.launched_at.get(iid, 0.0),
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
    """New EC2 instances by moto's own launch code, detached, each recording the launch template
    version it was launched from: the group's, resolved now ($Latest -> the latest number), or the
    one an instance refresh launches while it runs (the previous one while it rolls back)."""
    before = list(group.instance_states)
    known = {s.instance.id for s in before}
    template, version = _launch_spec(group)
    saved = (group.ec2_launch_template, getattr(group, "launch_template_version", None))
    if template is not None and version is not None:
        # moto picks the image, type and user data from these two attributes
        group.ec2_launch_template, group.launch_template_version = template, version
    try:
        group.replace_autoscaling_group_instances(count, group.get_propagated_tags())
    finally:
        group.ec2_launch_template, group.launch_template_version = saved
    new = [s for s in group.instance_states if s.instance.id not in known]
    group.instance_states = before
    extras = _extras(group)
    now = time.time()
    for state in new:
        extras.launched_at[state.instance.id] = now
        if version is not None:
            extras.version[state.instance.id] = version
    return new


def _resolved_version(template: Any, spec_version: str | None) -> str | None:
    """A launch template version as a number ("$Latest" -> the latest, "$Default" or none -> the
    default); None when there is no template or no such version."""
    if template is None:
        return None
    try:
        return str(template.get_version(spec_version or "$Default").number)
    except Exception:  # moto's InvalidLaunchTemplateVersionNotFound, or a version that is not a number
        return None


def _launch_spec(group: FakeAutoScalingGroup) -> tuple[Any, str | None]:
    """(launch template, version number) that a launch in this group uses now."""
    refresh = _active_refresh(group)
    if refresh is not None:
        if refresh.rolling_back:
            return refresh.previous_template, refresh.previous_version
        return refresh.target_template, refresh.target_version
    template = group.ec2_launch_template
    return template, _resolved_version(template, getattr(group, "launch_template_version", None))


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


# ---------------------------------------------------------------------------- instance refresh
#
# moto 5 has none of the four calls (NotImplementedError in-process, an HTML 500 from its server).
# Here they answer as AWS's API reference describes them: the same response shapes (moto's own
# serializer renders them from botocore's model), AWS's defaults in the described preferences, its
# validation, and its error codes with HTTP 400. Where this differs from AWS: the messages are the
# demo's own sentences (AWS's where known: InstanceRefreshInProgress, the constraint wording), there
# is no LimitExceeded or ResourceContention, Cancel ignores WaitForTransitioningInstances (the demo
# has no lifecycle hooks), a DesiredConfiguration may name a launch template only (no mixed
# instances policy), and Strategy is Rolling only. The engine (`refresh.py`) carries a refresh out.

REFRESH_ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
REFRESH_LIMIT = 50  # records kept per group, newest first
DESCRIBE_REFRESHES_MAX = 100  # DescribeInstanceRefreshes' MaxRecords bound (default 50)
LONGEST_DELAY = 172800  # CheckpointDelay's and BakeTime's bound: two days
DEFAULT_MIN_HEALTHY = 90  # with no instance maintenance policy (moto has none)
DEFAULT_CHECKPOINT_DELAY = 3600
PROTECTED_CHOICES = ("Refresh", "Ignore", "Wait")  # ScaleInProtectedInstances
STANDBY_CHOICES = ("Terminate", "Ignore", "Wait")  # StandbyInstances


class InstanceRefreshInProgress(AutoscalingClientError):
    code = "InstanceRefreshInProgress"


class ActiveInstanceRefreshNotFound(AutoscalingClientError):
    code = "ActiveInstanceRefreshNotFound"


class IrreversibleInstanceRefresh(AutoscalingClientError):
    code = "IrreversibleInstanceRefresh"


class InvalidNextToken(AutoscalingClientError):
    code = "InvalidNextToken"


@dataclass
class _Refresh:
    """One instance refresh as Auto Scaling holds it; the engine moves it on through `DemoGroup`."""

    id: str
    group_name: str
    preferences: dict[str, Any]  # as DescribeInstanceRefreshes reports them, AWS's defaults filled in
    desired: dict[str, Any] | None  # DesiredConfiguration as given; None: the group's own configuration
    target_template: Any
    target_version: str | None  # what replacements launch from, as a number
    previous_spec: dict[str, Any]  # the group's launch template at the start, as the group named it
    previous_template: Any
    previous_version: str | None  # `previous_spec` resolved to a number at the start
    started: float  # time.time()
    start_time: datetime
    status: str = "Pending"
    status_reason: str | None = None
    end_time: datetime | None = None
    percentage: int = 0
    to_update: int = 0
    live: tuple[int, int] = (0, 0)  # (percentage complete, instances to update) of the live pool
    warm: tuple[int, int] | None = None  # the same for the warm pool, when the group has one
    rolling_back: bool = False  # stays set when a rollback is cancelled: launches stay on the previous version
    rollback: dict[str, Any] | None = None  # RollbackDetails

    @property
    def active(self) -> bool:
        return self.status in REFRESH_ACTIVE

    def to_aws(self) -> dict[str, Any]:
        progress: dict[str, Any] = {"LivePoolProgress": {"PercentageComplete": self.live[0], "InstancesToUpdate": self.live[1]}}
        if self.warm is not None:
            progress["WarmPoolProgress"] = {"PercentageComplete": self.warm[0], "InstancesToUpdate": self.warm[1]}
        out: dict[str, Any] = {
            "InstanceRefreshId": self.id,
            "AutoScalingGroupName": self.group_name,
            "Status": self.status,
            "StartTime": self.start_time,
            "PercentageComplete": self.percentage,
            "InstancesToUpdate": self.to_update,
            "ProgressDetails": progress,
            "Preferences": self.preferences,
            "Strategy": "Rolling",
        }
        if self.status_reason:
            out["StatusReason"] = self.status_reason
        if self.end_time is not None:
            out["EndTime"] = self.end_time
        if self.desired is not None:
            out["DesiredConfiguration"] = self.desired
        if self.rollback is not None:
            out["RollbackDetails"] = self.rollback
        return out


@dataclass(frozen=True)
class RefreshView:
    """An instance refresh as the engine needs it (`DemoGroup.refresh`)."""

    id: str
    status: str
    started: float  # time.time() at StartInstanceRefresh
    rolling_back: bool
    target_version: str | None  # the version replacements launch from now (the previous one while rolling back)
    min_healthy: int
    max_healthy: int | None
    warmup: int | None  # None: the preference was not given
    checkpoints: tuple[int, ...]
    checkpoint_delay: int
    skip_matching: bool
    auto_rollback: bool
    protected: str  # ScaleInProtectedInstances
    standby: str  # StandbyInstances
    bake_time: int
    percentage_complete: int

    @property
    def active(self) -> bool:
        return self.status in REFRESH_ACTIVE

    def needs_update(self, instance: InstanceView) -> bool:
        """Whether the refresh still has to replace `instance`: not on the version it launches, or
        (without SkipMatching) launched before the refresh started. A rollback replaces only what
        is not on the previous version."""
        if instance.launch_template_version != self.target_version:
            return True
        return not self.rolling_back and not self.skip_matching and instance.launched_at < self.started


def _refresh_view(record: _Refresh) -> RefreshView:
    prefs = record.preferences
    return RefreshView(
        id=record.id,
        status=record.status,
        started=record.started,
        rolling_back=record.rolling_back,
        target_version=record.previous_version if record.rolling_back else record.target_version,
        min_healthy=int(prefs.get("MinHealthyPercentage", DEFAULT_MIN_HEALTHY)),
        max_healthy=None if prefs.get("MaxHealthyPercentage") is None else int(prefs["MaxHealthyPercentage"]),
        warmup=None if prefs.get("InstanceWarmup") is None else int(prefs["InstanceWarmup"]),
        checkpoints=tuple(int(p) for p in prefs.get("CheckpointPercentages") or ()),
        checkpoint_delay=int(prefs.get("CheckpointDelay", DEFAULT_CHECKPOINT_DELAY)),
        skip_matching=bool(prefs.get("SkipMatching", False)),
        auto_rollback=bool(prefs.get("AutoRollback", False)),
        protected=str(prefs.get("ScaleInProtectedInstances", "Wait")),
        standby=str(prefs.get("StandbyInstances", "Wait")),
        bake_time=int(prefs.get("BakeTime", 0)),
        percentage_complete=record.percentage,
    )


def _active_refresh(group: FakeAutoScalingGroup) -> _Refresh | None:
    extras = getattr(group, "_wsfleet_demo", None)
    if extras is None:
        return None
    return next((r for r in extras.refreshes if r.active), None)


def _constraint(field: str, value: Any, rule: str) -> AutoScalingValidationError:
    # AWS's wording for a parameter outside its model's constraints, naming the field
    return AutoScalingValidationError(f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}")


def _check_range(prefs: dict[str, Any], key: str, low: int, high: int | None) -> None:
    value = prefs.get(key)
    if value is None:
        return
    if int(value) < low:
        raise _constraint(f"Preferences.{key}", value, f"Member must have value greater than or equal to {low}")
    if high is not None and int(value) > high:
        raise _constraint(f"Preferences.{key}", value, f"Member must have value less than or equal to {high}")


def _check_preferences(raw: dict[str, Any] | None, *, reversible: str | None) -> dict[str, Any]:
    """The preferences as AWS validates them, with AWS's defaults added as DescribeInstanceRefreshes
    shows them. `reversible` is None when a rollback could restore the previous configuration, else why not."""
    prefs = {k: v for k, v in dict(raw or {}).items() if v is not None}
    _check_range(prefs, "MinHealthyPercentage", 0, 100)
    _check_range(prefs, "MaxHealthyPercentage", 100, 200)
    _check_range(prefs, "InstanceWarmup", 0, None)
    _check_range(prefs, "CheckpointDelay", 0, LONGEST_DELAY)
    _check_range(prefs, "BakeTime", 0, LONGEST_DELAY)
    if "MaxHealthyPercentage" in prefs:
        if "MinHealthyPercentage" not in prefs:
            raise AutoScalingValidationError("MaxHealthyPercentage needs MinHealthyPercentage: specify both, or neither.")
        spread = int(prefs["MaxHealthyPercentage"]) - int(prefs["MinHealthyPercentage"])
        if spread > 100:
            raise AutoScalingValidationError(
                f"MaxHealthyPercentage ({prefs['MaxHealthyPercentage']}) can be at most 100 above "
                f"MinHealthyPercentage ({prefs['MinHealthyPercentage']})."
            )
    checkpoints = [int(p) for p in prefs.get("CheckpointPercentages") or ()]
    if "CheckpointPercentages" in prefs:
        if not checkpoints:
            raise AutoScalingValidationError("CheckpointPercentages must list at least one percentage.")
        if any(not 1 <= p <= 100 for p in checkpoints) or any(b <= a for a, b in zip(checkpoints, checkpoints[1:])):
            raise AutoScalingValidationError(
                f"CheckpointPercentages {checkpoints} must be unique values between 1 and 100 in ascending order."
            )
        prefs["CheckpointPercentages"] = checkpoints
        prefs.setdefault("CheckpointDelay", DEFAULT_CHECKPOINT_DELAY)
    elif "CheckpointDelay" in prefs:
        raise AutoScalingValidationError("CheckpointDelay needs CheckpointPercentages: a delay applies after a checkpoint.")
    for key, choices in (("ScaleInProtectedInstances", PROTECTED_CHOICES), ("StandbyInstances", STANDBY_CHOICES)):
        if key in prefs and prefs[key] not in choices:
            raise _constraint(f"Preferences.{key}", prefs[key], f"Member must satisfy enum value set: [{', '.join(choices)}]")
    if prefs.get("AutoRollback") and reversible is not None:
        raise AutoScalingValidationError(f"AutoRollback is not possible for this instance refresh: {reversible}")
    prefs.setdefault("MinHealthyPercentage", DEFAULT_MIN_HEALTHY)
    prefs.setdefault("SkipMatching", False)
    prefs.setdefault("AutoRollback", False)
    prefs.setdefault("ScaleInProtectedInstances", "Wait")
    prefs.setdefault("StandbyInstances", "Wait")
    return prefs


def _irreversible_reason(desired: dict[str, Any] | None, previous_spec: dict[str, Any], previous_version: str | None) -> str | None:
    """Why a rollback could not restore the configuration the group had at the start (AWS's rules:
    there must be a desired configuration, and the previous launch template version must be a number)."""
    if desired is None:
        return "it was started without a DesiredConfiguration, so the group's configuration was never changed by it and there is nothing to restore."
    version = str(previous_spec.get("Version") or "$Default")
    if version.startswith("$"):
        return f"the group's launch template version before it was {version}, not a specific version number."
    if previous_version is None:
        return "the group had no launch template to restore."
    return None


def _group_or_error(self: AutoScalingResponse) -> FakeAutoScalingGroup:
    name = self._get_param("AutoScalingGroupName")
    group = autoscaling_backends[self.current_account][self.region].autoscaling_groups.get(name)
    if group is None:
        raise AutoScalingValidationError(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
    _extras(group)
    return group


def _target_of(group: FakeAutoScalingGroup, desired: dict[str, Any] | None) -> tuple[Any, str | None]:
    """(launch template, version number) the refresh replaces instances with."""
    if desired is None:
        template = group.ec2_launch_template
        return template, _resolved_version(template, getattr(group, "launch_template_version", None))
    if desired.get("MixedInstancesPolicy") is not None or not desired.get("LaunchTemplate"):
        # the demo's groups launch from one launch template; a mixed instances policy is not modelled
        raise AutoScalingValidationError("The demo supports a DesiredConfiguration with a LaunchTemplate only, not a MixedInstancesPolicy.")
    spec = desired["LaunchTemplate"]
    lt_id, lt_name = spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName")
    if bool(lt_id) == bool(lt_name):
        raise AutoScalingValidationError("Valid requests must contain either LaunchTemplateId or LaunchTemplateName")
    try:
        template = group.ec2_backend.get_launch_template(lt_id) if lt_id else group.ec2_backend.get_launch_template_by_name(lt_name)
    except Exception:
        template = None
    if template is None:
        raise AutoScalingValidationError(f"The launch template {lt_id or lt_name} in the DesiredConfiguration does not exist.")
    version = _resolved_version(template, spec.get("Version"))
    if version is None:
        raise AutoScalingValidationError(
            f"The launch template {template.name} has no version {spec.get('Version')} (DesiredConfiguration.LaunchTemplate.Version)."
        )
    return template, version


def _start_instance_refresh(self: AutoScalingResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        raise NotImplementedError("The start_instance_refresh action has not been implemented")
    group = _group_or_error(self)
    strategy = self._get_param("Strategy") or "Rolling"
    if strategy != "Rolling":
        raise AutoScalingValidationError(f"The demo replaces instances with the Rolling strategy only, not {strategy}.")
    desired = self._get_param("DesiredConfiguration") or None
    target_template, target_version = _target_of(group, desired)
    previous_template = group.ec2_launch_template
    previous_spec = {
        "LaunchTemplateId": getattr(previous_template, "id", None),
        "LaunchTemplateName": getattr(previous_template, "name", None),
        "Version": getattr(group, "launch_template_version", None),
    }
    previous_version = _resolved_version(previous_template, previous_spec["Version"])
    prefs = _check_preferences(
        self._get_param("Preferences"), reversible=_irreversible_reason(desired, previous_spec, previous_version)
    )
    if _active_refresh(group) is not None:
        raise InstanceRefreshInProgress("An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
    record = _Refresh(
        id=str(uuid.uuid4()),
        group_name=group.name,
        preferences=prefs,
        desired=desired,
        target_template=target_template,
        target_version=target_version,
        previous_spec=previous_spec,
        previous_template=previous_template,
        previous_version=previous_version,
        started=time.time(),
        start_time=datetime.now(timezone.utc),
    )
    extras = _extras(group)
    extras.refreshes.insert(0, record)
    del extras.refreshes[REFRESH_LIMIT:]
    view = _refresh_view(record)
    live = [_view(group, s) for s in group.instance_states]
    warm = [_view(group, s) for s in extras.warm]
    record.live = (0, sum(view.needs_update(v) for v in live))
    record.warm = (0, sum(view.needs_update(v) for v in warm)) if group.warm_pool is not None else None
    record.to_update = record.live[1] + (record.warm[1] if record.warm else 0)
    return ActionResult({"InstanceRefreshId": record.id})


def _describe_instance_refreshes(self: AutoScalingResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        raise NotImplementedError("The describe_instance_refreshes action has not been implemented")
    name = self._get_param("AutoScalingGroupName")
    group = autoscaling_backends[self.current_account][self.region].autoscaling_groups.get(name)
    extras = getattr(group, "_wsfleet_demo", None) if group is not None else None
    records = list(extras.refreshes) if extras is not None else []  # newest first, as AWS lists them
    wanted = self._get_param("InstanceRefreshIds") or []
    if wanted:
        records = [r for r in records if r.id in set(wanted)]
    limit = self._get_int_param("MaxRecords") or 50
    if not 1 <= limit <= DESCRIBE_REFRESHES_MAX:
        raise _constraint("MaxRecords", limit, f"Member must have value less than or equal to {DESCRIBE_REFRESHES_MAX}")
    token = self._get_param("NextToken")
    try:
        offset = int(token) if token else 0
    except ValueError:
        offset = -1
    if offset < 0 or offset > len(records):
        raise InvalidNextToken("The token is not valid.")
    page = records[offset : offset + limit]
    next_token = str(offset + limit) if offset + limit < len(records) else None
    return ActionResult({"InstanceRefreshes": [r.to_aws() for r in page], "NextToken": next_token})


def _not_found(group: FakeAutoScalingGroup, doing: str) -> ActiveInstanceRefreshNotFound:
    return ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found for Auto Scaling group {group.name} to {doing}.")


def _cancel_instance_refresh(self: AutoScalingResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        raise NotImplementedError("The cancel_instance_refresh action has not been implemented")
    group = _group_or_error(self)
    record = _active_refresh(group)
    if record is None or record.status == "Cancelling":
        raise _not_found(group, "cancel")
    # AWS: Cancelling while the instances being replaced finish; no further ones are replaced
    record.status = "Cancelling"
    record.status_reason = "Cancelling the instance refresh: the instances being replaced finish, no others are replaced."
    return ActionResult({"InstanceRefreshId": record.id})


def _rollback_instance_refresh(self: AutoScalingResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        raise NotImplementedError("The rollback_instance_refresh action has not been implemented")
    group = _group_or_error(self)
    record = _active_refresh(group)
    if record is None or record.status in ("Cancelling", "RollbackInProgress"):
        raise _not_found(group, "roll back")
    why = _irreversible_reason(record.desired, record.previous_spec, record.previous_version)
    if why is not None:
        raise IrreversibleInstanceRefresh(f"The instance refresh {record.id} cannot be rolled back: {why}")
    _start_rollback(record, "Rollback started by user request.")
    return ActionResult({"InstanceRefreshId": record.id})


def _start_rollback(record: _Refresh, reason: str) -> None:
    record.rollback = {
        "RollbackReason": reason,
        "RollbackStartTime": datetime.now(timezone.utc),
        "PercentageCompleteOnRollback": record.percentage,
        "InstancesToUpdateOnRollback": record.to_update,
        "ProgressDetailsOnRollback": {
            "LivePoolProgress": {"PercentageComplete": record.live[0], "InstancesToUpdate": record.live[1]},
            **({"WarmPoolProgress": {"PercentageComplete": record.warm[0], "InstancesToUpdate": record.warm[1]}} if record.warm else {}),
        },
    }
    record.status = "RollbackInProgress"
    record.status_reason = reason
    record.rolling_back = True
    record.percentage = 0


# an instance's LaunchTemplate in DescribeAutoScalingGroups, DescribeAutoScalingInstances and
# DescribeWarmPool: moto says the template's default version for every instance
_original_instance_launch_template = InstanceState.launch_template


def _instance_launch_template(self: InstanceState) -> dict[str, Any] | None:
    spec = _original_instance_launch_template.fget(self)  # type: ignore[attr-defined]
    group = self.auto_scaling_group
    extras = getattr(group, "_wsfleet_demo", None) if group is not None else None
    if spec is None or extras is None or not _is_demo_group(group):
        return spec
    version = extras.version.get(self.instance.id)
    return spec if version is None else {**spec, "Version": version}


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


# ----------------------------------------------------------------- Standby and the target groups
#
# AWS (Auto Scaling user guide, "Temporarily remove instances from your Auto Scaling group"): an
# instance put in Standby is deregistered from the group's target groups, and registered again when
# it exits Standby; a terminated or scaled-in instance is deregistered too. Elastic Load Balancing
# then keeps a deregistered target `draining` for the target group's deregistration delay (its open
# connections stay open), and after it closes what is left and forgets the target. moto 5 keeps a
# Standby instance registered, registers Pending and Standby members on every capacity change,
# never deregisters a scaled-in one, and has no timer: `unused` at once after DeregisterTargets,
# `draining` for ever after a termination. For the demo's account and region this section does what
# AWS does; the demo's load balancer (`fleet.py`, `traffic.py`) reads the result (`DemoGroup.balancer`).

DEFAULT_DEREGISTRATION_DELAY = 300  # seconds: the target group attribute's default


def _tg_is_demo(target_group: FakeTargetGroup) -> bool:
    return _is_demo(target_group.account_id, target_group.region_name)


def _deregistration_delay(target_group: FakeTargetGroup) -> float:
    try:
        return float(target_group.attributes.get("deregistration_delay.timeout_seconds", DEFAULT_DEREGISTRATION_DELAY))
    except (TypeError, ValueError):
        return float(DEFAULT_DEREGISTRATION_DELAY)


def _draining(target_group: FakeTargetGroup) -> dict[str, tuple[dict[str, Any], float]]:
    """Target id -> (target, time.time() its drain ends), expired ones dropped."""
    items = getattr(target_group, "_wsfleet_draining", None)
    if items is None:
        items = {}
        target_group._wsfleet_draining = items  # type: ignore[attr-defined]
    now = time.time()
    for tid in [t for t, (_, until) in items.items() if until <= now]:
        del items[tid]
        target_group.terminated_targets.pop(tid, None)  # moto's "draining for ever"
        target_group.deregistered_targets.pop(tid, None)  # gone, as AWS forgets a drained target
    return items


def _start_drain(target_group: FakeTargetGroup, targets: Iterable[dict[str, Any]]) -> None:
    # the delay in force when the target is deregistered is the one it drains for
    until = time.time() + _deregistration_delay(target_group)
    items = _draining(target_group)
    for target in targets:
        items[target["Id"]] = (target, until)


_original_tg_register = FakeTargetGroup.register
_original_tg_deregister = FakeTargetGroup.deregister
_original_tg_deregister_terminated = FakeTargetGroup.deregister_terminated_instances
_original_tg_health_for = FakeTargetGroup.health_for
_original_describe_target_health = ELBv2Backend.describe_target_health
_original_update_attached_target_groups = AutoScalingBackend.update_attached_target_groups
_original_enter_standby = AutoScalingBackend.enter_standby_instances
_original_exit_standby = AutoScalingBackend.exit_standby_instances
_original_elbv2_call_action = ELBV2Response.call_action


def _tg_register(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
    _original_tg_register(self, targets)
    if _tg_is_demo(self):
        items = _draining(self)
        for target in targets:  # registered again while draining: ELB keeps its connections
            items.pop(target["Id"], None)


def _tg_deregister(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
    if not _tg_is_demo(self):
        return _original_tg_deregister(self, targets)
    registered = [dict(self.targets[t["Id"]]) for t in targets if t["Id"] in self.targets]
    _original_tg_deregister(self, targets)
    _start_drain(self, registered)


def _tg_deregister_terminated(self: FakeTargetGroup, instance_ids: list[str]) -> None:
    if not _tg_is_demo(self):
        return _original_tg_deregister_terminated(self, instance_ids)
    registered = [dict(self.targets[i]) for i in instance_ids if i in self.targets]
    _original_tg_deregister_terminated(self, instance_ids)
    _start_drain(self, registered)


def _tg_health_for(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any) -> FakeHealthStatus:
    if _tg_is_demo(self) and target["Id"] not in self.targets:
        draining = _draining(self).get(target["Id"])
        if draining is not None:
            port = target.get("Port", draining[0].get("Port", self.port))
            return FakeHealthStatus(target["Id"], port, self.health_check_port, "draining",
                                    "Target.DeregistrationInProgress", "Target deregistration is in progress")
    return _original_tg_health_for(self, target, ec2_backend)


def _describe_target_health(self: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]) -> list[FakeHealthStatus]:
    target_group = self.target_groups.get(target_group_arn)
    if not targets and target_group is not None and _tg_is_demo(target_group):
        # AWS lists the draining targets too, until their delay ends
        targets = list(target_group.targets.values()) + [t for t, _ in _draining(target_group).values()]
    return _original_describe_target_health(self, target_group_arn, targets)


def _elbv2_call_action(self: ELBV2Response) -> Any:
    with _LOCK:  # the demo's balancer reads the target groups from the engine's thread
        return _original_elbv2_call_action(self)


def _group_target_groups(group: FakeAutoScalingGroup) -> list[FakeTargetGroup]:
    backend = elbv2_backends[group.account_id][group.region]
    return [tg for tg in (backend.target_groups.get(arn) for arn in group.target_group_arns or ()) if tg is not None]


def _update_attached_target_groups(self: AutoScalingBackend, group_name: str) -> None:
    """Registered: the group's InService instances; deregistered (draining): every other instance
    the group has had (Standby, scaled in, gone to the warm pool). Targets the group never had are
    left alone, as AWS leaves targets registered by hand."""
    group = self.autoscaling_groups[group_name]
    if not _is_demo_group(group) or getattr(group, "_wsfleet_demo", None) is None:
        return _original_update_attached_target_groups(self, group_name)
    extras = _extras(group)
    serving = {s.instance.id for s in group.instance_states if s.lifecycle_state == "InService"}
    members = {s.instance.id for s in group.instance_states} | extras.known | set(extras.launched_at)
    members |= {s.instance.id for s in extras.warm}
    for tg in _group_target_groups(group):
        for iid in sorted(serving - set(tg.targets)):
            try:
                tg.register([{"Id": iid, "Port": tg.port}])
            except Exception:  # moto's TargetNotRunning: an instance stopped under the group, left out
                continue
        gone = [{"Id": iid} for iid in list(tg.targets) if iid in members and iid not in serving]
        if gone:
            tg.deregister(gone)


def _standby_cause(iid: str, moved: str, old: int, new: int) -> str:
    change = "" if old == new else f", {'shrinking' if new < old else 'increasing'} the capacity from {old} to {new}"
    return f"At {_now_text()} instance {iid} was moved {moved} standby in response to a user request{change}."


def _enter_standby(self: AutoScalingBackend, group_name: str, instance_ids: list[str], should_decrement: bool) -> list[Activity]:
    group = self.autoscaling_groups[group_name]
    if not _is_demo_group(group):
        return _original_enter_standby(self, group_name, instance_ids, should_decrement)
    states = {s.instance.id: s for s in group.instance_states}
    for iid in instance_ids:
        state = states.get(iid)
        if state is None:
            raise AutoScalingValidationError(f"The instance {iid} is not part of Auto Scaling group {group_name}.")
        if state.lifecycle_state != "InService":
            raise AutoScalingValidationError(f"The instance {iid} is not in InService.")
    old = int(group.desired_capacity or 0)
    new = old - len(instance_ids) if should_decrement else old
    if should_decrement and new < int(group.min_size or 0):  # moto checks nothing here
        raise AutoScalingValidationError(
            f"AutoScalingGroup {group_name} has min-size={group.min_size}, max-size={group.max_size}, and desired-size={old}. "
            f"Moving {len(instance_ids)} instance(s) to standby with the desired capacity decremented would leave it below the min size."
        )
    extras = _extras(group)
    activities = []
    for iid in instance_ids:
        states[iid].lifecycle_state = "Standby"
        extras.since[iid] = time.time()
        extras.standby_decremented[iid] = bool(should_decrement)
        activities.append(_record(group, f"Moving EC2 instance to Standby: {iid}", _standby_cause(iid, "to", old, new), "Successful", 100))
    group.desired_capacity = new
    group.set_desired_capacity(new)  # without the decrement: a replacement launches (warm pool first), as AWS does
    self.update_attached_target_groups(group_name)
    return activities


def _exit_standby(self: AutoScalingBackend, group_name: str, instance_ids: list[str]) -> list[Activity]:
    group = self.autoscaling_groups[group_name]
    if not _is_demo_group(group):
        return _original_exit_standby(self, group_name, instance_ids)
    states = {s.instance.id: s for s in group.instance_states}
    for iid in instance_ids:
        state = states.get(iid)
        if state is None or state.lifecycle_state != "Standby":
            raise AutoScalingValidationError(f"The instance {iid} is not in Standby.")
    extras = _extras(group)
    old = int(group.desired_capacity or 0)
    # AWS: the desired capacity is incremented for an instance that EnterStandby decremented it
    # for; one that kept it (a replacement was launched) makes the group one too many, and the
    # group scales in by its termination policy (moto increments it for every instance, and the
    # group grows by one)
    new = old + sum(1 for iid in instance_ids if extras.standby_decremented.pop(iid, True))
    if group.max_size is not None and new > int(group.max_size):
        raise AutoScalingValidationError(
            f"Moving {len(instance_ids)} instance(s) out of standby would raise the desired capacity of {group_name} "
            f"to {new}, above its max size {group.max_size}."
        )
    activities = []
    for iid in instance_ids:
        # AWS passes through Pending while the load balancer registers it; the demo's instances are
        # healthy at once, so it is InService as soon as it is registered
        states[iid].lifecycle_state = "InService"
        extras.since[iid] = time.time()
        activities.append(_record(group, f"Moving EC2 instance out of Standby: {iid}", _standby_cause(iid, "out of", old, new), "Successful", 100))
    group.desired_capacity = new
    group.set_desired_capacity(new)
    self.update_attached_target_groups(group_name)
    return activities


@dataclass(frozen=True)
class BalancerView:
    """What the group's load balancer knows now: how it routes and which targets it holds."""

    attached: bool  # the group has a target group (else the demo balances over InService instances)
    algorithm: str  # the first target group's load_balancing.algorithm.type, as stored
    deregistration_delay: float  # seconds, the first target group's
    registered: frozenset[str]  # instance ids registered in any of the group's target groups
    draining: dict[str, float]  # instance id -> seconds until its drain ends (deregistered, not yet closed)


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
        AutoScalingResponse.start_instance_refresh = _start_instance_refresh  # type: ignore[attr-defined]
        AutoScalingResponse.describe_instance_refreshes = _describe_instance_refreshes  # type: ignore[attr-defined]
        AutoScalingResponse.cancel_instance_refresh = _cancel_instance_refresh  # type: ignore[attr-defined]
        AutoScalingResponse.rollback_instance_refresh = _rollback_instance_refresh  # type: ignore[attr-defined]
        InstanceState.launch_template = property(_instance_launch_template)  # type: ignore[method-assign,assignment]
        CloudWatchResponse.call_action = _cw_call_action  # type: ignore[method-assign]
        CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]
        CloudWatchBackend.put_metric_alarm = _put_metric_alarm  # type: ignore[method-assign]
        CloudWatchBackend.get_metric_data = _get_metric_data  # type: ignore[method-assign]
        MotoAlarm.update_state = _update_state  # type: ignore[method-assign]
        FakeTargetGroup.register = _tg_register  # type: ignore[method-assign]
        FakeTargetGroup.deregister = _tg_deregister  # type: ignore[method-assign]
        FakeTargetGroup.deregister_terminated_instances = _tg_deregister_terminated  # type: ignore[method-assign]
        FakeTargetGroup.health_for = _tg_health_for  # type: ignore[method-assign]
        ELBv2Backend.describe_target_health = _describe_target_health  # type: ignore[method-assign]
        ELBV2Response.call_action = _elbv2_call_action  # type: ignore[method-assign]
        AutoScalingBackend.update_attached_target_groups = _update_attached_target_groups  # type: ignore[method-assign]
        AutoScalingBackend.enter_standby_instances = _enter_standby  # type: ignore[method-assign]
        AutoScalingBackend.exit_standby_instances = _exit_standby  # type: ignore[method-assign]
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

    def balancer(self) -> BalancerView:
        """The group's target groups as the load balancer holds them now (cheap: no API call)."""
        with _LOCK:
            groups = _group_target_groups(self._group())
            if not groups:
                return BalancerView(False, "round_robin", 0.0, frozenset(), {})
            now = time.time()
            registered: set[str] = set()
            draining: dict[str, float] = {}
            for tg in groups:
                registered |= set(tg.targets)
                for tid, (_, until) in _draining(tg).items():
                    draining[tid] = max(draining.get(tid, 0.0), until - now)
            first = groups[0]
            return BalancerView(
                True,
                str(first.attributes.get("load_balancing.algorithm.type") or "round_robin"),
                _deregistration_delay(first),
                frozenset(registered),
                {k: v for k, v in draining.items() if k not in registered},
            )

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

    # -- instance refreshes: started, cancelled and rolled back through the API, carried out by the engine

    def refresh(self) -> RefreshView | None:
        """The group's active instance refresh (Pending, InProgress, Cancelling, ...), or None."""
        with _LOCK:
            record = _active_refresh(self._group())
            return None if record is None else _refresh_view(record)

    def latest_refresh(self) -> RefreshView | None:
        """The active refresh, else the newest one; None when the group never had one."""
        with _LOCK:
            extras = _extras(self._group())
            record = _active_refresh(self._group()) or (extras.refreshes[0] if extras.refreshes else None)
            return None if record is None else _refresh_view(record)

    def report_refresh(
        self,
        refresh_id: str,
        seen_status: str,
        *,
        live: tuple[int, int],
        warm: tuple[int, int] | None,
        percentage: int,
        status: str | None = None,
        reason: str | None = None,
    ) -> str | None:
        """Progress as DescribeInstanceRefreshes shows it: (percentage complete, instances to
        update) of each pool and overall. The new status and StatusReason apply only while the
        refresh is still in `seen_status` (a cancel or rollback that came meanwhile wins).
        Returns the refresh's status now (None when it is gone)."""
        with _LOCK:
            record = self._record(refresh_id)
            if record is None or not record.active:
                return None if record is None else record.status
            record.live = live
            if warm is not None:
                record.warm = warm
            record.percentage = percentage
            record.to_update = live[1] + (record.warm[1] if record.warm else 0)
            if record.status == seen_status:
                if status is not None:
                    record.status = status
                if reason is not None:
                    record.status_reason = reason or None
            return record.status

    def finish_refresh(self, refresh_id: str, status: str, reason: str) -> None:
        """End the refresh (Successful, Cancelled, Failed, RollbackSuccessful, RollbackFailed). A
        successful refresh with a desired configuration makes it the group's, as AWS does."""
        with _LOCK:
            record = self._record(refresh_id)
            if record is None or not record.active:
                return
            record.status = status
            record.status_reason = reason
            record.end_time = datetime.now(timezone.utc)
            if status == "Successful" and record.desired is not None:
                group = self._group()
                group._set_launch_configuration(None, dict(record.desired["LaunchTemplate"]), None)

    def roll_back_refresh(self, refresh_id: str, reason: str) -> bool:
        """Start a rollback (AutoRollback after a failure); False when the refresh cannot be rolled back."""
        with _LOCK:
            record = self._record(refresh_id)
            if record is None or not record.active or record.rolling_back:
                return False
            if _irreversible_reason(record.desired, record.previous_spec, record.previous_version) is not None:
                return False
            _start_rollback(record, reason)
            return True

    def launch_instances(self, count: int, cause: str) -> list[str]:
        """Cold launches into the group, Pending until the engine boots them, without changing its
        desired capacity: an instance refresh's replacements, from the version it launches."""
        if count <= 0:
            return []
        with _LOCK:
            group = self._group()
            extras = _extras(group)
            now = time.time()
            new = _launch(group, count)
            for state in new:
                state.lifecycle_state = "Pending"
                extras.origin[state.instance.id] = "launch"
                extras.since[state.instance.id] = now
            group.instance_states = group.instance_states + new
            extras.cause = (cause, time.time())
            _sync(group)
            return [s.instance.id for s in new]

    def terminate_instances(self, instance_ids: Iterable[str], cause: str) -> list[str]:
        """Terminate group instances without changing the desired capacity (an instance refresh
        replacing them: they do not go back to the warm pool)."""
        wanted = set(instance_ids)
        with _LOCK:
            group = self._group()
            gone = [s.instance.id for s in group.instance_states if s.instance.id in wanted]
            if not gone:
                return []
            group.instance_states = [s for s in group.instance_states if s.instance.id not in wanted]
            group.ec2_backend.terminate_instances(gone)
            _extras(group).cause = (cause, time.time())
            _sync(group)
            group.autoscaling_backend.update_attached_elbs(group.name)
            group.autoscaling_backend.update_attached_target_groups(group.name)
            return gone

    def _record(self, refresh_id: str) -> _Refresh | None:
        return next((r for r in _extras(self._group()).refreshes if r.id == refresh_id), None)
