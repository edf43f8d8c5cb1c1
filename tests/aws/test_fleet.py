"""The group, its instances with addresses, and capacity writes, against moto."""

from __future__ import annotations

import boto3

from tests.aws.conftest import ASG, CallCounter
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws import fleet as aws_fleet


def test_read_group_returns_sizes_and_every_instance_with_its_address(session, group):
    state = aws_fleet.read_group(session, ASG)
    assert (state.name, state.min_size, state.max_size, state.desired) == (ASG, 1, 12, 3)
    assert sorted(i.id for i in state.instances) == sorted(group["instance_ids"])
    for instance in state.instances:
        assert instance.az in ("us-east-1a", "us-east-1b")
        assert (instance.lifecycle, instance.health) == ("InService", "Healthy")
        assert instance.private_ip and instance.private_ip.startswith("10.0.")
        assert instance.launch_time is not None and instance.launch_time.utcoffset().total_seconds() == 0
        assert instance.instance_type == "c5.large"
        assert instance.protected is False
    assert state.target_group_arns == (group["target_group_arn"],)


def test_instances_spread_over_two_azs(session):
    make_fleet(session, instances=4)
    assert {i.az for i in aws_fleet.read_group(session, ASG).instances} == {"us-east-1a", "us-east-1b"}


def test_addresses_are_read_in_batches_of_the_page_size(session, monkeypatch):
    make_fleet(session, instances=5)
    monkeypatch.setattr(aws_fleet, "INSTANCE_IDS_PER_CALL", 2)
    counter = CallCounter().attach(session, ("ec2",))
    state = aws_fleet.read_group(session, ASG)
    assert counter.operations == ["DescribeInstances"] * 3  # 2 + 2 + 1
    assert all(i.private_ip for i in state.instances)


def test_an_instance_ec2_does_not_know_does_not_hide_the_others(session):
    info = make_fleet(session, instances=2)
    found = aws_fleet.describe_instances(session, [*info["instance_ids"], "i-0123456789abcdef0"])
    assert sorted(found) == sorted(info["instance_ids"])


def test_protection_from_scale_in_is_read(session):
    info = make_fleet(session, instances=2)
    boto3.client("autoscaling", region_name="us-east-1").set_instance_protection(
        AutoScalingGroupName=ASG, InstanceIds=info["instance_ids"][:1], ProtectedFromScaleIn=True
    )
    protected = {i.id: i.protected for i in aws_fleet.read_group(session, ASG).instances}
    assert protected == {info["instance_ids"][0]: True, info["instance_ids"][1]: False}


def test_set_desired_capacity_changes_only_desired(session):
    make_fleet(session, instances=2)
    aws_fleet.set_desired_capacity(session, ASG, 4)
    state = aws_fleet.read_group(session, ASG)
    assert (state.min_size, state.max_size, state.desired) == (1, 12, 4)


def test_update_group_changes_only_the_sizes_given(session):
    make_fleet(session, instances=2)
    aws_fleet.update_group(session, ASG, max_size=20)
    state = aws_fleet.read_group(session, ASG)
    assert (state.min_size, state.max_size, state.desired) == (1, 20, 2)
    aws_fleet.update_group(session, ASG, min_size=2, desired=3)
    state = aws_fleet.read_group(session, ASG)
    assert (state.min_size, state.max_size, state.desired) == (2, 20, 3)


def test_update_group_with_nothing_to_change_makes_no_call(session):
    make_fleet(session, instances=1)
    calls = session.api_calls
    aws_fleet.update_group(session, ASG)
    assert session.api_calls == calls
