"""`wsfleet agent-config`: the CloudWatch agent file publishes the metric the alarms watch (rule 7),
as the exact per-port count over StatsD by default, netstat's host-wide count with --host-wide; both
validate against the agent's own schema (tests/data/cloudwatch-agent-schema.json: the agent
repository's translator/config/schema.json at ab55b8da, 2026-08-07, draft-04)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from wsfleet.agent_config import agent_config, render, sender_every, statsd_name_problem
from wsfleet.cli import main
from wsfleet.config import parse_config, select_fleet

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "tests" / "data" / "cloudwatch-agent-schema.json").read_text())


def fleet_from(toml: str):
    return select_fleet(parse_config(toml), None)


HIGH_RES = '[fleets.f]\nasg = "a"\n[fleets.f.scale_out]\nperiod = 10\nevaluation_periods = 6\n'
CUSTOM = '[fleets.chat]\nasg = "chat-asg"\nport = 8080\n[fleets.chat.metric]\nnamespace = "Chat/Connections"\nname = "Established"\n'


@pytest.fixture
def no_config_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("WSFLEET_CONFIG", raising=False)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def validate(doc) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_the_repo_agent_file_is_what_the_command_prints_for_the_defaults():
    assert (REPO / "config" / "cloudwatch-agent.json").read_text() == render(None)


@pytest.mark.parametrize("toml", [None, HIGH_RES, CUSTOM], ids=["defaults", "high-resolution", "custom-metric"])
@pytest.mark.parametrize("host_wide", [False, True], ids=["exact", "host-wide"])
def test_every_printed_agent_file_validates_against_the_agents_schema(toml, host_wide):
    assert validate(agent_config(fleet_from(toml) if toml else None, host_wide=host_wide)) == []


def test_the_schema_check_catches_what_the_agent_would_reject():
    doc = agent_config(None)
    doc["metrics"]["metrics_collected"]["statsd"]["parse_data_dog_tags"] = True  # not a key the agent takes
    doc["metrics"]["metrics_collected"]["statsd"]["metrics_collection_interval"] = "60"
    problems = validate(doc)
    assert len(problems) == 2, problems


def test_the_exact_metric_is_the_statsd_gauge_published_per_instance_and_per_group():
    doc = agent_config(None)
    metrics = doc["metrics"]
    assert metrics["namespace"] == "TCP_Connections"  # not the seed's TPC_Connections
    assert metrics["append_dimensions"] == {"AutoScalingGroupName": "${aws:AutoScalingGroupName}", "InstanceId": "${aws:InstanceId}"}
    # the raw series carries metric_type=gauge: the per-instance one is a rollup, the raw one dropped
    assert metrics["aggregation_dimensions"] == [["AutoScalingGroupName"], ["AutoScalingGroupName", "InstanceId"]]
    assert metrics["metrics_collected"] == {"statsd": {
        "service_address": "127.0.0.1:8125",  # loopback only: nobody off the host feeds the metric
        "metrics_collection_interval": 60, "metrics_aggregation_interval": 60,  # one sample an instance a period
        "drop_original_metrics": ["TCPconnections"],
    }}
    assert "netstat" not in json.dumps(doc)


def test_host_wide_keeps_the_seeds_netstat_metric():
    metrics = agent_config(None, host_wide=True)["metrics"]
    assert metrics["metrics_collected"]["netstat"]["measurement"] == [{"name": "tcp_established", "rename": "TCPconnections", "unit": "Count"}]
    assert metrics["aggregation_dimensions"] == [["AutoScalingGroupName"]]


def test_a_high_resolution_alarm_samples_as_often_as_its_period():
    fleet = fleet_from(HIGH_RES)
    assert agent_config(fleet)["agent"]["metrics_collection_interval"] == 10
    statsd = agent_config(fleet)["metrics"]["metrics_collected"]["statsd"]
    assert statsd["metrics_collection_interval"] == statsd["metrics_aggregation_interval"] == 10
    assert agent_config(fleet, host_wide=True)["metrics"]["metrics_collected"]["netstat"]["metrics_collection_interval"] == 10
    assert [sender_every(i) for i in (60, 30, 10)] == [10, 5, 2]


@pytest.mark.parametrize("name", ["TCPconnections", "ws_established", "ws-conns"])
def test_names_that_travel_over_statsd_unchanged(name):
    assert statsd_name_problem(name) is None


@pytest.mark.parametrize("name", ["ws.connections", "a:b", "a|b", "a b", "tag,x=1", "a#b", "a@b"])
def test_names_statsd_would_change_or_split_are_refused(name):
    assert "cannot be sent over StatsD unchanged" in statsd_name_problem(name)


def test_agent_config_prints_the_configured_namespace_and_name(tmp_path, capsys):
    path = tmp_path / "wsfleet.toml"
    path.write_text(CUSTOM)
    code, out, err = run_cli(capsys, "--config", str(path), "agent-config")
    doc = json.loads(out)
    assert code == 0 and err == ""
    assert doc["metrics"]["namespace"] == "Chat/Connections"
    assert doc["metrics"]["metrics_collected"]["statsd"]["drop_original_metrics"] == ["Established"]
    code, out, err = run_cli(capsys, "--config", str(path), "agent-config", "--host-wide")
    assert code == 0 and json.loads(out)["metrics"]["metrics_collected"]["netstat"]["measurement"][0]["rename"] == "Established"
    assert err.startswith("wsfleet: caveat: the netstat plugin's tcp_established counts every established TCP socket on the host")


def test_a_dotted_metric_name_is_one_sentence_for_the_exact_path_and_fine_host_wide(tmp_path, capsys):
    path = tmp_path / "wsfleet.toml"
    path.write_text('[fleets.chat]\nasg = "a"\n[fleets.chat.metric]\nname = "ws.connections"\n')
    for extra in ((), ("--sender",)):
        code, out, err = run_cli(capsys, "--config", str(path), "agent-config", *extra)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and "[fleets.chat.metric] name: the metric name 'ws.connections' cannot be sent over StatsD" in err
        assert "--host-wide" in err
    code, out, _ = run_cli(capsys, "--config", str(path), "agent-config", "--host-wide")
    assert code == 0 and "ws.connections" in out


def test_sender_and_host_wide_together_are_refused(capsys):
    code, out, err = run_cli(capsys, "agent-config", "--sender", "--host-wide")
    assert code == 2 and out == "" and "do not go together" in err


def test_agent_config_without_any_config_prints_the_defaults(no_config_anywhere, capsys):
    code, out, err = run_cli(capsys, "agent-config")
    assert code == 0
    assert json.loads(out)["metrics"]["namespace"] == "TCP_Connections"
    assert "no config file found" in err


def test_agent_config_with_a_missing_config_path_is_a_usage_error(tmp_path, capsys):
    code, out, err = run_cli(capsys, "--config", str(tmp_path / "missing.toml"), "agent-config")
    assert code == 2 and out == ""
    assert "config file not found" in err


def test_a_dimension_the_agent_cannot_publish_is_refused_at_load(tmp_path, capsys):
    path = tmp_path / "wsfleet.toml"
    path.write_text('[fleets.chat]\nasg = "a"\n[fleets.chat.metric]\ndimension = "ASG"\n')
    code, out, err = run_cli(capsys, "--config", str(path), "agent-config")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert 'fleets.chat.metric.dimension: "ASG" is not a dimension the CloudWatch agent can publish' in err
    assert 'only as "AutoScalingGroupName"' in err
    path.write_text('[fleets.chat]\nasg = "a"\n[fleets.chat.metric]\ndimension = "AutoScalingGroupName"\n')
    assert run_cli(capsys, "--config", str(path), "agent-config")[0] == 0
