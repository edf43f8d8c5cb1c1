"""Instance refreshes (deploys): read the running or latest one, start, cancel, roll back; and the
group's suspended processes and tags that `--suspend-scaling` uses to pause the alarms meanwhile.

Some endpoints lack the refresh calls (moto 5, LocalStack's community edition, a proxy that allows
only some actions): reading then raises `RefreshUnavailable`, which readers of the whole fleet turn
into "refresh unavailable from this endpoint" and go on; only `wsfleet refresh ...` itself fails.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Iterator, Mapping

import botocore.exceptions as bx
from botocore.parsers import ResponseParserError

from wsfleet.aws._time import as_utc
from wsfleet.aws.errors import AwsCallError, aws_errors
from wsfleet.aws.session import AwsSession
from wsfleet.model import RESUME_ALARMS_TAG, InstanceRefresh, LaunchTemplateRef, RefreshPreferences

ALARM_NOTIFICATION = "AlarmNotification"
RESUME_TAG = RESUME_ALARMS_TAG

# what an endpoint without the call answers: moto's HTML 500 (server mode, unparsable), its
# NotImplementedError (in-process), an unknown-action error code (LocalStack and other stand-ins)
_UNAVAILABLE_CODES = {"InvalidAction", "NotImplemented", "UnknownOperationException", "UnsupportedOperation", "InternalFailure"}


class RefreshUnavailable(AwsCallError):
    """The endpoint does not implement instance refreshes."""


def _unavailable(session: AwsSession, operation: str) -> RefreshUnavailable:
    where = session.endpoint_url or "this AWS endpoint"
    return RefreshUnavailable(
        f"{where} does not implement {operation} (instance refreshes are unavailable from it): "
        f"use a real AWS endpoint, or `wsfleet demo`, whose moto answers for refreshes.",
        kind="unavailable",
        action=f"autoscaling:{operation}",
    )


@contextmanager
def _refresh_call(session: AwsSession, operation: str, doing: str, asg: str) -> Iterator[None]:
    with aws_errors(doing):
        try:
            yield
        except (NotImplementedError, ResponseParserError) as exc:
            raise _unavailable(session, operation) from exc
        except bx.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _UNAVAILABLE_CODES or status == 501:
                raise _unavailable(session, operation) from exc
            sentence = _refresh_sentence(code, str(exc.response.get("Error", {}).get("Message", "")), operation, asg)
            if sentence is None:
                raise
            raise AwsCallError(sentence, kind="invalid", code=code, action=f"autoscaling:{operation}") from exc


def _refresh_sentence(code: str, message: str, operation: str, asg: str) -> str | None:
    """The sentences for the refresh calls' own errors (AWS's API reference lists them per call)."""
    message = " ".join(message.split()).rstrip(".")
    if code == "InstanceRefreshInProgress":
        return (
            f"an instance refresh is already in progress on {asg}: follow it with `wsfleet refresh status`, "
            f"or stop it with `wsfleet refresh cancel` before starting another."
        )
    if code == "ActiveInstanceRefreshNotFound":
        what = "cancel" if operation == "CancelInstanceRefresh" else "roll back"
        return f"no instance refresh is running on {asg}, so there is nothing to {what} (see `wsfleet refresh status`)."
    if code == "IrreversibleInstanceRefresh":
        detail = f" ({message})" if message else ""
        return (
            f"AWS cannot roll back the running refresh of {asg}{detail}: a rollback needs the previous launch "
            f"template version to be a number, not $Latest or $Default; stop it with `wsfleet refresh cancel` instead."
        )
    if code == "ValidationError" and operation == "StartInstanceRefresh":
        return f"AWS refused the instance refresh of {asg}: {message or 'invalid preferences'}; fix the value named and retry."
    if code in ("LimitExceeded", "ResourceContention"):
        return f"AWS is busy with another change to {asg} ({code}): wait a few seconds and retry."
    return None


# ----------------------------------------------------------------------------- reads


def read_latest_refresh(session: AwsSession, asg: str) -> InstanceRefresh | None:
    """The running refresh, else the newest one; None when the group never had one.

    DescribeInstanceRefreshes lists newest first; one page of a few is enough to find a running one.
    """
    with _refresh_call(session, "DescribeInstanceRefreshes", f"reading the instance refreshes of {asg}", asg):
        page = session.client("autoscaling").describe_instance_refreshes(AutoScalingGroupName=asg, MaxRecords=5)
    refreshes = [refresh_from_aws(r) for r in page.get("InstanceRefreshes", ())]
    if not refreshes:
        return None
    running = [r for r in refreshes if r.active]
    return running[0] if running else refreshes[0]


def read_refresh(session: AwsSession, asg: str, refresh_id: str) -> InstanceRefresh | None:
    with _refresh_call(session, "DescribeInstanceRefreshes", f"reading instance refresh {refresh_id} of {asg}", asg):
        page = session.client("autoscaling").describe_instance_refreshes(
            AutoScalingGroupName=asg, InstanceRefreshIds=[refresh_id]
        )
    found = [refresh_from_aws(r) for r in page.get("InstanceRefreshes", ()) if r.get("InstanceRefreshId") == refresh_id]
    return found[0] if found else None


def refresh_from_aws(raw: Mapping[str, Any]) -> InstanceRefresh:
    prefs = raw.get("Preferences") or {}
    desired = raw.get("DesiredConfiguration") or {}
    spec = desired.get("LaunchTemplate") or (
        ((desired.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get("LaunchTemplateSpecification") or {})
    return InstanceRefresh(
        target_version=str(spec["Version"]) if spec.get("Version") is not None else None,
        id=str(raw.get("InstanceRefreshId", "")),
        status=str(raw.get("Status", "")),
        status_reason=raw.get("StatusReason") or None,
        percentage_complete=_int(raw.get("PercentageComplete")),
        instances_to_update=_int(raw.get("InstancesToUpdate")),
        started_at=as_utc(raw.get("StartTime")),
        ended_at=as_utc(raw.get("EndTime")),
        preferences=RefreshPreferences(
            min_healthy_percentage=_int(prefs.get("MinHealthyPercentage")),
            max_healthy_percentage=_int(prefs.get("MaxHealthyPercentage")),
            instance_warmup=_int(prefs.get("InstanceWarmup")),
            checkpoint_percentages=tuple(int(p) for p in prefs.get("CheckpointPercentages") or ()),
            checkpoint_delay=_int(prefs.get("CheckpointDelay")),
            skip_matching=prefs.get("SkipMatching"),
            auto_rollback=prefs.get("AutoRollback"),
        ),
    )


def deploying_to(ref: LaunchTemplateRef | None, refresh: InstanceRefresh | None) -> LaunchTemplateRef | None:
    """What "current" means while a refresh with a desired configuration runs: the version it is
    moving the group to (the group itself may still name the old one until the refresh succeeds)."""
    if ref is None or ref.is_launch_configuration or refresh is None or not refresh.active:
        return ref
    target = refresh.target_version
    if target is None or target.startswith("$"):
        return ref
    return replace(ref, version=target, resolved_version=target)


def with_deploy_target(session: AwsSession, asg: str, ref: LaunchTemplateRef | None) -> LaunchTemplateRef | None:
    """`ref`, adjusted by `deploying_to` for the running refresh; unchanged when refreshes cannot be read."""
    from wsfleet.errors import WsfleetError

    if ref is None or ref.is_launch_configuration:
        return ref
    try:
        return deploying_to(ref, read_latest_refresh(session, asg))
    except WsfleetError:
        return ref


def preferences_to_aws(p: RefreshPreferences) -> dict[str, Any]:
    """StartInstanceRefresh's Preferences, with only the fields set (AWS's defaults for the rest)."""
    out: dict[str, Any] = {}
    for key, value in (
        ("MinHealthyPercentage", p.min_healthy_percentage),
        ("MaxHealthyPercentage", p.max_healthy_percentage),
        ("InstanceWarmup", p.instance_warmup),
        ("CheckpointDelay", p.checkpoint_delay),
        ("SkipMatching", p.skip_matching),
        ("AutoRollback", p.auto_rollback),
    ):
        if value is not None:
            out[key] = value
    if p.checkpoint_percentages:
        out["CheckpointPercentages"] = list(p.checkpoint_percentages)
    return out


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


# ----------------------------------------------------------------------------- writes


def start_refresh(session: AwsSession, asg: str, preferences: RefreshPreferences) -> str:
    """StartInstanceRefresh (Rolling); the new refresh's id."""
    with _refresh_call(session, "StartInstanceRefresh", f"starting an instance refresh of {asg}", asg):
        answer = session.client("autoscaling").start_instance_refresh(
            AutoScalingGroupName=asg, Strategy="Rolling", Preferences=preferences_to_aws(preferences)
        )
    return str(answer.get("InstanceRefreshId", ""))


def cancel_refresh(session: AwsSession, asg: str) -> str:
    with _refresh_call(session, "CancelInstanceRefresh", f"cancelling the instance refresh of {asg}", asg):
        answer = session.client("autoscaling").cancel_instance_refresh(AutoScalingGroupName=asg)
    return str(answer.get("InstanceRefreshId", ""))


def rollback_refresh(session: AwsSession, asg: str) -> str:
    with _refresh_call(session, "RollbackInstanceRefresh", f"rolling back the instance refresh of {asg}", asg):
        answer = session.client("autoscaling").rollback_instance_refresh(AutoScalingGroupName=asg)
    return str(answer.get("InstanceRefreshId", ""))


def suspend_processes(session: AwsSession, asg: str, processes: list[str]) -> None:
    with aws_errors(f"suspending {', '.join(processes)} on {asg}"):
        session.client("autoscaling").suspend_processes(AutoScalingGroupName=asg, ScalingProcesses=processes)


def resume_processes(session: AwsSession, asg: str, processes: list[str]) -> None:
    with aws_errors(f"resuming {', '.join(processes)} on {asg}"):
        session.client("autoscaling").resume_processes(AutoScalingGroupName=asg, ScalingProcesses=processes)


def put_group_tag(session: AwsSession, asg: str, key: str, value: str) -> None:
    with aws_errors(f"tagging {asg} with {key}"):
        session.client("autoscaling").create_or_update_tags(
            Tags=[
                {
                    "ResourceId": asg,
                    "ResourceType": "auto-scaling-group",
                    "Key": key,
                    "Value": value,
                    "PropagateAtLaunch": False,
                }
            ]
        )


def delete_group_tag(session: AwsSession, asg: str, key: str) -> None:
    with aws_errors(f"removing the tag {key} from {asg}"):
        session.client("autoscaling").delete_tags(
            Tags=[{"ResourceId": asg, "ResourceType": "auto-scaling-group", "Key": key}]
        )
