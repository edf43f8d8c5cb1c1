"""Scaling policies: read them (steps stay relative, as AWS holds them) and write them whole."""

from __future__ import annotations

from typing import Any, Sequence

from wsfleet.aws.errors import AwsCallError, aws_errors
from wsfleet.aws.session import AwsSession
from wsfleet.model import ScalingPolicy, StepAdjustment

POLICIES_PER_PAGE = 50  # DescribePolicies' largest page


def read_policies(session: AwsSession, asg: str, names: Sequence[str] | None = None) -> dict[str, ScalingPolicy]:
    """The group's scaling policies by name (only `names` when given)."""
    params: dict[str, Any] = {"AutoScalingGroupName": asg, "MaxRecords": POLICIES_PER_PAGE}
    if names:
        params["PolicyNames"] = list(names)
    policies: dict[str, ScalingPolicy] = {}
    client = session.client("autoscaling")
    with aws_errors(f"reading the scaling policies of {asg}"):
        while True:
            page = client.describe_policies(**params)
            for raw in page.get("ScalingPolicies", ()):
                policy = policy_from_aws(raw)
                policies[policy.name] = policy
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
    return policies


def policy_from_aws(raw: dict[str, Any]) -> ScalingPolicy:
    return ScalingPolicy(
        name=raw["PolicyName"],
        arn=raw.get("PolicyARN"),
        policy_type=raw.get("PolicyType", "SimpleScaling"),
        adjustment_type=raw.get("AdjustmentType"),
        steps=tuple(
            StepAdjustment(
                lower_bound=_float_or_none(s.get("MetricIntervalLowerBound")),
                upper_bound=_float_or_none(s.get("MetricIntervalUpperBound")),
                scaling_adjustment=int(s["ScalingAdjustment"]),
            )
            for s in raw.get("StepAdjustments", ())
        ),
        scaling_adjustment=raw.get("ScalingAdjustment"),
        cooldown=raw.get("Cooldown"),
        warmup=raw.get("EstimatedInstanceWarmup"),
        metric_aggregation_type=raw.get("MetricAggregationType"),
        alarm_names=tuple(a["AlarmName"] for a in raw.get("Alarms", ()) if "AlarmName" in a),
    )


def steps_to_aws(steps: Sequence[StepAdjustment]) -> list[dict[str, Any]]:
    out = []
    for step in steps:
        item: dict[str, Any] = {"ScalingAdjustment": int(step.scaling_adjustment)}
        if step.lower_bound is not None:
            item["MetricIntervalLowerBound"] = float(step.lower_bound)
        if step.upper_bound is not None:
            item["MetricIntervalUpperBound"] = float(step.upper_bound)
        out.append(item)
    return out


def put_step_policy(
    session: AwsSession,
    asg: str,
    name: str,
    steps: Sequence[StepAdjustment],
    warmup: int,
    aggregation: str = "Average",
) -> str:
    """Create or replace a StepScaling policy (ChangeInCapacity) and return its ARN.

    PutScalingPolicy replaces the whole policy, so every field is sent (rule 1); `steps` are relative.
    """
    params = {
        "AutoScalingGroupName": asg,
        "PolicyName": name,
        "PolicyType": "StepScaling",
        "AdjustmentType": "ChangeInCapacity",
        "MetricAggregationType": aggregation,
        "EstimatedInstanceWarmup": int(warmup),
        "StepAdjustments": steps_to_aws(steps),
    }
    return _put_policy(session, asg, name, params)


def put_simple_policy(session: AwsSession, asg: str, name: str, adjustment: int, cooldown: int) -> str:
    """Create or replace a SimpleScaling policy (ChangeInCapacity by `adjustment`) and return its ARN."""
    params = {
        "AutoScalingGroupName": asg,
        "PolicyName": name,
        "PolicyType": "SimpleScaling",
        "AdjustmentType": "ChangeInCapacity",
        "ScalingAdjustment": int(adjustment),
        "Cooldown": int(cooldown),
    }
    return _put_policy(session, asg, name, params)


def _put_policy(session: AwsSession, asg: str, name: str, params: dict[str, Any]) -> str:
    client = session.client("autoscaling")
    with aws_errors(f"writing scaling policy {name} of {asg}"):
        arn = client.put_scaling_policy(**params).get("PolicyARN")
    if arn:
        return arn
    # moto returns no PolicyARN; DescribePolicies has it
    policy = read_policies(session, asg, [name]).get(name)
    if policy is None or not policy.arn:
        raise AwsCallError(
            f"scaling policy {name} of {asg} was written but AWS returned no ARN for it: run `wsfleet status` to check it.",
            kind="other",
        )
    return policy.arn


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
