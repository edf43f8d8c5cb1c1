"""The Auto Scaling group and its instances (with addresses), and capacity writes."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Iterable, Sequence

from wsfleet.aws._time import as_utc
from wsfleet.aws.errors import aws_errors, group_not_found
from wsfleet.aws.session import AwsSession
from wsfleet.model import GroupState, Instance, LaunchTemplateRef

# DescribeInstances takes up to 1000 instance ids a call; a filter takes up to 200 values.
INSTANCE_IDS_PER_CALL = 1000
FILTER_VALUES_PER_CALL = 200


def read_group(session: AwsSession, asg: str) -> GroupState:
    """The group, its sizes and its instances with addresses (one call per 1000 instances)."""
    with aws_errors(f"reading Auto Scaling group {asg}"):
        session.client("autoscaling")
    # EC2's client is made while Auto Scaling answers: botocore parses EC2's large service model
    # (~0.2 s here). A failure there is left to describe_instances, which makes it again and says why.
    ec2 = threading.Thread(target=_quietly, args=(session.client, "ec2"), name="wsfleet-ec2-client", daemon=True)
    ec2.start()
    try:
        raw = describe_group(session, asg)
    finally:
        ec2.join()
    described = describe_instances(session, [i["InstanceId"] for i in raw.get("Instances", ())])
    return group_from_aws(raw, described)


def read_group_sizes(session: AwsSession, asg: str) -> GroupState:
    """The group's sizes and instance lifecycles: one DescribeAutoScalingGroups, no EC2 call (no addresses)."""
    return group_from_aws(describe_group(session, asg))


def describe_group(session: AwsSession, asg: str) -> dict[str, Any]:
    """The raw DescribeAutoScalingGroups entry for `asg`; AwsError naming group and region when absent."""
    with aws_errors(f"reading Auto Scaling group {asg}"):
        groups = session.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[asg])
    for group in groups.get("AutoScalingGroups", ()):
        if group.get("AutoScalingGroupName") == asg:
            return group
    raise group_not_found(asg, session.region)


def describe_instances(session: AwsSession, instance_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """EC2's view of the instances (addresses, launch time), by id; ids EC2 does not know are left out."""
    ids = list(dict.fromkeys(instance_ids))
    found: dict[str, dict[str, Any]] = {}
    ec2 = session.client("ec2")
    for batch in _batches(ids, INSTANCE_IDS_PER_CALL):
        with aws_errors(f"reading the addresses of {len(batch)} instances"):
            try:
                found.update(_by_id(_paged_instances(ec2, InstanceIds=batch)))
            except Exception as exc:
                if not _instance_not_found(exc):
                    raise
                # One unknown id (an instance just launched or long gone) fails the whole call;
                # a filter on instance-id skips unknown ids instead.
                for small in _batches(batch, FILTER_VALUES_PER_CALL):
                    found.update(_by_id(_paged_instances(ec2, Filters=[{"Name": "instance-id", "Values": small}])))
    return found


def group_from_aws(raw: dict[str, Any], described: dict[str, dict[str, Any]] | None = None) -> GroupState:
    described = described or {}
    return GroupState(
        name=raw["AutoScalingGroupName"],
        min_size=int(raw.get("MinSize", 0)),
        max_size=int(raw.get("MaxSize", 0)),
        desired=int(raw.get("DesiredCapacity", 0)),
        instances=tuple(instance_from_aws(i, described.get(i["InstanceId"])) for i in raw.get("Instances", ())),
        default_cooldown=raw.get("DefaultCooldown"),
        target_group_arns=tuple(raw.get("TargetGroupARNs", ())),
        suspended_processes=tuple(p["ProcessName"] for p in raw.get("SuspendedProcesses", ()) if "ProcessName" in p),
        launch_template=launch_template_of(raw),
        tags=tuple((str(t["Key"]), str(t.get("Value", ""))) for t in raw.get("Tags", ()) if "Key" in t),
    )


def launch_template_of(raw: dict[str, Any], resolved_version: str | None = None) -> LaunchTemplateRef | None:
    """What the group launches from: its launch template (plain or inside a mixed instances policy)
    or its launch configuration."""
    spec = raw.get("LaunchTemplate") or (
        ((raw.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get("LaunchTemplateSpecification")
    )
    if spec:
        return LaunchTemplateRef(
            id=spec.get("LaunchTemplateId"),
            name=spec.get("LaunchTemplateName"),
            version=str(spec.get("Version") or "$Default"),
            resolved_version=resolved_version,
        )
    if raw.get("LaunchConfigurationName"):
        return LaunchTemplateRef(id=None, name=raw["LaunchConfigurationName"], version=None, is_launch_configuration=True)
    return None


def resolve_launch_template(session: AwsSession, ref: LaunchTemplateRef | None) -> LaunchTemplateRef | None:
    """`ref` with "$Latest"/"$Default" resolved to a version number (one DescribeLaunchTemplates);
    unchanged when it names a number or a launch configuration."""
    if ref is None or ref.is_launch_configuration or not (ref.version or "").startswith("$"):
        return ref
    params: dict[str, Any] = {"LaunchTemplateIds": [ref.id]} if ref.id else {"LaunchTemplateNames": [ref.name]}
    with aws_errors(f"reading launch template {ref.name or ref.id}"):
        found = session.client("ec2").describe_launch_templates(**params).get("LaunchTemplates", ())
    if not found:
        return ref
    key = "LatestVersionNumber" if ref.version == "$Latest" else "DefaultVersionNumber"
    number = found[0].get(key)
    return replace(ref, resolved_version=None if number is None else str(number))


def instance_from_aws(asg_instance: dict[str, Any], ec2_instance: dict[str, Any] | None = None) -> Instance:
    """One instance from Auto Scaling's entry (group or warm pool) and, when known, EC2's."""
    ec2_instance = ec2_instance or {}
    return Instance(
        id=asg_instance["InstanceId"],
        az=asg_instance.get("AvailabilityZone") or ec2_instance.get("Placement", {}).get("AvailabilityZone", ""),
        lifecycle=asg_instance.get("LifecycleState", ""),
        health=asg_instance.get("HealthStatus", ""),
        protected=bool(asg_instance.get("ProtectedFromScaleIn", False)),
        launch_time=as_utc(ec2_instance.get("LaunchTime")),
        instance_type=asg_instance.get("InstanceType") or ec2_instance.get("InstanceType"),
        private_ip=ec2_instance.get("PrivateIpAddress") or None,
        public_ip=ec2_instance.get("PublicIpAddress") or None,
        public_dns=ec2_instance.get("PublicDnsName") or None,
        launch_template_version=_launched_from(asg_instance),
    )


def _launched_from(asg_instance: dict[str, Any]) -> str | None:
    spec = asg_instance.get("LaunchTemplate")
    if spec and spec.get("Version") is not None:
        return str(spec["Version"])
    return asg_instance.get("LaunchConfigurationName") or None


def set_desired_capacity(session: AwsSession, asg: str, desired: int, *, honor_cooldown: bool = False) -> None:
    """SetDesiredCapacity. AWS refuses a value outside min..max; the actions layer checks first."""
    with aws_errors(f"setting the desired capacity of {asg} to {desired}"):
        session.client("autoscaling").set_desired_capacity(
            AutoScalingGroupName=asg, DesiredCapacity=int(desired), HonorCooldown=honor_cooldown
        )


def update_group(
    session: AwsSession, asg: str, *, min_size: int | None = None, max_size: int | None = None, desired: int | None = None
) -> None:
    """UpdateAutoScalingGroup with only the sizes given (others stay as they are)."""
    params: dict[str, Any] = {"AutoScalingGroupName": asg}
    for key, value in (("MinSize", min_size), ("MaxSize", max_size), ("DesiredCapacity", desired)):
        if value is not None:
            params[key] = int(value)
    if len(params) == 1:
        return
    sizes = ", ".join(f"{k}={v}" for k, v in params.items() if k != "AutoScalingGroupName")
    with aws_errors(f"updating {asg} ({sizes})"):
        session.client("autoscaling").update_auto_scaling_group(**params)


def enter_standby(session: AwsSession, asg: str, instance_id: str) -> None:
    """EnterStandby, decrementing the desired capacity (no replacement is launched; ExitStandby
    increments it again). The group deregisters the instance from its target groups."""
    with aws_errors(f"putting {instance_id} of {asg} in Standby"):
        session.client("autoscaling").enter_standby(
            AutoScalingGroupName=asg, InstanceIds=[instance_id], ShouldDecrementDesiredCapacity=True
        )


def exit_standby(session: AwsSession, asg: str, instance_id: str) -> None:
    with aws_errors(f"bringing {instance_id} of {asg} back from Standby"):
        session.client("autoscaling").exit_standby(AutoScalingGroupName=asg, InstanceIds=[instance_id])


# ----------------------------------------------------------------------------- helpers


def _quietly(call, *args) -> None:
    try:
        call(*args)
    except Exception:  # noqa: BLE001 - made again, and reported, by the caller that needs it
        pass


def _paged_instances(ec2: Any, **params: Any) -> Iterable[dict[str, Any]]:
    while True:
        page = ec2.describe_instances(**params)
        for reservation in page.get("Reservations", ()):
            yield from reservation.get("Instances", ())
        token = page.get("NextToken")
        if not token:
            return
        params["NextToken"] = token


def _by_id(instances: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["InstanceId"]: i for i in instances if "InstanceId" in i}


def _instance_not_found(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
    return code in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")


def _batches(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])

