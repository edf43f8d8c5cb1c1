"""The instance-refresh calls moto lacks, as the demo's moto answers them: through boto3 (and raw
HTTP for the XML), with AWS's shapes, defaults, validation and error codes; launch template
versions per instance; and the engine honouring a suspended AlarmNotification."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.demo.conftest import fleet_config
from wsfleet.demo import bootstrap

REGION = "ap-southeast-2"  # this module's own: the demo backend is enabled per account and region


def _error(excinfo) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def _query(world, action: str, **params) -> tuple[int, str]:
    """One raw query-protocol request, as any AWS client sends it (moto reads the region from the
    credential scope and does not check the signature)."""
    body = urllib.parse.urlencode({"Action": action, "Version": "2011-01-01", **params}).encode()
    request = urllib.request.Request(world.server.endpoint_url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=demo/20260101/{REGION}/autoscaling/aws4_request, SignedHeaders=host, Signature=0",
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# ------------------------------------------------------------------------------- round trips


def test_start_then_describe_shows_the_refresh_pending_with_awss_default_preferences(world):
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    refresh_id = world.start()
    (refresh,) = world.describe()
    assert refresh["InstanceRefreshId"] == refresh_id and re.fullmatch(r"[0-9a-f-]{36}", refresh_id)
    assert refresh["AutoScalingGroupName"] == world.name
    assert refresh["Status"] == "Pending" and refresh["Strategy"] == "Rolling"
    assert refresh["StartTime"] >= before and "EndTime" not in refresh
    assert (refresh["PercentageComplete"], refresh["InstancesToUpdate"]) == (0, 4)
    assert refresh["ProgressDetails"]["LivePoolProgress"] == {"PercentageComplete": 0, "InstancesToUpdate": 4}
    assert refresh["Preferences"] == {
        "MinHealthyPercentage": 90, "SkipMatching": False, "AutoRollback": False,
        "ScaleInProtectedInstances": "Wait", "StandbyInstances": "Wait",
    }
    assert "DesiredConfiguration" not in refresh and "RollbackDetails" not in refresh


def test_the_preferences_given_are_described_back_with_checkpoint_delay_defaulting_to_an_hour(world):
    version = world.new_version()
    world.start(version, MinHealthyPercentage=50, MaxHealthyPercentage=120, InstanceWarmup=30,
                CheckpointPercentages=[25, 100], SkipMatching=True, BakeTime=60)
    (refresh,) = world.describe()
    prefs = refresh["Preferences"]
    assert (prefs["MinHealthyPercentage"], prefs["MaxHealthyPercentage"], prefs["InstanceWarmup"]) == (50, 120, 30)
    assert (prefs["CheckpointPercentages"], prefs["CheckpointDelay"], prefs["SkipMatching"], prefs["BakeTime"]) == ([25, 100], 3600, True, 60)
    assert refresh["DesiredConfiguration"] == {"LaunchTemplate": {"LaunchTemplateName": world.template, "Version": version}}


def test_cancel_answers_the_refresh_id_and_describe_shows_it_cancelling(world):
    refresh_id = world.start()
    assert world.asg.cancel_instance_refresh(AutoScalingGroupName=world.name)["InstanceRefreshId"] == refresh_id
    (refresh,) = world.describe()
    assert refresh["Status"] == "Cancelling" and "cancel" in refresh["StatusReason"].lower()


def test_rollback_answers_the_refresh_id_and_describe_shows_the_rollback_details(world):
    refresh_id = world.start(world.new_version())
    assert world.asg.rollback_instance_refresh(AutoScalingGroupName=world.name)["InstanceRefreshId"] == refresh_id
    (refresh,) = world.describe()
    assert refresh["Status"] == "RollbackInProgress"
    details = refresh["RollbackDetails"]
    assert details["RollbackReason"] == "Rollback started by user request."
    assert details["RollbackStartTime"] >= refresh["StartTime"]
    assert (details["PercentageCompleteOnRollback"], details["InstancesToUpdateOnRollback"]) == (0, 4)
    assert details["ProgressDetailsOnRollback"]["LivePoolProgress"] == {"PercentageComplete": 0, "InstancesToUpdate": 4}


def test_describe_lists_newest_first_pages_and_filters_by_id(world):
    first = world.start()
    world.asg.cancel_instance_refresh(AutoScalingGroupName=world.name)
    world.group.finish_refresh(first, "Cancelled", "Instance refresh cancelled by user request.")
    second = world.start()
    assert [r["InstanceRefreshId"] for r in world.describe()] == [second, first]
    page = world.asg.describe_instance_refreshes(AutoScalingGroupName=world.name, MaxRecords=1)
    assert [r["InstanceRefreshId"] for r in page["InstanceRefreshes"]] == [second]
    rest = world.asg.describe_instance_refreshes(AutoScalingGroupName=world.name, MaxRecords=1, NextToken=page["NextToken"])
    assert [r["InstanceRefreshId"] for r in rest["InstanceRefreshes"]] == [first] and "NextToken" not in rest
    only = world.asg.describe_instance_refreshes(AutoScalingGroupName=world.name, InstanceRefreshIds=[first])
    (cancelled,) = only["InstanceRefreshes"]
    assert cancelled["Status"] == "Cancelled" and cancelled["EndTime"] >= cancelled["StartTime"]


def test_the_responses_are_awss_xml_documents(world):
    status, body = _query(world, "StartInstanceRefresh", AutoScalingGroupName=world.name)
    assert status == 200
    assert re.match(
        r'<StartInstanceRefreshResponse xmlns="http://autoscaling\.amazonaws\.com/doc/2011-01-01/">'
        r"<StartInstanceRefreshResult><InstanceRefreshId>[0-9a-f-]{36}</InstanceRefreshId></StartInstanceRefreshResult>", body
    ), body
    status, body = _query(world, "DescribeInstanceRefreshes", AutoScalingGroupName=world.name)
    assert status == 200
    assert body.startswith('<DescribeInstanceRefreshesResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">'
                           "<DescribeInstanceRefreshesResult><InstanceRefreshes><member><InstanceRefreshId>")
    assert "<Status>Pending</Status>" in body and "<MinHealthyPercentage>90</MinHealthyPercentage>" in body
    status, body = _query(world, "StartInstanceRefresh", AutoScalingGroupName=world.name)
    assert status == 400
    assert "<ErrorResponse" in body and "<Code>InstanceRefreshInProgress</Code>" in body and "<Type>Sender</Type>" in body


# -------------------------------------------------------------------------------- AWS errors


def test_starting_while_one_is_active_is_instance_refresh_in_progress(world):
    world.start()
    with pytest.raises(ClientError) as excinfo:
        world.start()
    code, status, message = _error(excinfo)
    assert (code, status) == ("InstanceRefreshInProgress", 400) and "already in progress" in message


@pytest.mark.parametrize("call", ["cancel_instance_refresh", "rollback_instance_refresh"])
def test_cancel_or_rollback_with_none_active_is_active_instance_refresh_not_found(world, call):
    with pytest.raises(ClientError) as excinfo:
        getattr(world.asg, call)(AutoScalingGroupName=world.name)
    code, status, message = _error(excinfo)
    assert (code, status) == ("ActiveInstanceRefreshNotFound", 400) and world.name in message


def test_a_second_cancel_is_active_instance_refresh_not_found(world):
    world.start()
    world.asg.cancel_instance_refresh(AutoScalingGroupName=world.name)
    with pytest.raises(ClientError) as excinfo:
        world.asg.cancel_instance_refresh(AutoScalingGroupName=world.name)
    assert _error(excinfo)[:2] == ("ActiveInstanceRefreshNotFound", 400)


def test_rollback_of_a_refresh_without_desired_configuration_is_irreversible(world):
    world.start()
    with pytest.raises(ClientError) as excinfo:
        world.asg.rollback_instance_refresh(AutoScalingGroupName=world.name)
    code, status, message = _error(excinfo)
    assert (code, status) == ("IrreversibleInstanceRefresh", 400) and "DesiredConfiguration" in message
    assert world.describe()[0]["Status"] == "Pending"  # nothing changed


def test_rollback_when_the_group_was_on_latest_is_irreversible(world):
    world.use_version("$Latest")
    world.start(world.new_version())
    with pytest.raises(ClientError) as excinfo:
        world.asg.rollback_instance_refresh(AutoScalingGroupName=world.name)
    code, status, message = _error(excinfo)
    assert (code, status) == ("IrreversibleInstanceRefresh", 400) and "$Latest" in message


def test_auto_rollback_that_could_not_roll_back_is_refused_at_start(world):
    with pytest.raises(ClientError) as excinfo:
        world.start(AutoRollback=True)  # no desired configuration: nothing to roll back to
    code, status, message = _error(excinfo)
    assert (code, status) == ("ValidationError", 400) and "AutoRollback" in message


BAD_PREFERENCES = [
    ({"MinHealthyPercentage": 101}, "MinHealthyPercentage"),
    ({"MinHealthyPercentage": -1}, "MinHealthyPercentage"),
    ({"MinHealthyPercentage": 90, "MaxHealthyPercentage": 99}, "MaxHealthyPercentage"),
    ({"MinHealthyPercentage": 90, "MaxHealthyPercentage": 201}, "MaxHealthyPercentage"),
    ({"MaxHealthyPercentage": 150}, "MaxHealthyPercentage"),
    ({"MinHealthyPercentage": 50, "MaxHealthyPercentage": 160}, "MaxHealthyPercentage"),
    ({"InstanceWarmup": -1}, "InstanceWarmup"),
    ({"CheckpointPercentages": [50, 20]}, "CheckpointPercentages"),
    ({"CheckpointPercentages": [20, 20, 100]}, "CheckpointPercentages"),
    ({"CheckpointPercentages": [0, 100]}, "CheckpointPercentages"),
    ({"CheckpointPercentages": [50, 101]}, "CheckpointPercentages"),
    ({"CheckpointPercentages": [50], "CheckpointDelay": 172801}, "CheckpointDelay"),
    ({"CheckpointPercentages": [50], "CheckpointDelay": -1}, "CheckpointDelay"),
    ({"CheckpointDelay": 60}, "CheckpointDelay"),
    ({"BakeTime": 172801}, "BakeTime"),
    ({"ScaleInProtectedInstances": "Sometimes"}, "ScaleInProtectedInstances"),
    ({"StandbyInstances": "Skip"}, "StandbyInstances"),
]


@pytest.mark.parametrize("preferences, field", BAD_PREFERENCES, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD_PREFERENCES)])
def test_a_bad_preference_is_a_validation_error_naming_the_field(world, preferences, field):
    # parameter_validation off: botocore itself refuses some of these (negative values) before sending
    asg = world.client("autoscaling", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        asg.start_instance_refresh(AutoScalingGroupName=world.name, Preferences=preferences)
    code, status, message = _error(excinfo)
    assert (code, status) == ("ValidationError", 400)
    assert field in message, message
    assert world.describe() == []  # nothing was started


def test_a_desired_configuration_naming_a_missing_version_is_a_validation_error(world):
    with pytest.raises(ClientError) as excinfo:
        world.start("7")
    code, status, message = _error(excinfo)
    assert (code, status) == ("ValidationError", 400) and "Version" in message and "7" in message


def test_other_regions_keep_stock_moto_without_instance_refresh(world):
    from botocore.config import Config
    import boto3

    other = "sa-east-1"
    bootstrap.create_group(world.server.endpoint_url, other, "plain", desired=1, min_size=1, max_size=2)
    asg = boto3.client("autoscaling", region_name=other, endpoint_url=world.server.endpoint_url, config=Config(retries={"max_attempts": 1}))
    with pytest.raises(Exception):  # moto's HTML 500, which botocore cannot parse as an AWS error
        asg.describe_instance_refreshes(AutoScalingGroupName="plain")


# ---------------------------------------------------------------------- launch template versions


def test_an_instance_launched_after_a_new_version_carries_the_version_the_group_resolved(world):
    before = world.versions()
    assert set(before.values()) == {"1"}
    world.use_version("$Latest")
    latest = world.new_version()
    world.asg.set_desired_capacity(AutoScalingGroupName=world.name, DesiredCapacity=5)
    after = world.versions()
    (new,) = set(after) - set(before)
    assert after[new] == latest != "1"
    assert {after[i] for i in before} == {"1"}  # the instances already running keep theirs


def test_on_default_a_new_instance_carries_the_default_version_number(world):
    world.use_version("$Default")
    newer = world.new_version()
    before = world.versions()
    world.asg.set_desired_capacity(AutoScalingGroupName=world.name, DesiredCapacity=5)
    (first,) = set(world.versions()) - set(before)
    assert world.versions()[first] == "1"  # $Default is still 1: version `newer` is only the latest
    world.client("ec2").modify_launch_template(LaunchTemplateName=world.template, DefaultVersion=newer)
    world.asg.set_desired_capacity(AutoScalingGroupName=world.name, DesiredCapacity=6)
    (second,) = set(world.versions()) - set(before) - {first}
    versions = world.versions()
    assert (versions[first], versions[second]) == ("1", newer)


def test_the_warm_pool_reports_its_instances_versions_too(world):
    world.asg.put_warm_pool(AutoScalingGroupName=world.name, MinSize=1, PoolState="Stopped")
    (warm,) = world.group.add_to_warm_pool(1, "test fill")
    pool = world.asg.describe_warm_pool(AutoScalingGroupName=world.name)["Instances"]
    assert [(i["InstanceId"], i["LaunchTemplate"]["Version"]) for i in pool] == [(warm, "1")]


# --------------------------------------------------------------------- suspended AlarmNotification


def _breach(engine, fleet, now: datetime) -> None:
    """The group metric above the high threshold (200) for the last six 10-second periods."""
    from wsfleet.demo import aws_stand_in

    for k in range(1, 7):
        aws_stand_in.put_group_metric(engine.session, fleet, 260.0, now - timedelta(seconds=10 * k - 5))


def _policies_engine(world, tmp_path):
    from wsfleet.aws.session import AwsSession
    from wsfleet.demo.engine import ScalingEngine
    from wsfleet.demo.scenarios import DemoTiming

    fleet = fleet_config(world, tmp_path)
    session = AwsSession(fleet, max_attempts=1)
    bootstrap.provision(session, fleet, tmp_path / "audit.jsonl")  # the high alarm and its step policy
    return ScalingEngine(session, fleet, world.group, DemoTiming(), started=datetime.now(timezone.utc)), fleet


def test_suspended_alarm_notification_stops_the_engine_running_policies_until_resumed(world, tmp_path):
    engine, fleet = _policies_engine(world, tmp_path)
    world.asg.suspend_processes(AutoScalingGroupName=world.name, ScalingProcesses=["AlarmNotification"])
    group = world.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[world.name])["AutoScalingGroups"][0]
    assert [p["ProcessName"] for p in group["SuspendedProcesses"]] == ["AlarmNotification"]  # moto stores it

    boundary = datetime.fromtimestamp(int(datetime.now(timezone.utc).timestamp()) // 10 * 10, tz=timezone.utc)
    _breach(engine, fleet, boundary)
    events = engine.evaluate(boundary + timedelta(seconds=1))
    assert engine.state.alarm_states[fleet.high_alarm_name] == "ALARM"  # the alarm still changes state
    assert any("AlarmNotification is suspended" in e for e in events), events
    assert world.group.capacity()[2] == 4

    world.asg.resume_processes(AutoScalingGroupName=world.name, ScalingProcesses=["AlarmNotification"])
    later = boundary + timedelta(seconds=10)
    _breach(engine, fleet, later)
    events = engine.evaluate(later + timedelta(seconds=1))
    assert world.group.capacity()[2] == 6, events  # +2: the first step of the seed's policy
