"""`wsfleet status` rendering from a FleetStatus, without AWS: tables at 80 columns, JSON values."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from rich.console import Console

from tests.aws.conftest import seed_fleet
from wsfleet.commands.status import print_status, status_to_json
from wsfleet.model import (
    Alarm,
    FleetStatus,
    GroupState,
    Instance,
    MetricSeries,
    ScalingPolicy,
    SshConfig,
    SshHost,
    StepAdjustment,
    WarmPool,
)

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc)


def instance(n: int, lifecycle: str = "InService", **changes) -> Instance:
    values = dict(id=f"i-0{n:016x}", az="us-east-1a", lifecycle=lifecycle, health="Healthy",
                  launch_time=NOW - timedelta(hours=n), private_ip=f"10.0.1.{n}")
    values.update(changes)
    return Instance(**values)


def status(**changes) -> FleetStatus:
    values = dict(
        fleet="prod-chat",
        region="us-east-1",
        taken_at=NOW,
        group=GroupState("prod-chat-asg", 1, 12, 2, (instance(1), instance(2, protected=True))),
        high_alarm=Alarm("prod-chat-high-tcp-connections", "ALARM", "Threshold Crossed: 5 datapoints were >= 22000.0",
                         threshold=22000, comparison="GreaterThanOrEqualToThreshold", period=60,
                         evaluation_periods=5, datapoints_to_alarm=5, statistic="Average"),
        scale_out_policy=ScalingPolicy("high_tcp_connections_policy", "arn:x", "StepScaling",
                                       steps=(StepAdjustment(0, 5000, 2), StepAdjustment(5000, None, 3)), warmup=150),
        warm_pool=WarmPool(2, None, "Stopped", True, instances=(instance(7, "Warmed:Stopped", az="us-east-1b"),)),
        metric=MetricSeries(60, (NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)), (23000.0, None)),
        account_id="123456789012",
        api_calls=12,
        problems=("AWS denied elasticloadbalancing:DescribeTargetGroups while reading target group tg: allow it.",),
    )
    values.update(changes)
    return FleetStatus(**values)


def render(fleet, st) -> str:
    console = Console(width=80, record=True, file=open("/dev/null", "w"), color_system=None)
    print_status(fleet, st, console)
    return console.export_text()


def test_steps_are_shown_in_absolute_connections_from_the_live_alarms_threshold():
    out = render(seed_fleet(), status())
    assert "22,000 – 27,000: +2" in out and "27,000 – ∞: +3" in out


def test_steps_fall_back_to_the_configured_threshold_without_an_alarm():
    out = render(seed_fleet(), status(high_alarm=None))
    assert "20,000 – 25,000: +2" in out and "(high: not found)" in out


def test_every_instance_row_fits_on_one_80_column_line_with_its_address():
    out = render(seed_fleet(), status())
    for n in (1, 2):
        (line,) = [line for line in out.splitlines() if f"i-0{n:016x}" in line]
        assert f"10.0.1.{n}" in line and "InService" in line and f"{n}h00m" in line
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80


def test_warm_instances_problems_and_alarm_reason_are_shown():
    out = render(seed_fleet(), status())
    assert "warm instances (1)" in out and "Warmed:Stopped" in out
    assert "Threshold Crossed" in out
    assert "could not read: AWS denied elasticloadbalancing:DescribeTargetGroups" in out
    assert "23,000" in out  # the latest metric value


def test_the_address_column_prefers_the_configs_host_map():
    fleet = seed_fleet(ssh=SshConfig(hosts={f"i-0{1:016x}": SshHost("127.0.0.1", 2201)}))
    (line,) = [line for line in render(fleet, status()).splitlines() if f"i-0{1:016x}" in line]
    assert "127.0.0.1:2201" in line


def test_json_has_iso_datetimes_and_null_for_an_open_lower_bound():
    policy = ScalingPolicy("odd", None, "StepScaling", steps=(StepAdjustment(None, 0, 1), StepAdjustment(0, None, 2)))
    doc = json.loads(json.dumps(status_to_json(seed_fleet(), status(scale_out_policy=policy)), allow_nan=False))
    assert doc["scale_out_policy"]["absolute_steps"] == [{"from": None, "to": 22000, "add": 1}, {"from": 22000, "to": None, "add": 2}]
    assert doc["taken_at"] == "2026-11-26T09:30:00+00:00"
    assert doc["metric"]["values"] == [23000, None] and doc["metric"]["latest"] == 23000
    assert doc["warm_pool"]["instances"][0]["lifecycle"] == "Warmed:Stopped"
    assert doc["problems"] and doc["low_alarm"] is None
