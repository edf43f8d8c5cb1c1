"""The warm pool: configuration round-trips; its instances are read when AWS lists them."""

from __future__ import annotations

import boto3
from botocore.stub import ANY, Stubber

from tests.aws.conftest import ASG
from tests.helpers.moto_fleet import AMI_ID, make_fleet
from wsfleet.aws import warm_pool
from wsfleet.model import WarmPoolConfig


def test_a_group_without_a_warm_pool_reads_none(session):
    make_fleet(session, instances=1)
    assert warm_pool.read_warm_pool(session, ASG) is None


def test_put_warm_pool_then_read_it_back(session):
    make_fleet(session, instances=1)
    warm_pool.put_warm_pool(session, ASG, WarmPoolConfig(min_size=2, max_prepared_capacity=6, pool_state="Stopped", reuse_on_scale_in=True))
    pool = warm_pool.read_warm_pool(session, ASG)
    assert (pool.min_size, pool.max_prepared_capacity, pool.pool_state, pool.reuse_on_scale_in) == (2, 6, "Stopped", True)
    assert pool.instances == ()


def test_no_max_prepared_capacity_means_up_to_the_groups_max(session):
    make_fleet(session, instances=1)
    warm_pool.put_warm_pool(session, ASG, WarmPoolConfig(min_size=1, max_prepared_capacity=6))
    warm_pool.put_warm_pool(session, ASG, WarmPoolConfig(min_size=1, max_prepared_capacity=None, pool_state="Running"))
    pool = warm_pool.read_warm_pool(session, ASG)
    assert (pool.max_prepared_capacity, pool.pool_state, pool.reuse_on_scale_in) == (None, "Running", False)


def test_warm_instances_are_read_from_every_page_with_their_addresses(session):
    # moto never lists warm instances: Auto Scaling's answer is stubbed, EC2's is moto's
    make_fleet(session, instances=1)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=AMI_ID, MinCount=3, MaxCount=3)["Instances"]]
    config = {"MinSize": 3, "PoolState": "Stopped", "InstanceReusePolicy": {"ReuseOnScaleIn": True}}

    def warm(instance_id):
        return {
            "InstanceId": instance_id,
            "InstanceType": "c5.large",
            "AvailabilityZone": "us-east-1b",
            "LifecycleState": "Warmed:Stopped",
            "HealthStatus": "Healthy",
            "LaunchTemplate": {"LaunchTemplateId": "lt-0123456789abcdef0", "LaunchTemplateName": "prod-chat-lt", "Version": "1"},
            "ProtectedFromScaleIn": False,
        }

    with Stubber(session.client("autoscaling")) as stub:
        stub.add_response(
            "describe_warm_pool",
            {"WarmPoolConfiguration": config, "Instances": [warm(i) for i in ids[:2]], "NextToken": "page-2"},
            {"AutoScalingGroupName": ASG, "MaxRecords": ANY},
        )
        stub.add_response(
            "describe_warm_pool",
            {"WarmPoolConfiguration": config, "Instances": [warm(ids[2])]},
            {"AutoScalingGroupName": ASG, "MaxRecords": ANY, "NextToken": "page-2"},
        )
        pool = warm_pool.read_warm_pool(session, ASG)
    assert [i.id for i in pool.instances] == ids
    assert all(i.lifecycle == "Warmed:Stopped" and i.private_ip and i.launch_time for i in pool.instances)
