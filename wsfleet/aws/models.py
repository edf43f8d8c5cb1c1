"""The EC2 client from a trimmed service model: only the operations wsfleet calls.

botocore's EC2 model describes every EC2 operation (4,014 shapes, a 5 MB JSON); creating a client
parses all of it and builds a method for each: 60 ms here, on the critical path of every one-shot
`wsfleet counts` whose address cache is empty (the addresses come from EC2). A client made from
the operations in `EC2_OPERATIONS` and the shapes they reach is created in 3 ms; it serializes the
same requests and parses the same responses (tests/aws/test_trimmed_models.py compares the two
against moto), because each of its shapes is the full model's own.

The trimmed model is derived from the installed botocore's model the first time it is needed and
kept in the user cache dir, named after its operations (`ec2-<API version>-service-2-<theirs>-`)
and what it was made from (botocore's version, the source file's path, size and mtime), so an
upgrade of botocore, a model of the user's own in ~/.aws/models or a new operation here derives
it again. A cache that cannot be read or written costs only the time: the model is then derived
in memory. Auto Scaling's models and both endpoint rule sets are kept whole, in the same way
(`TRIMMED`). The demo's own set-up client keeps its operations (`DEMO_EC2_OPERATIONS` in
wsfleet.demo.bootstrap) in a model of its own, beside this one.

Adding a call to another EC2 operation means adding it to `EC2_OPERATIONS` (a test scans the
code for EC2 calls and fails otherwise).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EC2_OPERATIONS = frozenset({"DescribeInstances", "DescribeLaunchTemplates", "CreateLaunchTemplateVersion"})
# service -> the operations its client keeps (None: all). Both models a client needs, `service-2`
# (trimmed) and `endpoint-rule-set-1` (whole), are served from the cache for these services:
# botocore would otherwise list every service directory it has (850 of them, 2,600 stats: 9 ms)
# once per model type before loading the first, and gunzip each file.
TRIMMED: dict[str, frozenset[str] | None] = {"ec2": EC2_OPERATIONS, "autoscaling": None}
_TYPES = ("service-2", "endpoint-rule-set-1")
_FORMAT = 2  # of the cached files; a change derives every cached model again

_lock = threading.Lock()
_in_memory: dict[str, dict] = {}


def trim(model: dict, operations: frozenset[str]) -> dict:
    """`model` with only `operations` and every shape they reach (inputs, outputs, errors, and the
    members, list members and map keys and values of those, transitively)."""
    missing = sorted(operations - model["operations"].keys())
    if missing:
        raise KeyError(f"operations not in the {model['metadata'].get('serviceId')} model: {', '.join(missing)}")
    shapes = model["shapes"]
    keep: set[str] = set()
    todo: list[str] = []
    for name in operations:
        op = model["operations"][name]
        todo.extend(op[k]["shape"] for k in ("input", "output") if k in op)
        todo.extend(e["shape"] for e in op.get("errors", ()))
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        shape = shapes[name]
        todo.extend(shape[k]["shape"] for k in ("member", "key", "value") if k in shape)
        todo.extend(m["shape"] for m in shape.get("members", {}).values())
    return {
        **model,
        "operations": {name: model["operations"][name] for name in sorted(operations)},
        "shapes": {name: shapes[name] for name in sorted(keep)},
    }


def _remove_superseded(kept: Path, prefix: str) -> None:
    """The same model for the same operations derived from an older botocore is never read again:
    remove it, one named as before operations were in the name (`<model>-<digest>.json`), and any
    temporary file older than an hour (a write cut short by a kill). Another operation set's model
    stays: one process may use two (the demo's own set-up client beside the product's)."""
    import re

    from wsfleet.files import remove_superseded

    unnamed_operations = re.compile(re.escape(prefix.rsplit("-", 2)[0]) + r"-[0-9a-f]{16}\.json")
    try:
        remove_superseded(kept, lambda name: name.startswith(prefix) or bool(unnamed_operations.fullmatch(name)))
    except OSError as exc:
        log.info("old models in %s not removed: %s", kept.parent, exc)


def cache_dir() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("wsfleet") / "botocore-models"


class TrimmingLoader:
    """A botocore data loader that answers the models of the services in `trimmed` from the cache
    (`service-2` trimmed to their operations) and passes everything else to `base`."""

    def __init__(self, base: Any, trimmed: dict[str, frozenset[str] | None] = TRIMMED, directory: Path | None = None) -> None:
        self._base = base
        self._trimmed = trimmed
        self._directory = directory
        self._keys: dict[tuple, str | None] = {}  # (service, api version, type) -> its key: stat once a process

    def __getattr__(self, name: str) -> Any:  # everything a loader does besides service models
        if name in ("_base", "_keys") or name.startswith("__"):  # not set yet (a copy), or a protocol probe
            raise AttributeError(name)
        return getattr(self._base, name)

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        if type_name not in _TYPES or service_name not in self._trimmed:
            return self._base.load_service_model(service_name, type_name, api_version)
        operations = self._trimmed[service_name] if type_name == "service-2" else None
        if api_version is None:
            api_version = self._base.determine_latest_version(service_name, type_name)
        where = (service_name, api_version, type_name)
        if where not in self._keys:
            self._keys[where] = self._key(service_name, api_version, type_name, operations)
        key = self._keys[where]
        if key is None:  # no file to name it after: botocore says what is wrong
            return self._base.load_service_model(service_name, type_name, api_version)
        with _lock:
            model = _in_memory.get(key)
            if model is None:
                model = self._cached(key) or self._derive(key, service_name, type_name, api_version, operations)
                _in_memory[key] = model
            return model

    def _key(self, service: str, api_version: str, type_name: str, operations: frozenset[str] | None) -> str | None:
        """The cached file's name: what it is made from (the first of botocore's search paths that
        has the model, as botocore picks it, and any sdk-extras file that botocore merges in)."""
        import botocore

        relative = os.path.join(service, api_version, type_name)
        made_from: list = [_FORMAT, botocore.__version__, sorted(operations) if operations is not None else None]
        found_model = False
        for directory in self._base.search_paths:
            for suffix in (".json", ".json.gz", ".sdk-extras.json"):
                path = os.path.join(directory, relative + suffix)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                extras = suffix == ".sdk-extras.json"
                if extras or not found_model:
                    made_from.append([path, stat.st_size, stat.st_mtime_ns])
                    found_model = found_model or not extras
        if not found_model:
            return None
        digest = hashlib.sha256(json.dumps(made_from).encode()).hexdigest()[:16]
        kept = "all" if operations is None else hashlib.sha256(",".join(sorted(operations)).encode()).hexdigest()[:8]
        return f"{service}-{api_version}-{type_name}-{kept}-{digest}"

    def _path(self, key: str) -> Path:
        return (self._directory or cache_dir()) / f"{key}.json"

    def _cached(self, key: str) -> dict | None:
        path = self._path(key)
        try:
            with open(path, encoding="utf-8") as f:
                model = json.load(f)
            if not isinstance(model, dict) or not model.get("version" if "-rule-set-" in key else "shapes"):
                raise ValueError("not a botocore model")
            return model
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.info("trimmed model %s ignored: %s", path, exc)
            return None

    def _derive(self, key: str, service: str, type_name: str, api_version: str, operations: frozenset[str] | None) -> dict:
        from wsfleet.files import write_private

        model = self._base.load_service_model(service, type_name, api_version)
        if operations is not None:
            model = trim(model, operations)
        path = self._path(key)
        try:
            write_private(path, json.dumps(model, separators=(",", ":")))
        except OSError as exc:
            log.info("trimmed model %s not written: %s", path, exc)
        else:
            _remove_superseded(path, key.rsplit("-", 1)[0] + "-")
        return model
