"""read_status: everything in one read, in API calls that do not grow with the fleet."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import threading

import botocore.awsrequest
import pytest
from moto import mock_aws

from tests.aws.conftest import ASG, CallCounter, seed_fleet
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws import alarms, policies, schedule, warm_pool
from wsfleet.demo import aws_stand_in as stand_in
from wsfleet.aws.errors import AwsCallError
from wsfleet.aws.reader import read_status
from wsfleet.aws.session import AwsSession
from wsfleet.model import Alarm, ScheduledActionConfig, StepAdjustment, WarmPoolConfig

SERVICES = ("autoscaling", "cloudwatch", "ec2", "elbv2", "sts")


def provision_seed(session: AwsSession, fleet) -> None:
    """What `wsfleet provision` would create for the seed's fleet (written with the adapters)."""
    high_arn = policies.put_step_policy(
        session, ASG, fleet.scale_out.policy_name,
        (StepAdjustment(0, 5000, 2), StepAdjustment(5000, 10000, 2), StepAdjustment(10000, None, 3)), warmup=150,
    )
    low_arn = policies.put_simple_policy(session, ASG, fleet.scale_in.policy_name, -1, 300)
    common = dict(
        state="OK", namespace="TCP_Connections", metric_name="TCPconnections", statistic="Average",
        dimensions=(("AutoScalingGroupName", ASG),),
    )
    alarms.put_alarm(session, Alarm(
        name=fleet.high_alarm_name, threshold=20000, comparison="GreaterThanOrEqualToThreshold", period=60,
        evaluation_periods=5, datapoints_to_alarm=5, alarm_actions=(high_arn,), **common))
    alarms.put_alarm(session, Alarm(
        name=fleet.low_alarm_name, threshold=9500, comparison="LessThanOrEqualToThreshold", period=300,
        evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="notBreaching", alarm_actions=(low_arn,), **common))
    warm_pool.put_warm_pool(session, ASG, WarmPoolConfig(min_size=2, max_prepared_capacity=6, reuse_on_scale_in=True))
    schedule.put_scheduled_action(session, ASG, ScheduledActionConfig(
        name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4))


def test_read_status_reads_every_part_of_the_seeds_fleet(session, fleet, group):
    provision_seed(session, fleet)
    now = datetime.now(timezone.utc)
    stand_in.put_group_metric(session, fleet, 12345.0, now - timedelta(minutes=2))
    status = read_status(session, fleet, window_minutes=10, now=now)

    assert status.problems == ()
    assert (status.fleet, status.region, status.account_id) == ("prod-chat", "us-east-1", "123456789012")
    assert status.taken_at == now
    assert len(status.group.instances) == 3 and all(i.private_ip for i in status.group.instances)
    assert (status.high_alarm.threshold, status.low_alarm.threshold) == (20000, 9500)
    assert status.scale_out_policy.steps[0] == StepAdjustment(0, 5000, 2)  # relative, as AWS holds them
    assert status.scale_in_policy.scaling_adjustment == -1
    assert status.warm_pool.min_size == 2
    assert [a.name for a in status.scheduled_actions] == ["weekday-morning"]
    assert status.activities == ()
    assert status.target_groups[0].algorithm == "round_robin"
    assert 12345.0 in status.metric.values
    assert status.group.launch_template.current_version == "1"  # "$Latest" resolved through EC2
    assert {i.launch_template_version for i in status.group.instances} == {"1"}
    assert status.instance_refresh is None and "DescribeInstanceRefreshes" in status.refresh_unavailable  # stock moto
    # 12 reads, plus DescribeInstanceRefreshes and DescribeLaunchTemplates (the group names "$Latest")
    assert status.api_calls == 14


def test_read_status_of_a_bare_group_leaves_the_rest_empty(session, fleet):
    make_fleet(session, instances=2)
    status = read_status(session, fleet)
    assert status.problems == ()
    assert status.high_alarm is status.low_alarm is status.warm_pool is None
    assert status.scale_out_policy is status.scale_in_policy is None
    assert status.target_groups == () and status.scheduled_actions == ()
    assert set(status.metric.values) == {None}


def calls_for(instances: int) -> tuple[int, list[str]]:
    fleet = seed_fleet()
    session = AwsSession(fleet)
    make_fleet(session, instances=instances, max_size=max(12, instances), target_group=True)
    provision_seed(session, fleet)
    counter = CallCounter().attach(session, SERVICES)
    status = read_status(session, fleet)
    assert len(status.group.instances) == instances and status.problems == ()
    return status.api_calls, sorted(counter.operations)


def test_api_calls_are_the_same_for_5_and_60_instances():
    with mock_aws():
        calls_5, operations_5 = calls_for(5)
    with mock_aws():  # a fresh moto
        calls_60, operations_60 = calls_for(60)
    assert calls_5 == calls_60 == len(operations_5)  # the session's counter agrees with botocore's events
    assert operations_5 == operations_60


def test_a_part_that_fails_becomes_a_problem_and_the_rest_is_read(session, fleet):
    make_fleet(session, instances=2)

    def deny(**_):
        response = botocore.awsrequest.AWSResponse("https://autoscaling", 403, {}, None)
        return response, {"Error": {"Code": "AccessDenied", "Message": "denied"}, "ResponseMetadata": {}}

    session.client("autoscaling").meta.events.register("before-call.auto-scaling.DescribeWarmPool", deny)
    status = read_status(session, fleet)
    assert status.warm_pool is None
    assert len(status.problems) == 1 and "autoscaling:DescribeWarmPool" in status.problems[0]
    assert len(status.group.instances) == 2


def test_an_unknown_group_fails_the_whole_read(session, fleet):
    make_fleet(session, instances=1, asg="some-other-asg")
    with pytest.raises(AwsCallError) as caught:
        read_status(session, fleet)
    assert caught.value.kind == "not-found" and "prod-chat-asg" in caught.value.message


def test_the_group_is_handed_over_before_the_rest_is_read(session, fleet, group):
    """on_group gets the group with its addresses while the other parts are still being read (the
    dashboard starts its sweep then); the read goes on, and ends the same, when it raises."""
    provision_seed(session, fleet)
    seen: list = []
    handed_over = threading.Event()
    alarms_held: list[bool] = []

    def hold_alarms(**_):
        # The alarms' read waits until the group has been handed over: on a busy machine the
        # other parts could otherwise all finish first. A read that handed the group over only
        # after the rest would leave this wait to time out.
        alarms_held.append(handed_over.wait(10))

    def on_group(g):
        seen.append((g, alarms_held[:]))
        handed_over.set()
        raise RuntimeError("a caller's bug")

    session.client("cloudwatch").meta.events.register("before-call.cloudwatch.DescribeAlarms", hold_alarms)
    status = read_status(session, fleet, on_group=on_group)
    [(early, alarms_done_then)] = seen
    assert [i.id for i in early.instances] == [i.id for i in status.group.instances]
    assert all(i.private_ip for i in early.instances)
    assert alarms_done_then == [] and alarms_held == [True]  # the rest came after it
    assert status.problems == () and status.high_alarm is not None
