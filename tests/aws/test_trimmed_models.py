"""The EC2 client from a trimmed model (wsfleet.aws.models): the same requests and answers as a full
client, every EC2 call wsfleet makes covered, and a cache that is named after its source."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest

from tests.aws.conftest import ASG, REGION
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws import models
from wsfleet.aws.fleet import read_group
from wsfleet.aws.models import EC2_OPERATIONS, TrimmingLoader, trim
from wsfleet.aws.session import AwsSession

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    monkeypatch.setattr(models, "_in_memory", {})


def _client(loader, directory: Path | None = None):
    core = botocore.session.Session()
    core.register_component("data_loader", loader)
    return core.create_client("ec2", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def _ec2_calls_in_wsfleet() -> set[str]:
    """Every method called on an EC2 client in wsfleet/: `X.client("ec2").m(...)`, and `v.m(...)`
    where `v = X.client("ec2")` in the same function or `v` is a parameter named ec2 (a client
    handed down, as to `_paged_instances`)."""
    names: set[str] = set()

    def is_ec2_client(node) -> bool:
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
                and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value == "ec2")

    for path in (ROOT / "wsfleet").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            held = {t.id for n in ast.walk(func) if isinstance(n, ast.Assign) and is_ec2_client(n.value)
                    for t in n.targets if isinstance(t, ast.Name)}
            held |= {a.arg for a in func.args.args + func.args.kwonlyargs if a.arg == "ec2"}
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    owner = node.func.value
                    if is_ec2_client(owner) or (isinstance(owner, ast.Name) and owner.id in held):
                        names.add(node.func.attr)
    return names


def test_every_ec2_call_in_wsfleet_is_in_the_trimmed_model(tmp_path):
    calls = _ec2_calls_in_wsfleet() - {"meta", "close", "can_paginate", "get_paginator", "get_waiter"}
    assert {"describe_instances", "describe_launch_templates"} <= calls  # the scan finds what is there
    client = _client(TrimmingLoader(botocore.loaders.create_loader(), directory=tmp_path))
    missing = sorted(c for c in calls if not hasattr(client, c))
    assert not missing, f"add these to wsfleet.aws.models.EC2_OPERATIONS: {missing}"
    assert not hasattr(client, "run_instances")  # and it is trimmed
    assert {client.meta.method_to_api_mapping[c] for c in calls} == EC2_OPERATIONS


def test_the_trimmed_model_keeps_every_shape_its_operations_reach():
    full = botocore.loaders.create_loader().load_service_model("ec2", "service-2")
    small = trim(full, EC2_OPERATIONS)
    assert len(small["shapes"]) < len(full["shapes"]) / 5
    for name, shape in small["shapes"].items():
        assert shape is full["shapes"][name]
        for ref in [*(shape[k] for k in ("member", "key", "value") if k in shape), *shape.get("members", {}).values()]:
            assert ref["shape"] in small["shapes"], (name, ref)
    with pytest.raises(KeyError, match="NoSuchCall"):
        trim(full, frozenset({"NoSuchCall"}))


def test_a_trimmed_client_makes_the_same_requests_and_reads_the_same_answers(aws, session, tmp_path):
    make_fleet(session, asg=ASG, instances=3)
    full = _client(botocore.loaders.create_loader())
    small = _client(TrimmingLoader(botocore.loaders.create_loader(), directory=tmp_path))
    sent: dict[str, list] = {"full": [], "small": []}
    for label, client in (("full", full), ("small", small)):
        client.meta.events.register("before-send", lambda request, label=label, **_: sent[label].append(request.body) and None)
    for method, params in (("describe_instances", {}), ("describe_launch_templates", {}),
                           ("describe_instances", {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]})):
        a, b = getattr(full, method)(**params), getattr(small, method)(**params)
        for doc in (a, b):
            doc.pop("ResponseMetadata")
        assert a == b and a
    assert sent["full"] == sent["small"] and len(sent["full"]) == 3


def test_the_product_session_reads_the_group_through_the_trimmed_client(aws, session, tmp_path, monkeypatch):
    monkeypatch.setattr(models, "cache_dir", lambda: tmp_path)
    make_fleet(session, asg=ASG, instances=3)
    group = read_group(session, ASG)
    assert len(group.instances) == 3 and all(i.private_ip for i in group.instances)
    assert not hasattr(session.client("ec2"), "run_instances")
    assert sorted(p.name.split("-", 1)[0] + p.name.split("-")[-3] for p in tmp_path.iterdir()) == [
        "autoscaling1", "autoscaling2", "ec21", "ec22"]  # rule-set-1 and service-2 of each


class _Counting:
    """A loader that counts the full EC2 models it was asked for."""

    def __init__(self) -> None:
        self.base = botocore.loaders.create_loader()
        self.full_loads = 0

    def __getattr__(self, name):
        return getattr(self.base, name)

    def load_service_model(self, service, type_name, api_version=None):
        if (service, type_name) == ("ec2", "service-2"):
            self.full_loads += 1
        return self.base.load_service_model(service, type_name, api_version)


def test_the_trimmed_model_is_derived_once_then_read_from_the_cache(tmp_path, monkeypatch):
    first = _Counting()
    _client(TrimmingLoader(first, directory=tmp_path))
    (cached,) = tmp_path.glob("ec2-*-service-2-*.json")
    assert first.full_loads == 1 and cached.stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(models, "_in_memory", {})  # as a new process
    second = _Counting()
    client = _client(TrimmingLoader(second, directory=tmp_path))
    assert second.full_loads == 0 and hasattr(client, "describe_instances")
    assert set(json.loads(cached.read_text())["operations"]) == EC2_OPERATIONS


def test_a_corrupt_or_unwritable_cache_costs_only_time(tmp_path, monkeypatch):
    loader = _Counting()
    _client(TrimmingLoader(loader, directory=tmp_path))
    (cached,) = tmp_path.glob("ec2-*-service-2-*.json")
    cached.write_text('{"operations": [')  # cut short
    monkeypatch.setattr(models, "_in_memory", {})
    client = _client(TrimmingLoader(loader, directory=tmp_path))
    assert loader.full_loads == 2 and hasattr(client, "describe_instances")
    assert set(json.loads(cached.read_text())["operations"]) == EC2_OPERATIONS  # written again, whole
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setattr(models, "_in_memory", {})
    client = _client(TrimmingLoader(loader, directory=blocked / "models"))  # a directory under a file
    assert loader.full_loads == 3 and hasattr(client, "describe_launch_templates")


def test_the_cache_is_named_after_botocore_and_the_operations_and_keeps_only_the_newest(tmp_path, monkeypatch):
    """One file per operation set (the demo's process uses two), the newest botocore's only; a file
    named as before operations were in the name is removed."""
    legacy = tmp_path / "ec2-2016-11-15-service-2-0123456789abcdef.json"
    legacy.write_text("{}")
    names = []
    for trimmed, version in (({"ec2": EC2_OPERATIONS}, None), ({"ec2": EC2_OPERATIONS | {"DescribeSubnets"}}, None),
                             ({"ec2": EC2_OPERATIONS}, "0.0.0-other")):
        monkeypatch.setattr(models, "_in_memory", {})
        if version:
            monkeypatch.setattr(botocore, "__version__", version)
        _client(TrimmingLoader(botocore.loaders.create_loader(), trimmed, tmp_path))
        names.append(sorted(p.name for p in tmp_path.glob("ec2-*-service-2-*.json")))
    assert not legacy.exists()
    first, both, replaced = names
    assert len(first) == 1 and len(both) == 2 and first[0] in both  # another operation set: kept beside
    assert len(replaced) == 2 and first[0] not in replaced and set(both) - set(first) <= set(replaced)
    assert all(re.fullmatch(r"ec2-2016-11-15-service-2-[0-9a-f]{8}-[0-9a-f]{16}\.json", n) for n in replaced)
    assert len(list(tmp_path.glob("ec2-*-endpoint-rule-set-1-*.json"))) == 1  # another model: kept


def test_a_temporary_file_left_by_a_killed_write_is_removed_once_old(tmp_path):
    import os
    import time

    old, fresh = tmp_path / ".tmp-old.json", tmp_path / ".tmp-fresh.json"
    for f in (old, fresh):
        f.write_text("{")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    _client(TrimmingLoader(botocore.loaders.create_loader(), directory=tmp_path))
    assert not old.exists() and fresh.exists()


def test_the_loader_can_be_copied():
    import copy

    loader = TrimmingLoader(botocore.loaders.create_loader())
    assert copy.copy(loader).search_paths == loader.search_paths


def test_other_services_and_model_types_pass_through(tmp_path):
    base = botocore.loaders.create_loader()
    loader = TrimmingLoader(base, directory=tmp_path)
    assert loader.load_service_model("cloudwatch", "service-2") is base.load_service_model("cloudwatch", "service-2")
    assert loader.load_service_model("ec2", "paginators-1") is base.load_service_model("ec2", "paginators-1")
    assert loader.search_paths is base.search_paths
    assert not list(tmp_path.iterdir())


def test_kept_whole_models_equal_botocores_and_skip_its_directory_scan(tmp_path, monkeypatch):
    base = botocore.loaders.create_loader()
    expected = {t: base.load_service_model("autoscaling", t) for t in ("service-2", "endpoint-rule-set-1")}
    expected["ec2 rules"] = base.load_service_model("ec2", "endpoint-rule-set-1")
    for type_name in ("service-2", "endpoint-rule-set-1"):  # fill the cache
        TrimmingLoader(base, directory=tmp_path).load_service_model("autoscaling", type_name)
    monkeypatch.setattr(models, "_in_memory", {})
    fresh = botocore.loaders.create_loader()
    monkeypatch.setattr(fresh, "list_available_services", lambda *a: pytest.fail("scanned every service directory"))
    again = TrimmingLoader(fresh, directory=tmp_path)
    assert again.load_service_model("autoscaling", "service-2") == expected["service-2"]
    assert again.load_service_model("autoscaling", "endpoint-rule-set-1") == expected["endpoint-rule-set-1"]
    monkeypatch.undo()
    monkeypatch.setattr(models, "_in_memory", {})
    assert TrimmingLoader(base, directory=tmp_path).load_service_model("ec2", "endpoint-rule-set-1") == expected["ec2 rules"]
