"""moto, extended for the demo: the ordinary AWS API now answers what the demo's engine does."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.helpers.moto_server import _shared_server
from wsfleet.demo import bootstrap, moto_extensions
from wsfleet.demo.moto_extensions import DemoGroup

REGION = "eu-west-1"  # not the region other tests use: the extension is per account and region


_clients: dict = {}


def _client(server, service):
    key = (server.endpoint_url, service)
    if key not in _clients:
        _clients[key] = boto3.client(service, region_name=REGION, endpoint_url=server.endpoint_url, config=Config(retries={"max_attempts": 1}))
    return _clients[key]


@pytest.fixture(scope="module")
def network(request):
    # One server and VPC for the module (moto's first EC2 call in a region costs ~1 s); each test
    # gets its own group and alarm names instead of a reset.
    server = _shared_server(request.config)
    server.reset()
    _, subnet = bootstrap.create_network(server.endpoint_url, REGION)
    return server, subnet


@pytest.fixture
def moto_server(network):
    return network[0]


@pytest.fixture
def group(network, request):
    global ASG
    server, subnet = network
    ASG = f"ext-{request.node.name[5:40]}"
    bootstrap.create_asg(server.endpoint_url, REGION, ASG, subnet, desired=2, min_size=1, max_size=12)
    moto_extensions.enable(bootstrap.ACCOUNT_ID, REGION)
    changes = []
    handle = DemoGroup(bootstrap.ACCOUNT_ID, REGION, ASG, changes.append)
    handle.changes = changes
    yield handle
    handle.close()
    moto_extensions.disable(bootstrap.ACCOUNT_ID, REGION)


def _warm_pool(server, handle, n):
    _client(server, "autoscaling").put_warm_pool(
        AutoScalingGroupName=ASG, MinSize=n, MaxGroupPreparedCapacity=6, PoolState="Stopped",
        InstanceReusePolicy={"ReuseOnScaleIn": True},
    )
    ids = handle.add_to_warm_pool(n, "test fill")
    for iid in ids:
        handle.set_lifecycle(iid, "Warmed:Stopped")
    return ids


def test_the_instances_the_group_started_with_are_reported_and_recorded(moto_server, group):  # noqa: F811
    assert len(group.changes) == 1 and len(group.changes[0].launched) == 2
    assert all(v.private_ip.startswith("127.") for v in group.changes[0].launched)  # loopback VPC
    acts = _client(moto_server, "autoscaling").describe_scaling_activities(AutoScalingGroupName=ASG)["Activities"]
    assert [a["StatusCode"] for a in acts] == ["Successful", "Successful"]
    assert all(a["Description"].startswith("Launching a new EC2 instance: i-") for a in acts)


def test_describe_warm_pool_lists_the_pools_instances(moto_server, group):  # noqa: F811
    ids = _warm_pool(moto_server, group, 3)
    pool = _client(moto_server, "autoscaling").describe_warm_pool(AutoScalingGroupName=ASG)
    assert pool["WarmPoolConfiguration"]["MinSize"] == 3
    assert sorted(i["InstanceId"] for i in pool["Instances"]) == sorted(ids)
    assert {i["LifecycleState"] for i in pool["Instances"]} == {"Warmed:Stopped"}
    states = _client(moto_server, "ec2").describe_instances(InstanceIds=ids)["Reservations"]
    assert {i["State"]["Name"] for r in states for i in r["Instances"]} == {"stopped"}


def test_scale_out_takes_the_warm_pool_first_and_starts_everything_pending(moto_server, group):  # noqa: F811
    warm = _warm_pool(moto_server, group, 2)
    group.explain_next_change("At now a monitor alarm triggered policy p changing the desired capacity from 2 to 5.")
    _client(moto_server, "autoscaling").set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=5)
    asg = _client(moto_server, "autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[ASG])["AutoScalingGroups"][0]
    pending = [i["InstanceId"] for i in asg["Instances"] if i["LifecycleState"] == "Pending"]
    assert len(asg["Instances"]) == 5 and len(pending) == 3
    assert set(warm) < set(pending)
    launched = group.changes[-1].launched
    assert sorted(v.origin for v in launched) == ["launch", "warm-pool", "warm-pool"]
    acts = _client(moto_server, "autoscaling").describe_scaling_activities(AutoScalingGroupName=ASG, MaxRecords=3)["Activities"]
    assert all(a["StatusCode"] == "InProgress" and "EndTime" not in a for a in acts)
    assert sum("from warm pool" in a["Description"] for a in acts) == 2
    assert all("triggered policy p" in a["Cause"] for a in acts)


def test_an_instance_put_in_service_finishes_its_launch_activity(moto_server, group):  # noqa: F811
    _client(moto_server, "autoscaling").set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=3)
    new = group.changes[-1].launched[0].id
    assert group.set_lifecycle(new, "InService")
    acts = _client(moto_server, "autoscaling").describe_scaling_activities(AutoScalingGroupName=ASG)["Activities"]
    mine = [a for a in acts if a["Description"].endswith(new)]
    assert mine[0]["StatusCode"] == "Successful" and mine[0]["Progress"] == 100 and "EndTime" in mine[0]


def test_scale_in_returns_instances_to_the_pool_when_reuse_is_on(moto_server, group):  # noqa: F811
    _warm_pool(moto_server, group, 1)
    _client(moto_server, "autoscaling").set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=1)
    assert len(group.changes[-1].removed) == 1
    back = group.changes[-1].removed[0]
    pool = _client(moto_server, "autoscaling").describe_warm_pool(AutoScalingGroupName=ASG)["Instances"]
    assert back in {i["InstanceId"] for i in pool}
    acts = _client(moto_server, "autoscaling").describe_scaling_activities(AutoScalingGroupName=ASG, MaxRecords=1)["Activities"]
    assert acts[0]["Description"] == f"Returning EC2 instance to the warm pool: {back}"
    assert "explicitly set group desired capacity changing the desired capacity from 2 to 1" in acts[0]["Cause"]


def test_set_desired_capacity_outside_min_max_is_refused_as_aws_refuses_it(moto_server, group):  # noqa: F811
    with pytest.raises(ClientError, match="above max value 12"):
        _client(moto_server, "autoscaling").set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=13)
    with pytest.raises(ClientError, match="below min value 1"):
        _client(moto_server, "autoscaling").set_desired_capacity(AutoScalingGroupName=ASG, DesiredCapacity=0)


def _alarm(cw, threshold, name="hi"):
    cw.put_metric_alarm(
        AlarmName=name, MetricName="m", Namespace="n", Statistic="Average", Period=10, EvaluationPeriods=2,
        Threshold=threshold, ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def test_alarms_start_insufficient_and_keep_their_state_when_updated(moto_server, group):  # noqa: F811
    cw = _client(moto_server, "cloudwatch")
    _alarm(cw, 200, "keeps")
    assert cw.describe_alarms(AlarmNames=["keeps"])["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"
    cw.set_alarm_state(AlarmName="keeps", StateValue="ALARM", StateReason="Threshold Crossed")
    _alarm(cw, 210, "keeps")
    alarm = cw.describe_alarms(AlarmNames=["keeps"])["MetricAlarms"][0]
    assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 210)


def test_alarm_history_records_state_changes_configuration_and_actions(moto_server, group):  # noqa: F811
    cw = _client(moto_server, "cloudwatch")
    _alarm(cw, 200, "history")
    cw.set_alarm_state(AlarmName="history", StateValue="ALARM", StateReason="Threshold Crossed")
    cw.set_alarm_state(AlarmName="history", StateValue="ALARM", StateReason="still")  # no change, no item
    group.record_alarm_action("history", "Successfully executed action arn:aws:autoscaling:policy")
    items = cw.describe_alarm_history(AlarmName="history")["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in items] == ["Action", "StateUpdate", "ConfigurationUpdate"]
    assert items[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    only_states = cw.describe_alarm_history(AlarmName="history", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert len(only_states) == 1


def test_other_regions_keep_stock_moto(moto_server, group):  # noqa: F811
    other = "us-west-2"  # emptied by the module's reset; no test here writes to it otherwise
    bootstrap.create_group(moto_server.endpoint_url, other, "plain", desired=2, min_size=1, max_size=3)
    asg = boto3.client("autoscaling", region_name=other, endpoint_url=moto_server.endpoint_url)
    asg.set_desired_capacity(AutoScalingGroupName="plain", DesiredCapacity=5)  # moto: no max check
    group_ = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["plain"])["AutoScalingGroups"][0]
    assert {i["LifecycleState"] for i in group_["Instances"]} == {"InService"}
    assert asg.describe_scaling_activities(AutoScalingGroupName="plain")["Activities"] == []
    cw = boto3.client("cloudwatch", region_name=other, endpoint_url=moto_server.endpoint_url, config=Config(retries={"max_attempts": 1}))
    _alarm(cw, 1)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "OK"
    with pytest.raises(ClientError):
        cw.describe_alarm_history(AlarmName="hi")


def test_get_metric_data_answers_exactly_as_moto_does_only_faster(moto_server, group):  # noqa: F811
    import random
    from datetime import datetime, timedelta, timezone

    from moto.cloudwatch.models import cloudwatch_backends

    cw = _client(moto_server, "cloudwatch")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    rng = random.Random(3)
    group_dims = [{"Name": "AutoScalingGroupName", "Value": "g"}]
    data = []
    for k in range(120):
        at = now - timedelta(seconds=2 * k + rng.random())
        data.append({"MetricName": "TCPconnections", "Dimensions": group_dims, "Timestamp": at, "Value": rng.randint(0, 300), "Unit": "Count"})
        for i in range(3):
            dims = group_dims + [{"Name": "InstanceId", "Value": f"i-{i}"}]
            data.append({"MetricName": "TCPconnections", "Dimensions": dims, "Timestamp": at, "Value": rng.randint(0, 300), "Unit": "Count"})
    for offset in range(0, len(data), 40):  # small puts: botocore gzips big bodies, which moto 5.2 cannot read
        cw.put_metric_data(Namespace="TCP_Connections", MetricData=data[offset : offset + 40])

    def query(qid, dims, stat, period, unit=None):
        spec = {"Metric": {"Namespace": "TCP_Connections", "MetricName": "TCPconnections", "Dimensions": dims}, "Period": period, "Stat": stat}
        if unit:
            spec["Unit"] = unit
        return {"Id": qid, "MetricStat": spec}

    queries = [
        query("g", group_dims, "Average", 10),
        query("s", group_dims, "Sum", 30, "Count"),
        query("i", group_dims + [{"Name": "InstanceId", "Value": "i-1"}], "Maximum", 10),
        query("n", [], "SampleCount", 60),
    ]
    backend = cloudwatch_backends[bootstrap.ACCOUNT_ID][REGION]
    start, end = (now - timedelta(minutes=5)).replace(tzinfo=None), now.replace(tzinfo=None) + timedelta(seconds=1)
    for scan in ("TimestampAscending", "TimestampDescending"):
        fast = moto_extensions._get_metric_data(backend, queries, start, end, scan)
        slow = moto_extensions._original_get_metric_data(backend, queries, start, end, scan)
        assert fast == slow
        assert all(r["values"] for r in fast)
    ascending = moto_extensions._get_metric_data(backend, queries[:1], start, end, "TimestampAscending")[0]["values"]
    through_api = cw.get_metric_data(
        MetricDataQueries=queries[:1], StartTime=start.replace(tzinfo=timezone.utc), EndTime=end.replace(tzinfo=timezone.utc),
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]["Values"]
    assert through_api == pytest.approx(ascending)
