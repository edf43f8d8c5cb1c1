"""`wsfleet doctor` as a user runs it: a subprocess against moto's server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3

from tests.helpers.moto_fleet import make_fleet, write_config
from tests.helpers.asyncssh_hosts import closed_port
from tests.helpers.moto_server import moto_server  # noqa: F401  (pytest fixture)

ASG = "prod-chat-asg"


def wsfleet(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "wsfleet", *args], capture_output=True, text=True, timeout=timeout, env=env)


def config(tmp_path, endpoint_url, **keys):
    return str(write_config(tmp_path, endpoint_url, ASG, fleet="prod-chat", env="prod", app="chat", **keys))


def provision(cfg: str, tmp_path) -> None:
    """What `wsfleet provision --yes` does, in-process (the write path's own code)."""
    from wsfleet import actions
    from wsfleet.audit import AuditLog
    from wsfleet.aws.session import AwsSession
    from wsfleet.config import load_config, select_fleet

    fleet = select_fleet(load_config(cfg), "prod-chat")
    outcome = actions.execute(actions.plan_provision(AwsSession(fleet), fleet), confirm=lambda p: True,
                              read_only=False, audit=AuditLog(tmp_path / "audit.jsonl"))
    assert outcome.status == "applied", outcome.error


def test_a_fleet_without_alarms_exits_1_and_says_to_provision(moto_server, tmp_path):
    make_fleet(None, asg=ASG, instances=2, endpoint_url=moto_server.endpoint_url)
    done = wsfleet("--config", config(tmp_path, moto_server.endpoint_url), "doctor", "--no-instances")
    assert done.returncode == 1, done.stderr
    assert "ERROR" in done.stdout and "wsfleet provision" in done.stdout
    assert "alarms-exist" in done.stdout


def test_json_lists_findings_and_a_summary(moto_server, tmp_path):
    make_fleet(None, asg=ASG, instances=2, endpoint_url=moto_server.endpoint_url)
    done = wsfleet("--config", config(tmp_path, moto_server.endpoint_url), "doctor", "--no-instances", "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["fleet"] == "prod-chat" and report["asg"] == ASG
    assert report["summary"]["error"] == sum(1 for f in report["findings"] if f["severity"] == "error") >= 4
    assert set(report["findings"][0]) == {"check", "severity", "subject", "found", "why", "fix"}
    assert any(f["check"] == "instance-reach" and "--no-instances" in f["found"] for f in report["findings"])


def test_a_provisioned_fleet_exits_0(moto_server, tmp_path):
    make_fleet(None, asg=ASG, instances=2, endpoint_url=moto_server.endpoint_url)
    cfg = config(tmp_path, moto_server.endpoint_url)
    provision(cfg, tmp_path)
    done = wsfleet("--config", cfg, "doctor", "--no-instances", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["summary"]["error"] == 0


def test_the_seeds_breaching_scale_in_alarm_exits_1(moto_server, tmp_path):
    make_fleet(None, asg=ASG, instances=2, endpoint_url=moto_server.endpoint_url)
    cfg = config(tmp_path, moto_server.endpoint_url)
    provision(cfg, tmp_path)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_server.endpoint_url)
    low = cw.describe_alarms(AlarmNames=["prod-chat-low-tcp-connections"])["MetricAlarms"][0]
    keep = ("AlarmName", "ComparisonOperator", "EvaluationPeriods", "DatapointsToAlarm", "MetricName", "Namespace",
            "Period", "Statistic", "Threshold", "Dimensions", "AlarmActions")
    cw.put_metric_alarm(**{k: low[k] for k in keep}, TreatMissingData="breaching")
    done = wsfleet("--config", cfg, "doctor", "--no-instances", "--format", "json")
    assert done.returncode == 1
    errors = [f for f in json.loads(done.stdout)["findings"] if f["severity"] == "error"]
    assert [f["check"] for f in errors] == ["missing-data"]


def test_an_unreachable_aws_endpoint_exits_3_with_one_sentence(tmp_path):
    done = wsfleet("--config", config(tmp_path, f"http://127.0.0.1:{closed_port()}"), "doctor", "--no-instances")
    assert done.returncode == 3
    assert done.stdout == ""
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_missing_config_exits_2(tmp_path):
    done = wsfleet("--config", str(tmp_path / "nope.toml"), "doctor")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_the_table_lists_problems_and_names_the_passed_checks(moto_server, tmp_path):
    make_fleet(None, asg=ASG, instances=2, endpoint_url=moto_server.endpoint_url)
    cfg = config(tmp_path, moto_server.endpoint_url)
    provision(cfg, tmp_path)
    done = wsfleet("--config", cfg, "doctor", "--no-instances")
    assert done.returncode == 0, done.stderr
    assert "passed: " in done.stdout and "alarm-actions" in done.stdout and "0 errors" in done.stdout
    assert "│ ok " not in done.stdout  # passed checks are one line, not rows
    verbose = wsfleet("--config", cfg, "-v", "doctor", "--no-instances")
    assert "│ ok " in verbose.stdout
