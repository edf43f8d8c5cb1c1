"""The group's target groups: balancing algorithm, stickiness, deregistration delay, and the load
balancer's idle timeout (the seed's ALB review: round robin, LB-generated cookies, idle timeout
below the server's keep-alive)."""

from __future__ import annotations

from typing import Any, Sequence

from wsfleet.aws.errors import aws_errors
from wsfleet.aws.session import AwsSession
from wsfleet.model import TargetGroupInfo

TARGET_GROUPS_PER_CALL = 20


def read_target_groups(session: AwsSession, arns: Sequence[str]) -> tuple[TargetGroupInfo, ...]:
    """One TargetGroupInfo per ARN found, in the order given.

    Calls: one DescribeTargetGroups per 20 groups, one DescribeTargetGroupAttributes per group,
    one DescribeLoadBalancerAttributes per distinct load balancer: none depends on instances.
    """
    arns = list(dict.fromkeys(arns))
    if not arns:
        return ()
    elbv2 = session.client("elbv2")
    groups: dict[str, dict[str, Any]] = {}
    for offset in range(0, len(arns), TARGET_GROUPS_PER_CALL):
        batch = arns[offset : offset + TARGET_GROUPS_PER_CALL]
        with aws_errors(f"reading target group{'s' if len(batch) > 1 else ''} {', '.join(_short(a) for a in batch)}"):
            for raw in elbv2.describe_target_groups(TargetGroupArns=batch).get("TargetGroups", ()):
                groups[raw["TargetGroupArn"]] = raw
    idle_timeouts: dict[str, int | None] = {}
    infos = []
    for arn in arns:
        raw = groups.get(arn)
        if raw is None:
            continue
        with aws_errors(f"reading the attributes of target group {_short(arn)}"):
            attributes = _attributes(elbv2.describe_target_group_attributes(TargetGroupArn=arn))
        lb_arns = tuple(raw.get("LoadBalancerArns", ()))
        if lb_arns and lb_arns[0] not in idle_timeouts:
            with aws_errors(f"reading the attributes of load balancer {_short(lb_arns[0])}"):
                lb_attributes = _attributes(elbv2.describe_load_balancer_attributes(LoadBalancerArn=lb_arns[0]))
            idle_timeouts[lb_arns[0]] = _int(lb_attributes.get("idle_timeout.timeout_seconds"))
        infos.append(
            TargetGroupInfo(
                arn=arn,
                name=raw.get("TargetGroupName", _short(arn)),
                algorithm=attributes.get("load_balancing.algorithm.type"),
                stickiness_enabled=_bool(attributes.get("stickiness.enabled")),
                stickiness_type=attributes.get("stickiness.type"),
                deregistration_delay=_int(attributes.get("deregistration_delay.timeout_seconds")),
                load_balancer_arns=lb_arns,
                idle_timeout=idle_timeouts.get(lb_arns[0]) if lb_arns else None,
                slow_start=_int(attributes.get("slow_start.duration_seconds")),
            )
        )
    return tuple(infos)


def set_algorithm(session: AwsSession, arn: str, algorithm: str) -> None:
    """ModifyTargetGroupAttributes load_balancing.algorithm.type (round_robin,
    least_outstanding_requests, weighted_random). AWS refuses least outstanding requests while slow
    start is on; the planner checks first."""
    with aws_errors(f"setting the routing algorithm of target group {_short(arn)} to {algorithm}"):
        session.client("elbv2").modify_target_group_attributes(
            TargetGroupArn=arn, Attributes=[{"Key": "load_balancing.algorithm.type", "Value": algorithm}]
        )


def _attributes(response: dict[str, Any]) -> dict[str, str]:
    return {a["Key"]: a.get("Value", "") for a in response.get("Attributes", ()) if "Key" in a}


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _short(arn: str) -> str:
    """...:targetgroup/prod-chat/0123 or ...:loadbalancer/app/prod-alb/0123 -> the name part."""
    parts = arn.split(":")[-1].split("/")
    return parts[-2] if len(parts) >= 3 else arn
