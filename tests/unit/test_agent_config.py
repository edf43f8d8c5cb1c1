"""`wsfleet agent-config`: the CloudWatch agent file publishes the metric the alarms watch (rule 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wsfleet.agent_config import agent_config, render
from wsfleet.cli import main
from wsfleet.config import parse_config, select_fleet

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_config_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("WSFLEET_CONFIG", raising=False)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_repo_agent_file_is_what_the_command_prints_for_the_defaults():
    assert (REPO / "config" / "cloudwatch-agent.json").read_text() == render(None)


def test_agent_file_fixes_the_seeds_slips():
    doc = agent_config(None)
    metrics = doc["metrics"]
    assert metrics["namespace"] == "TCP_Connections"  # not the seed's TPC_Connections
    assert metrics["metrics_collected"]["netstat"]["measurement"] == [{"name": "tcp_established", "rename": "TCPconnections", "unit": "Count"}]
    assert metrics["append_dimensions"] == {"AutoScalingGroupName": "${aws:AutoScalingGroupName}", "InstanceId": "${aws:InstanceId}"}
    assert metrics["aggregation_dimensions"] == [["AutoScalingGroupName"]]
    assert doc["agent"]["metrics_collection_interval"] == 60


def test_agent_config_prints_the_configured_namespace_and_name(tmp_path, capsys):
    path = tmp_path / "wsfleet.toml"
    path.write_text('[fleets.chat]\nasg = "chat-asg"\n[fleets.chat.metric]\nnamespace = "Chat/Connections"\nname = "Established"\n')
    code, out, err = run_cli(capsys, "--config", str(path), "agent-config")
    fleet = select_fleet(parse_config(path.read_text()), None)
    doc = json.loads(out)
    assert code == 0 and err == ""
    assert doc["metrics"]["namespace"] == fleet.metric.namespace == "Chat/Connections"
    assert doc["metrics"]["metrics_collected"]["netstat"]["measurement"][0]["rename"] == "Established"


def test_agent_config_without_any_config_prints_the_defaults(no_config_anywhere, capsys):
    code, out, err = run_cli(capsys, "agent-config")
    assert code == 0
    assert json.loads(out)["metrics"]["namespace"] == "TCP_Connections"
    assert "no config file found" in err


def test_agent_config_with_a_missing_config_path_is_a_usage_error(tmp_path, capsys):
    code, out, err = run_cli(capsys, "--config", str(tmp_path / "missing.toml"), "agent-config")
    assert code == 2 and out == ""
    assert "config file not found" in err


def test_a_high_resolution_alarm_samples_as_often_as_its_period():
    fleet = select_fleet(parse_config('[fleets.f]\nasg = "a"\n[fleets.f.scale_out]\nperiod = 10\nevaluation_periods = 6\n'), None)
    doc = agent_config(fleet)
    assert doc["agent"]["metrics_collection_interval"] == 10
    assert doc["metrics"]["metrics_collected"]["netstat"]["metrics_collection_interval"] == 10
