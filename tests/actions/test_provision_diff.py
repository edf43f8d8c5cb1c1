"""The provision diff, pure: AWS's round-trip quirks must not show up as changes."""

from dataclasses import replace

from tests.actions.conftest import ASG, seed_fleet
from wsfleet.aws.provision import (
    ProvisionState,
    arn_placeholder,
    desired_alarm,
    desired_simple_policy,
    desired_step_policy,
    diff_fleet,
    unmanaged_actions,
)
from wsfleet.model import GroupState, ScheduledAction, StepAdjustment, WarmPool

FLEET = seed_fleet()
STEP_ARN = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:a:autoScalingGroupName/prod-chat-asg:policyName/high_tcp_connections_policy"
SIMPLE_ARN = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:b:autoScalingGroupName/prod-chat-asg:policyName/low_tcp_connections_policy"


def _as_aws_returns_it() -> ProvisionState:
    """What a provisioned fleet reads back as, with the quirks AWS and moto have."""
    step = replace(desired_step_policy(FLEET), arn=STEP_ARN,
                   steps=(StepAdjustment(10000, None, 3), StepAdjustment(0, 5000, 2), StepAdjustment(5000.0, 10000.0, 2)))  # ints, any order
    simple = replace(desired_simple_policy(FLEET), arn=SIMPLE_ARN, adjustment_type=None)  # absent = ChangeInCapacity
    high = replace(desired_alarm(FLEET, "high", STEP_ARN, None), threshold=20000, datapoints_to_alarm=None,  # absent = N
                   state="OK")
    low = replace(desired_alarm(FLEET, "low", SIMPLE_ARN, None), state="ALARM")
    return ProvisionState(
        group=GroupState(ASG, 1, 12, 4),
        policies={step.name: step, simple.name: simple},
        alarms={high.name: high, low.name: low},
        warm_pool=WarmPool(min_size=2, max_prepared_capacity=6, pool_state="Stopped", reuse_on_scale_in=True, status=None),
        scheduled_actions=(ScheduledAction("weekday-morning", "0 7 * * MON-FRI", "Europe/Berlin", None, None, 4, None, 4),),
    )


def test_a_provisioned_fleet_diffs_as_unchanged_despite_round_trip_quirks():
    diffs = diff_fleet(FLEET, _as_aws_returns_it())
    assert [(d.resource, d.kind) for d in diffs] == [
        ("step policy", "unchanged"), ("simple policy", "unchanged"), ("alarm", "unchanged"), ("alarm", "unchanged"),
        ("warm pool", "unchanged"), ("scheduled action", "unchanged")]


def test_empty_account_creates_everything_alarms_waiting_for_policy_arns():
    state = ProvisionState(GroupState(ASG, 1, 12, 4), {}, {}, None, ())
    diffs = diff_fleet(FLEET, state)
    assert {d.kind for d in diffs} == {"create"}
    high = next(d for d in diffs if d.name == FLEET.high_alarm_name)
    assert high.after["alarm_actions"] == [arn_placeholder("high_tcp_connections_policy")]
    step = diffs[0]
    assert step.after["steps"] == [[0.0, 5000.0, 2], [5000.0, 10000.0, 2], [10000.0, None, 3]]  # rule 1


def test_alarm_wired_to_a_stale_policy_is_an_update_of_its_actions_only():
    state = _as_aws_returns_it()
    high = state.alarms[FLEET.high_alarm_name]
    stale = replace(high, alarm_actions=("arn:aws:autoscaling:us-east-1:1:scalingPolicy:old",))
    diffs = diff_fleet(FLEET, replace(state, alarms={**state.alarms, high.name: stale}))
    d = next(d for d in diffs if d.name == high.name)
    assert d.kind == "update"
    assert [k for k in d.after if d.before[k] != d.after[k]] == ["alarm_actions"]
    assert d.desired.alarm_actions == (STEP_ARN,)


def test_sns_and_ok_actions_on_an_alarm_are_kept():
    state = _as_aws_returns_it()
    high = state.alarms[FLEET.high_alarm_name]
    topic = "arn:aws:sns:us-east-1:1:oncall"
    with_topic = replace(high, alarm_actions=(topic, STEP_ARN), ok_actions=(topic,))
    d = next(d for d in diff_fleet(FLEET, replace(state, alarms={**state.alarms, high.name: with_topic})) if d.name == high.name)
    assert d.kind == "unchanged"
    assert set(d.desired.alarm_actions) == {topic, STEP_ARN} and d.desired.ok_actions == (topic,)


def test_a_changed_field_is_named_with_before_and_after():
    fleet = replace(FLEET, scale_in=replace(FLEET.scale_in, cooldown=600))
    d = next(d for d in diff_fleet(fleet, _as_aws_returns_it()) if d.resource == "simple policy")
    assert d.kind == "update" and (d.before["cooldown"], d.after["cooldown"]) == (300, 600)


def test_unlimited_warm_pool_cap_reads_as_none():
    state = replace(_as_aws_returns_it(), warm_pool=WarmPool(2, -1, "Stopped", True))
    fleet = replace(FLEET, warm_pool=replace(FLEET.warm_pool, max_prepared_capacity=None))
    d = next(d for d in diff_fleet(fleet, state) if d.resource == "warm pool")
    assert d.kind == "unchanged"


def test_scheduled_action_without_time_zone_equals_utc():
    fleet = replace(FLEET, schedule=(replace(FLEET.schedule[0], time_zone="UTC"),))
    state = _as_aws_returns_it()
    state = replace(state, scheduled_actions=(replace(state.scheduled_actions[0], time_zone=None),))
    assert next(d for d in diff_fleet(fleet, state) if d.resource == "scheduled action").kind == "unchanged"


def test_actions_not_in_the_config_are_listed_not_touched():
    state = replace(_as_aws_returns_it(), scheduled_actions=_as_aws_returns_it().scheduled_actions + (ScheduledAction("manual-xmas"),))
    assert unmanaged_actions(FLEET, state) == ["manual-xmas"]
    assert "manual-xmas" not in [d.name for d in diff_fleet(FLEET, state)]
