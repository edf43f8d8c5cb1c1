"""The AWS side end to end: a fleet built in moto, read by wsfleet's own reader, checked by doctor.

The broken fleets are built the way the seed built its own (boto3 calls standing in for its
Terraform); the healthy one by `wsfleet provision`'s code path, so "provision fixes what doctor
finds" is tested too.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from tests.helpers.moto_fleet import make_fleet
from wsfleet import actions, doctor
from wsfleet.audit import AuditLog
from wsfleet.model import FleetConfig, ScheduledActionConfig, WarmPoolConfig

REGION = "us-east-1"
ASG = "prod-chat-asg"
HIGH = "prod-chat-high-tcp-connections"
LOW = "prod-chat-low-tcp-connections"

FLEET = FleetConfig(
    name="prod-chat", asg=ASG, region=REGION, env="prod", app="chat", capacity=28000,
    warm_pool=WarmPoolConfig(min_size=2, max_prepared_capacity=None, pool_state="Stopped", reuse_on_scale_in=True),
    schedule=(ScheduledActionConfig(name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4),),
)


@pytest.fixture
def aws():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with mock_aws():
        built = make_fleet(None, asg=ASG, instances=2, min_size=1, max_size=12, region=REGION, target_group=True)
        yield built


def client(service: str):
    return boto3.client(service, region_name=REGION)


def check(fleet: FleetConfig = FLEET):
    from wsfleet.aws.policies import read_policies
    from wsfleet.aws.reader import read_status
    from wsfleet.aws.session import AwsSession

    session = AwsSession(fleet)
    status = read_status(session, fleet)
    return doctor.diagnose(fleet, status, None, policies=read_policies(session, fleet.asg))


def of(name, findings, severity=None):
    return [f for f in findings if f.check == name and (severity is None or f.severity == severity)]


def publish_metric(value: float = 12000.0, minutes: int = 10, namespace: str = "TCP_Connections") -> None:
    now = datetime.now(timezone.utc)
    client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "TCPconnections", "Dimensions": [{"Name": "AutoScalingGroupName", "Value": ASG}],
             "Timestamp": now - timedelta(minutes=m), "Value": value, "Unit": "Count"}
            for m in range(1, minutes + 1)
        ],
    )


def provision(fleet: FleetConfig, tmp_path) -> None:
    from wsfleet.aws.session import AwsSession

    outcome = actions.execute(actions.plan_provision(AwsSession(fleet), fleet), confirm=lambda p: True, read_only=False, audit=AuditLog(tmp_path / "audit.jsonl"))
    assert outcome.status == "applied", outcome.error


def seed_terraform(*, namespace="ASG_Memory", treat="breaching", low_threshold=9500.0) -> dict[str, str]:
    """The seed's alarms and policies as its Terraform wrote them (namespace slip and all)."""
    asg = client("autoscaling")
    asg.put_scaling_policy(
        AutoScalingGroupName=ASG, PolicyName="high_tcp_connections_policy", PolicyType="StepScaling",
        AdjustmentType="ChangeInCapacity", EstimatedInstanceWarmup=150,
        StepAdjustments=[
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 5000, "ScalingAdjustment": 2},
            {"MetricIntervalLowerBound": 5000, "MetricIntervalUpperBound": 10000, "ScalingAdjustment": 2},
            {"MetricIntervalLowerBound": 10000, "ScalingAdjustment": 3},
        ],
    )
    asg.put_scaling_policy(
        AutoScalingGroupName=ASG, PolicyName="low_tcp_connections_policy", PolicyType="SimpleScaling",
        AdjustmentType="ChangeInCapacity", ScalingAdjustment=-1, Cooldown=300,
    )
    arns = {p["PolicyName"]: p["PolicyARN"] for p in asg.describe_policies(AutoScalingGroupName=ASG)["ScalingPolicies"]}
    cw = client("cloudwatch")
    common = dict(MetricName="TCPconnections", Namespace=namespace, Statistic="Average",
                  Dimensions=[{"Name": "AutoScalingGroupName", "Value": ASG}], TreatMissingData=treat)
    cw.put_metric_alarm(AlarmName=HIGH, ComparisonOperator="GreaterThanOrEqualToThreshold", EvaluationPeriods=5,
                        DatapointsToAlarm=5, Period=60, Threshold=20000.0,
                        AlarmActions=[arns["high_tcp_connections_policy"]], **common)
    cw.put_metric_alarm(AlarmName=LOW, ComparisonOperator="LessThanOrEqualToThreshold", EvaluationPeriods=3,
                        DatapointsToAlarm=3, Period=300, Threshold=low_threshold,
                        AlarmActions=[arns["low_tcp_connections_policy"]], **common)
    return arns


def test_a_provisioned_fleet_has_no_error(aws, tmp_path):
    provision(FLEET, tmp_path)
    publish_metric()
    findings = check()
    assert [f for f in findings if f.severity == "error"] == []
    assert of("alarm-actions", findings, "ok") and of("missing-data", findings, "ok") and of("flap", findings, "ok")
    assert of("warm-pool", findings, "ok") and of("steps", findings, "ok")
    # make_fleet's target group is the seed's: round robin (info), sticky (ok), 60 s idle (ok)
    assert [f.severity for f in of("target-group", findings)] == ["info", "ok"]
    assert [f.severity for f in of("idle-timeout", findings)] == ["ok"]


def test_an_empty_group_needs_provision(aws):
    findings = check()
    assert len(of("alarms-exist", findings, "error")) == 2
    assert len(of("policies-exist", findings, "error")) == 2
    assert all("wsfleet provision" in f.fix for f in of("alarms-exist", findings))
    assert of("warm-pool", findings, "error")  # configured, not there


def test_the_seeds_terraform_is_caught(aws):
    seed_terraform()
    publish_metric(namespace="TPC_Connections")  # where the seed's agent published
    fleet = dataclasses.replace(FLEET, metric=dataclasses.replace(FLEET.metric, namespace="TPC_Connections"))
    findings = check(fleet)
    assert len(of("alarm-metric", findings, "error")) == 2
    assert all("ASG_Memory" in f.found for f in of("alarm-metric", findings))
    assert len(of("missing-data", findings, "error")) == 2
    assert of("metric-data", findings, "ok")  # the agent is fine; the alarms look elsewhere


def test_an_alarm_left_pointing_at_a_deleted_policy(aws):
    seed_terraform(namespace="TCP_Connections", treat="notBreaching")
    client("autoscaling").delete_policy(AutoScalingGroupName=ASG, PolicyName="low_tcp_connections_policy")
    findings = check()
    assert of("policies-exist", findings, "error")
    (f,) = of("alarm-actions", findings, "error")
    assert f.subject == LOW and "no longer exists" in f.found


def test_a_flapping_low_threshold_in_aws(aws):
    seed_terraform(namespace="TCP_Connections", treat="notBreaching", low_threshold=10500.0)
    findings = check()
    (f,) = [f for f in of("flap", findings, "error") if f.subject.startswith("alarms")]
    assert "n = 2" in f.found and f.fix == "wsfleet thresholds set --low 9999"


def test_a_warm_pool_smaller_than_the_first_step(aws, tmp_path):
    provision(FLEET, tmp_path)
    client("autoscaling").put_warm_pool(AutoScalingGroupName=ASG, MinSize=0, MaxGroupPreparedCapacity=3)
    (f,) = of("warm-pool", check())
    assert f.severity == "warning" and "holds 1 instance" in f.found


def test_scheduled_actions_that_cannot_work(aws, tmp_path):
    provision(FLEET, tmp_path)
    asg = client("autoscaling")
    asg.put_scheduled_update_group_action(AutoScalingGroupName=ASG, ScheduledActionName="inverted", Recurrence="0 6 * * *", MinSize=8, MaxSize=6)
    asg.put_scheduled_update_group_action(AutoScalingGroupName=ASG, ScheduledActionName="too-big", Recurrence="0 6 * * *", MinSize=20)
    findings = check()
    assert {f.subject for f in of("schedule", findings, "error")} == {"inverted", "too-big"}
    assert of("schedule", findings, "ok")  # weekday-morning is fine


def test_lor_and_a_short_idle_timeout_are_read_from_elbv2(aws, tmp_path):
    provision(FLEET, tmp_path)
    elbv2 = client("elbv2")
    elbv2.modify_target_group_attributes(TargetGroupArn=aws["target_group_arn"], Attributes=[{"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}])
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=aws["load_balancer_arn"], Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "20"}])
    findings = check()
    assert [f.severity for f in of("target-group", findings)] == ["ok", "ok"]
    (f,) = of("idle-timeout", findings)
    assert f.severity == "warning" and "20 s" in f.found
