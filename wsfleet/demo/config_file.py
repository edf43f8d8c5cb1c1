"""The demo fleet's config file: an ordinary wsfleet config pointing at the demo's loopback world.

It names moto's endpoint, the demo's SSH key and known_hosts, and an explicit `ssh.hosts` map from
instance id to that instance's SSH endpoint and service port. Instances come and go as the demo
scales, so the map is rewritten whenever they do, atomically (a temporary file renamed over the
old one, known_hosts first): a reader always sees a whole file, and every host in it has its key.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from wsfleet.demo.instances import LOOPBACK, DemoKeys
from wsfleet.demo.scenarios import MAX_SIZE, DemoTiming, Scenario

FLEET_NAME = "demo"
ASG_NAME = "demo-chat-asg"
REGION = "us-east-1"
SCHEDULED_ACTION = "demo-morning-floor"
WARM_POOL = {"min_size": 2, "max_prepared_capacity": 6, "pool_state": "Stopped", "reuse_on_scale_in": True}
SSH_USER = "demo"
DEFAULT_SERVICE_PORT = 8080  # only for an instance missing from the map; every demo instance has its own


@dataclass(frozen=True)
class Endpoint:
    ssh_port: int
    service_port: int


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 200, as a person writes a threshold
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[ " + ", ".join(_toml(v) for v in value) + " ]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _table(name: str, items: Mapping[str, Any]) -> str:
    lines = [f"[{name}]"]
    lines += [f"{k} = {_toml(v)}" for k, v in items.items() if v is not None]
    return "\n".join(lines) + "\n"


def render(
    *,
    scenario: Scenario,
    timing: DemoTiming,
    endpoint_url: str,
    keys: DemoKeys,
    workdir: Path,
    hosts: Mapping[str, Endpoint],
    schedule_at: datetime,
    count_timeout: float = 2,
) -> str:
    """The whole config file for the demo fleet (TOML). `count_timeout` is the per-host SSH timeout
    (2 s: loopback answers in milliseconds; a test on a loaded machine asks for more)."""
    prefix = f"fleets.{FLEET_NAME}"
    steps = [{"from": s.lower, "to": s.upper, "add": s.add} if s.upper is not None else {"from": s.lower, "add": s.add} for s in scenario.steps]
    parts = [
        "# The wsfleet demo fleet, written by `wsfleet demo` (a temporary file: it goes when the demo stops).\n"
        "# Everything here is on loopback: moto's AWS API and one WebSocket + SSH server per instance.\n",
        f"default_fleet = {_toml(FLEET_NAME)}\naudit_log = {_toml(str(workdir / 'audit.jsonl'))}\n",
        _table(
            prefix,
            {
                "asg": ASG_NAME,
                "region": REGION,
                "endpoint_url": endpoint_url,
                "env": "demo",
                "app": "chat",
                "port": DEFAULT_SERVICE_PORT,
                "capacity": scenario.capacity,
            },
        ),
        _table(f"{prefix}.counts", {"source": "ssh", "interval": 2, "timeout": count_timeout, "concurrency": 50}),
        _table(f"{prefix}.doctor", {"silent_after": timing.silent_after}),
        _table(
            f"{prefix}.ssh",
            {
                "user": SSH_USER,
                "key": str(keys.client_key_path),
                "known_hosts": str(keys.known_hosts_path),
                "host_keys": "strict",
                "config_file": str(workdir / "ssh_config"),  # never the user's ~/.ssh/config
            },
        ),
        f"[{prefix}.ssh.hosts]\n"
        + "".join(
            f'"{iid}" = {_toml({"address": f"{LOOPBACK}:{e.ssh_port}", "service_port": e.service_port})}\n'
            for iid, e in sorted(hosts.items())
        ),
        _table(
            f"{prefix}.scale_out",
            {
                "threshold": scenario.high,
                "period": timing.period,
                "evaluation_periods": scenario.high_periods,
                "datapoints_to_alarm": scenario.high_periods,
                "treat_missing_data": "missing",
                "warmup": scenario.warmup,
                "steps": steps,
            },
        ),
        _table(
            f"{prefix}.scale_in",
            {
                "threshold": scenario.low,
                "period": timing.period,
                "evaluation_periods": scenario.low_periods,
                "datapoints_to_alarm": scenario.low_periods,
                "treat_missing_data": "notBreaching",
                "remove": 1,
                "cooldown": scenario.cooldown,
            },
        ),
        _table(f"{prefix}.warm_pool", WARM_POOL),
        f"[[{prefix}.schedule]]\n"
        + "".join(
            f"{k} = {_toml(v)}\n"
            for k, v in {
                "name": SCHEDULED_ACTION,
                "recurrence": f"{schedule_at.minute} {schedule_at.hour} * * *",
                "time_zone": "UTC",
                "min_size": scenario.schedule_min_size,
                "max_size": MAX_SIZE,
            }.items()
        ),
    ]
    return "\n".join(parts)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
    os.replace(tmp, path)


class DemoConfigFile:
    """The config file and known_hosts, rewritten together whenever the instance map changes."""

    def __init__(self, path: Path, keys: DemoKeys, render_with_hosts) -> None:
        self.path = path
        self._keys = keys
        self._render = render_with_hosts  # Mapping[str, Endpoint] -> str
        self._hosts: dict[str, Endpoint] = {}
        self._lock = threading.Lock()
        (path.parent / "ssh_config").touch()

    def hosts(self) -> dict[str, Endpoint]:
        with self._lock:
            return dict(self._hosts)

    def update(self, *, add: Mapping[str, Endpoint] | None = None, remove: tuple[str, ...] = ()) -> None:
        with self._lock:
            for iid in remove:
                self._hosts.pop(iid, None)
            self._hosts.update(add or {})
            write_atomic(self._keys.known_hosts_path, self._keys.known_hosts_text([e.ssh_port for e in self._hosts.values()]))
            write_atomic(self.path, self._render(dict(self._hosts)))
