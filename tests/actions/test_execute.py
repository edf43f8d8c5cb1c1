"""The one write path: read-only gate, confirmation, audit, read-back."""

import pytest

from tests.actions.conftest import yes
from wsfleet import actions
from wsfleet.errors import ReadOnlyError


def test_read_only_refuses_every_kind_of_plan_and_logs_it(session, fleet, other, audit):
    from wsfleet.model import ScheduledActionConfig

    before = other.snapshot()
    plans = [
        actions.plan_provision(session, fleet),
        actions.plan_scale(session, fleet, "out", 1),
        actions.plan_schedule_put(session, fleet, ScheduledActionConfig("x", recurrence="0 1 * * *", min_size=1)),
        actions.plan_warm_pool(session, fleet, min_size=1),
    ]
    for plan in plans:
        with pytest.raises(ReadOnlyError) as e:
            actions.execute(plan, confirm=lambda p: pytest.fail("asked to confirm under --read-only"), read_only=True, audit=audit)
        assert e.value.exit_code == 2 and "Nothing was changed" in str(e.value)
    assert other.snapshot() == before
    lines = audit.recent(10)
    assert [l["result"] for l in lines] == ["refused"] * 4
    assert [l["action"] for l in lines] == ["provision", "scale out", "schedule put", "warm-pool set"]


def test_declined_confirmation_changes_nothing(session, fleet, other, audit):
    seen = []
    outcome = actions.execute(actions.plan_scale(session, fleet, "out", 1), confirm=lambda p: seen.append(p.summary) or False,
                              read_only=False, audit=audit)
    assert outcome.status == "declined" and outcome.exit_code == 2
    assert seen == ["Scale prod-chat-asg out from 4 to 5 instances."]
    assert other.group()["DesiredCapacity"] == 4
    assert audit.recent() == []


def test_read_back_mismatch_is_an_error(session, fleet, audit, monkeypatch):
    from wsfleet.aws import fleet as aws_fleet

    monkeypatch.setattr(aws_fleet, "set_desired_capacity", lambda *a, **k: None)  # a write that silently does nothing
    outcome = actions.execute(actions.plan_scale(session, fleet, "out", 2), confirm=yes, read_only=False, audit=audit)
    assert outcome.status == "failed"
    assert outcome.results[0].status == "mismatch"
    assert "desired is 4, not 6" in outcome.error
    assert audit.recent(1)[0]["result"] == "failed"


def test_unwritable_audit_log_stops_the_write_before_aws(session, fleet, other, tmp_path):
    from wsfleet.audit import AuditLog
    from wsfleet.errors import ConfigError

    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="audit log"):
        actions.execute(actions.plan_scale(session, fleet, "out", 1), confirm=yes, read_only=False, audit=AuditLog(tmp_path / "f" / "a.jsonl"))
    assert other.group()["DesiredCapacity"] == 4


def test_plans_are_frozen_data(session, fleet):
    import dataclasses

    plan = actions.plan_scale(session, fleet, "out", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.summary = "x"  # type: ignore[misc]
    change = plan.changes[0]
    assert (change.resource, change.name, change.kind) == ("group", "prod-chat-asg", "update")
    assert change.before == {"min_size": 1, "max_size": 12, "desired": 4} and change.after == {"desired": 5}
