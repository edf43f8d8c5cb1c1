"""`thresholds set`: threshold and steps move together (rule 2); alarm + policy are one change."""

import pytest
from botocore.exceptions import ClientError

from tests.actions.conftest import yes
from wsfleet import actions
from wsfleet.errors import UsageError

HIGH = "prod-chat-high-tcp-connections"
LOW = "prod-chat-low-tcp-connections"
POLICY = "high_tcp_connections_policy"


@pytest.fixture
def provisioned(session, fleet, audit):
    outcome = actions.execute(actions.plan_provision(session, fleet), confirm=yes, read_only=False, audit=audit)
    assert outcome.ok
    return session


def _steps(other):
    return [(s.get("MetricIntervalLowerBound"), s.get("MetricIntervalUpperBound"), s["ScalingAdjustment"])
            for s in other.policy(POLICY)["StepAdjustments"]]


def test_high_alone_keeps_the_relative_bounds(provisioned, fleet, other, audit):
    plan = actions.plan_thresholds(provisioned, fleet, high=22000)
    kinds = {c.label: c.kind for c in plan.changes}
    assert kinds == {f"alarm {HIGH}": "update", f"step policy {POLICY}": "unchanged"}
    assert "Steps after: 22,000–27,000: +2, 27,000–32,000: +2, 32,000–∞: +3 (same widths" in " ".join(plan.notes)
    assert actions.execute(plan, confirm=yes, read_only=False, audit=audit).status == "applied"
    assert other.alarm(HIGH)["Threshold"] == 22000.0
    assert _steps(other) == [(0.0, 5000.0, 2), (5000.0, 10000.0, 2), (10000.0, None, 3)]


def test_steps_are_absolute_and_sent_relative(provisioned, fleet, other, audit):
    plan = actions.plan_thresholds(provisioned, fleet, high=22000, steps="22000:25000:+2,25000:30000:+2,30000::+3")
    assert [c.kind for c in plan.changes] == ["update", "update"]
    assert actions.execute(plan, confirm=yes, read_only=False, audit=audit).status == "applied"
    assert other.alarm(HIGH)["Threshold"] == 22000.0
    assert _steps(other) == [(0.0, 3000.0, 2), (3000.0, 8000.0, 2), (8000.0, None, 3)]


def test_steps_must_start_at_the_new_threshold(provisioned, fleet):
    with pytest.raises(Exception) as e:
        actions.plan_thresholds(provisioned, fleet, high=22000, steps="20000:25000:+2,25000::+3")
    assert "22000" in str(e.value) or "22,000" in str(e.value)


def test_steps_without_high_must_start_at_the_current_threshold(provisioned, fleet):
    with pytest.raises(UsageError):
        actions.plan_thresholds(provisioned, fleet, steps="21000:25000:+2,25000::+3")


def test_low_alone(provisioned, fleet, other, audit):
    plan = actions.plan_thresholds(provisioned, fleet, low=8000)
    assert [c.label for c in plan.pending] == [f"alarm {LOW}"]
    actions.execute(plan, confirm=yes, read_only=False, audit=audit)
    assert other.alarm(LOW)["Threshold"] == 8000.0
    assert other.alarm(LOW)["AlarmActions"] == [other.policy("low_tcp_connections_policy")["PolicyARN"]]


def test_low_at_or_above_current_high_is_refused(provisioned, fleet):
    with pytest.raises(UsageError, match="must stay below the high threshold 20,000"):
        actions.plan_thresholds(provisioned, fleet, low=20000)


def test_flap_projection_is_shown(provisioned, fleet):
    plan = actions.plan_thresholds(provisioned, fleet, low=12000)  # 2 -> 1 at 12,000 leaves 24,000 > 20,000
    assert any(w.startswith("Flap risk") and "group of 2" in w for w in plan.warnings)
    safe = actions.plan_thresholds(provisioned, fleet, low=9000)
    assert safe.warnings == () and any(n.startswith("Flap check") for n in safe.notes)


def test_failed_policy_write_restores_the_alarm(provisioned, fleet, other, audit):
    def fail(**kwargs):
        raise ClientError({"Error": {"Code": "ValidationError", "Message": "injected failure"}}, "PutScalingPolicy")

    provisioned.client("autoscaling").meta.events.register("before-call.autoscaling.PutScalingPolicy", fail)
    plan = actions.plan_thresholds(provisioned, fleet, high=22000, steps="22000:26000:+2,26000::+3")
    outcome = actions.execute(plan, confirm=yes, read_only=False, audit=audit)
    assert outcome.status == "rolled-back"
    assert "injected failure" in outcome.error and f"restored alarm {HIGH} as it was" in outcome.error
    assert {r.change.label: r.status for r in outcome.results} == {f"alarm {HIGH}": "rolled-back", f"step policy {POLICY}": "failed"}
    assert other.alarm(HIGH)["Threshold"] == 20000.0  # the first write was undone
    assert _steps(other) == [(0.0, 5000.0, 2), (5000.0, 10000.0, 2), (10000.0, None, 3)]
    assert audit.recent(1)[0]["result"] == "rolled-back"


def test_thresholds_need_provisioned_alarms(session, fleet):
    with pytest.raises(UsageError, match="run `wsfleet provision` first"):
        actions.plan_thresholds(session, fleet, high=22000)


def test_config_drift_is_noted(provisioned, fleet):
    plan = actions.plan_thresholds(provisioned, fleet, high=22000)
    assert any("a later `wsfleet provision` puts them back" in n for n in plan.notes)
