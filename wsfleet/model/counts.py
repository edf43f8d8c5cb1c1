"""Connection counts as frozen dataclasses: where to count, one instance's count, one sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

CountError = Literal["timeout", "refused", "auth", "host-key", "command", "parse", "not-found"]

COUNT_ERRORS = ("timeout", "refused", "auth", "host-key", "command", "parse", "not-found")


@dataclass(frozen=True)
class CountTarget:
    """Where and how to count one instance."""

    instance_id: str
    host: str | None  # None when no address is known (error not-found)
    ssh_port: int = 22
    service_port: int = 443
    az: str = ""
    lifecycle: str = ""
    health: str = ""
    launch_template_version: str | None = None  # what the instance was launched from (Instance's)
    current: bool | None = None  # whether that is what the group launches now; None = unknown


@dataclass(frozen=True)
class InstanceCount:
    instance_id: str
    az: str
    address: str | None
    lifecycle: str
    health: str
    connections: int | None
    error: CountError | None = None
    latency_ms: float | None = None
    detail: str | None = None  # the underlying message, for -v and the UI's error column
    age_s: float | None = None  # cloudwatch: how old the datapoint is
    launch_template_version: str | None = None  # "3" (or a launch configuration's name); None = unknown
    current: bool | None = None  # runs the group's current launch template version; None = unknown


@dataclass(frozen=True)
class BalanceStats:
    instances: int
    measured: int
    total: int
    mean: float | None
    min: int | None
    max: int | None
    skew: float | None  # max / mean
    cv: float | None  # population standard deviation / mean


@dataclass(frozen=True)
class CountSweep:
    fleet: str
    asg: str
    source: str
    taken_at: datetime
    instances: tuple[InstanceCount, ...]
    summary: BalanceStats
