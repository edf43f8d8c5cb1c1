"""Scheduled actions and the warm pool: validated, planned, written, read back."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.actions.conftest import yes
from wsfleet import actions
from wsfleet.errors import UsageError
from wsfleet.model import ScheduledActionConfig


def _apply(plan, audit):
    outcome = actions.execute(plan, confirm=yes, read_only=False, audit=audit)
    assert outcome.ok, outcome.error
    return outcome


def test_schedule_put_creates_then_replaces(session, fleet, other, audit):
    action = ScheduledActionConfig("evening", recurrence="0 18 * * *", time_zone="America/New_York", min_size=2, max_size=8, desired_capacity=3)
    plan = actions.plan_schedule_put(session, fleet, action)
    assert plan.changes[0].kind == "create"
    assert any(n.startswith("Next run:") for n in plan.notes)
    _apply(plan, audit)
    got = other.actions()["evening"]
    assert (got["Recurrence"], got["TimeZone"], got["MinSize"], got["MaxSize"], got["DesiredCapacity"]) == ("0 18 * * *", "America/New_York", 2, 8, 3)
    assert not actions.plan_schedule_put(session, fleet, action).has_changes

    # dropping a field needs delete + put (AWS keeps fields an update leaves out)
    smaller = ScheduledActionConfig("evening", recurrence="0 19 * * *", desired_capacity=3)
    plan = actions.plan_schedule_put(session, fleet, smaller)
    assert plan.changes[0].kind == "update"
    _apply(plan, audit)
    got = other.actions()["evening"]
    assert (got["Recurrence"], got.get("TimeZone"), got.get("MinSize"), got.get("MaxSize"), got["DesiredCapacity"]) == ("0 19 * * *", None, None, None, 3)


def test_schedule_put_with_start_and_end(session, fleet, other, audit):
    start = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    action = ScheduledActionConfig("launch-day", recurrence="0 6 * * *", min_size=6, start_time=start, end_time=start + timedelta(days=3))
    _apply(actions.plan_schedule_put(session, fleet, action), audit)
    got = other.actions()["launch-day"]
    assert got["StartTime"].astimezone(timezone.utc) == start
    assert not actions.plan_schedule_put(session, fleet, action).has_changes


def test_schedule_desired_outside_the_groups_bounds_is_refused(session, fleet, other):
    with pytest.raises(UsageError, match=r"desired capacity 20 is outside the bounds it would run with \(1..12\)"):
        actions.plan_schedule_put(session, fleet, ScheduledActionConfig("big", recurrence="0 7 * * *", desired_capacity=20))
    with pytest.raises(UsageError, match="min size 14 is above the group's max size 12"):
        actions.plan_schedule_put(session, fleet, ScheduledActionConfig("big", recurrence="0 7 * * *", min_size=14))
    assert "big" not in other.actions()


def test_schedule_delete(session, fleet, other, audit):
    _apply(actions.plan_schedule_put(session, fleet, ScheduledActionConfig("tmp", recurrence="0 1 * * *", min_size=1)), audit)
    plan = actions.plan_schedule_delete(session, fleet, "tmp")
    assert plan.changes[0].kind == "delete"
    _apply(plan, audit)
    assert "tmp" not in other.actions()


def test_schedule_delete_unknown_name(session, fleet):
    with pytest.raises(UsageError, match="has no scheduled action named 'nope'"):
        actions.plan_schedule_delete(session, fleet, "nope")


def test_schedule_delete_of_a_configured_action_warns_that_provision_brings_it_back(session, fleet, audit):
    _apply(actions.plan_provision(session, fleet), audit)
    plan = actions.plan_schedule_delete(session, fleet, "weekday-morning")
    assert any("creates it again" in n for n in plan.notes)


def test_warm_pool_set_creates_and_changes_fields(session, fleet, other, audit):
    _apply(actions.plan_warm_pool(session, fleet, min_size=3, pool_state="Hibernated"), audit)
    assert other.warm_pool() == {"MinSize": 3, "MaxGroupPreparedCapacity": 6, "PoolState": "Hibernated",
                                 "InstanceReusePolicy": {"ReuseOnScaleIn": True}}
    plan = actions.plan_warm_pool(session, fleet, max_prepared_capacity=None, reuse_on_scale_in=False)
    assert [(d.field, d.before, d.after) for d in plan.changes[0].diffs] == [
        ("max_prepared_capacity", 6, None), ("reuse_on_scale_in", True, False)]
    _apply(plan, audit)
    pool = other.warm_pool()
    assert pool["MinSize"] == 3 and pool.get("MaxGroupPreparedCapacity", -1) == -1
    assert pool["InstanceReusePolicy"] == {"ReuseOnScaleIn": False}
    assert not actions.plan_warm_pool(session, fleet, min_size=3).has_changes


def test_warm_pool_cap_below_desired_is_explained(session, fleet):
    plan = actions.plan_warm_pool(session, fleet, max_prepared_capacity=4)
    assert any("counts in-service instances too" in w for w in plan.all_warnings)


def test_failed_replace_puts_the_old_action_back(session, fleet, other, audit):
    from botocore.exceptions import ClientError

    old = ScheduledActionConfig("evening", recurrence="0 18 * * *", min_size=2, max_size=8)
    _apply(actions.plan_schedule_put(session, fleet, old), audit)
    puts = []

    def fail_first_put(**kwargs):
        puts.append(1)
        if len(puts) == 1:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": "injected"}}, "PutScheduledUpdateGroupAction")

    session.client("autoscaling").meta.events.register("before-call.autoscaling.PutScheduledUpdateGroupAction", fail_first_put)
    plan = actions.plan_schedule_put(session, fleet, ScheduledActionConfig("evening", recurrence="0 19 * * *", min_size=2))
    outcome = actions.execute(plan, confirm=lambda p: True, read_only=False, audit=audit)
    assert outcome.status == "failed" and "the old action was put back as it was" in outcome.error
    got = other.actions()["evening"]
    assert (got["Recurrence"], got["MinSize"], got["MaxSize"]) == ("0 18 * * *", 2, 8)
