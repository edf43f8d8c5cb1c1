"""`wsfleet counts` and `wsfleet check` as subprocesses: moto's server for AWS, real asyncssh hosts
mapped to the group's instances through ssh.hosts, real held connections on per-instance ports."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.counts.conftest import wsfleet
from tests.helpers.asyncssh_hosts import closed_port
from tests.helpers.moto_fleet import write_config


async def test_counts_json_has_the_contract_shape_and_the_exact_counts(world):
    w = world((120, 80, 100))
    code, out, err = await wsfleet("--config", w.config(), "counts", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["fleet", "asg", "source", "taken_at", "instances", "summary"]
    assert (doc["fleet"], doc["asg"], doc["source"]) == ("test", w.fleet["asg"], "ssh")
    assert datetime.fromisoformat(doc["taken_at"]).tzinfo is not None
    rows = {r["id"]: r for r in doc["instances"]}
    assert [rows[i]["connections"] for i in w.ids] == [120, 80, 100]
    for i, port in zip(w.ids, w.ssh_ports):
        r = rows[i]
        assert list(r) == ["id", "az", "address", "lifecycle", "health", "connections", "error", "latency_ms",
                           "launch_template_version", "current"]
        assert (r["launch_template_version"], r["current"]) == ("1", True)  # the group names "$Latest", which is 1
        assert r["address"] == f"127.0.0.1:{port}" and r["error"] is None and r["latency_ms"] > 0
        assert r["az"].startswith("us-east-1") and r["lifecycle"] == "InService" and r["health"] == "Healthy"
    assert doc["summary"] == {"instances": 3, "measured": 3, "total": 300, "mean": 100.0, "min": 80, "max": 120,
                              "skew": 1.2, "cv": round((((20**2 + 20**2) / 3) ** 0.5) / 100, 3)}


async def test_counts_table_and_csv(world):
    w = world((7, 8, 9))
    code, out, err = await wsfleet("--config", w.config(), "counts")
    assert code == 0, err
    for i, n in zip(w.ids, (7, 8, 9)):
        line = next(l for l in out.splitlines() if i in l)
        assert f" {n} " in f"{line} "
    assert "3 in service, 3 measured" in out and "total 24" in out

    code, out, err = await wsfleet("--config", w.config(), "counts", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["id"], r["connections"], r["error"]) for r in rows] == [(i, str(n), "") for i, n in zip(w.ids, (7, 8, 9))]


async def test_check_passes_a_balanced_fleet_and_fails_an_imbalanced_one(world):
    w = world((100, 110, 95))
    code, out, err = await wsfleet("--config", w.config(), "check", "--format", "json")
    doc = json.loads(out)
    assert (code, doc["verdict"], doc["max_skew"]) == (0, "balanced", 1.25), err

    w.held[0].set_count(300)  # an instance that kept its connections after a deploy
    code, out, err = await wsfleet("--config", w.config(), "check")
    assert code == 1, err
    assert "verdict: imbalanced" in out

    code, out, err = await wsfleet("--config", w.config(), "check", "--max-skew", "2.0", "--format", "json")
    assert (code, json.loads(out)["verdict"]) == (0, "balanced")

    code, out, err = await wsfleet("--config", w.config(counts_max_skew=2.5), "check", "--format", "json")
    assert (code, json.loads(out)["max_skew"]) == (0, 2.5)  # the fleet's counts.max_skew when no flag


async def test_check_lists_unmeasured_hosts_and_never_counts_them_as_zero(world):
    w = world((100, 100, 100))
    w.ssh_ports[1] = closed_port()
    code, out, err = await wsfleet("--config", w.config(), "check", "--format", "json")
    doc = json.loads(out)
    assert code == 0, err  # 100 and 100 are balanced; a zero for the dead host would not be
    dead = next(r for r in doc["instances"] if r["id"] == w.ids[1])
    assert (dead["connections"], dead["error"]) == (None, "refused")
    assert doc["summary"]["measured"] == 2 and doc["summary"]["mean"] == 100.0
    assert f"{w.ids[1]} (refused)" in err


async def test_check_exits_3_when_no_instance_could_be_measured(world):
    w = world()
    w.ssh_ports[:] = [closed_port() for _ in w.ssh_ports]
    code, out, err = await wsfleet("--config", w.config(), "check", "--format", "json")
    assert code == 3
    assert json.loads(out)["verdict"] is None
    assert "could not measure any of the 3 in-service instances" in err


@pytest.mark.parametrize("bad", ["0.5", "nan", "inf", "-1"])
async def test_a_max_skew_below_one_is_a_usage_error_before_any_aws_call(tmp_path, bad):
    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}", "prod-chat-asg")
    code, out, err = await wsfleet("--config", str(config), "check", "--max-skew", bad)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--max-skew" in err and "at least 1.0" in err


async def test_an_unreachable_aws_endpoint_is_exit_3_with_one_sentence(tmp_path):
    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}", "prod-chat-asg")
    code, out, err = await wsfleet("--config", str(config), "check")
    assert code == 3
    assert err.startswith("wsfleet: ") and "Traceback" not in err and err.count("\n") == 1


async def test_counts_from_cloudwatch_report_the_agents_values(world):
    w = world()
    cw = w.moto.client("cloudwatch")
    at = datetime.now(timezone.utc) - timedelta(seconds=75)
    cw.put_metric_data(Namespace="TCP_Connections", MetricData=[
        {"MetricName": "TCPconnections", "Timestamp": at, "Value": v, "Unit": "Count",
         "Dimensions": [{"Name": "AutoScalingGroupName", "Value": w.fleet["asg"]}, {"Name": "InstanceId", "Value": i}]}
        for i, v in zip(w.ids, (20123.0, 19877.0))])
    code, out, err = await wsfleet("--config", w.config(), "counts", "--source", "cloudwatch", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["source"] == "cloudwatch"
    assert [r["connections"] for r in doc["instances"]] == [20123, 19877, None]
    assert doc["instances"][2]["error"] == "not-found"


async def test_rows_say_which_instances_run_an_old_launch_template_version(world):
    w = world((120, 80, 100))
    w.moto.client("ec2").create_launch_template_version(
        LaunchTemplateId=w.fleet["launch_template_id"], LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "c5.xlarge"})
    # the group launches "$Latest", now version 2: its three instances were launched from version 1
    code, out, err = await wsfleet("--config", w.config(), "counts", "--format", "json")
    assert code == 0, err
    assert {(r["launch_template_version"], r["current"]) for r in json.loads(out)["instances"]} == {("1", False)}

    code, out, err = await wsfleet("--config", w.config(), "counts")
    assert code == 0, err
    header = next(line for line in out.splitlines() if "INSTANCE" in line)
    assert header.split()[:5] == ["INSTANCE", "AZ", "ADDRESS", "STATE", "LT"]
    assert all("v1 old" in line for line in out.splitlines() if line.lstrip().startswith("i-"))

    code, out, err = await wsfleet("--config", w.config(), "counts", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {(r["launch_template_version"], r["current"]) for r in rows} == {("1", "false")}
