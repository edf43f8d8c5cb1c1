"""`wsfleet counts` and `wsfleet check` as subprocesses: moto's server for AWS, real asyncssh hosts
mapped to the group's instances through ssh.hosts, real held connections on per-instance ports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers.asyncssh_hosts import SshTestHosts, closed_port, write_client_key
from tests.helpers.conn_holder import ConnHolder
from tests.helpers.moto_fleet import make_fleet, write_config
from tests.helpers.moto_server import moto_server  # noqa: F401  (fixture)


async def wsfleet(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wsfleet", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode, out.decode(), err.decode()


class World:
    """A moto fleet of n instances, each mapped to its own asyncssh host and service port."""

    def __init__(self, moto, tmp_path, hosts, fleet, counts):
        self.moto, self.tmp, self.hosts, self.fleet = moto, tmp_path, hosts, fleet
        self.ids = fleet["instance_ids"]
        self.held = [ConnHolder(count=k) for k in counts]
        self.key_path = tmp_path / "id_ed25519"
        self.known_hosts = tmp_path / "known_hosts"
        self.known_hosts.write_text(hosts.known_hosts_text())
        self.ssh_ports = [h.port for h in hosts]

    def config(self, counts_max_skew=None, **fleet_keys):
        ssh = {
            "user": "oncall", "key": str(self.key_path), "known_hosts": str(self.known_hosts), "host_keys": "strict",
            "hosts": {i: {"address": f"127.0.0.1:{p}", "service_port": c.port} for i, p, c in zip(self.ids, self.ssh_ports, self.held)},
        }
        return str(write_config(self.tmp, self.moto.endpoint_url, self.fleet["asg"], ssh=ssh,
                                counts={"timeout": 2.0, "max_skew": counts_max_skew}, **fleet_keys))

    def close(self):
        for c in self.held:
            c.close()


@pytest.fixture
async def world(moto_server, tmp_path):  # noqa: F811
    key_path, key = write_client_key(tmp_path)
    fleet = make_fleet(moto_server.session(), instances=3, endpoint_url=moto_server.endpoint_url)
    async with SshTestHosts(3, key) as hosts:
        made = []

        def build(counts=(100, 100, 100)):
            w = World(moto_server, tmp_path, hosts, fleet, counts)
            made.append(w)
            return w

        yield build
        for w in made:
            w.close()


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
        assert list(r) == ["id", "az", "address", "lifecycle", "health", "connections", "error", "latency_ms"]
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
