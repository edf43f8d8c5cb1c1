"""CloudWatch alarms round-trip whole, against moto."""

from __future__ import annotations

from dataclasses import replace

from wsfleet.aws import alarms
from wsfleet.demo import aws_stand_in as stand_in
from wsfleet.model import Alarm

HIGH = Alarm(
    name="prod-chat-high-tcp-connections",
    state="OK",
    threshold=20000.0,
    comparison="GreaterThanOrEqualToThreshold",
    period=60,
    evaluation_periods=5,
    datapoints_to_alarm=5,
    treat_missing_data="missing",
    namespace="TCP_Connections",
    metric_name="TCPconnections",
    statistic="Average",
    dimensions=(("AutoScalingGroupName", "prod-chat-asg"),),
    alarm_actions=("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:autoScalingGroupName/prod-chat-asg:policyName/high",),
    ok_actions=(),
)


def test_put_alarm_writes_every_field_and_read_alarms_reads_them_back(session):
    alarms.put_alarm(session, HIGH)
    read = alarms.read_alarms(session, [HIGH.name])[HIGH.name]
    assert replace(read, state="OK", reason="", updated=None) == HIGH
    assert read.updated is not None


def test_put_alarm_replaces_the_whole_alarm(session):
    alarms.put_alarm(session, HIGH)
    alarms.put_alarm(session, replace(HIGH, threshold=22000.0, alarm_actions=(), datapoints_to_alarm=3))
    read = alarms.read_alarms(session, [HIGH.name])[HIGH.name]
    assert (read.threshold, read.alarm_actions, read.datapoints_to_alarm) == (22000.0, (), 3)


def test_read_alarms_leaves_out_names_that_do_not_exist(session):
    alarms.put_alarm(session, HIGH)
    found = alarms.read_alarms(session, [HIGH.name, "prod-chat-low-tcp-connections"])
    assert list(found) == [HIGH.name]


def test_read_alarms_of_no_names_makes_no_call(session):
    calls = session.api_calls
    assert alarms.read_alarms(session, []) == {}
    assert session.api_calls == calls


def test_the_demo_sets_alarm_state_and_reason_which_the_reader_shows(session):
    alarms.put_alarm(session, HIGH)
    stand_in.set_alarm_state(session, HIGH.name, "ALARM", "5 of 5 datapoints >= 20000")
    read = alarms.read_alarms(session, [HIGH.name])[HIGH.name]
    assert (read.state, read.reason) == ("ALARM", "5 of 5 datapoints >= 20000")


def test_a_percentile_statistic_goes_in_extended_statistic():
    params = alarms.alarm_to_aws(replace(HIGH, statistic="p99"))
    assert params["ExtendedStatistic"] == "p99" and "Statistic" not in params
