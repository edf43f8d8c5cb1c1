"""moto_extensions, Standby and the target groups: registration, draining, EnterStandby and ExitStandby.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable

from moto.autoscaling.exceptions import ValidationError as AutoScalingValidationError
from moto.autoscaling.models import Activity, AutoScalingBackend, FakeAutoScalingGroup
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends
from moto.elbv2.responses import ELBV2Response

from wsfleet.demo.moto_extensions._state import _LOCK, _extras, _is_demo, _is_demo_group, _now_text, _record

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
# AWS does; the demo's load balancer (`fleet_step.py`, `traffic.py`) reads the result (`DemoGroup.balancer`).

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
