"""`wsfleet status` through the real CLI, in a subprocess, against moto's server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.aws.conftest import ASG, seed_fleet
from tests.aws.test_reader import provision_seed
from tests.helpers.moto_fleet import make_fleet, write_config
from wsfleet.aws.session import AwsSession


def wsfleet(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wsfleet", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


@pytest.fixture
def seed(moto_server):
    """The seed's fleet in moto's server: 4 instances behind an ALB, alarms, policies, warm pool, schedule."""
    fleet = seed_fleet(endpoint_url=moto_server.endpoint_url)
    session = AwsSession(fleet)
    info = make_fleet(session, asg=ASG, instances=4, target_group=True)
    provision_seed(session, fleet)
    return info


def config_for(tmp_path: Path, endpoint_url: str | None, asg: str = ASG) -> Path:
    return write_config(tmp_path, endpoint_url, asg, fleet="prod-chat", env="prod", app="chat")


def test_status_json_is_the_documented_object(moto_server, seed, tmp_path):
    result = wsfleet("--config", str(config_for(tmp_path, moto_server.endpoint_url)), "status", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {"fleet", "asg", "region", "account_id", "taken_at", "api_calls", "group", "high_alarm", "low_alarm",
            "scale_out_policy", "scale_in_policy", "warm_pool", "scheduled_actions", "activities",
            "target_groups", "metric", "problems"} <= set(doc)
    assert (doc["fleet"], doc["asg"], doc["region"], doc["account_id"]) == ("prod-chat", ASG, "us-east-1", "123456789012")
    assert doc["taken_at"].endswith("+00:00")
    assert sorted(i["id"] for i in doc["group"]["instances"]) == sorted(seed["instance_ids"])
    assert all(i["private_ip"].startswith("10.0.") and i["launch_time"] for i in doc["group"]["instances"])
    assert doc["high_alarm"]["threshold"] == 20000 and doc["high_alarm"]["dimensions"] == {"AutoScalingGroupName": ASG}
    assert doc["scale_out_policy"]["steps"][0] == {"lower_bound": 0, "upper_bound": 5000, "scaling_adjustment": 2}
    assert doc["scale_out_policy"]["absolute_steps"] == [
        {"from": 20000, "to": 25000, "add": 2},
        {"from": 25000, "to": 30000, "add": 2},
        {"from": 30000, "to": None, "add": 3},
    ]
    assert doc["scale_in_policy"]["scaling_adjustment"] == -1
    assert doc["warm_pool"]["min_size"] == 2 and doc["warm_pool"]["instances"] == []
    assert doc["scheduled_actions"][0]["recurrence"] == "0 7 * * MON-FRI"
    assert doc["target_groups"][0]["algorithm"] == "round_robin"
    assert doc["target_groups"][0]["idle_timeout"] == 60
    assert doc["metric"]["period"] == 60 and doc["metric"]["latest"] is None
    assert doc["problems"] == []


def test_status_table_shows_instances_alarms_and_absolute_steps(moto_server, seed, tmp_path):
    result = wsfleet("--config", str(config_for(tmp_path, moto_server.endpoint_url)), "status", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for instance_id in seed["instance_ids"]:
        assert instance_id in out
    assert "prod-chat-high-tcp-connections" in out and "Average >= 20,000" in out
    assert "20,000 – 25,000: +2" in out and "30,000 – ∞: +3" in out  # absolute, not relative
    assert "weekday-morning" in out and "round_robin" in out
    assert result.stderr == ""


def test_endpoint_url_on_the_command_line_overrides_the_config(moto_server, seed, tmp_path):
    config = config_for(tmp_path, "http://127.0.0.1:9")  # nothing listens on the discard port
    result = wsfleet("--config", str(config), "--endpoint-url", moto_server.endpoint_url, "status", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["group"]["instances"]) == 4


def test_an_unreachable_endpoint_exits_3_with_one_sentence_naming_it(tmp_path, closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    started = time.monotonic()
    result = wsfleet("--config", str(config_for(tmp_path, url)), "status", cwd=tmp_path)
    assert result.returncode == 3
    assert time.monotonic() - started < 15
    assert url in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_unknown_group_exits_3_naming_group_and_region(moto_server, seed, tmp_path):
    result = wsfleet("--config", str(config_for(tmp_path, moto_server.endpoint_url, asg="no-such-asg")), "status", cwd=tmp_path)
    assert result.returncode == 3
    assert "'no-such-asg'" in result.stderr and "us-east-1" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_no_credentials_exit_3_and_say_how_to_log_in(moto_server, tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION", "AWS_SECURITY"))}
    result = wsfleet("--config", str(config_for(tmp_path, moto_server.endpoint_url)), "status", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert "aws sso login" in result.stderr and "AWS_PROFILE" in result.stderr
    assert result.stderr.count("\n") == 1


def test_verbose_adds_the_traceback(tmp_path, closed_port):
    result = wsfleet("-v", "--config", str(config_for(tmp_path, f"http://127.0.0.1:{closed_port}")), "status", cwd=tmp_path)
    assert result.returncode == 3
    assert "Traceback" in result.stderr


def test_a_missing_config_exits_2(tmp_path):
    result = wsfleet("--config", str(tmp_path / "nope.toml"), "status", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "Traceback" not in result.stderr


def test_no_config_anywhere_exits_2(tmp_path):
    result = wsfleet("status", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
