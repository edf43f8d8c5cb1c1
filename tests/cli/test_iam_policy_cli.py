"""`wsfleet iam-policy`: bad --fleet is one sentence and exit 2; --instance-role prints the agent's two actions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wsfleet(*argv):
    return subprocess.run([sys.executable, "-m", "wsfleet", "--config", str(ROOT / "tests/configs/two-fleets.toml"), *argv],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_unknown_fleet_is_one_sentence_and_exit_2():
    r = wsfleet("iam-policy", "--fleet", "nope")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "nope" in r.stderr and "prod-chat, staging-chat" in r.stderr


def test_instance_role():
    r = wsfleet("iam-policy", "--instance-role")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert actions == {"cloudwatch:PutMetricData", "ec2:DescribeTags"}
    (put,) = [s for s in doc["Statement"] if "cloudwatch:PutMetricData" in s["Action"]]
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": "TCP_Connections"}}


def test_one_fleet_by_name():
    r = wsfleet("iam-policy", "--fleet", "staging-chat")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and r.stdout.startswith('{\n  "Version": "2012-10-17"')
    assert any("staging-chat-asg" in str(s["Resource"]) for s in doc["Statement"])
    assert not any("prod-chat-asg" in str(s["Resource"]) for s in doc["Statement"])
