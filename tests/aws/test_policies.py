"""Scaling policies: relative steps round-trip exactly; ARNs come back even where moto omits them."""

from __future__ import annotations

from tests.aws.conftest import ASG
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws import policies
from wsfleet.model import StepAdjustment

SEED_STEPS = (StepAdjustment(0, 5000, 2), StepAdjustment(5000, 10000, 2), StepAdjustment(10000, None, 3))


def test_put_step_policy_returns_its_arn_and_reads_back_relative_steps(session):
    make_fleet(session, instances=1)
    arn = policies.put_step_policy(session, ASG, "high_tcp_connections_policy", SEED_STEPS, warmup=150)
    assert arn.startswith("arn:aws:autoscaling:")
    policy = policies.read_policies(session, ASG)["high_tcp_connections_policy"]
    assert policy.arn == arn
    assert policy.policy_type == "StepScaling"
    assert policy.adjustment_type == "ChangeInCapacity"
    assert policy.steps == SEED_STEPS
    assert (policy.warmup, policy.metric_aggregation_type) == (150, "Average")


def test_put_step_policy_replaces_the_steps(session):
    make_fleet(session, instances=1)
    policies.put_step_policy(session, ASG, "high", SEED_STEPS, warmup=150)
    policies.put_step_policy(session, ASG, "high", (StepAdjustment(0, None, 4),), warmup=60, aggregation="Maximum")
    policy = policies.read_policies(session, ASG)["high"]
    assert policy.steps == (StepAdjustment(0, None, 4),)
    assert (policy.warmup, policy.metric_aggregation_type) == (60, "Maximum")


def test_put_simple_policy_removes_one_with_a_cooldown(session):
    make_fleet(session, instances=1)
    arn = policies.put_simple_policy(session, ASG, "low_tcp_connections_policy", -1, 300)
    policy = policies.read_policies(session, ASG)["low_tcp_connections_policy"]
    assert policy.arn == arn
    assert (policy.policy_type, policy.scaling_adjustment, policy.cooldown) == ("SimpleScaling", -1, 300)
    assert policy.steps == ()


def test_read_policies_of_a_group_without_any_is_empty(session):
    make_fleet(session, instances=1)
    assert policies.read_policies(session, ASG) == {}


def test_read_policies_can_ask_for_some_names(session):
    make_fleet(session, instances=1)
    policies.put_simple_policy(session, ASG, "a", -1, 300)
    policies.put_simple_policy(session, ASG, "b", 1, 300)
    assert list(policies.read_policies(session, ASG, ["b"])) == ["b"]


def test_open_bounds_are_left_out_of_the_request():
    assert policies.steps_to_aws((StepAdjustment(None, 0, -1), StepAdjustment(0, None, 2))) == [
        {"ScalingAdjustment": -1, "MetricIntervalUpperBound": 0.0},
        {"ScalingAdjustment": 2, "MetricIntervalLowerBound": 0.0},
    ]
