"""`refresh start|cancel|rollback` and the alarms' resume, through the one write path.

moto has no instance refreshes: `FakeRefreshes` answers those four calls on wsfleet's own
autoscaling client (AWS's error codes included), everything else is moto.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.actions.conftest import ASG, yes
from tests.helpers.fake_refreshes import FakeRefreshes
from wsfleet import actions
from wsfleet.aws.refresh import RESUME_TAG
from wsfleet.errors import ReadOnlyError, UsageError, WsfleetError


@pytest.fixture
def refreshes(session):
    return FakeRefreshes().attach(session.client("autoscaling"))


def _put_average(other, fleet, value):
    other.cw.put_metric_data(
        Namespace=fleet.metric.namespace,
        MetricData=[{"MetricName": fleet.metric.name, "Dimensions": [{"Name": "AutoScalingGroupName", "Value": ASG}],
                     "Timestamp": datetime.now(timezone.utc) - timedelta(minutes=1), "Value": value}],
    )


def _start(session, fleet, **options):
    return actions.plan_refresh_start(session, fleet, actions.refresh_request(**options))


# ----------------------------------------------------------------------------- bad input (before any AWS call)


@pytest.mark.parametrize("options, words", [
    ({"min_healthy": "120"}, "--min-healthy 120 is out of range: give a whole percentage from 0 to 100"),
    ({"min_healthy": "lots"}, "--min-healthy 'lots' is not a whole percentage"),
    ({"min_healthy": "90", "max_healthy": "250"}, "--max-healthy 250 is out of range: give a whole percentage from 100 to 200"),
    ({"max_healthy": "150"}, "--max-healthy 150 needs --min-healthy too"),
    ({"min_healthy": "10", "max_healthy": "150"}, "more than 100 points above --min-healthy 10"),
    ({"warmup": "-5"}, "--warmup -5 is out of range"),
    ({"warmup": "soon"}, "--warmup 'soon' is not a whole number of seconds"),
    ({"checkpoints": "50,20"}, "is not strictly ascending"),
    ({"checkpoints": "0,50"}, "holds 0, out of range"),
    ({"checkpoints": "a,b"}, "is not a list of whole percentages"),
    ({"checkpoint_delay": "60"}, "--checkpoint-delay only applies with --checkpoints"),
    ({"checkpoints": "50,100", "checkpoint_delay": "200000"}, "from 0 to 172,800"),
])
def test_each_wrong_refresh_option_is_one_sentence(options, words):
    with pytest.raises(UsageError) as e:
        actions.refresh_request(**options)
    assert words in e.value.message and not re.search(r"\. [A-Z]", e.value.message)  # one sentence


def test_good_options_become_the_preferences_sent():
    r = actions.refresh_request(min_healthy="100", max_healthy="150", warmup="30s", checkpoints="20,50,100", checkpoint_delay="600",
                                skip_matching=True)
    p = r.preferences
    assert (p.min_healthy_percentage, p.max_healthy_percentage, p.instance_warmup, p.checkpoint_percentages, p.checkpoint_delay,
            p.skip_matching, p.auto_rollback) == (100, 150, 30, (20, 50, 100), 600, True, False)


# ----------------------------------------------------------------------------- start


def test_start_previews_the_dip_and_starts_the_refresh(session, fleet, other, refreshes, audit):
    _put_average(other, fleet, 15000)  # 4 instances; min healthy 75: 3 serve, 20,000 each? no: 15000*4/3 = 20,000
    plan = _start(session, fleet, min_healthy="100", max_healthy="125")
    assert any("keeps 4 serving while 1 is replaced at a time: about 15,000 connections each" in n for n in plan.notes)
    assert any("4 in-service instances" in plan.summary for _ in [0])
    outcome = actions.execute(plan, confirm=yes, read_only=False, audit=audit)
    assert outcome.status == "applied", outcome.error
    ((_, sent),) = [c for c in refreshes.calls if c[0] == "StartInstanceRefresh"]
    assert sent["Preferences"]["MinHealthyPercentage"] == 100 and sent["Preferences"]["MaxHealthyPercentage"] == 125
    assert outcome.results[-1].read_back["status"] == "started"
    (entry,) = list(audit.entries())
    assert entry["action"] == "refresh start" and entry["result"] == "applied"


def test_a_dip_that_fires_scale_out_mid_deploy_is_refused_with_the_safe_percentage(session, fleet, other, refreshes):
    _put_average(other, fleet, 16000)  # min healthy 75 of 4: 3 serving at 21,333 >= 20,000
    with pytest.raises(UsageError) as e:
        _start(session, fleet, min_healthy="75")
    message = e.value.message
    assert "3 serving instances would average 21,333 connections" in message
    assert "--min-healthy 100 --max-healthy 125 launches each replacement before terminating" in message
    assert "--force" in message and "Nothing was changed" in message
    assert not [c for c in refreshes.calls if c[0] == "StartInstanceRefresh"]


def test_force_starts_it_anyway_with_the_warning_in_the_plan(session, fleet, other, refreshes, audit):
    _put_average(other, fleet, 16000)
    plan = _start(session, fleet, min_healthy="75", force=True)
    assert any("--force given" in w for w in plan.warnings)
    assert actions.execute(plan, confirm=yes, read_only=False, audit=audit).ok


def test_a_dip_over_the_ceiling_is_refused(session, other, refreshes):
    from tests.actions.conftest import seed_fleet

    fleet = seed_fleet(capacity=18000)
    _put_average(other, fleet, 15000)  # 3 of 4 serving: 20,000 each, over 18,000 and at the threshold
    with pytest.raises(UsageError, match="over the ceiling of 18,000"):
        _start(session, fleet, min_healthy="75")


def test_a_refresh_already_running_is_refused_before_any_write(session, fleet, refreshes):
    refreshes.add("InProgress", 40)
    with pytest.raises(UsageError, match="already in progress on prod-chat-asg"):
        _start(session, fleet)


def test_aws_refusing_the_start_is_one_sentence_and_nothing_is_left_suspended(session, fleet, other, refreshes, audit):
    _put_average(other, fleet, 5000)
    plan = _start(session, fleet, suspend_scaling=True)
    refreshes.fail_start = ("ValidationError", "Instance warmup must be between 0 and 3600.")
    outcome = actions.execute(plan, confirm=yes, read_only=False, audit=audit)
    assert outcome.status == "rolled-back"
    assert "AWS refused the instance refresh of prod-chat-asg: Instance warmup must be between 0 and 3600" in outcome.error
    g = other.group()
    assert g["SuspendedProcesses"] == [] and not [t for t in g.get("Tags", []) if t["Key"] == RESUME_TAG]


def test_suspend_scaling_pauses_alarm_notification_and_tags_the_group(session, fleet, other, refreshes, audit):
    _put_average(other, fleet, 5000)
    plan = _start(session, fleet, suspend_scaling=True)
    assert [c.resource for c in plan.changes] == ["scaling processes", "group tag", "instance refresh"] and plan.atomic
    assert actions.execute(plan, confirm=yes, read_only=False, audit=audit).ok
    g = other.group()
    assert [p["ProcessName"] for p in g["SuspendedProcesses"]] == ["AlarmNotification"]
    assert [t["Key"] for t in g["Tags"]] == [RESUME_TAG]


def test_read_only_refuses_the_start_and_writes_nothing(session, fleet, other, refreshes, audit):
    _put_average(other, fleet, 5000)
    plan = _start(session, fleet, suspend_scaling=True)
    with pytest.raises(ReadOnlyError):
        actions.execute(plan, confirm=yes, read_only=True, audit=audit)
    assert other.group()["SuspendedProcesses"] == []
    assert not [c for c in refreshes.calls if c[0] == "StartInstanceRefresh"]


def test_an_endpoint_without_refreshes_fails_only_the_refresh_command(session, fleet):
    # no FakeRefreshes: stock moto
    with pytest.raises(WsfleetError) as e:
        _start(session, fleet)
    assert "does not implement DescribeInstanceRefreshes" in e.value.message and e.value.exit_code == 3


# ----------------------------------------------------------------------------- cancel, rollback


def test_cancel_and_rollback_need_a_running_refresh(session, fleet, refreshes):
    refreshes.add("Successful", 100)
    with pytest.raises(UsageError, match="no instance refresh is running on prod-chat-asg .the latest, r-\\d+, ended Successful., so there is nothing to cancel"):
        actions.plan_refresh_cancel(session, fleet)
    with pytest.raises(UsageError, match="nothing to roll back"):
        actions.plan_refresh_rollback(session, fleet)


def test_cancel_reads_back_cancelling(session, fleet, refreshes, audit):
    r = refreshes.add("InProgress", 50)
    plan = actions.plan_refresh_cancel(session, fleet)
    assert r["InstanceRefreshId"] in plan.summary and "at 50%" in plan.summary
    outcome = actions.execute(plan, confirm=yes, read_only=False, audit=audit)
    assert outcome.ok and outcome.results[0].read_back["status"] == "cancelling"


def test_rollback_reads_back_rolling_back(session, fleet, refreshes, audit):
    refreshes.add("InProgress", 25)
    outcome = actions.execute(actions.plan_refresh_rollback(session, fleet), confirm=yes, read_only=False, audit=audit)
    assert outcome.ok and outcome.results[0].read_back["status"] == "rolling back"
    assert list(audit.entries())[-1]["action"] == "refresh rollback"


# ----------------------------------------------------------------------------- resuming the alarms


def _group(session):
    from wsfleet.aws.fleet import read_group_sizes

    return read_group_sizes(session, ASG)


def test_alarms_suspended_for_a_refresh_are_resumed_once_it_ended(session, fleet, other, refreshes, audit):
    _put_average(other, fleet, 5000)
    assert actions.execute(_start(session, fleet, suspend_scaling=True), confirm=yes, read_only=False, audit=audit).ok
    running = actions.plan_resume_alarms(session, fleet, _group(session), refreshes_latest(session))
    assert running is None  # still running: nothing to do
    refreshes.refreshes[0]["Status"] = "Successful"
    plan = actions.plan_resume_alarms(session, fleet, _group(session), refreshes_latest(session))
    assert "ended Successful" in plan.summary
    assert actions.execute(plan, confirm=yes, read_only=False, audit=audit).ok
    g = other.group()
    assert g["SuspendedProcesses"] == [] and not g.get("Tags")
    assert actions.plan_resume_alarms(session, fleet, _group(session), refreshes_latest(session)) is None


def test_a_suspension_wsfleet_did_not_make_is_left_alone(session, fleet, other, refreshes):
    other.asg.suspend_processes(AutoScalingGroupName=ASG, ScalingProcesses=["AlarmNotification"])
    assert actions.plan_resume_alarms(session, fleet, _group(session), None) is None


def test_a_resume_tag_with_no_refresh_after_it_is_resumed_after_the_grace(session, fleet, other):
    stamp = (datetime.now(timezone.utc) - timedelta(minutes=11)).isoformat()
    other.asg.suspend_processes(AutoScalingGroupName=ASG, ScalingProcesses=["AlarmNotification"])
    other.asg.create_or_update_tags(Tags=[{"ResourceId": ASG, "ResourceType": "auto-scaling-group", "Key": RESUME_TAG,
                                           "Value": stamp, "PropagateAtLaunch": False}])
    plan = actions.plan_resume_alarms(session, fleet, _group(session), None)
    assert plan is not None and "no instance refresh has run since it was suspended" in plan.summary


def refreshes_latest(session):
    from wsfleet.aws.refresh import read_latest_refresh

    return read_latest_refresh(session, ASG)

