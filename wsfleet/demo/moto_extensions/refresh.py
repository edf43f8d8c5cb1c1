"""moto_extensions, instance refresh: the refresh records and the four API calls moto lacks.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.autoscaling.exceptions import ValidationError as AutoScalingValidationError
from moto.autoscaling.exceptions import AutoscalingClientError
from moto.autoscaling.models import FakeAutoScalingGroup, InstanceState, autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse

from wsfleet.demo.moto_extensions._state import InstanceView, _active_refresh, _extras, _is_demo, _is_demo_group, _view
from wsfleet.demo.moto_extensions.capacity import _resolved_version

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
