"""`provision`: the seed's Terraform, from the config, idempotent, honest about partial failure."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.actions.conftest import ASG, seed_fleet, yes
from wsfleet import actions
from wsfleet.model import StepRange


def _provision(session, fleet, audit):
    plan = actions.plan_provision(session, fleet)
    return plan, actions.execute(plan, confirm=yes, read_only=False, audit=audit)


def test_provision_creates_what_the_seed_built_in_terraform(session, fleet, other, audit):
    plan, outcome = _provision(session, fleet, audit)
    assert outcome.status == "applied", outcome.error
    assert [c.kind for c in plan.changes] == ["create"] * 6

    step = other.policy("high_tcp_connections_policy")
    assert step["PolicyType"] == "StepScaling" and step["AdjustmentType"] == "ChangeInCapacity"
    assert step["EstimatedInstanceWarmup"] == 150
    # rule 1: bounds relative to the 20,000 threshold
    assert step["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 5000.0, "ScalingAdjustment": 2},
        {"MetricIntervalLowerBound": 5000.0, "MetricIntervalUpperBound": 10000.0, "ScalingAdjustment": 2},
        {"MetricIntervalLowerBound": 10000.0, "ScalingAdjustment": 3},
    ]
    simple = other.policy("low_tcp_connections_policy")
    assert (simple["PolicyType"], simple["ScalingAdjustment"], simple["Cooldown"]) == ("SimpleScaling", -1, 300)

    high = other.alarm("prod-chat-high-tcp-connections")
    assert high["AlarmActions"] == [step["PolicyARN"]]
    assert (high["Threshold"], high["ComparisonOperator"]) == (20000.0, "GreaterThanOrEqualToThreshold")
    assert (high["Namespace"], high["MetricName"], high["Statistic"]) == ("TCP_Connections", "TCPconnections", "Average")
    assert high["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": ASG}]
    assert (high["Period"], high["EvaluationPeriods"], high["DatapointsToAlarm"], high["TreatMissingData"]) == (60, 5, 5, "missing")
    low = other.alarm("prod-chat-low-tcp-connections")
    assert low["AlarmActions"] == [simple["PolicyARN"]]
    assert (low["Threshold"], low["ComparisonOperator"], low["Period"], low["TreatMissingData"]) == (
        9500.0, "LessThanOrEqualToThreshold", 300, "notBreaching")

    assert other.warm_pool() == {"MinSize": 2, "MaxGroupPreparedCapacity": 6, "PoolState": "Stopped",
                                 "InstanceReusePolicy": {"ReuseOnScaleIn": True}}
    action = other.actions()["weekday-morning"]
    assert (action["Recurrence"], action["TimeZone"], action["MinSize"], action["DesiredCapacity"]) == (
        "0 7 * * MON-FRI", "Europe/Berlin", 4, 4)


def test_second_provision_plans_no_change(session, fleet, audit):
    _provision(session, fleet, audit)
    again = actions.plan_provision(session, fleet)
    assert [c.kind for c in again.changes] == ["unchanged"] * 6
    assert not again.has_changes
    outcome = actions.execute(again, confirm=lambda p: pytest.fail("asked to confirm nothing"), read_only=False, audit=audit)
    assert outcome.status == "no-change"
    assert len(audit.recent(10)) == 1  # only the first run wrote


def test_provision_after_a_config_change_updates_field_by_field(session, fleet, audit, other):
    _provision(session, fleet, audit)
    changed = seed_fleet(scale_out=fleet.scale_out.__class__(threshold=22000, steps=(StepRange(22000, 26000, 2), StepRange(26000, None, 3))))
    plan = actions.plan_provision(session, changed)
    kinds = {c.label: c.kind for c in plan.changes}
    assert kinds["alarm prod-chat-high-tcp-connections"] == "update"
    assert kinds["step policy high_tcp_connections_policy"] == "update"
    assert kinds["alarm prod-chat-low-tcp-connections"] == "unchanged"
    high = next(c for c in plan.changes if c.name == "prod-chat-high-tcp-connections")
    assert [(d.field, d.before, d.after) for d in high.diffs] == [("threshold", 20000.0, 22000.0)]
    outcome = actions.execute(plan, confirm=yes, read_only=False, audit=audit)
    assert outcome.status == "applied"
    assert other.alarm("prod-chat-high-tcp-connections")["Threshold"] == 22000.0
    assert other.policy("high_tcp_connections_policy")["StepAdjustments"][-1] == {"MetricIntervalLowerBound": 4000.0, "ScalingAdjustment": 3}


def test_planning_writes_nothing(session, fleet, other):
    before = other.snapshot()
    actions.plan_provision(session, fleet)
    assert other.snapshot() == before


def test_provision_keeps_an_alarms_sns_action(session, fleet, audit, other):
    _provision(session, fleet, audit)
    high = other.alarm("prod-chat-high-tcp-connections")
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"
    other.cw.put_metric_alarm(**{k: high[k] for k in ("AlarmName", "ComparisonOperator", "EvaluationPeriods", "DatapointsToAlarm",
                                                      "MetricName", "Namespace", "Period", "Statistic", "Threshold", "Dimensions",
                                                      "TreatMissingData")},
                              AlarmActions=high["AlarmActions"] + [topic])
    assert not actions.plan_provision(session, fleet).has_changes
    changed = seed_fleet(scale_out=fleet.scale_out.__class__(threshold=21000, steps=(StepRange(21000, None, 2),)))
    actions.execute(actions.plan_provision(session, changed), confirm=yes, read_only=False, audit=audit)
    assert topic in other.alarm("prod-chat-high-tcp-connections")["AlarmActions"]


def test_access_denied_mid_provision_says_what_was_and_wasnt_applied(session, fleet, audit, other):
    def deny(**kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: cloudwatch:PutMetricAlarm"}}, "PutMetricAlarm")

    session.client("cloudwatch").meta.events.register("before-call.cloudwatch.PutMetricAlarm", deny)
    plan, outcome = _provision(session, fleet, audit)
    assert outcome.status == "failed"
    statuses = {r.change.label: r.status for r in outcome.results}
    assert statuses == {
        "step policy high_tcp_connections_policy": "applied",
        "simple policy low_tcp_connections_policy": "applied",
        "alarm prod-chat-high-tcp-connections": "failed",
        "alarm prod-chat-low-tcp-connections": "not-applied",
        "warm pool prod-chat-asg": "not-applied",
        "scheduled action weekday-morning": "not-applied",
    }
    assert "cloudwatch:PutMetricAlarm" in outcome.error
    assert "Applied before it: step policy high_tcp_connections_policy, simple policy low_tcp_connections_policy" in outcome.error
    assert "Not applied: alarm prod-chat-low-tcp-connections, warm pool prod-chat-asg, scheduled action weekday-morning" in outcome.error
    assert other.policy("high_tcp_connections_policy") is not None and other.alarm("prod-chat-high-tcp-connections") is None
    line = audit.recent(1)[0]
    assert line["result"] == "failed" and "cloudwatch:PutMetricAlarm" in line["error"]
    # after the permission is fixed, the next run finishes the job
    session.client("cloudwatch").meta.events.unregister("before-call.cloudwatch.PutMetricAlarm", deny)
    rerun = actions.plan_provision(session, fleet)
    assert [c.kind for c in rerun.changes] == ["unchanged", "unchanged", "create", "create", "create", "create"]


def test_throttled_write_is_retried_and_lands(session, fleet, audit, other):
    from botocore.awsrequest import AWSResponse

    attempts = []

    class _Raw:
        def stream(self, **_):
            yield b""

    def throttle_once(request, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            body = (b'<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>'
                    b'<RequestId>x</RequestId></ErrorResponse>')
            response = AWSResponse(request.url, 400, {}, _Raw())
            response._content = body
            return response
        return None

    client = session.client("autoscaling")
    client.meta.events.register_first("before-send.auto-scaling.PutScalingPolicy", throttle_once)
    plan, outcome = _provision(session, fleet, audit)
    assert outcome.status == "applied", outcome.error
    assert len(attempts) >= 3  # throttled once, retried, then the second policy
    assert other.policy("high_tcp_connections_policy") is not None


def test_audit_line_holds_before_after_and_caller(session, fleet, audit):
    _provision(session, fleet, audit)
    line = audit.recent(1)[0]
    assert set(line) >= {"time", "caller", "fleet", "action", "before", "after", "result", "error"}
    assert line["caller"].startswith("arn:aws:")
    assert line["action"] == "provision" and line["fleet"] == "prod-chat" and line["result"] == "applied"
    assert line["after"]["alarm prod-chat-high-tcp-connections"]["alarm_actions"][0].startswith("arn:aws:autoscaling:")
    raw = audit.path.read_text()
    assert raw.count("\n") == 1 and json.loads(raw)
