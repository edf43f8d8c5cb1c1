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

import time
from datetime import datetime, timezone
from typing import Any, Iterable

from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup, InstanceState, autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.cloudwatch.models import Alarm as MotoAlarm
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.elbv2.models import ELBv2Backend, FakeTargetGroup
from moto.elbv2.responses import ELBV2Response

from wsfleet.demo.moto_extensions import _state
from wsfleet.demo.moto_extensions._state import (  # noqa: F401
    ACTIVITY_LIMIT,
    CAUSE_TTL,
    GroupChange,
    HISTORY_LIMIT,
    InstanceView,
    LIVE_STATES,
    Listener,
    Origin,
    WARM_READY_STATES,
    _ENABLED,
    _GroupExtras,
    _LOCK,
    _active_refresh,
    _extras,
    _finish,
    _is_demo,
    _is_demo_group,
    _now_text,
    _record,
    _utcnow,
    _view,
)
from wsfleet.demo.moto_extensions.capacity import (  # noqa: F401
    _backend_set_desired_capacity,
    _group_set_desired_capacity,
    _launch,
    _launch_spec,
    _original_backend_set_desired,
    _original_group_set_desired,
    _resolved_version,
    _reuse_on_scale_in,
    _scale_in,
    _scale_out,
    _termination_order,
)
from wsfleet.demo.moto_extensions.activities import (  # noqa: F401
    _as_call_action,
    _cw_call_action,
    _default_cause,
    _describe_scaling_activities,
    _describe_warm_pool,
    _original_as_call_action,
    _original_cw_call_action,
    _original_describe_scaling_activities,
    _original_describe_warm_pool,
    _sync,
    _sync_region,
    _take_cause,
)
from wsfleet.demo.moto_extensions.refresh import (  # noqa: F401
    ActiveInstanceRefreshNotFound,
    DEFAULT_CHECKPOINT_DELAY,
    DEFAULT_MIN_HEALTHY,
    DESCRIBE_REFRESHES_MAX,
    InstanceRefreshInProgress,
    InvalidNextToken,
    IrreversibleInstanceRefresh,
    LONGEST_DELAY,
    PROTECTED_CHOICES,
    REFRESH_ACTIVE,
    REFRESH_LIMIT,
    RefreshView,
    STANDBY_CHOICES,
    _Refresh,
    _cancel_instance_refresh,
    _check_preferences,
    _check_range,
    _constraint,
    _describe_instance_refreshes,
    _group_or_error,
    _instance_launch_template,
    _irreversible_reason,
    _not_found,
    _original_instance_launch_template,
    _refresh_view,
    _rollback_instance_refresh,
    _start_instance_refresh,
    _start_rollback,
    _target_of,
)
from wsfleet.demo.moto_extensions.alarms import (  # noqa: F401
    _add_history,
    _aware,
    _describe_alarm_history,
    _history,
    _original_put_metric_alarm,
    _original_update_state,
    _put_metric_alarm,
    _update_state,
)
from wsfleet.demo.moto_extensions.metrics import _get_metric_data, _original_get_metric_data  # noqa: F401
from wsfleet.demo.moto_extensions.targets import (  # noqa: F401
    BalancerView,
    DEFAULT_DEREGISTRATION_DELAY,
    _deregistration_delay,
    _describe_target_health,
    _draining,
    _elbv2_call_action,
    _enter_standby,
    _exit_standby,
    _group_target_groups,
    _original_describe_target_health,
    _original_elbv2_call_action,
    _original_enter_standby,
    _original_exit_standby,
    _original_tg_deregister,
    _original_tg_deregister_terminated,
    _original_tg_health_for,
    _original_tg_register,
    _original_update_attached_target_groups,
    _standby_cause,
    _start_drain,
    _tg_deregister,
    _tg_deregister_terminated,
    _tg_health_for,
    _tg_is_demo,
    _tg_register,
    _update_attached_target_groups,
)

# ---------------------------------------------------------------------------------- public API


def install() -> None:
    """Patch moto's classes once per process; harmless for backends that are not enabled."""
    with _LOCK:
        if _state._installed:
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
        _state._installed = True


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
