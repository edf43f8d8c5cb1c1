"""The provision planner's AWS half: what the config says should exist, what does, and the diff.

`read_state` is the one read (group, policies, both alarms, warm pool, scheduled actions);
`diff_fleet` is pure: for every resource the config manages it builds the wanted model object
and compares normalised fields, so each resource is create / update (field by field) /
unchanged. The write path (`wsfleet.actions`) turns these into changes and sends them.

Normalising is what makes a second `provision` plan no change: both sides go through the same
`*_fields` function, with AWS's defaults for absent fields (DatapointsToAlarm = EvaluationPeriods,
TreatMissingData = "missing", no TimeZone = UTC, MaxGroupPreparedCapacity -1 = none), floats for
thresholds and step bounds, and sorted lists where order means nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Mapping, Sequence

from wsfleet.model import (
    Alarm,
    FleetConfig,
    GroupState,
    ScalingPolicy,
    ScheduledAction,
    ScheduledActionConfig,
    StepAdjustment,
    WarmPool,
    WarmPoolConfig,
)

ChangeKind = Literal["create", "update", "delete", "unchanged"]

HIGH_COMPARISON = "GreaterThanOrEqualToThreshold"
LOW_COMPARISON = "LessThanOrEqualToThreshold"


def arn_placeholder(policy_name: str) -> str:
    """Stands for a policy's ARN in a plan until the policy exists (PutScalingPolicy creates it)."""
    return f"<ARN of policy {policy_name}>"


# --------------------------------------------------------------------------- normalised fields


def same(a: Any, b: Any) -> bool:
    """Equal after normalisation; numbers within float noise (20000 == 20000.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def diff_kind(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> ChangeKind:
    if before is None:
        return "create"
    return "unchanged" if all(same(before.get(k), v) for k, v in after.items()) else "update"


def _num(x: float | None) -> float | None:
    return None if x is None else float(x)


def iso(t: datetime | None) -> str | None:
    """UTC, to the second, "Z": how times are compared and shown in plans and the audit log."""
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def group_fields(g: GroupState) -> dict[str, Any]:
    return {"min_size": g.min_size, "max_size": g.max_size, "desired": g.desired}


def alarm_fields(a: Alarm) -> dict[str, Any]:
    return {
        "threshold": float(a.threshold),
        "comparison": a.comparison,
        "namespace": a.namespace,
        "metric_name": a.metric_name,
        "statistic": a.statistic,
        "dimensions": dict(sorted(a.dimensions)),
        "period": int(a.period),
        "evaluation_periods": int(a.evaluation_periods),
        "datapoints_to_alarm": int(a.datapoints_to_alarm or a.evaluation_periods),
        "treat_missing_data": a.treat_missing_data or "missing",
        "alarm_actions": sorted(a.alarm_actions),
    }


def steps_fields(steps: Sequence[StepAdjustment]) -> list[list[Any]]:
    """Relative steps as [lower, upper, add] rows, lowest first (None = unbounded)."""
    ordered = sorted(steps, key=lambda s: -math.inf if s.lower_bound is None else s.lower_bound)
    return [[_num(s.lower_bound), _num(s.upper_bound), int(s.scaling_adjustment)] for s in ordered]


def policy_fields(p: ScalingPolicy) -> dict[str, Any]:
    if p.policy_type == "StepScaling":
        return {
            "policy_type": "StepScaling",
            "adjustment_type": p.adjustment_type or "ChangeInCapacity",
            "steps": steps_fields(p.steps),
            "warmup": p.warmup,
            "metric_aggregation_type": p.metric_aggregation_type or "Average",
        }
    if p.policy_type == "SimpleScaling":
        return {
            "policy_type": "SimpleScaling",
            "adjustment_type": p.adjustment_type or "ChangeInCapacity",
            "scaling_adjustment": p.scaling_adjustment,
            "cooldown": p.cooldown,
        }
    return {"policy_type": p.policy_type, "adjustment_type": p.adjustment_type}


def warm_pool_fields(w: WarmPool | WarmPoolConfig) -> dict[str, Any]:
    cap = w.max_prepared_capacity
    return {
        "min_size": int(w.min_size or 0),
        "max_prepared_capacity": None if cap is None or cap < 0 else int(cap),
        "pool_state": w.pool_state or "Stopped",
        "reuse_on_scale_in": bool(w.reuse_on_scale_in),
    }


def scheduled_action_fields(a: ScheduledAction | ScheduledActionConfig, *, times: bool = True) -> dict[str, Any]:
    """`times=False` leaves start/end out: AWS reports a computed StartTime for recurring actions."""
    out: dict[str, Any] = {
        "recurrence": a.recurrence,
        "time_zone": a.time_zone or "UTC",
        "min_size": a.min_size,
        "max_size": a.max_size,
        "desired_capacity": a.desired_capacity,
    }
    if times:
        out["start_time"] = iso(a.start_time)
        out["end_time"] = iso(a.end_time)
    return out


# --------------------------------------------------------------------------- what the config wants


def desired_step_policy(fleet: FleetConfig) -> ScalingPolicy:
    """The scale-out step policy, bounds relative to the threshold (rule 1)."""
    from wsfleet.scaling import to_relative

    so = fleet.scale_out
    return ScalingPolicy(
        name=so.policy_name,
        arn=None,
        policy_type="StepScaling",
        adjustment_type="ChangeInCapacity",
        steps=tuple(to_relative(so.threshold, so.steps)),
        warmup=so.warmup,
        metric_aggregation_type="Average",
    )


def desired_simple_policy(fleet: FleetConfig) -> ScalingPolicy:
    si = fleet.scale_in
    return ScalingPolicy(
        name=si.policy_name,
        arn=None,
        policy_type="SimpleScaling",
        adjustment_type="ChangeInCapacity",
        scaling_adjustment=-si.remove,
        cooldown=si.cooldown,
    )


def desired_alarm(fleet: FleetConfig, which: Literal["high", "low"], policy_arn: str, existing: Alarm | None) -> Alarm:
    """The high (scale-out) or low (scale-in) alarm, its action the policy's ARN.

    Actions we do not manage (an SNS topic for the on-call channel) and OK actions are kept;
    the Auto Scaling action is ours and is replaced.
    """
    c = fleet.scale_out if which == "high" else fleet.scale_in
    kept = tuple(a for a in (existing.alarm_actions if existing else ()) if not a.startswith(("arn:aws:autoscaling:", "<ARN")))
    return Alarm(
        name=fleet.high_alarm_name if which == "high" else fleet.low_alarm_name,
        state=existing.state if existing else "INSUFFICIENT_DATA",
        threshold=float(c.threshold),
        comparison=HIGH_COMPARISON if which == "high" else LOW_COMPARISON,
        period=c.period,
        evaluation_periods=c.evaluation_periods,
        datapoints_to_alarm=c.datapoints_to_alarm,
        treat_missing_data=c.treat_missing_data,
        namespace=fleet.metric.namespace,
        metric_name=fleet.metric.name,
        statistic=fleet.metric.statistic,
        dimensions=((fleet.metric.dimension, fleet.asg),),
        alarm_actions=(policy_arn,) + kept,
        ok_actions=existing.ok_actions if existing else (),
    )


# --------------------------------------------------------------------------- what exists, and the diff


@dataclass(frozen=True)
class ProvisionState:
    """Everything provision compares against, from one read."""

    group: GroupState
    policies: Mapping[str, ScalingPolicy]
    alarms: Mapping[str, Alarm]
    warm_pool: WarmPool | None
    scheduled_actions: tuple[ScheduledAction, ...]

    @property
    def policy_arns(self) -> dict[str, str]:
        return {name: p.arn for name, p in self.policies.items() if p.arn}


def read_state(session: Any, fleet: FleetConfig) -> ProvisionState:
    from wsfleet.aws import alarms, policies, schedule, warm_pool
    from wsfleet.aws import fleet as aws_fleet

    return ProvisionState(
        group=aws_fleet.read_group_sizes(session, fleet.asg),
        policies=policies.read_policies(session, fleet.asg),
        alarms=alarms.read_alarms(session, [fleet.high_alarm_name, fleet.low_alarm_name]),
        warm_pool=warm_pool.read_warm_pool(session, fleet.asg, with_addresses=False) if fleet.warm_pool is not None else None,
        scheduled_actions=schedule.read_scheduled_actions(session, fleet.asg),
    )


@dataclass(frozen=True)
class ResourceDiff:
    """One managed resource: its normalised fields now and wanted, and the model object to write."""

    resource: str  # "step policy", "simple policy", "alarm", "warm pool", "scheduled action"
    name: str
    kind: ChangeKind
    before: Mapping[str, Any] | None
    after: Mapping[str, Any]
    desired: Any  # ScalingPolicy | Alarm | WarmPoolConfig | ScheduledActionConfig
    current: Any = None  # what was read, when it exists


def _diff(resource: str, name: str, before: Mapping[str, Any] | None, after: Mapping[str, Any], desired: Any, current: Any) -> ResourceDiff:
    return ResourceDiff(resource, name, diff_kind(before, after), before, after, desired, current)


def diff_fleet(fleet: FleetConfig, state: ProvisionState) -> tuple[ResourceDiff, ...]:
    """Policies first (the alarms need their ARNs), then alarms, warm pool, scheduled actions."""
    arns = state.policy_arns
    out: list[ResourceDiff] = []
    for resource, policy in (("step policy", desired_step_policy(fleet)), ("simple policy", desired_simple_policy(fleet))):
        current = state.policies.get(policy.name)
        out.append(_diff(resource, policy.name, policy_fields(current) if current else None, policy_fields(policy), policy, current))
    for which, name, policy_name in (
        ("high", fleet.high_alarm_name, fleet.scale_out.policy_name),
        ("low", fleet.low_alarm_name, fleet.scale_in.policy_name),
    ):
        current = state.alarms.get(name)
        alarm = desired_alarm(fleet, which, arns.get(policy_name) or arn_placeholder(policy_name), current)  # type: ignore[arg-type]
        out.append(_diff("alarm", name, alarm_fields(current) if current else None, alarm_fields(alarm), alarm, current))
    if fleet.warm_pool is not None:
        current = state.warm_pool
        out.append(_diff("warm pool", fleet.asg, warm_pool_fields(current) if current else None, warm_pool_fields(fleet.warm_pool),
                         fleet.warm_pool, current))
    existing = {a.name: a for a in state.scheduled_actions}
    for action in fleet.schedule:
        current = existing.get(action.name)
        times = action.start_time is not None or action.end_time is not None
        out.append(_diff("scheduled action", action.name, scheduled_action_fields(current, times=times) if current else None,
                         scheduled_action_fields(action, times=times), action, current))
    return tuple(out)


def unmanaged_actions(fleet: FleetConfig, state: ProvisionState) -> list[str]:
    """Scheduled actions on the group that the config does not list (provision leaves them alone)."""
    return sorted({a.name for a in state.scheduled_actions} - {a.name for a in fleet.schedule})
