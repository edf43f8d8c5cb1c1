"""The configuration's frozen dataclasses. Thresholds and step bounds here are *absolute* connection
counts (as a person thinks of them); `StepAdjustment` holds AWS's *relative* bounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

TreatMissingData = Literal["breaching", "notBreaching", "ignore", "missing"]
CountSourceName = Literal["ssh", "ssm", "cloudwatch"]

TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
COUNT_SOURCES = ("ssh", "ssm", "cloudwatch")
POOL_STATES = ("Stopped", "Running", "Hibernated")
ADDRESS_KINDS = ("private_ip", "public_ip", "public_dns")
HOST_KEY_POLICIES = ("strict", "accept-new")


@dataclass(frozen=True)
class StepRange:
    """One scale-out step in absolute connections: [lower, upper) adds `add` instances."""

    lower: float
    upper: float | None
    add: int


@dataclass(frozen=True)
class StepAdjustment:
    """One AWS step adjustment: bounds relative to the alarm threshold (rule 1)."""

    lower_bound: float | None
    upper_bound: float | None
    scaling_adjustment: int


@dataclass(frozen=True)
class MetricSpec:
    namespace: str = "TCP_Connections"
    name: str = "TCPconnections"
    statistic: str = "Average"
    dimension: str = "AutoScalingGroupName"
    unit: str = "Count"


@dataclass(frozen=True)
class ScaleOutConfig:
    """The high alarm and its step policy."""

    threshold: float = 20000
    period: int = 60
    evaluation_periods: int = 5
    datapoints_to_alarm: int = 5
    treat_missing_data: TreatMissingData = "missing"
    warmup: int = 150
    steps: tuple[StepRange, ...] = (
        StepRange(20000, 25000, 2),
        StepRange(25000, 30000, 2),
        StepRange(30000, None, 3),
    )
    alarm_name: str = "{env}-{app}-high-tcp-connections"
    policy_name: str = "high_tcp_connections_policy"


@dataclass(frozen=True)
class ScaleInConfig:
    """The low alarm and its simple policy."""

    threshold: float = 9500
    period: int = 300
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 3
    treat_missing_data: TreatMissingData = "notBreaching"
    remove: int = 1
    cooldown: int = 300
    alarm_name: str = "{env}-{app}-low-tcp-connections"
    policy_name: str = "low_tcp_connections_policy"


@dataclass(frozen=True)
class WarmPoolConfig:
    min_size: int = 0
    max_prepared_capacity: int | None = None
    pool_state: str = "Stopped"
    reuse_on_scale_in: bool = False


@dataclass(frozen=True)
class ScheduledActionConfig:
    name: str
    recurrence: str | None = None
    time_zone: str | None = None
    min_size: int | None = None
    max_size: int | None = None
    desired_capacity: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass(frozen=True)
class CountsConfig:
    source: CountSourceName = "ssh"
    interval: float = 5.0
    timeout: float = 3.0
    concurrency: int = 100
    max_skew: float = 1.25  # `wsfleet check`'s default limit for max/mean (balance.DEFAULT_MAX_SKEW)


@dataclass(frozen=True)
class SshHost:
    """An explicit endpoint for one instance (demo, tests, or hosts behind NAT)."""

    host: str
    port: int = 22
    service_port: int | None = None


@dataclass(frozen=True)
class SshConfig:
    user: str | None = None
    key: str | None = None
    address: str = "private_ip"
    port: int = 22
    jump_host: str | None = None
    known_hosts: str | None = None
    host_keys: str = "strict"
    config_file: str | None = None  # ~/.ssh/config style file; None = the user's default
    hosts: dict[str, SshHost] = field(default_factory=dict)


@dataclass(frozen=True)
class DoctorConfig:
    """`[fleets.NAME.doctor]`: numbers `wsfleet doctor` would otherwise derive."""

    # seconds an ESTABLISHED connection may carry no data either way before doctor counts it as
    # left behind (silent-connections); None = from the ALB idle timeout (5 min), or 1 h without one
    silent_after: float | None = None


@dataclass(frozen=True)
class FleetConfig:
    name: str
    asg: str
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    env: str = "prod"
    app: str = "app"
    port: int = 443
    capacity: int = 28000
    metric: MetricSpec = MetricSpec()
    counts: CountsConfig = CountsConfig()
    ssh: SshConfig = SshConfig()
    scale_out: ScaleOutConfig = ScaleOutConfig()
    scale_in: ScaleInConfig = ScaleInConfig()
    warm_pool: WarmPoolConfig | None = None
    schedule: tuple[ScheduledActionConfig, ...] = ()
    doctor: DoctorConfig = DoctorConfig()

    @property
    def high_alarm_name(self) -> str:
        return self.scale_out.alarm_name.format(env=self.env, app=self.app, asg=self.asg)

    @property
    def low_alarm_name(self) -> str:
        return self.scale_in.alarm_name.format(env=self.env, app=self.app, asg=self.asg)


@dataclass(frozen=True)
class UiConfig:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys
    scale_step: int = 1


@dataclass(frozen=True)
class AppConfig:
    fleets: dict[str, FleetConfig]
    default_fleet: str | None = None
    audit_log: str | None = None
    ui: UiConfig = UiConfig()
    path: str | None = None  # the file it was read from
