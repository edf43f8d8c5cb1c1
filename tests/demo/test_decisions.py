"""What the demo's Auto Scaling decides: steps with warm-up, simple policy cooldown, pool size, boot timers."""

from __future__ import annotations

from datetime import datetime, timezone

from wsfleet.demo import decisions
from wsfleet.demo.scenarios import DemoTiming
from wsfleet.model import StepRange

STEP_2 = StepRange(200, 250, 2)
STEP_3 = StepRange(300, None, 3)


def test_step_policy_adds_the_step_to_desired():
    d = decisions.step_scale_out(step=STEP_3, adjustment_type="ChangeInCapacity", desired=2, max_size=12, now=100, warmup=20, last=None)
    assert d.desired == 5


def test_step_policy_waits_while_its_last_scale_out_warms_up():
    last = decisions.ScaleOut(at=95, from_capacity=2, to_capacity=5)
    d = decisions.step_scale_out(step=STEP_2, adjustment_type="ChangeInCapacity", desired=5, max_size=12, now=100, warmup=20, last=last)
    assert d.desired is None and "warming up" in d.why


def test_a_larger_step_during_warm_up_adds_only_the_difference():
    last = decisions.ScaleOut(at=95, from_capacity=2, to_capacity=4)
    d = decisions.step_scale_out(step=STEP_3, adjustment_type="ChangeInCapacity", desired=4, max_size=12, now=100, warmup=20, last=last)
    assert d.desired == 5  # 2 + 3, not 4 + 3


def test_after_warm_up_the_step_applies_again():
    last = decisions.ScaleOut(at=70, from_capacity=2, to_capacity=4)
    d = decisions.step_scale_out(step=STEP_2, adjustment_type="ChangeInCapacity", desired=4, max_size=12, now=100, warmup=20, last=last)
    assert d.desired == 6


def test_scale_out_stops_at_max_size_and_says_so():
    d = decisions.step_scale_out(step=STEP_3, adjustment_type="ChangeInCapacity", desired=11, max_size=12, now=0, warmup=0, last=None)
    assert d.desired == 12 and "capped at max 12" in d.why
    d = decisions.step_scale_out(step=STEP_3, adjustment_type="ChangeInCapacity", desired=12, max_size=12, now=0, warmup=0, last=None)
    assert d.desired is None and "max size 12" in d.why


def test_no_step_no_change():
    d = decisions.step_scale_out(step=None, adjustment_type=None, desired=3, max_size=12, now=0, warmup=0, last=None)
    assert d.desired is None


def test_simple_policy_removes_one_then_waits_out_its_cooldown():
    kw = dict(adjustment=-1, adjustment_type="ChangeInCapacity", min_size=1, cooldown=20, last_scale_out=None, warmup=20)
    assert decisions.simple_scale_in(desired=5, now=100, last_scale_in=None, **kw).desired == 4
    waiting = decisions.simple_scale_in(desired=4, now=110, last_scale_in=100, **kw)
    assert waiting.desired is None and "cooldown" in waiting.why
    assert decisions.simple_scale_in(desired=4, now=121, last_scale_in=100, **kw).desired == 3


def test_simple_policy_never_goes_below_min_size_nor_removes_warming_capacity():
    kw = dict(adjustment=-1, adjustment_type="ChangeInCapacity", cooldown=0, last_scale_in=None, warmup=20)
    assert decisions.simple_scale_in(desired=1, min_size=1, now=0, last_scale_out=None, **kw).desired is None
    warming = decisions.ScaleOut(at=95, from_capacity=3, to_capacity=5)
    assert decisions.simple_scale_in(desired=5, min_size=1, now=100, last_scale_out=warming, **kw).desired is None


def test_adjustment_types():
    assert decisions.new_capacity("ChangeInCapacity", 2, 3) == 5
    assert decisions.new_capacity("ExactCapacity", 7, 3) == 7
    assert decisions.new_capacity("PercentChangeInCapacity", 50, 4) == 6
    assert decisions.new_capacity("PercentChangeInCapacity", 10, 4) == 5  # below one instance rounds to one


def test_warm_pool_size_is_max_prepared_minus_desired_but_at_least_min():
    assert decisions.warm_pool_size(min_size=2, max_prepared=6, desired=2, max_size=12) == 4
    assert decisions.warm_pool_size(min_size=2, max_prepared=6, desired=5, max_size=12) == 2
    assert decisions.warm_pool_size(min_size=0, max_prepared=None, desired=4, max_size=12) == 8


def test_instances_boot_fast_from_the_warm_pool_and_slowly_cold():
    t = DemoTiming()
    rows = [
        ("i-warm", "Pending", "warm-pool", 100.0),
        ("i-cold", "Pending", "launch", 100.0),
        ("i-pool", "Warmed:Pending", "warm-pool", 100.0),
        ("i-up", "InService", "initial", 0.0),
    ]
    assert decisions.due_transitions(rows, pool_state="Stopped", now=100 + t.warm_start, timing=t) == [("i-warm", "InService")]
    later = decisions.due_transitions(rows, pool_state="Stopped", now=100 + t.cold_launch, timing=t)
    assert set(later) == {("i-warm", "InService"), ("i-cold", "InService"), ("i-pool", "Warmed:Stopped")}


def test_alarm_reason_reads_like_cloudwatchs():
    at = datetime(2026, 11, 26, 9, 0, 10, tzinfo=timezone.utc)
    text = decisions.alarm_reason(
        [(at, 212.5), (at.replace(second=20), 230.0)], threshold=200, comparison="GreaterThanOrEqualToThreshold",
        datapoints_to_alarm=2, evaluation_periods=2, old="OK", new="ALARM",
    )
    assert text.startswith("Threshold Crossed: 2 out of the last 2 datapoints [230 (26/11/26 09:00:20), 212.5 (26/11/26 09:00:10)]")
    assert "greater than or equal to the threshold (200)" in text
