"""The connection-count metric: group series with gaps, each instance's latest value."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.aws.conftest import seed_fleet
from wsfleet.aws import metrics
from wsfleet.demo import aws_stand_in as stand_in
from wsfleet.aws.session import AwsSession
from wsfleet.model import MetricSpec

START = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def test_group_metric_has_one_slot_per_period_and_none_where_no_datapoint(session, fleet):
    for minute, value in ((0, 100.0), (1, 200.0), (3, 400.0)):
        stand_in.put_group_metric(session, fleet, value, START + timedelta(minutes=minute, seconds=10))
    series = metrics.read_group_metric(session, fleet, START, START + timedelta(minutes=5), 60)
    assert series.period == 60
    assert series.timestamps == tuple(START + timedelta(minutes=m) for m in range(5))
    assert series.values == (100.0, 200.0, None, 400.0, None)


def test_group_metric_uses_the_configured_statistic(session, fleet):
    fleet = seed_fleet(metric=MetricSpec(statistic="Maximum"))
    for second, value in ((5, 100.0), (20, 300.0)):
        stand_in.put_group_metric(session, fleet, value, START + timedelta(seconds=second))
    assert metrics.read_group_metric(session, fleet, START, START + timedelta(minutes=1), 60).values == (300.0,)


def test_group_metric_slots_start_on_a_period_boundary(session, fleet):
    stand_in.put_group_metric(session, fleet, 50.0, START + timedelta(seconds=30))
    series = metrics.read_group_metric(session, fleet, START + timedelta(seconds=45), START + timedelta(minutes=2), 60)
    assert series.timestamps[0] == START
    assert series.values[0] == 50.0


def test_group_metric_is_only_the_configured_groups(session, fleet):
    other = seed_fleet(asg="other-asg")
    stand_in.put_group_metric(session, other, 999.0, START + timedelta(seconds=10))
    series = metrics.read_group_metric(session, fleet, START, START + timedelta(minutes=1), 60)
    assert series.values == (None,)


def test_instance_metric_is_each_instances_latest_value_or_none(session, fleet):
    stand_in.put_instance_metric(session, fleet, {"i-1": 10.0, "i-2": 20.0}, START + timedelta(seconds=5))
    stand_in.put_instance_metric(session, fleet, {"i-1": 11.0}, START + timedelta(minutes=1, seconds=5))
    latest = metrics.read_instance_metric(session, fleet, ["i-1", "i-2", "i-3"], START, START + timedelta(minutes=3), 60)
    assert latest["i-1"] == (START + timedelta(minutes=1), 11.0)
    assert latest["i-2"] == (START, 20.0)
    assert latest["i-3"] is None


def test_instance_metric_asks_for_500_instances_per_call(aws, fleet, monkeypatch):
    session = AwsSession(fleet)
    ids = [f"i-{n:04d}" for n in range(501)]
    calls = session.api_calls
    metrics.read_instance_metric(session, fleet, ids, START, START + timedelta(minutes=1), 60)
    assert session.api_calls - calls == 2


def test_a_large_metric_write_reaches_a_local_endpoint_uncompressed(moto_server):  # noqa: F811
    """botocore gzips bodies over 10 KB; moto can't read them, so a custom endpoint gets them plain."""
    from datetime import datetime, timezone

    from wsfleet.demo.aws_stand_in import put_instance_metric
    from wsfleet.aws.session import AwsSession
    from wsfleet.model import FleetConfig

    session = AwsSession(FleetConfig(name="t", asg="big-asg", region="us-east-1", endpoint_url=moto_server.endpoint_url))
    values = {f"i-{n:017x}": float(n) for n in range(120)}
    put_instance_metric(session, session.fleet, values, datetime.now(timezone.utc))
