"""Every write to AWS goes through here: validate → plan (before/after) → confirm → apply →
read back → audit.

A `Plan` is data (`plan`); the planners (`provision`, `scale`, `thresholds`, `schedule`,
`warm_pool`, `refresh`, `rebalance`) build one from a fresh read, after the pure checks in `validate`. Nothing is written
until `execute(plan, ...)` (`engine`), which is also where `--read-only` refuses, so neither the
CLI nor the UI can get around it.
"""

from __future__ import annotations

from wsfleet.actions.engine import execute
from wsfleet.actions.plan import Change, ChangeKind, ChangeResult, FieldDiff, Outcome, Plan, ResultStatus
from wsfleet.actions.provision import plan_provision
from wsfleet.actions.rebalance import (
    RebalancePlan,
    RebalanceRun,
    parse_max_drains,
    parse_target_skew,
    plan_algorithm,
    plan_rebalance,
    run_rebalance,
)
from wsfleet.actions.refresh import (
    RefreshRequest,
    parse_checkpoints,
    plan_refresh_cancel,
    plan_refresh_rollback,
    plan_refresh_start,
    plan_resume_alarms,
    refresh_request,
    resume_due,
)
from wsfleet.actions.scale import METRIC_LOOKBACK, latest_average, plan_scale
from wsfleet.actions.schedule import plan_schedule_delete, plan_schedule_put
from wsfleet.actions.thresholds import plan_thresholds
from wsfleet.actions.validate import (
    parse_connections,
    parse_count,
    validate_fleet_writes,
    validate_scheduled_action,
    validate_warm_pool,
)
from wsfleet.actions.warm_pool import plan_warm_pool
from wsfleet.actions.writes import (
    DeleteScheduledAction,
    PutAlarm,
    PutScheduledAction,
    PutSimplePolicy,
    PutStepPolicy,
    PutWarmPool,
    SetCapacity,
    Write,
)

__all__ = [
    # plan data
    "Change",
    "ChangeKind",
    "ChangeResult",
    "FieldDiff",
    "Outcome",
    "Plan",
    "ResultStatus",
    # writes
    "DeleteScheduledAction",
    "PutAlarm",
    "PutScheduledAction",
    "PutSimplePolicy",
    "PutStepPolicy",
    "PutWarmPool",
    "SetCapacity",
    "Write",
    # validation
    "parse_connections",
    "parse_count",
    "validate_fleet_writes",
    "validate_scheduled_action",
    "validate_warm_pool",
    # planners
    "METRIC_LOOKBACK",
    "latest_average",
    "plan_provision",
    "RebalancePlan",
    "RebalanceRun",
    "parse_max_drains",
    "parse_target_skew",
    "plan_algorithm",
    "plan_rebalance",
    "run_rebalance",
    "plan_refresh_cancel",
    "plan_refresh_rollback",
    "plan_refresh_start",
    "plan_resume_alarms",
    "RefreshRequest",
    "parse_checkpoints",
    "refresh_request",
    "resume_due",
    "plan_scale",
    "plan_schedule_delete",
    "plan_schedule_put",
    "plan_thresholds",
    "plan_warm_pool",
    # apply
    "execute",
]
