"""The generated policy (wsfleet iam-policy) allows every AWS call the code makes, on the resource it hits.

The call scan is tests/actions/test_iam_policy.py's (AST over wsfleet/, demo left out); here each call
is evaluated against the generated document with a small Allow-only evaluator (wildcards on Action and
Resource), for the resource that call touches for the configured fleet.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from tests.actions.test_iam_policy import called_actions
from wsfleet import iam_policy
from wsfleet.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def fleets(name: str):
    return list(load_config(str(ROOT / name)).fleets.values())


def allowed(doc: dict, action: str, resource: str) -> bool:
    for s in doc["Statement"]:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if s["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in actions) \
                and any(fnmatch.fnmatchcase(resource, r) for r in resources):
            return True
    return False


def resources_hit(action: str, fleet, account: str) -> list[str]:
    """The ARNs a call of `action` needs allowed for `fleet` (reads: "*")."""
    region = fleet.region
    if action in iam_policy.GROUP_WRITES:
        return [f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:uuid-1:autoScalingGroupName/{fleet.asg}"]
    if action == "cloudwatch:PutMetricAlarm":
        return [f"arn:aws:cloudwatch:{region}:{account}:alarm:{n}" for n in (fleet.high_alarm_name, fleet.low_alarm_name)]
    if action == "elasticloadbalancing:ModifyTargetGroupAttributes":
        return [f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/tg/0123456789abcdef"]
    if action == "ssm:SendCommand":
        return [f"arn:aws:ssm:{region}::document/AWS-RunShellScript", f"arn:aws:ec2:{region}:{account}:instance/i-0abc"]
    return ["*"]


def denied(doc: dict, fleet_list, account="123456789012") -> dict:
    out = {}
    for name, candidates in called_actions().items():
        for fleet in fleet_list:
            if not any(all(allowed(doc, a, r) for r in resources_hit(a, fleet, account)) for a in candidates):
                out[(name, fleet.name)] = sorted(candidates)
    return out


@pytest.mark.parametrize("config", ["config/wsfleet.example.toml", "tests/configs/two-fleets.toml"])
def test_every_call_is_allowed_on_its_resource(config):
    fl = fleets(config)
    assert not denied(iam_policy.fleet_policy(fl), fl)
    assert not denied(iam_policy.fleet_policy(fl, "123456789012"), fl)


def test_the_scan_is_not_vacuous():
    calls = called_actions()
    assert len(calls) >= 30
    for name in ("set_desired_capacity", "put_metric_alarm", "send_command", "start_instance_refresh", "describe_auto_scaling_groups"):
        assert name in calls


def test_dropping_an_action_is_caught():
    fl = fleets("config/wsfleet.example.toml")
    doc = iam_policy.fleet_policy(fl)
    for s in doc["Statement"]:
        s["Action"] = [a for a in s["Action"] if a != "autoscaling:SetDesiredCapacity"]
    assert ("set_desired_capacity", "prod-chat") in denied(doc, fl)


def test_writes_are_scoped_to_the_fleet():
    two = fleets("tests/configs/two-fleets.toml")
    prod, staging = sorted(two, key=lambda f: f.name)
    doc = iam_policy.fleet_policy([prod])
    (arn,) = resources_hit("autoscaling:SetDesiredCapacity", staging, "1")
    assert not allowed(doc, "autoscaling:SetDesiredCapacity", arn)
    assert not allowed(doc, "cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:us-east-1:1:alarm:someone-else")
    assert not allowed(doc, "ssm:SendCommand", "arn:aws:ssm:us-east-1::document/AWS-RunPowerShellScript")
    send = [s for s in doc["Statement"] if s["Sid"].endswith("SsmInstances")]
    assert send[0]["Condition"] == {"StringEquals": {"ssm:resourceTag/aws:autoscaling:groupName": prod.asg}}


def test_two_fleets_fit_a_managed_policy():
    doc = iam_policy.fleet_policy(fleets("tests/configs/two-fleets.toml"))
    assert iam_policy.policy_size(doc) <= iam_policy.MANAGED_POLICY_LIMIT
    assert len({s["Sid"] for s in doc["Statement"]}) == len(doc["Statement"])
