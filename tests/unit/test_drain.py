"""Where a drained instance's connections land (rule 9): round robin vs least outstanding requests."""

from __future__ import annotations

import pytest

from wsfleet.drain import LEAST_OUTSTANDING, ROUND_ROBIN, choose_drains, project_drain, skew, spread_least_outstanding, spread_round_robin


def test_round_robin_gives_each_other_instance_an_equal_share():
    # 280 over 3: 93 each, the one left over to the coldest
    assert spread_round_robin({"a": 280, "b": 100, "c": 100}, 280) == {"a": 373, "b": 194, "c": 193}


def test_least_outstanding_fills_the_emptiest_first_to_a_common_level():
    # 100 and 100 rise to 240 (280 = 2 * 140); the 280 gets nothing
    assert spread_least_outstanding({"a": 280, "b": 100, "c": 100}, 280) == {"a": 280, "b": 240, "c": 240}
    # 0 fills to 240 (240), then all three share the last 40: 13 each and one more, by id among the lowest
    assert spread_least_outstanding({"a": 240, "b": 240, "c": 0}, 280) == {"a": 253, "b": 253, "c": 254}


def test_water_filling_keeps_every_connection():
    others = {"a": 7, "b": 50, "c": 3, "d": 200}
    assert sum(spread_least_outstanding(others, 123).values()) == sum(others.values()) + 123


def test_a_drain_returns_the_instance_empty_and_keeps_the_mean():
    p = project_drain({"old": 270, "n1": 20, "n2": 10}, "old", LEAST_OUTSTANDING, threshold=200, capacity=280)
    assert p.during == {"n1": 150, "n2": 150} and p.after == {"n1": 150, "n2": 150, "old": 0}
    assert p.skew_before == pytest.approx(270 / 100) and p.skew_after == pytest.approx(150 / 100)
    assert p.average_during == 150 and p.safe


def test_a_drain_that_pushes_an_instance_over_the_ceiling_is_unsafe():
    # round robin: the second old instance gets 280/3 = 93 more -> 363 > 280
    p = project_drain({"o1": 280, "o2": 270, "n1": 20, "n2": 10}, "o1", ROUND_ROBIN, threshold=1000, capacity=280)
    assert p.over_capacity == ("o2",) and p.during["o2"] == 363 and not p.safe


def test_a_drain_that_lifts_the_average_to_the_scale_out_threshold_is_unsafe():
    # 4 x 160 = 640 over 3 serving: 213 >= 200
    p = project_drain({"a": 160, "b": 160, "c": 160, "d": 160}, "a", LEAST_OUTSTANDING, threshold=200, capacity=1000)
    assert p.average_during == pytest.approx(640 / 3) and p.reaches_high and not p.safe


def test_least_outstanding_drains_both_old_instances_and_stops_when_nothing_improves():
    choice = choose_drains({"o1": 280, "o2": 270, "n1": 20, "n2": 10}, LEAST_OUTSTANDING,
                           target_skew=1.25, max_drains=5, threshold=200, capacity=280)
    assert [s.instance for s in choice.steps] == ["o1", "o2"]
    assert choice.steps[0].during == {"o2": 270, "n1": 155, "n2": 155}
    assert choice.steps[1].after == {"n1": 193, "n2": 193, "o1": 194, "o2": 0}
    assert "would not lower the skew" in choice.stop_reason


def test_round_robin_refuses_the_first_drain_at_the_ceiling():
    choice = choose_drains({"o1": 280, "o2": 270, "n1": 20, "n2": 10}, ROUND_ROBIN,
                           target_skew=1.25, max_drains=5, threshold=200, capacity=280)
    assert choice.steps == ()
    assert choice.stop_reason == "draining o1 (280 connections) is not safe: o2 would reach 363 connections, over the ceiling of 280."


def test_max_drains_and_an_even_fleet_stop_the_sequence():
    uneven = {"o1": 280, "o2": 270, "n1": 20, "n2": 10}
    one = choose_drains(uneven, LEAST_OUTSTANDING, target_skew=1.0, max_drains=1, threshold=200, capacity=280)
    assert len(one.steps) == 1 and "--max-drains 1 reached" in one.stop_reason
    even = choose_drains({"a": 100, "b": 100}, LEAST_OUTSTANDING, target_skew=1.25, max_drains=3, threshold=200, capacity=280)
    assert even.steps == () and "at or under the target" in even.stop_reason
    assert skew({"a": 0, "b": 0}) is None


def test_two_instances_tied_at_the_top_are_both_drained():
    # draining the first 280 leaves the max at 280 (the other), but less load above the mean
    counts = {"a": 280, "b": 280, "c": 20, "d": 20, "e": 20, "f": 20}
    choice = choose_drains(counts, LEAST_OUTSTANDING, target_skew=1.25, max_drains=5, threshold=200, capacity=400)
    assert [s.instance for s in choice.steps][:2] == ["b", "a"] or [s.instance for s in choice.steps][:2] == ["a", "b"]
    assert choice.steps[1].skew_after < choice.steps[0].skew_before
