"""Fleets for the doctor's tests: the seed's setup done right, and ways to break it.

`healthy()` is the seed's configuration with its slips fixed (one namespace, missing data not
breaching on scale-in), a warm pool, a schedule, LOR + sticky target group: every check passes.
Each test changes one thing with `dataclasses.replace`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from wsfleet import scaling
from wsfleet.model import (
    Alarm,
    FleetConfig,
    FleetStatus,
    GroupState,
    Instance,
    InstanceFacts,
    MetricSeries,
    ScalingActivity,
    ScalingPolicy,
    ScheduledAction,
    ScheduledActionConfig,
    TargetGroupInfo,
    WarmPool,
    WarmPoolConfig,
)

ASG = "prod-chat-asg"
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
HIGH = "prod-chat-high-tcp-connections"
LOW = "prod-chat-low-tcp-connections"


def policy_arn(name: str, asg: str = ASG) -> str:
    return f"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0000-{name}:autoScalingGroupName/{asg}:policyName/{name}"


FLEET = FleetConfig(
    name="prod-chat",
    asg=ASG,
    region="us-east-1",
    env="prod",
    app="chat",
    port=443,
    capacity=28000,
    warm_pool=WarmPoolConfig(min_size=2, max_prepared_capacity=None, pool_state="Stopped", reuse_on_scale_in=True),
    schedule=(ScheduledActionConfig(name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4),),
)


def high_alarm(**changes) -> Alarm:
    a = Alarm(
        name=HIGH, state="OK", threshold=20000, comparison="GreaterThanOrEqualToThreshold", period=60,
        evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing",
        namespace="TCP_Connections", metric_name="TCPconnections", statistic="Average",
        dimensions=(("AutoScalingGroupName", ASG),), alarm_actions=(policy_arn("high_tcp_connections_policy"),),
    )
    return dataclasses.replace(a, **changes)


def low_alarm(**changes) -> Alarm:
    a = Alarm(
        name=LOW, state="OK", threshold=9500, comparison="LessThanOrEqualToThreshold", period=300,
        evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="notBreaching",
        namespace="TCP_Connections", metric_name="TCPconnections", statistic="Average",
        dimensions=(("AutoScalingGroupName", ASG),), alarm_actions=(policy_arn("low_tcp_connections_policy"),),
    )
    return dataclasses.replace(a, **changes)


def scale_out_policy(**changes) -> ScalingPolicy:
    p = ScalingPolicy(
        name="high_tcp_connections_policy", arn=policy_arn("high_tcp_connections_policy"), policy_type="StepScaling",
        adjustment_type="ChangeInCapacity", steps=scaling.to_relative(20000, FLEET.scale_out.steps), warmup=150,
        metric_aggregation_type="Average", alarm_names=(HIGH,),
    )
    return dataclasses.replace(p, **changes)


def scale_in_policy(**changes) -> ScalingPolicy:
    p = ScalingPolicy(
        name="low_tcp_connections_policy", arn=policy_arn("low_tcp_connections_policy"), policy_type="SimpleScaling",
        adjustment_type="ChangeInCapacity", scaling_adjustment=-1, cooldown=300, alarm_names=(LOW,),
    )
    return dataclasses.replace(p, **changes)


def launches(*seconds: float) -> tuple[ScalingActivity, ...]:
    out = []
    for i, s in enumerate(seconds):
        start = NOW - timedelta(hours=i + 1)
        out.append(ScalingActivity(
            id=f"act-{i}", description=f"Launching a new EC2 instance: i-{i:04x}", cause="an alarm", status="Successful",
            start_time=start, end_time=start + timedelta(seconds=s), progress=100,
        ))
    return tuple(out)


def series(values, period: int = 60) -> MetricSeries:
    start = NOW - timedelta(seconds=period * len(values))
    return MetricSeries(period=period, timestamps=tuple(start + timedelta(seconds=period * i) for i in range(len(values))), values=tuple(values))


def group(min_size: int = 2, max_size: int = 12, desired: int = 4) -> GroupState:
    return GroupState(
        name=ASG, min_size=min_size, max_size=max_size, desired=desired,
        instances=tuple(Instance(id=f"i-{i:04x}", az="us-east-1a", lifecycle="InService", health="Healthy", private_ip=f"10.0.0.{i + 10}") for i in range(desired)),
        target_group_arns=("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/chat/abc",),
    )


def target_group(**changes) -> TargetGroupInfo:
    t = TargetGroupInfo(
        arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/chat/abc", name="chat",
        algorithm="least_outstanding_requests", stickiness_enabled=True, stickiness_type="lb_cookie",
        deregistration_delay=300,
        load_balancer_arns=("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/chat-alb/def",),
        idle_timeout=60,
    )
    return dataclasses.replace(t, **changes)


def healthy(**changes) -> FleetStatus:
    s = FleetStatus(
        fleet="prod-chat", region="us-east-1", taken_at=NOW, group=group(),
        high_alarm=high_alarm(), low_alarm=low_alarm(),
        scale_out_policy=scale_out_policy(), scale_in_policy=scale_in_policy(),
        warm_pool=WarmPool(min_size=2, max_prepared_capacity=None, pool_state="Stopped", reuse_on_scale_in=True),
        scheduled_actions=(ScheduledAction(name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4),),
        activities=launches(120, 130, 110),
        target_groups=(target_group(),),
        metric=series([12000.0] * 60),
    )
    return dataclasses.replace(s, **changes)


def facts(instance_id: str = "i-0000", **changes) -> InstanceFacts:
    f = InstanceFacts(
        instance_id=instance_id, address="10.0.0.10", listening=True, service_pids=(1234,), open_files=1_048_576,
        port_range=(10000, 65535), established=12000, close_wait=3, nginx_present=True, nginx_readable=True,
        nginx_keepalive=(65.0,), silent=(3, 0, 0),
    )
    return dataclasses.replace(f, **changes)
