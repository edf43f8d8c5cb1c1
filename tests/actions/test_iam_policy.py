"""config/iam-policy.json lists exactly the AWS actions wsfleet's code calls: none missing, none extra.

The scan reads every module under wsfleet/ (AST, not regexes), finds the services it makes
clients for, and every call of a method that is an operation of one of those services (boto3's
snake_case names, from botocore's own service models), plus paginator names. wsfleet/demo/ is
left out: it talks only to its embedded moto server, never to an account this policy is for.
"""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

import botocore.session
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "config" / "iam-policy.json"
NOT_SCANNED = ("demo",)  # wsfleet/demo: moto only
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}  # boto3 service name -> IAM prefix, where they differ
# Prefixes whose actions change something (the write statement); everything else is a read.
WRITE_VERBS = ("Put", "Set", "Update", "Delete", "Create", "Execute", "Terminate", "Attach", "Detach", "Send",
               "Start", "Cancel", "Rollback", "Suspend", "Resume", "Enter", "Exit", "Modify")


def _modules() -> list[Path]:
    return [p for p in (ROOT / "wsfleet").rglob("*.py") if p.relative_to(ROOT / "wsfleet").parts[0] not in NOT_SCANNED]


def _client_services(trees: dict[Path, ast.AST]) -> set[str]:
    services = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                services.add(node.args[0].value)
    return services


@functools.lru_cache(maxsize=1)
def called_actions() -> dict[str, frozenset[str]]:
    """method name -> the IAM actions it could be (one per used service that has that operation)."""
    trees = {p: ast.parse(p.read_text(), str(p)) for p in _modules()}
    services = _client_services(trees)
    assert {"autoscaling", "cloudwatch", "ec2"} <= services, services  # the scan sees the adapters
    loader = botocore.session.get_session()
    operations: dict[str, set[str]] = {}
    for service in services:
        model = loader.get_service_model(service)
        prefix = IAM_PREFIX.get(service, service)
        for op in model.operation_names:
            operations.setdefault(xform_name(op), set()).add(f"{prefix}:{op}")
    calls: dict[str, set[str]] = {}
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                name = node.args[0].value
            if name in operations:
                calls.setdefault(name, set()).update(operations[name])
    return {name: frozenset(actions) for name, actions in calls.items()}


def policy_actions() -> dict[str, set[str]]:
    doc = json.loads(POLICY.read_text())
    assert doc["Version"] == "2012-10-17"
    out: dict[str, set[str]] = {}
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        # "*" (Auto Scaling and CloudWatch reads take no resource ARNs), or a narrower list
        assert statement["Resource"] == "*" or all(r.startswith("arn:aws:") for r in statement["Resource"])
        actions = statement["Action"]
        assert actions == sorted(actions) and len(set(actions)) == len(actions), f"{statement['Sid']}: keep actions sorted, once"
        out[statement["Sid"]] = set(actions)
    return out


def test_every_aws_call_in_the_code_is_allowed_by_the_policy():
    allowed = set().union(*policy_actions().values())
    missing = {name: sorted(candidates) for name, candidates in called_actions().items() if not candidates & allowed}
    assert not missing, f"add to {POLICY.name}: {missing}"


def test_the_policy_allows_nothing_the_code_does_not_call():
    called = set().union(*called_actions().values())
    extra = sorted(set().union(*policy_actions().values()) - called)
    assert not extra, f"remove from {POLICY.name} (no code calls them): {extra}"


def test_reads_and_writes_are_separate_statements():
    statements = policy_actions()
    assert set(statements) >= {"WsfleetRead", "WsfleetWrite"}
    for sid, actions in statements.items():  # every statement is only reads or only writes
        kinds = {a.split(":", 1)[1].startswith(WRITE_VERBS) for a in actions}
        assert len(kinds) == 1, (sid, sorted(actions))
    verb = lambda action: action.split(":", 1)[1]  # noqa: E731
    assert not [a for a in statements["WsfleetRead"] if verb(a).startswith(WRITE_VERBS)]
    assert not [a for a in statements["WsfleetWrite"] if not verb(a).startswith(WRITE_VERBS)]


def test_ssm_may_only_run_the_shell_script_document():
    doc = json.loads(POLICY.read_text())
    send = [s for s in doc["Statement"] if "ssm:SendCommand" in s["Action"]]
    assert len(send) == 1 and send[0]["Action"] == ["ssm:SendCommand"]
    assert "arn:aws:ssm:*::document/AWS-RunShellScript" in send[0]["Resource"] and "*" not in send[0]["Resource"]


def test_the_scan_finds_the_write_path_calls():
    calls = called_actions()
    for name, action in [("put_scaling_policy", "autoscaling:PutScalingPolicy"), ("put_metric_alarm", "cloudwatch:PutMetricAlarm"),
                         ("set_desired_capacity", "autoscaling:SetDesiredCapacity"), ("describe_policies", "autoscaling:DescribePolicies")]:
        assert action in calls.get(name, set())
