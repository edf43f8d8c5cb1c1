"""`wsfleet refresh start --yes` against the demo, end to end: the CLI's own refresh (not the deploy
story's) is read back by the AWS CLI, the demo carries it out, `refresh status` resumes the alarms
it paused, and `check --wait` then reports the fleet's balance honestly (balanced, or the trend it
saw). The deploy story's own release is turned off, so this refresh is the only one."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from wsfleet.actions.scale import latest_average
from wsfleet.aws.session import AwsSession
from wsfleet.config import load_config, select_fleet
from wsfleet.demo import DemoFleet
from wsfleet.demo.config_file import ASG_NAME, REGION
from wsfleet.demo.scenarios import DemoTiming

pytestmark = pytest.mark.timeout(300)
# the demo's clock for this test, the deploy story's as tests/demo/test_rebalance_e2e.py runs it: a
# replaced instance's clients reconnect (2 s deregistration delay) before its replacement serves (4 s
# cold launch), so the refresh leaves the newest instance nearly empty and check --wait sees a trend;
# the warm pool refills in a step (its default 8 s only lengthened the refresh)
REFRESH_TIMING = DemoTiming(cold_launch=4.0, deregistration_delay=2, warm_prepare=1.0)
LOADED_TIMEOUT = 20  # the config's per-host SSH timeout: on a loaded machine a count is slow, not failed

ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": REGION}
ENV.pop("AWS_SESSION_TOKEN", None)


def wsfleet(demo, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wsfleet", "--config", str(demo.config_path), *args],
                          capture_output=True, text=True, timeout=timeout, env=ENV)


def aws(demo, *args: str) -> dict:
    out = subprocess.run(["aws", "autoscaling", *args, "--endpoint-url", demo.endpoint_url, "--region", REGION, "--output", "json"],
                         capture_output=True, text=True, timeout=60, env=ENV)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_a_refresh_started_by_the_cli_completes_and_check_wait_reports_the_balance():
    demo = DemoFleet(scenario="deploy", timing=REFRESH_TIMING, count_timeout=LOADED_TIMEOUT)
    demo.scenario = dataclasses.replace(demo.scenario, deploy=None)  # only the CLI's refresh runs
    with demo:
        fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)
        session = AwsSession(fleet)
        deadline = time.monotonic() + 60
        while latest_average(session, fleet, datetime.now(timezone.utc))[0] is None:  # what the preview reads
            assert time.monotonic() < deadline, "the demo published no group datapoint in 60 s"
            demo.next_frame(timeout=1.0)
        started = wsfleet(demo, "refresh", "start", "--min-healthy", "75", "--warmup", "1", "--suspend-scaling", "--yes")
        assert started.returncode == 0, started.stderr
        assert "keeps 3 serving while 1 is replaced at a time" in started.stdout, started.stdout + started.stderr

        (refresh, *_) = aws(demo, "describe-instance-refreshes", "--auto-scaling-group-name", ASG_NAME)["InstanceRefreshes"]
        assert refresh["Status"] in ("Pending", "InProgress") and refresh["Preferences"]["MinHealthyPercentage"] == 75

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            (refresh, *_) = aws(demo, "describe-instance-refreshes", "--auto-scaling-group-name", ASG_NAME)["InstanceRefreshes"]
            if refresh["Status"] not in ("Pending", "InProgress"):
                break
            demo.next_frame(timeout=2.0)
        assert (refresh["Status"], refresh["PercentageComplete"]) == ("Successful", 100), refresh

        status = wsfleet(demo, "refresh", "status", "--format", "json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["status"] == "Successful"
        assert "Resume AlarmNotification on demo-chat-asg" in status.stderr  # the pause is undone, audited
        (group,) = aws(demo, "describe-auto-scaling-groups", "--auto-scaling-group-names", ASG_NAME)["AutoScalingGroups"]
        assert group["SuspendedProcesses"] == [] and not [t for t in group.get("Tags", []) if t["Key"].startswith("wsfleet:")]

        waited = wsfleet(demo, "check", "--wait", "12s", "--interval", "2", "--format", "json")
        assert waited.returncode in (0, 1), waited.stderr
        doc = json.loads(waited.stdout)
        last = waited.stderr.strip().splitlines()[-1]
        if waited.returncode == 0:  # it ends at the first balanced sweep, whose line is the last
            assert doc["verdict"] == "balanced" and re.search(r"sweep \d+: skew [\d.]+ <= ", last), waited.stderr
        else:
            assert doc["verdict"] == "imbalanced" and doc["sweeps"] >= 2, waited.stderr
            assert any(w in last for w in ("shrinking", "steady", "not converging", "growing", "not enough sweeps")), waited.stderr

        audit = [json.loads(line) for line in (demo.workdir / "audit.jsonl").read_text().splitlines()]
        assert [e["action"] for e in audit if e["action"].startswith("refresh")] == ["refresh start", "refresh resume-alarms"]
