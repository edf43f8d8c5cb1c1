"""Rule 9: an instance refresh's capacity dip, projected against the scale-out threshold and the ceiling."""

from __future__ import annotations

import math

import pytest

from wsfleet.scaling import project_refresh, refresh_serving


def test_min_healthy_90_of_10_keeps_9_serving_and_spreads_the_batch_over_them():
    p = project_refresh(150, 10, 90, 100, high_threshold=200, capacity=280)
    assert (p.serving, p.batch) == (9, 1)
    assert p.per_instance == pytest.approx(150 * 10 / 9)  # 166.7
    assert not p.reaches_high and not p.over_capacity


def test_the_safe_percentage_is_the_lowest_whose_dip_stays_under_the_threshold():
    # P=70: ceil(7.0)=7 serving, 1500/7 = 214 >= 200; P=71: ceil(7.1)=8 serving, 1500/8 = 187.5
    assert project_refresh(150, 10, 50, 100, 200, 280).safe_min_healthy == 71


def test_a_dip_that_fires_the_scale_out_policy_mid_deploy_is_flagged():
    p = project_refresh(180, 4, 75, 100, high_threshold=200, capacity=280)
    assert (p.serving, p.per_instance) == (3, 240.0)
    assert p.reaches_high
    # with no room above desired, one instance is always out: no percentage is safe
    assert p.safe_min_healthy is None


def test_launching_before_terminating_keeps_every_instance_serving():
    p = project_refresh(180, 4, 100, 150, high_threshold=200, capacity=280)
    assert (p.serving, p.batch, p.per_instance) == (4, 2, 180.0)
    assert not p.reaches_high


def test_a_dip_over_the_ceiling_but_under_the_threshold_is_flagged_as_over_capacity():
    p = project_refresh(200, 3, 50, 100, high_threshold=1000, capacity=280)
    assert p.serving == 2 and p.per_instance == 300.0
    assert p.over_capacity and not p.reaches_high


def test_min_healthy_0_strands_every_connection():
    p = project_refresh(100, 4, 0, 100, 200, 280)
    assert p.serving == 0 and math.isinf(p.per_instance) and p.reaches_high and p.over_capacity


@pytest.mark.parametrize("n, p, m, serving", [(1, 90, 100, 0), (1, 100, 200, 1), (2, 50, 100, 1), (5, 100, 100, 4), (5, 100, 120, 5), (0, 90, 100, 0)])
def test_serving_instances_during_a_batch(n, p, m, serving):
    assert refresh_serving(n, p, m) == serving
