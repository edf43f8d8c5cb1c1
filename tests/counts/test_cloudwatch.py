"""The cloudwatch count source against moto: the agent's per-instance metric, with each value's age."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from moto import mock_aws

from wsfleet.demo.aws_stand_in import put_instance_metric
from wsfleet.aws.session import AwsSession
from wsfleet.counts.cloudwatch import CloudWatchSource
from wsfleet.model import CountTarget, FleetConfig, MetricSpec

FLEET = FleetConfig(name="test", asg="prod-chat-asg", region="us-east-1", metric=MetricSpec(namespace="TCP_Connections", name="TCPconnections"))


def target(n: int) -> CountTarget:
    return CountTarget(f"i-{n:017x}", None, 22, 443, az="us-east-1b", lifecycle="InService", health="Healthy")


async def test_latest_value_per_instance_with_its_age():
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with mock_aws():
        session = AwsSession(FLEET)
        put_instance_metric(session, FLEET, {target(0).instance_id: 100.0, target(1).instance_id: 250.0}, now - timedelta(minutes=5))
        put_instance_metric(session, FLEET, {target(0).instance_id: 20123.0, target(1).instance_id: 19877.0}, now - timedelta(seconds=90))
        source = CloudWatchSource(session, FLEET, now=lambda: now)
        rows = {r.instance_id: r async for r in source.sweep([target(0), target(1), target(2)])}
    assert rows[target(0).instance_id].connections == 20123
    assert rows[target(1).instance_id].connections == 19877
    assert 90 <= rows[target(0).instance_id].age_s < 90 + 60  # datapoints are stamped at their period's start
    assert rows[target(2).instance_id].error == "not-found"
    assert "TCP_Connections/TCPconnections" in rows[target(2).instance_id].detail


async def test_one_get_metric_data_call_serves_hundreds_of_instances():
    now = datetime.now(timezone.utc).replace(microsecond=0)
    targets = [target(n) for n in range(600)]
    with mock_aws():
        session = AwsSession(FLEET)
        put_instance_metric(session, FLEET, {t.instance_id: float(n) for n, t in enumerate(targets)}, now - timedelta(seconds=70))
        calls_before = session.api_calls
        source = CloudWatchSource(session, FLEET, now=lambda: now)
        rows = {r.instance_id: r async for r in source.sweep(targets)}
        calls = session.api_calls - calls_before
    assert [rows[t.instance_id].connections for t in targets] == list(range(600))
    assert calls == 2  # 500 queries a call
