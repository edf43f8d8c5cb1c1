"""Fixtures for the write path: the seed's fleet config, a moto Auto Scaling group, a second client.

Reads that check a write use their own boto3 clients (`other`), never wsfleet's session, so a
write that only "landed" in wsfleet's cache would fail the test.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.helpers.moto_fleet import make_fleet

from wsfleet.audit import AuditLog
from wsfleet.model import FleetConfig, ScheduledActionConfig, WarmPoolConfig

REGION = "us-east-1"
ASG = "prod-chat-asg"


def seed_fleet(**overrides: Any) -> FleetConfig:
    """The case study's fleet: +2/+2/+3 above 20,000, -1 at 9,500, a warm pool, one morning action."""
    fleet = FleetConfig(
        name="prod-chat",
        asg=ASG,
        region=REGION,
        env="prod",
        app="chat",
        capacity=28000,
        warm_pool=WarmPoolConfig(min_size=2, max_prepared_capacity=6, pool_state="Stopped", reuse_on_scale_in=True),
        schedule=(
            ScheduledActionConfig(
                name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4
            ),
        ),
    )
    return replace(fleet, **overrides) if overrides else fleet


def make_group(endpoint_url: str | None = None, *, instances: int = 4, min_size: int = 1, max_size: int = 12) -> None:
    """The shared helper's VPC, subnets, launch template and ASG (moto starts instances InService)."""
    make_fleet(None, ASG, instances=instances, min_size=min_size, max_size=max_size, region=REGION, endpoint_url=endpoint_url)


@pytest.fixture(scope="module")
def _moto_module():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with mock_aws():
        make_group()
        yield


def reset_fleet() -> None:
    """Back to a bare 4-instance group: cheaper than a new mock (~0.5 s a test, mostly EC2)."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION].reset()  # alarms and metric data
    asg = boto3.client("autoscaling", region_name=REGION)
    for p in asg.describe_policies(AutoScalingGroupName=ASG)["ScalingPolicies"]:
        asg.delete_policy(AutoScalingGroupName=ASG, PolicyName=p["PolicyName"])
    for a in asg.describe_scheduled_actions(AutoScalingGroupName=ASG)["ScheduledUpdateGroupActions"]:
        asg.delete_scheduled_action(AutoScalingGroupName=ASG, ScheduledActionName=a["ScheduledActionName"])
    if asg.describe_warm_pool(AutoScalingGroupName=ASG).get("WarmPoolConfiguration"):
        asg.delete_warm_pool(AutoScalingGroupName=ASG, ForceDelete=True)
    asg.update_auto_scaling_group(AutoScalingGroupName=ASG, MinSize=1, MaxSize=12, DesiredCapacity=4)
    asg.resume_processes(AutoScalingGroupName=ASG)  # all of them (refresh --suspend-scaling)
    tags = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[ASG])["AutoScalingGroups"][0].get("Tags", [])
    if tags:
        asg.delete_tags(Tags=[{"ResourceId": ASG, "ResourceType": "auto-scaling-group", "Key": t["Key"]} for t in tags])


@pytest.fixture
def moto(_moto_module):
    reset_fleet()
    yield


@pytest.fixture
def fleet() -> FleetConfig:
    return seed_fleet()


@pytest.fixture
def session(moto, fleet):
    from wsfleet.aws.session import AwsSession

    return AwsSession(fleet)


class Other:
    """Independent boto3 clients for reading back what a write did."""

    def __init__(self, endpoint_url: str | None = None) -> None:
        self.asg = boto3.client("autoscaling", region_name=REGION, endpoint_url=endpoint_url)
        self.cw = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint_url)

    def group(self) -> dict:
        return self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[ASG])["AutoScalingGroups"][0]

    def alarm(self, name: str) -> dict | None:
        found = self.cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return found[0] if found else None

    def policy(self, name: str) -> dict | None:
        found = self.asg.describe_policies(AutoScalingGroupName=ASG, PolicyNames=[name])["ScalingPolicies"]
        return found[0] if found else None

    def warm_pool(self) -> dict | None:
        return self.asg.describe_warm_pool(AutoScalingGroupName=ASG).get("WarmPoolConfiguration")

    def actions(self) -> dict[str, dict]:
        found = self.asg.describe_scheduled_actions(AutoScalingGroupName=ASG)["ScheduledUpdateGroupActions"]
        return {a["ScheduledActionName"]: a for a in found}

    def snapshot(self) -> dict:
        """Everything a write could touch, for "nothing changed" assertions."""
        g = self.group()
        alarms = self.cw.describe_alarms()["MetricAlarms"]
        policies = self.asg.describe_policies(AutoScalingGroupName=ASG)["ScalingPolicies"]
        return {
            "group": (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]),
            "alarms": sorted((a["AlarmName"], a["Threshold"], tuple(a["AlarmActions"])) for a in alarms),
            "policies": sorted((p["PolicyName"], repr(p.get("StepAdjustments")), p.get("ScalingAdjustment")) for p in policies),
            "warm_pool": self.warm_pool(),
            "actions": {k: (v.get("Recurrence"), v.get("MinSize"), v.get("MaxSize"), v.get("DesiredCapacity")) for k, v in self.actions().items()},
        }


@pytest.fixture
def other(moto) -> Other:
    return Other()


@pytest.fixture
def audit(tmp_path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl")


def yes(plan) -> bool:
    return True


class CallCounter:
    """Counts every AWS API call botocore makes in this process (any client, any session)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.baseline = 0  # the session's api_calls when the guard started

    def __call__(self, model=None, **_: Any) -> None:
        self.calls.append(model.name if model is not None else "?")


@pytest.fixture
def bare_session(fleet):
    """A session under moto with no group at all: for tests that must not get as far as AWS."""
    from wsfleet.aws.session import AwsSession

    with mock_aws():
        yield AwsSession(fleet)


@pytest.fixture
def no_aws_calls(bare_session, monkeypatch):
    """Fails the test if any AWS call is made (bad input must be rejected first): the session's
    own before-call hook counts its calls, and every other boto3 client is watched too."""
    import botocore.client

    counter = CallCounter()
    real = botocore.client.BaseClient._make_api_call

    def guarded(self, operation_name, api_params):
        counter.calls.append(operation_name)
        return real(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", guarded)
    counter.baseline = bare_session.api_calls
    yield counter
    assert counter.calls == [], f"bad input reached AWS: {counter.calls}"
    assert bare_session.api_calls == counter.baseline, "bad input reached AWS (the session's before-call hook counted it)"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
