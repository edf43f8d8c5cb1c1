"""Frozen dataclasses shared by every layer: configuration, AWS reads, connection counts.

Nothing here does I/O. Thresholds and step bounds in configuration are *absolute* connection
counts (as a person thinks of them); `StepAdjustment` holds AWS's *relative* bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

TreatMissingData = Literal["breaching", "notBreaching", "ignore", "missing"]
AlarmStateValue = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
CountSourceName = Literal["ssh", "ssm", "cloudwatch"]
CountError = Literal["timeout", "refused", "auth", "host-key", "command", "parse", "not-found"]

TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
COUNT_SOURCES = ("ssh", "ssm", "cloudwatch")
COUNT_ERRORS = ("timeout", "refused", "auth", "host-key", "command", "parse", "not-found")
POOL_STATES = ("Stopped", "Running", "Hibernated")
ADDRESS_KINDS = ("private_ip", "public_ip", "public_dns")
HOST_KEY_POLICIES = ("strict", "accept-new")


# --------------------------------------------------------------------------- configuration


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


# --------------------------------------------------------------------------- AWS reads


@dataclass(frozen=True)
class Instance:
    id: str
    az: str
    lifecycle: str  # InService, Pending, Terminating, Warmed:Stopped, ...
    health: str  # Healthy | Unhealthy
    protected: bool = False
    launch_time: datetime | None = None
    instance_type: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    public_dns: str | None = None
    # the launch template version the instance was launched from ("3"), or the launch
    # configuration's name; None when Auto Scaling does not say
    launch_template_version: str | None = None


@dataclass(frozen=True)
class LaunchTemplateRef:
    """What the group launches new instances from: a launch template (id, name, the version as the
    group names it, possibly "$Latest"/"$Default", and that version resolved to a number when EC2
    was asked), or a launch configuration (only `name`)."""

    id: str | None
    name: str | None
    version: str | None  # as the group holds it: "3", "$Latest", "$Default"; None for a launch configuration
    resolved_version: str | None = None  # the number "$Latest"/"$Default" stands for now
    is_launch_configuration: bool = False

    @property
    def current_version(self) -> str | None:
        """The version a new instance gets today, as instances report it ("3"; the name for a launch
        configuration); None when it could not be resolved."""
        if self.is_launch_configuration:
            return self.name
        if self.version and not self.version.startswith("$"):
            return self.version
        return self.resolved_version

    def is_current(self, instance_version: str | None) -> bool | None:
        """Whether an instance that reports `instance_version` runs what the group launches now;
        None when either side is unknown."""
        current = self.current_version
        if current is None or instance_version is None:
            return None
        return instance_version == current


@dataclass(frozen=True)
class GroupState:
    name: str
    min_size: int
    max_size: int
    desired: int
    instances: tuple[Instance, ...] = ()
    default_cooldown: int | None = None
    target_group_arns: tuple[str, ...] = ()
    suspended_processes: tuple[str, ...] = ()
    launch_template: LaunchTemplateRef | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def tag(self, key: str) -> str | None:
        return next((v for k, v in self.tags if k == key), None)


@dataclass(frozen=True)
class Alarm:
    name: str
    state: AlarmStateValue
    reason: str = ""
    updated: datetime | None = None
    threshold: float = 0.0
    comparison: str = ""
    period: int = 60
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    treat_missing_data: str = "missing"
    namespace: str = ""
    metric_name: str = ""
    statistic: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScalingPolicy:
    name: str
    arn: str | None
    policy_type: str  # StepScaling | SimpleScaling | TargetTrackingScaling
    adjustment_type: str | None = None
    steps: tuple[StepAdjustment, ...] = ()  # relative, as AWS holds them
    scaling_adjustment: int | None = None  # SimpleScaling
    cooldown: int | None = None
    warmup: int | None = None
    metric_aggregation_type: str | None = None
    alarm_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class WarmPool:
    min_size: int
    max_prepared_capacity: int | None
    pool_state: str
    reuse_on_scale_in: bool
    status: str | None = None
    instances: tuple[Instance, ...] = ()


@dataclass(frozen=True)
class ScheduledAction:
    name: str
    recurrence: str | None = None
    time_zone: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    min_size: int | None = None
    max_size: int | None = None
    desired_capacity: int | None = None
    arn: str | None = None


@dataclass(frozen=True)
class ScalingActivity:
    id: str
    description: str
    cause: str
    status: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    progress: int | None = None


@dataclass(frozen=True)
class TargetGroupInfo:
    arn: str
    name: str
    algorithm: str | None = None
    stickiness_enabled: bool | None = None
    stickiness_type: str | None = None
    deregistration_delay: int | None = None
    load_balancer_arns: tuple[str, ...] = ()
    idle_timeout: int | None = None  # of the (first) load balancer, seconds
    slow_start: int | None = None  # slow_start.duration_seconds (0 = off)


@dataclass(frozen=True)
class MetricSeries:
    """The group's metric (configured statistic per period), oldest first; None = no datapoint."""

    period: int
    timestamps: tuple[datetime, ...]
    values: tuple[float | None, ...]


# the group tag saying wsfleet suspended AlarmNotification for a refresh and must resume it once no
# refresh runs (its value: when it was suspended, ISO 8601)
RESUME_ALARMS_TAG = "wsfleet:resume-alarms-after-refresh"
REFRESH_ACTIVE_STATES = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
REFRESH_STATES = REFRESH_ACTIVE_STATES + ("Successful", "Failed", "Cancelled", "RollbackFailed", "RollbackSuccessful")


@dataclass(frozen=True)
class RefreshPreferences:
    """An instance refresh's preferences as AWS holds them (None: not set, AWS's default applies)."""

    min_healthy_percentage: int | None = None
    max_healthy_percentage: int | None = None
    instance_warmup: int | None = None
    checkpoint_percentages: tuple[int, ...] = ()
    checkpoint_delay: int | None = None
    skip_matching: bool | None = None
    auto_rollback: bool | None = None


@dataclass(frozen=True)
class InstanceRefresh:
    """One instance refresh (a deploy) of the group, as DescribeInstanceRefreshes reports it."""

    id: str
    status: str  # one of REFRESH_STATES
    status_reason: str | None = None
    percentage_complete: int | None = None
    instances_to_update: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    preferences: RefreshPreferences = RefreshPreferences()
    # the launch template version the refresh moves the group to (its DesiredConfiguration), when it names one
    target_version: str | None = None

    @property
    def active(self) -> bool:
        return self.status in REFRESH_ACTIVE_STATES

    @property
    def last_checkpoint(self) -> int | None:
        """The highest checkpoint percentage the refresh has reached, if any."""
        done = self.percentage_complete or 0
        reached = [p for p in self.preferences.checkpoint_percentages if p <= done]
        return max(reached) if reached else None

    @property
    def next_checkpoint(self) -> int | None:
        done = self.percentage_complete or 0
        ahead = [p for p in self.preferences.checkpoint_percentages if p > done]
        return min(ahead) if ahead else None


@dataclass(frozen=True)
class FleetStatus:
    """One read of everything the dashboard and `status` show."""

    fleet: str
    region: str | None
    taken_at: datetime
    group: GroupState
    high_alarm: Alarm | None = None
    low_alarm: Alarm | None = None
    scale_out_policy: ScalingPolicy | None = None
    scale_in_policy: ScalingPolicy | None = None
    warm_pool: WarmPool | None = None
    scheduled_actions: tuple[ScheduledAction, ...] = ()
    activities: tuple[ScalingActivity, ...] = ()
    target_groups: tuple[TargetGroupInfo, ...] = ()
    metric: MetricSeries | None = None
    account_id: str | None = None
    api_calls: int = 0
    # parts that could not be read (e.g. AccessDenied on the warm pool): one sentence each; the
    # part itself is then None/empty. The group itself failing raises instead.
    problems: tuple[str, ...] = ()
    # the running or latest instance refresh; None when the group never had one (or it could not be read)
    instance_refresh: InstanceRefresh | None = None
    # the sentence saying why refreshes cannot be read from this endpoint (moto, LocalStack, a
    # restricted proxy); None when they could be read
    refresh_unavailable: str | None = None


# --------------------------------------------------------------------------- connection counts


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


# --------------------------------------------------------------------------- domain results


@dataclass(frozen=True)
class ScaleInProjection:
    """Removing `n - remaining` of n instances at `average` leaves `per_instance` on each of the rest."""

    n: int
    remaining: int
    average: float
    per_instance: float | None  # None when nothing remains
    reaches_high: bool  # would trigger the scale-out alarm again: the group flaps (rule 5)
    over_capacity: bool  # above the per-instance ceiling


@dataclass(frozen=True)
class RefreshProjection:
    """An instance refresh's dip (rule 9): while a batch is replaced only `serving` of `n` instances
    take connections, so each carries about `per_instance` = average · n / serving."""

    n: int
    min_healthy: int
    max_healthy: int
    serving: int  # instances in service during a batch
    batch: int  # instances replaced at once
    average: float
    per_instance: float
    reaches_high: bool  # the scale-out policy would fire in the middle of the deploy
    over_capacity: bool  # above the per-instance ceiling
    safe_min_healthy: int | None  # the lowest min healthy % whose dip stays safe; None when none does


# --------------------------------------------------------------------------- doctor

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
