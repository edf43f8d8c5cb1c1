"""moto_extensions, capacity: desired capacity, launches from the warm pool or Pending, scale in and out.
"""

from __future__ import annotations

import time
from typing import Any

from moto.autoscaling.exceptions import ValidationError as AutoScalingValidationError
from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup, InstanceState

from wsfleet.demo.moto_extensions._state import LIVE_STATES, WARM_READY_STATES, _active_refresh, _extras, _is_demo_group

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
