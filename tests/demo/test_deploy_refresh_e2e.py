"""The deploy story end to end: `DemoFleet(scenario="deploy")` releases a new launch template
version with StartInstanceRefresh, its engine replaces one instance at a time, and the refresh is
read back from outside by the AWS CLI (aws-cli v1, a subprocess against the demo's moto) and by
wsfleet's own reader and `check`: Successful at 100 %, every instance on the new version, and the
imbalance the story is about still there (the replaced instances' clients moved to the others).

The instances boot in 4 s instead of the story's 16 so that the whole refresh takes about a minute,
and the target group's deregistration delay is 2 s instead of 8 so that it stays shorter than a
boot, as in the story: a replaced instance's clients reconnect before its replacement serves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from wsfleet.demo import DemoFleet
from wsfleet.demo.config_file import ASG_NAME, REGION
from wsfleet.demo.scenarios import DemoTiming

pytestmark = pytest.mark.timeout(240)

REFRESH_DEADLINE = 180.0  # seconds: about 60 on an idle machine


def _frames_until(demo, predicate, timeout: float) -> list:
    frames, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = demo.next_frame(timeout=1.0)
        if frame is None:
            continue
        frames.append(frame)
        if predicate(frame):
            return frames
    raise AssertionError(f"not within {timeout} s; last frame: {frames[-1:]}; errors: {demo.errors}")


def _aws_cli(demo, *args: str) -> dict:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": REGION}
    env.pop("AWS_SESSION_TOKEN", None)
    out = subprocess.run(
        ["aws", "autoscaling", *args, "--endpoint-url", demo.endpoint_url, "--region", REGION, "--output", "json"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_deploy_demo_completes_a_refresh_that_the_aws_cli_reads_back_as_successful():
    from wsfleet.aws.reader import read_status
    from wsfleet.aws.session import AwsSession
    from wsfleet.config import load_config, select_fleet

    with DemoFleet(scenario="deploy", timing=DemoTiming(cold_launch=4.0, deregistration_delay=2)) as demo:
        frames = _frames_until(demo, lambda f: f.refresh is not None and not f.refresh["status"] in
                               ("Pending", "InProgress", "Cancelling", "Baking"), REFRESH_DEADLINE)
        assert frames[-1].refresh["status"] == "Successful", [f.event for f in frames if f.event]
        during = [f for f in frames if f.refresh is not None]
        assert any(f.event and "deploy: launch template version 2" in f.event for f in frames)
        percentages = [f.refresh["percentage_complete"] for f in during]
        assert percentages == sorted(percentages) and percentages[-1] == 100
        assert min(f.in_service for f in during) == 3  # MinHealthyPercentage 75 of 4: one at a time

        (refresh, *_older) = _aws_cli(demo, "describe-instance-refreshes", "--auto-scaling-group-name", ASG_NAME)["InstanceRefreshes"]
        assert refresh["InstanceRefreshId"] == frames[-1].refresh["id"]
        assert (refresh["Status"], refresh["PercentageComplete"], refresh["InstancesToUpdate"]) == ("Successful", 100, 0)
        assert refresh["Preferences"]["MinHealthyPercentage"] == 75 and "EndTime" in refresh

        (group,) = _aws_cli(demo, "describe-auto-scaling-groups", "--auto-scaling-group-names", ASG_NAME)["AutoScalingGroups"]
        assert group["LaunchTemplate"]["Version"] == "2"
        assert len(group["Instances"]) == 4 and {i["LaunchTemplate"]["Version"] for i in group["Instances"]} == {"2"}

        # wsfleet's own reading: the latest refresh, and every instance on the group's current version
        fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)
        status = read_status(AwsSession(fleet), fleet)
        assert status.instance_refresh.status == "Successful" and status.refresh_unavailable is None
        assert status.group.launch_template.current_version == "2"
        assert all(status.group.launch_template.is_current(i.launch_template_version) for i in status.group.instances)

        # the story: the deploy moved no connections back, the last new instance is nearly empty
        counts = frames[-1].connections
        assert max(counts.values()) > 3 * max(1, min(counts.values()))
        check = subprocess.run(
            [sys.executable, "-m", "wsfleet", "--config", str(demo.config_path), "check", "--format", "json"],
            capture_output=True, text=True, timeout=60, env={**os.environ, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo"},
        )
        assert check.returncode == 1, check.stderr
        assert json.loads(check.stdout)["verdict"] == "imbalanced"
