"""Frozen dataclasses shared by every layer: configuration, AWS reads, connection counts.

Nothing here does I/O. One module per kind: `config` (the configuration), `aws` (what is read from
AWS, instance refreshes included), `counts` (connection counts), `projections` (what a write would
do to the load), `doctor` (instance facts and findings). Callers import the names below from
`wsfleet.model`.
"""

from __future__ import annotations

from wsfleet.model.aws import (
    REFRESH_ACTIVE_STATES,
    REFRESH_STATES,
    RESUME_ALARMS_TAG,
    Alarm,
    AlarmStateValue,
    FleetStatus,
    GroupState,
    Instance,
    InstanceRefresh,
    LaunchTemplateRef,
    MetricSeries,
    RefreshPreferences,
    ScalingActivity,
    ScalingPolicy,
    ScheduledAction,
    TargetGroupInfo,
    WarmPool,
)
from wsfleet.model.config import (
    ADDRESS_KINDS,
    COUNT_SOURCES,
    HOST_KEY_POLICIES,
    POOL_STATES,
    TREAT_MISSING_DATA,
    AppConfig,
    CountsConfig,
    CountSourceName,
    DoctorConfig,
    FleetConfig,
    MetricSpec,
    ScaleInConfig,
    ScaleOutConfig,
    ScheduledActionConfig,
    SshConfig,
    SshHost,
    StepAdjustment,
    StepRange,
    TreatMissingData,
    UiConfig,
    WarmPoolConfig,
)
from wsfleet.model.counts import COUNT_ERRORS, BalanceStats, CountError, CountSweep, CountTarget, InstanceCount
from wsfleet.model.doctor import SEVERITIES, Finding, InstanceFacts, Severity
from wsfleet.model.projections import RefreshProjection, ScaleInProjection

__all__ = [
    # configuration
    "TreatMissingData",
    "CountSourceName",
    "TREAT_MISSING_DATA",
    "COUNT_SOURCES",
    "POOL_STATES",
    "ADDRESS_KINDS",
    "HOST_KEY_POLICIES",
    "StepRange",
    "StepAdjustment",
    "MetricSpec",
    "ScaleOutConfig",
    "ScaleInConfig",
    "WarmPoolConfig",
    "ScheduledActionConfig",
    "CountsConfig",
    "SshHost",
    "SshConfig",
    "DoctorConfig",
    "FleetConfig",
    "UiConfig",
    "AppConfig",
    # AWS reads
    "AlarmStateValue",
    "Instance",
    "LaunchTemplateRef",
    "GroupState",
    "Alarm",
    "ScalingPolicy",
    "WarmPool",
    "ScheduledAction",
    "ScalingActivity",
    "TargetGroupInfo",
    "MetricSeries",
    "RESUME_ALARMS_TAG",
    "REFRESH_ACTIVE_STATES",
    "REFRESH_STATES",
    "RefreshPreferences",
    "InstanceRefresh",
    "FleetStatus",
    # connection counts
    "CountError",
    "COUNT_ERRORS",
    "CountTarget",
    "InstanceCount",
    "BalanceStats",
    "CountSweep",
    # projections
    "ScaleInProjection",
    "RefreshProjection",
    # doctor
    "Severity",
    "SEVERITIES",
    "Finding",
    "InstanceFacts",
]
