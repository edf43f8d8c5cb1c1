"""Imbalance statistics over one sweep of connection counts (the seed's post-deploy question)."""

from __future__ import annotations

import pytest

from wsfleet.balance import DEFAULT_MAX_SKEW, balance_stats, verdict


def test_seed_output_is_balanced():
    # the seed's own script output: 27908, 27784, 25366
    s = balance_stats([27908, 27784, 25366])
    assert s.instances == s.measured == 3
    assert s.total == 81058
    assert s.mean == pytest.approx(27019.33, abs=0.01)
    assert (s.min, s.max) == (25366, 27908)
    assert s.skew == pytest.approx(27908 / (81058 / 3))
    assert s.cv == pytest.approx(0.0433, abs=0.0001)
    assert verdict(s, DEFAULT_MAX_SKEW) == "balanced"


def test_old_instances_keeping_their_connections_after_a_deploy_is_imbalanced():
    s = balance_stats([9000, 9000, 500, 500])
    assert s.mean == 4750
    assert s.skew == pytest.approx(9000 / 4750)
    assert s.cv == pytest.approx(4250 / 4750)
    assert verdict(s, 1.25) == "imbalanced"


def test_an_unmeasured_instance_never_counts_as_zero():
    s = balance_stats([1000, None, 1000])
    assert (s.instances, s.measured, s.total, s.mean, s.min) == (3, 2, 2000, 1000, 1000)
    assert s.skew == 1.0 and s.cv == 0.0
    assert verdict(s, 1.25) == "balanced"


def test_an_idle_fleet_is_balanced_not_undefined():
    s = balance_stats([0, 0, 0])
    assert s.mean == 0 and s.skew == 1.0 and s.cv == 0.0
    assert verdict(s) == "balanced"


def test_a_sweep_that_measured_nothing_fails_the_check():
    s = balance_stats([None, None])
    assert (s.instances, s.measured, s.total, s.mean, s.skew, s.cv) == (2, 0, 0, None, None, None)
    assert verdict(s) == "imbalanced"
    assert balance_stats([]).instances == 0


def test_skew_exactly_at_the_limit_passes():
    s = balance_stats([125, 75])
    assert s.skew == 1.25
    assert verdict(s, 1.25) == "balanced"
    assert verdict(s, 1.2) == "imbalanced"


@pytest.mark.parametrize("bad", [0.9, 0, -1, True, "1.5", float("nan")])
def test_max_skew_below_one_is_refused(bad):
    with pytest.raises(ValueError):
        verdict(balance_stats([1, 1]), bad)


# --------------------------------------------------------------------------- which instances take part


def _row(iid, connections, lifecycle="InService", error=None):
    from wsfleet.model import InstanceCount

    return InstanceCount(iid, "us-east-1a", "127.0.0.1", lifecycle, "Healthy", connections, error)


def test_a_pending_instance_right_after_scale_out_is_not_an_imbalance():
    from wsfleet.balance import sweep_balance, verdict

    rows = [_row("i-1", 400), _row("i-2", 400), _row("i-3", 0, lifecycle="Pending")]
    stats = sweep_balance(rows)
    assert (stats.instances, stats.measured, stats.mean, stats.skew) == (2, 2, 400, 1.0)
    assert verdict(stats) == "balanced"


def test_a_new_in_service_instance_left_empty_after_a_deploy_is_an_imbalance():
    from wsfleet.balance import sweep_balance, verdict

    stats = sweep_balance([_row("i-1", 400), _row("i-2", 400), _row("i-3", 10)])
    assert stats.instances == 3 and verdict(stats) == "imbalanced"


def test_a_row_in_error_is_not_measured_even_if_it_carries_a_number():
    from wsfleet.balance import sweep_balance

    stats = sweep_balance([_row("i-1", 300), _row("i-2", 5, error="parse")])
    assert (stats.instances, stats.measured, stats.total) == (2, 1, 300)
