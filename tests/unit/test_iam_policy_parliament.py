"""parliament (the IAM linter) finds nothing above LOW in the generated policies, and does find a bad one."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import pytest

from wsfleet import iam_policy
from wsfleet.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def _parliament():
    # parliament 1.6 imports pkg_resources only for resource_filename; setuptools >= 81 no longer ships it
    try:
        import pkg_resources  # noqa: F401
    except ModuleNotFoundError:
        import importlib.util

        shim = types.ModuleType("pkg_resources")
        shim.resource_filename = lambda pkg, name: os.path.join(os.path.dirname(importlib.util.find_spec(pkg).origin), name)
        sys.modules["pkg_resources"] = shim
    import parliament

    return parliament


SEVERITY = ("NONE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def findings_above_low(doc: dict) -> list:
    p = _parliament()
    policy = p.analyze_policy_string(json.dumps(doc))
    return [(f.issue, f.detail) for f in policy.findings
            if SEVERITY.index(str(p.config.get(f.issue, {}).get("severity", "HIGH")).upper()) > SEVERITY.index("LOW")]


def without_split_send_command(findings: list, doc: dict) -> list:
    """parliament wants each SendCommand statement to name a document; AWS's own example for tag-scoped Run
    Command (systems-manager userguide, "Restricting Run Command access based on tags") splits the document
    and the tagged instances into two statements, as ours does. Exempt exactly that, when the document
    statement is there."""
    has_doc = any(s["Action"] == ["ssm:SendCommand"] and all(":document/" in r for r in s["Resource"]) for s in doc["Statement"])
    split = [{"action": "ssm:SendCommand", "required_format": "arn:*:ssm:*:*:document/*"}]
    return [f for f in findings if not (has_doc and f == ("RESOURCE_MISMATCH", split))]


@pytest.mark.parametrize("config", ["config/wsfleet.example.toml", "tests/configs/two-fleets.toml"])
def test_generated_policies_pass_parliament(config):
    fleets = list(load_config(str(ROOT / config)).fleets.values())
    for doc in (iam_policy.fleet_policy(fleets), iam_policy.fleet_policy(fleets, "123456789012")):
        assert not without_split_send_command(findings_above_low(doc), doc)
    assert not findings_above_low(iam_policy.instance_role_policy(fleets))


def test_parliament_catches_a_bad_policy():
    # SendCommand on a bucket: a resource the action cannot take (RESOURCE_MISMATCH, above LOW)
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:SendCommand"], "Resource": "arn:aws:s3:::bucket"}]}
    assert findings_above_low(bad)
