"""What wsfleet reads from AWS, as frozen dataclasses: the group, its alarms, policies, warm pool,
schedule, activities, target groups, metric and instance refresh, and one `FleetStatus` over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from wsfleet.model.config import StepAdjustment

AlarmStateValue = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]


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
