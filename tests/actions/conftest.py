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
    """A VPC, a subnet, a launch template and the ASG (moto starts its instances InService)."""
    try:  # the aws engineer's shared helper, when it exists
        from tests.helpers.moto_fleet import make_fleet  # type: ignore

        clients = {s: boto3.client(s, region_name=REGION, endpoint_url=endpoint_url) for s in ("ec2", "autoscaling")}
        make_fleet(clients, asg=ASG, instances=instances, min_size=min_size, max_size=max_size, region=REGION)
        return
    except ImportError:
        pass
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint_url)
    asg = boto3.client("autoscaling", region_name=REGION, endpoint_url=endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    ec2.create_launch_template(LaunchTemplateName="prod-chat-lt", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(
        AutoScalingGroupName=ASG,
        MinSize=min_size,
        MaxSize=max_size,
        DesiredCapacity=instances,
        LaunchTemplate={"LaunchTemplateName": "prod-chat-lt", "Version": "$Latest"},
        VPCZoneIdentifier=subnet,
    )


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

    def __call__(self, model=None, **_: Any) -> None:
        self.calls.append(model.name if model is not None else "?")


@pytest.fixture
def bare_session(fleet):
    """A session under moto with no group at all: for tests that must not get as far as AWS."""
    from wsfleet.aws.session import AwsSession

    with mock_aws():
        yield AwsSession(fleet)


@pytest.fixture
def no_aws_calls(monkeypatch):
    """Fails the test if any boto3 client makes a call (bad input must be rejected first)."""
    import botocore.client

    counter = CallCounter()
    real = botocore.client.BaseClient._make_api_call

    def guarded(self, operation_name, api_params):
        counter.calls.append(operation_name)
        return real(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", guarded)
    yield counter
    assert counter.calls == [], f"bad input reached AWS: {counter.calls}"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
