"""Per-instance connection counts behind one interface (`base.CountSource`): ssh, ssm, cloudwatch.

    targets = targets_for(fleet, group)          # where and how to count each instance
    source = open_source(fleet, session)         # the configured source (or a named one)
    sweep = await collect_sweep(fleet, source, targets)   # one CountSweep with balance stats
    await source.aclose()

A UI that wants rows as they arrive iterates `source.sweep(targets)` itself.
Source modules are imported only when opened, so `wsfleet counts --source ssm` never loads asyncssh.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from wsfleet.balance import sweep_balance
from wsfleet.counts.base import CountSource, failed
from wsfleet.errors import ConfigError
from wsfleet.model import COUNT_SOURCES, CountSweep, CountTarget, FleetConfig, GroupState, Instance


def _quick_liboqs_lookup() -> None:
    """asyncssh looks for liboqs (post-quantum kex) with ctypes.util.find_library at import, which on
    Linux runs `ldconfig -p` and then gcc for each name it misses: 40-60 ms of every one-shot
    `counts`/`check` here, where there is no liboqs. The answer is in the dynamic linker's cache and
    LD_LIBRARY_PATH, so for those two names look there first and ask find_library only when a
    liboqs is there. Any other name goes to find_library unchanged."""
    import ctypes.util
    import os

    original = ctypes.util.find_library
    if getattr(original, "wsfleet_quick", False) or not os.path.exists("/etc/ld.so.cache"):
        return

    def find_library(name: str):
        if name in ("oqs", "liboqs"):
            try:
                with open("/etc/ld.so.cache", "rb") as f:
                    cached = b"liboqs.so" in f.read()
            except OSError:
                return original(name)
            dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if d]
            listed = any(n.startswith("liboqs.so") for d in dirs if os.path.isdir(d) for n in os.listdir(d))
            if not cached and not listed:
                return None
        return original(name)

    find_library.wsfleet_quick = True  # type: ignore[attr-defined]
    ctypes.util.find_library = find_library


_quick_liboqs_lookup()

__all__ = ["CountSource", "targets_for", "open_source", "collect_sweep", "address_for"]


def address_for(fleet: FleetConfig, instance: Instance) -> str | None:
    """The instance's address of the configured kind (`ssh.address`), or None when it has none."""
    kind = fleet.ssh.address
    if kind == "public_ip":
        return instance.public_ip
    if kind == "public_dns":
        return instance.public_dns or None
    return instance.private_ip


def targets_for(fleet: FleetConfig, group: GroupState) -> list[CountTarget]:
    """One target per instance of the group: the `ssh.hosts` entry first, else its address; with
    the instance's launch template version and whether it is the group's current one (known when
    `group.launch_template` names a number or was resolved: `aws.fleet.resolve_launch_template`)."""
    template = group.launch_template
    targets = []
    for instance in group.instances:
        mapped = fleet.ssh.hosts.get(instance.id)
        if mapped is not None:
            host, ssh_port = mapped.host, mapped.port
            service_port = mapped.service_port or fleet.port
        else:
            host, ssh_port, service_port = address_for(fleet, instance), fleet.ssh.port, fleet.port
        targets.append(CountTarget(
            instance_id=instance.id,
            host=host,
            ssh_port=ssh_port,
            service_port=service_port,
            az=instance.az,
            lifecycle=instance.lifecycle,
            health=instance.health,
            launch_template_version=instance.launch_template_version,
            current=template.is_current(instance.launch_template_version) if template else None,
        ))
    return targets


def open_source(fleet: FleetConfig, session, source: str | None = None) -> CountSource:
    """The count source named `source`, else the fleet's `counts.source`.

    `session` is the fleet's AwsSession (ssm and cloudwatch use it; ssh does not).
    Raises ConfigError for an unknown source or unusable SSH settings (e.g. an unreadable key).
    """
    name = source or fleet.counts.source
    if name == "ssh":
        from wsfleet.counts.ssh import SshSource

        return SshSource(fleet.ssh, fleet.counts)
    if name == "ssm":
        from wsfleet.counts.ssm import SsmSource

        return SsmSource(session, fleet)
    if name == "cloudwatch":
        from wsfleet.counts.cloudwatch import CloudWatchSource

        return CloudWatchSource(session, fleet)
    raise ConfigError(f"count source {name!r} is unknown: use one of {', '.join(COUNT_SOURCES)} (counts.source or --source).")


async def collect_sweep(fleet: FleetConfig, source: CountSource, targets: Sequence[CountTarget]) -> CountSweep:
    """One whole sweep, rows in the targets' order, with the balance statistics over it."""
    taken_at = datetime.now(timezone.utc)
    rows = {}
    async for row in source.sweep(targets):
        rows[row.instance_id] = row
    from wsfleet import startup

    startup.end()  # the command has started: its collector back on (wsfleet.startup)
    ordered = tuple(rows.get(t.instance_id) or failed(t, "command", "the source gave no answer") for t in targets)
    return CountSweep(
        fleet=fleet.name,
        asg=fleet.asg,
        source=getattr(source, "name", "?"),
        taken_at=taken_at,
        instances=ordered,
        summary=sweep_balance(ordered),
    )
