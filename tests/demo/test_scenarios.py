"""The demo's stories, as numbers: load curves, steps, and the flap story's bad low threshold."""

from __future__ import annotations

import math

import pytest

from wsfleet import scaling
from wsfleet.demo.scenarios import DEFAULT_MAX_CONNECTIONS, MAX_SIZE, MIN_SIZE, SCENARIOS, DemoTiming, Scenario
from wsfleet.model import StepRange


def test_load_is_linear_between_points_and_flat_outside():
    s = Scenario(name="x", summary="", start_instances=2, load=((0, 100), (10, 200), (20, 200)))
    assert s.sessions_at(-1) == 100
    assert s.sessions_at(0) == 100
    assert s.sessions_at(5) == 150
    assert s.sessions_at(10) == 200
    assert s.sessions_at(99) == 200


def test_steps_are_the_seeds_plus_two_plus_two_plus_three_scaled_down():
    assert SCENARIOS["spike"].steps == (StepRange(200, 250, 2), StepRange(250, 300, 2), StepRange(300, None, 3))
    assert scaling.validate_steps(200, SCENARIOS["spike"].steps) == []


def test_every_scenario_stays_within_the_socket_budget_and_group_sizes():
    for s in SCENARIOS.values():
        peak = max(n for _, n in s.load)
        assert peak <= DEFAULT_MAX_CONNECTIONS, s.name
        assert MIN_SIZE <= s.start_instances <= MAX_SIZE, s.name
        assert s.low < s.high < s.capacity, s.name


def test_flap_scenario_low_threshold_fails_the_flap_projection_and_the_others_pass():
    flap = SCENARIOS["flap"]
    assert scaling.flap_unsafe_sizes(flap.low, flap.high, MIN_SIZE, MAX_SIZE) != []
    for name in ("spike", "deploy", "leak"):
        s = SCENARIOS[name]
        assert scaling.flap_unsafe_sizes(s.low, s.high, 2, MAX_SIZE) == [], name


def test_flap_scenario_load_churns_between_sizes():
    flap = SCENARIOS["flap"]
    total = flap.sessions_at(100)
    n = flap.start_instances
    assert total / n <= flap.low  # at the start size the low alarm fires
    assert total / (n - 1) >= flap.high  # one fewer and the high alarm fires


def test_spike_starts_below_the_ceiling_and_ramps_past_the_high_threshold():
    spike = SCENARIOS["spike"]
    n = spike.start_instances
    assert spike.sessions_at(0) / n < spike.high
    assert spike.sessions_at(10) / n >= spike.high


def test_the_deploy_story_releases_once_one_instance_at_a_time():
    deploy = SCENARIOS["deploy"]
    times = [i * 0.5 for i in range(200)]
    fired = [t for prev, t in zip(times, times[1:]) if deploy.deploy_due(prev, t)]
    assert fired == [deploy.deploy.at]
    # MinHealthyPercentage leaves room for exactly one replacement in the 4-instance group
    n = deploy.start_instances
    assert n - math.ceil(n * deploy.deploy.min_healthy / 100) == 1
    assert not any(SCENARIOS[name].deploy_due(0, 1000) for name in ("spike", "flap", "leak"))


@pytest.mark.parametrize("field", ["period"])
def test_alarm_period_is_one_aws_accepts(field):
    assert DemoTiming().period in (10, 30) or DemoTiming().period % 60 == 0
