"""What `wsfleet doctor` reads and reports: the facts read on an instance, the findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wsfleet.model.counts import CountError

Severity = Literal["error", "warning", "info", "ok"]
SEVERITIES = ("error", "warning", "info", "ok")  # most severe first


@dataclass(frozen=True)
class Finding:
    """One `wsfleet doctor` result: what was found, why it matters (the seed's terms), the fix."""

    check: str  # stable id, e.g. "missing-data", "flap", "open-files"
    severity: Severity
    found: str
    why: str = ""
    fix: str = ""  # the exact command or config snippet; "" when there is nothing to do
    subject: str = ""  # the resource it is about: an alarm, a policy, instance ids


@dataclass(frozen=True)
class InstanceFacts:
    """What `doctor` read on one instance with fixed read-only commands; None = could not be read."""

    instance_id: str
    address: str | None = None
    error: CountError | None = None  # the host could not be checked at all (as for counts)
    detail: str | None = None
    listening: bool | None = None  # something listens on the service port
    service_pids: tuple[int, ...] = ()  # the processes holding the listening socket, when visible
    open_files: int | None = None  # lowest soft "Max open files" among service_pids (None = unlimited or unknown)
    open_files_unlimited: bool = False
    port_range: tuple[int, int] | None = None  # net.ipv4.ip_local_port_range
    established: int | None = None  # on the service port
    close_wait: int | None = None  # on the service port
    nginx_present: bool = False
    nginx_readable: bool = False  # `nginx -T` worked
    nginx_keepalive: tuple[float, ...] = ()  # every keepalive_timeout in `nginx -T`, seconds
    service_port: int | None = None  # the port these facts are about (ssh.hosts may give each its own)
    # ESTABLISHED on the port with no data either way for at least 60 s, 300 s, 3600 s (None = not read)
    silent: tuple[int, int, int] | None = None
    # ESTABLISHED on the port silent for at least the fleet's doctor.silent_after (None = not asked or not read)
    silent_over: int | None = None
