"""The shared moto helpers others build on: make_fleet and write_config."""

from __future__ import annotations

import tomllib

import boto3

from tests.helpers.moto_fleet import dumps_toml, make_fleet, write_config


def test_make_fleet_with_plain_boto3_clients_builds_group_and_network(aws):
    info = make_fleet(None, asg="web", instances=3, min_size=3, max_size=5)
    group = boto3.client("autoscaling", region_name="us-east-1").describe_auto_scaling_groups(
        AutoScalingGroupNames=["web"]
    )["AutoScalingGroups"][0]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (3, 5, 3)
    assert sorted(i["InstanceId"] for i in group["Instances"]) == sorted(info["instance_ids"])
    assert len(info["subnet_ids"]) == 2 and info["azs"] == ["us-east-1a", "us-east-1b"]
    assert info["target_group_arn"] is None


def test_make_fleet_with_a_mapping_of_clients(aws):
    clients = {s: boto3.client(s, region_name="us-east-1") for s in ("ec2", "autoscaling")}
    assert len(make_fleet(clients, instances=2)["instance_ids"]) == 2


def test_make_fleet_of_zero_instances(aws):
    info = make_fleet(None, instances=0)
    assert info["instance_ids"] == []


def test_write_config_writes_the_documented_schema(tmp_path):
    path = write_config(
        tmp_path,
        "http://127.0.0.1:5000",
        "prod-chat-asg",
        fleet="prod-chat",
        env="prod",
        app="chat",
        metric={"namespace": "TCP_Connections", "name": "TCPconnections"},
        scale_out={"threshold": 20000, "steps": [{"from": 20000, "to": 25000, "add": 2}, {"from": 25000, "add": 3}]},
        ssh={"user": "ec2-user", "hosts": {"i-0abc": "127.0.0.1:2201", "i-0def": {"address": "127.0.0.1:2202", "service_port": 9002}}},
    )
    doc = tomllib.loads(path.read_text())
    fleet = doc["fleets"]["prod-chat"]
    assert fleet["asg"] == "prod-chat-asg" and fleet["endpoint_url"] == "http://127.0.0.1:5000"
    assert fleet["scale_out"]["steps"][1] == {"from": 25000, "add": 3}
    assert fleet["ssh"]["hosts"]["i-0def"] == {"address": "127.0.0.1:2202", "service_port": 9002}


def test_dumps_toml_escapes_strings():
    assert tomllib.loads(dumps_toml({"a": 'say "hi"\\ \n'}))["a"] == 'say "hi"\\ \n'
