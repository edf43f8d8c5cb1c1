"""`scale out|in|to`: desired within min..max (ours to check: moto does not), flap projection on scale-in."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.actions.conftest import ASG, yes
from wsfleet import actions
from wsfleet.errors import UsageError


def _apply(plan, audit):
    return actions.execute(plan, confirm=yes, read_only=False, audit=audit)


def _put_average(other, fleet, value, minutes_ago=1):
    other.cw.put_metric_data(
        Namespace=fleet.metric.namespace,
        MetricData=[{"MetricName": fleet.metric.name, "Dimensions": [{"Name": "AutoScalingGroupName", "Value": ASG}],
                     "Timestamp": datetime.now(timezone.utc) - timedelta(minutes=minutes_ago), "Value": value}],
    )


def test_scale_out_sets_desired_capacity(session, fleet, other, audit):
    plan = actions.plan_scale(session, fleet, "out", 2)
    assert plan.summary == f"Scale {ASG} out from 4 to 6 instances."
    assert plan.changes[0].diffs[0].before == 4 and plan.changes[0].diffs[0].after == 6
    outcome = _apply(plan, audit)
    assert outcome.status == "applied"
    assert outcome.results[0].read_back["desired"] == 6
    assert other.group()["DesiredCapacity"] == 6


def test_scale_to_n(session, fleet, other, audit):
    _apply(actions.plan_scale(session, fleet, "to", 7), audit)
    assert other.group()["DesiredCapacity"] == 7


def test_scale_out_past_max_refuses_and_offers_to_raise_max(session, fleet, other):
    with pytest.raises(UsageError) as e:
        actions.plan_scale(session, fleet, "out", 9)
    assert "above its MaxSize 12" in str(e.value) and "--raise-max" in str(e.value)
    assert other.group()["DesiredCapacity"] == 4


def test_raise_max_also_raises_max_size(session, fleet, other, audit):
    plan = actions.plan_scale(session, fleet, "out", 9, raise_max=True)
    assert any("MaxSize goes up from 12 to 13" in w for w in plan.warnings)
    assert _apply(plan, audit).status == "applied"
    g = other.group()
    assert (g["MaxSize"], g["DesiredCapacity"]) == (13, 13)


def test_scale_in_below_min_is_refused(session, fleet):
    with pytest.raises(UsageError, match="below its MinSize 1"):
        actions.plan_scale(session, fleet, "in", 4)


def test_scale_in_projects_the_average_and_warns_on_flap(session, fleet, other):
    _put_average(other, fleet, 16000)  # 4 instances at 16,000 -> 3 at 21,333: past the 20,000 alarm
    plan = actions.plan_scale(session, fleet, "in", 1)
    text = " ".join(plan.notes)
    assert "Current average 16,000 connections per instance from CloudWatch TCP_Connections/TCPconnections" in text
    assert "4 → 3 instances puts about 21,333" in text
    assert any("reaches the scale-out threshold 20,000" in w for w in plan.warnings)
    assert not any("ceiling" in w for w in plan.warnings)


def test_scale_in_warns_over_the_per_instance_ceiling(session, fleet, other):
    _put_average(other, fleet, 15000)  # 4 -> 2: 30,000 each, over 28,000
    plan = actions.plan_scale(session, fleet, "in", 2)
    assert any("over the per-instance ceiling of 28,000" in w for w in plan.warnings)


def test_scale_in_without_a_datapoint_says_so(session, fleet):
    plan = actions.plan_scale(session, fleet, "in", 1)
    assert any("No datapoint in the last 15 minutes" in n for n in plan.notes)
    assert plan.has_changes


def test_safe_scale_in_has_no_warning(session, fleet, other, audit):
    _put_average(other, fleet, 5000)
    plan = actions.plan_scale(session, fleet, "in", 1)
    assert plan.warnings == ()
    _apply(plan, audit)
    assert other.group()["DesiredCapacity"] == 3


def test_scale_to_current_is_no_change(session, fleet, audit):
    plan = actions.plan_scale(session, fleet, "to", 4)
    assert not plan.has_changes
    assert actions.execute(plan, confirm=yes, read_only=False, audit=audit).status == "no-change"
