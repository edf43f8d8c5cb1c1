"""Scheduled actions, scaling activities and target groups."""

from __future__ import annotations

from datetime import datetime, timezone

from botocore.stub import ANY, Stubber

from tests.aws.conftest import ASG
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws import activities, schedule, targets
from wsfleet.model import ScheduledActionConfig

MORNING = ScheduledActionConfig(
    name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4
)


def test_put_scheduled_action_then_read_it_back(session):
    make_fleet(session, instances=1)
    schedule.put_scheduled_action(session, ASG, MORNING)
    (action,) = schedule.read_scheduled_actions(session, ASG)
    assert (action.name, action.recurrence, action.time_zone) == ("weekday-morning", "0 7 * * MON-FRI", "Europe/Berlin")
    assert (action.min_size, action.max_size, action.desired_capacity) == (4, None, 4)


def test_a_one_off_action_keeps_its_start_time(session):
    make_fleet(session, instances=1)
    at = datetime(2030, 1, 6, 6, 30, tzinfo=timezone.utc)
    schedule.put_scheduled_action(session, ASG, ScheduledActionConfig(name="launch-day", start_time=at, desired_capacity=8))
    (action,) = schedule.read_scheduled_actions(session, ASG)
    assert action.start_time == at and action.recurrence is None


def test_delete_scheduled_action(session):
    make_fleet(session, instances=1)
    schedule.put_scheduled_action(session, ASG, MORNING)
    schedule.put_scheduled_action(session, ASG, ScheduledActionConfig(name="evening", recurrence="0 20 * * *", desired_capacity=2))
    schedule.delete_scheduled_action(session, ASG, "weekday-morning")
    assert [a.name for a in schedule.read_scheduled_actions(session, ASG)] == ["evening"]


def test_activities_are_read_newest_first_up_to_the_limit(session):
    # moto records no scaling activities: the answer is stubbed
    def activity(n):
        return {
            "ActivityId": f"a-{n}",
            "AutoScalingGroupName": ASG,
            "Description": f"Launching a new EC2 instance: i-{n}",
            "Cause": "an alarm high-tcp-connections in state ALARM triggered policy high_tcp_connections_policy",
            "StartTime": datetime(2026, 11, 26, 9, n, tzinfo=timezone.utc),
            "StatusCode": "Successful",
            "Progress": 100,
        }

    with Stubber(session.client("autoscaling")) as stub:
        stub.add_response(
            "describe_scaling_activities",
            {"Activities": [activity(3), activity(2)], "NextToken": "more"},
            {"AutoScalingGroupName": ASG, "MaxRecords": 2},
        )
        found = activities.read_activities(session, ASG, limit=2)
    assert [a.id for a in found] == ["a-3", "a-2"]
    assert found[0].status == "Successful" and "high_tcp_connections_policy" in found[0].cause
    assert found[0].start_time == datetime(2026, 11, 26, 9, 3, tzinfo=timezone.utc)


def test_activities_of_a_quiet_group_are_empty(session):
    make_fleet(session, instances=1)
    assert activities.read_activities(session, ASG) == ()


def test_target_group_reads_algorithm_stickiness_and_the_albs_idle_timeout(session, group):
    (info,) = targets.read_target_groups(session, [group["target_group_arn"]])
    assert info.arn == group["target_group_arn"] and info.name == "prod-chat-asg-tg"
    assert (info.algorithm, info.stickiness_enabled, info.stickiness_type) == ("round_robin", True, "lb_cookie")
    assert info.deregistration_delay == 300
    assert info.load_balancer_arns == (group["load_balancer_arn"],)
    assert info.idle_timeout == 60


def test_no_target_groups_make_no_call(session):
    calls = session.api_calls
    assert targets.read_target_groups(session, []) == ()
    assert session.api_calls == calls
