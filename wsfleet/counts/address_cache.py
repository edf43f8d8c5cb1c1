"""The address cache: each instance's addresses as AWS returned them on the last run, per fleet, so a
one-shot `wsfleet counts`/`check` can start its SSH connections while it reads the group again.

A guess, never an answer: rows come only from the fresh read (`commands/counts.py`); a cached
instance that has left the group is never reported, its connection closed. Only what AWS returned
is kept (private and public address, public DNS name), never an `ssh.hosts` entry: that comes from
the config on every run. One JSON file per fleet, group, region (and endpoint and profile), in
platformdirs' user cache dir, written atomically with mode 0600:

    {"version": 1, "fleet", "asg", "region", "instances": {"i-...": {"private_ip", "public_ip", "public_dns"}}}

A missing, unreadable or malformed file is an empty cache (one log line, shown with -v).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

from wsfleet.files import write_private
from wsfleet.model import FleetConfig, GroupState, Instance

log = logging.getLogger(__name__)

VERSION = 1
_FIELDS = ("private_ip", "public_ip", "public_dns")


def cache_dir() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("wsfleet") / "addresses"


def cache_path(fleet: FleetConfig) -> Path:
    scope = "\0".join((fleet.name, fleet.asg, fleet.region or "", fleet.endpoint_url or "", fleet.profile or ""))
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{fleet.name}-{fleet.asg}")[:80]
    return cache_dir() / f"{slug}-{hashlib.sha256(scope.encode()).hexdigest()[:12]}.json"


def load(fleet: FleetConfig) -> tuple[Instance, ...]:
    """The instances the last run found (with their addresses only); () when there is no usable cache."""
    path = cache_path(fleet)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("version") != VERSION or doc.get("asg") != fleet.asg:
            raise ValueError("another version or group")
        instances = []
        for instance_id, addresses in doc["instances"].items():
            fields = {k: addresses.get(k) for k in _FIELDS}
            if not isinstance(instance_id, str) or not all(v is None or isinstance(v, str) for v in fields.values()):
                raise ValueError(f"a malformed entry for {instance_id!r}")
            instances.append(Instance(id=instance_id, az="", lifecycle="", health="", **fields))
        return tuple(instances)
    except FileNotFoundError:
        return ()
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.info("address cache %s ignored: %s", path, exc)
        return ()


def save(fleet: FleetConfig, group: GroupState, known: tuple[Instance, ...] = ()) -> None:
    """Remember the group's addresses for the next run; nothing is written when they equal `known`
    (what `load` gave). Failures are logged, never raised: the cache is only a head start."""
    entries = {i.id: {k: getattr(i, k) for k in _FIELDS} for i in group.instances}
    if entries == {i.id: {k: getattr(i, k) for k in _FIELDS} for i in known}:
        return
    path = cache_path(fleet)
    doc = {"version": VERSION, "fleet": fleet.name, "asg": fleet.asg, "region": fleet.region, "instances": entries}
    try:
        write_private(path, json.dumps(doc, separators=(",", ":")))
    except OSError as exc:
        log.info("address cache %s not written: %s", path, exc)
