"""Standby and the target groups, as the demo's moto answers them through the ordinary API.

AWS (Auto Scaling user guide, "Temporarily remove instances from your Auto Scaling group"): an
instance put in Standby is deregistered from the group's target groups and registered again when
it exits; EnterStandby decrements the desired capacity when asked (without: a replacement
launches), ExitStandby increments it. Elastic Load Balancing keeps a deregistered target draining
for the deregistration delay. Stock moto keeps Standby instances registered, has no drain timer,
and checks no state or MinSize; the last test shows a region the demo did not enable still does.
"""

from __future__ import annotations

import itertools
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from wsfleet.demo import bootstrap

REGION = "ca-central-1"  # this module's own: the demo backend is enabled per account and region

_serial = itertools.count(1)


def _target_group(world, *, delay: int = 300, attach: bool = True) -> str:
    elbv2 = world.client("elbv2")
    vpc = world.client("ec2").describe_subnets(SubnetIds=[world.subnet])["Subnets"][0]["VpcId"]
    arn = elbv2.create_target_group(Name=f"tg-{next(_serial)}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                    TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}]
    )
    if attach:
        world.asg.attach_load_balancer_target_groups(AutoScalingGroupName=world.name, TargetGroupARNs=[arn])
    return arn


def _health(world, arn: str, *ids: str) -> dict[str, str]:
    kwargs = {"Targets": [{"Id": i} for i in ids]} if ids else {}
    described = world.client("elbv2").describe_target_health(TargetGroupArn=arn, **kwargs)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in described}


def _group(world) -> dict:
    return world.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[world.name])["AutoScalingGroups"][0]


def _ids(world) -> list[str]:
    return sorted(i["InstanceId"] for i in _group(world)["Instances"])


def _error(excinfo) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_enter_standby_deregisters_the_instance_and_exit_standby_registers_it_again(world):
    arn = _target_group(world)
    ids = _ids(world)
    assert _health(world, arn) == {i: "healthy" for i in ids}
    out = world.asg.enter_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]], ShouldDecrementDesiredCapacity=True)
    assert out["Activities"][0]["Description"] == f"Moving EC2 instance to Standby: {ids[0]}"
    assert "shrinking the capacity from 4 to 3" in out["Activities"][0]["Cause"]
    assert _group(world)["DesiredCapacity"] == 3
    # draining: listed with the registered ones until the delay ends, and no longer registered
    assert _health(world, arn) == {**{i: "healthy" for i in ids[1:]}, ids[0]: "draining"}
    assert world.group.balancer().registered == frozenset(ids[1:])

    world.asg.exit_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]])
    group = _group(world)
    assert group["DesiredCapacity"] == 4 and {i["LifecycleState"] for i in group["Instances"]} == {"InService"}
    assert _health(world, arn) == {i: "healthy" for i in ids}
    activities = [a["Description"] for a in world.asg.describe_scaling_activities(AutoScalingGroupName=world.name)["Activities"]]
    assert activities[:2] == [f"Moving EC2 instance out of Standby: {ids[0]}", f"Moving EC2 instance to Standby: {ids[0]}"]


def test_a_deregistered_target_drains_for_the_delay_then_is_gone(world):
    delay = 1.0
    arn = _target_group(world, delay=int(delay))
    ids = _ids(world)
    asked = time.monotonic()  # the drain ends at least `delay` after this, however slow the call
    world.asg.enter_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]], ShouldDecrementDesiredCapacity=True)
    assert world.group.balancer().deregistration_delay == delay
    deadline = asked + 15
    while True:
        state = _health(world, arn, ids[0])[ids[0]]
        answered = time.monotonic()
        if answered < asked + delay:
            assert state == "draining"  # answered before the delay could have ended
        if state != "draining":
            break
        assert answered < deadline, "the target never finished draining"
        time.sleep(0.05)
    assert state == "unused" and answered >= asked + delay
    assert ids[0] not in _health(world, arn) and world.group.balancer().draining == {}


def test_a_terminated_instance_drains_too(world):
    arn = _target_group(world, delay=60)
    victim = _ids(world)[0]
    world.group.terminate_instances([victim], "At now an instance was taken out of service in response to an instance refresh.")
    assert _health(world, arn, victim) == {victim: "draining"}
    assert 0 < world.group.balancer().draining[victim] <= 60  # seconds left, ending as a Standby drain does


def test_only_in_service_instances_are_registered(world):
    arn = _target_group(world)
    before = set(_ids(world))
    world.asg.set_desired_capacity(AutoScalingGroupName=world.name, DesiredCapacity=5)
    (new,) = set(_ids(world)) - before
    assert _health(world, arn) == {i: "healthy" for i in before}  # Pending: not yet
    world.group.set_lifecycle(new, "InService")
    assert _health(world, arn) == {i: "healthy" for i in before | {new}}


def test_standby_without_the_decrement_launches_a_replacement_and_exit_scales_back(world):
    _target_group(world)
    ids = _ids(world)
    world.asg.enter_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]], ShouldDecrementDesiredCapacity=False)
    group = _group(world)
    assert group["DesiredCapacity"] == 4
    states = {i["InstanceId"]: i["LifecycleState"] for i in group["Instances"]}
    assert states[ids[0]] == "Standby" and sorted(states.values()).count("Pending") == 1  # the replacement
    world.asg.exit_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]])
    group = _group(world)
    # AWS: one instance too many for the desired capacity, so the group scales in by one (moto
    # would raise desired to 5 instead)
    assert group["DesiredCapacity"] == 4 and len(group["Instances"]) == 4
    assert ids[0] in {i["InstanceId"] for i in group["Instances"]}


def test_standby_that_would_go_below_min_size_is_refused(world):
    arn = _target_group(world)
    world.asg.update_auto_scaling_group(AutoScalingGroupName=world.name, MinSize=4)
    ids = _ids(world)
    with pytest.raises(ClientError) as excinfo:
        world.asg.enter_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]], ShouldDecrementDesiredCapacity=True)
    code, message = _error(excinfo)
    assert code == "ValidationError" and "below the min size" in message
    assert {i["LifecycleState"] for i in _group(world)["Instances"]} == {"InService"} and _group(world)["DesiredCapacity"] == 4
    assert _health(world, arn) == {i: "healthy" for i in ids}


def test_standby_moves_only_from_in_service_and_back_only_from_standby(world):
    _target_group(world)
    ids = _ids(world)
    with pytest.raises(ClientError) as excinfo:
        world.asg.exit_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]])
    assert _error(excinfo) == ("ValidationError", f"The instance {ids[0]} is not in Standby.")
    world.asg.enter_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]], ShouldDecrementDesiredCapacity=True)
    with pytest.raises(ClientError) as excinfo:
        world.asg.enter_standby(AutoScalingGroupName=world.name, InstanceIds=[ids[0]], ShouldDecrementDesiredCapacity=True)
    assert _error(excinfo) == ("ValidationError", f"The instance {ids[0]} is not in InService.")
    assert _group(world)["DesiredCapacity"] == 3


def test_the_balancer_view_follows_the_target_groups_attributes(world):
    assert world.group.balancer().attached is False  # no target group yet
    arn = _target_group(world, delay=6)
    view = world.group.balancer()
    assert (view.attached, view.algorithm, view.deregistration_delay) == (True, "round_robin", 6.0)
    assert view.registered == frozenset(_ids(world))
    world.client("elbv2").modify_target_group_attributes(
        TargetGroupArn=arn, Attributes=[{"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}]
    )
    assert world.group.balancer().algorithm == "least_outstanding_requests"


def test_a_region_the_demo_did_not_enable_keeps_stock_moto(world):
    other = "eu-north-1"
    setup = bootstrap.create_group(world.server.endpoint_url, other, "plain", desired=2, min_size=1, max_size=3)
    config = Config(retries={"max_attempts": 1})
    asg = boto3.client("autoscaling", region_name=other, endpoint_url=world.server.endpoint_url, config=config)
    elbv2 = boto3.client("elbv2", region_name=other, endpoint_url=world.server.endpoint_url, config=config)
    ids = [i["InstanceId"] for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=["plain"])["AutoScalingGroups"][0]["Instances"]]
    asg.enter_standby(AutoScalingGroupName="plain", InstanceIds=[ids[0]], ShouldDecrementDesiredCapacity=True)
    health = elbv2.describe_target_health(TargetGroupArn=setup.target_group_arn)["TargetHealthDescriptions"]
    assert {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health} == {i: "healthy" for i in ids}  # still registered
