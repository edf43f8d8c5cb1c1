"""`wsfleet doctor`'s checks: the seed's hard-won checklist as pure functions.

Inputs are data only — the FleetConfig (what `provision` would write), one FleetStatus read (what
AWS holds now), every scaling policy of the group, and the facts read on the instances — and the
output is a list of `Finding`s. No I/O, no clock (`now` defaults to the status's `taken_at`).

Alarm semantics, step bounds and the flap projection come from `wsfleet.scaling` (one evaluator
for the chart, the demo and this package).

`runner` runs the checks, one module per family: `alarms` (alarms and policies), `capacity`
(capacity and flap), `schedule` (schedule and warm pool), `load_balancer`, `instances` (instance
facts); `_text` words their findings. Callers import the names below from `wsfleet.doctor`.
"""

from __future__ import annotations

from wsfleet.doctor.alarms import (
    HIGH_COMPARISON,
    HIGH_COMPARISONS,
    LOW_COMPARISON,
    LOW_COMPARISONS,
    check_alarm_actions,
    check_alarm_config,
    check_alarm_metric,
    check_alarms_exist,
    check_aws_read,
    check_metric_data,
    check_missing_data,
    check_policies_exist,
    check_steps,
)
from wsfleet.doctor.capacity import (
    HEADROOM_FRACTION,
    WARMUP_SLACK,
    check_ceiling,
    check_flap,
    check_warmup,
    launch_durations,
)
from wsfleet.doctor.instances import (
    CLOSE_WAIT_FRACTION,
    NGINX_DEFAULT_KEEPALIVE,
    SEED_OPEN_FILES,
    SILENT_BUCKETS,
    check_instances,
    silent_threshold,
)
from wsfleet.doctor.load_balancer import ALB_DEFAULT_IDLE_TIMEOUT, alb_idle_timeout, check_idle_timeout, check_target_groups
from wsfleet.doctor.runner import CHECKS, diagnose, has_errors, sort_findings, summary
from wsfleet.doctor.schedule import check_schedule, check_warm_pool
from wsfleet.model import SEVERITIES  # the order findings sort in; callers read it as doctor.SEVERITIES

__all__ = [
    # the runner
    "CHECKS",
    "SEVERITIES",
    "diagnose",
    "sort_findings",
    "has_errors",
    "summary",
    # alarms and policies
    "HIGH_COMPARISONS",
    "LOW_COMPARISONS",
    "HIGH_COMPARISON",
    "LOW_COMPARISON",
    "check_aws_read",
    "check_alarms_exist",
    "check_policies_exist",
    "check_alarm_actions",
    "check_alarm_metric",
    "check_alarm_config",
    "check_metric_data",
    "check_missing_data",
    "check_steps",
    # capacity and flap
    "HEADROOM_FRACTION",
    "WARMUP_SLACK",
    "check_flap",
    "check_ceiling",
    "launch_durations",
    "check_warmup",
    # schedule and warm pool
    "check_warm_pool",
    "check_schedule",
    # load balancer
    "ALB_DEFAULT_IDLE_TIMEOUT",
    "check_target_groups",
    "alb_idle_timeout",
    "check_idle_timeout",
    # instance facts
    "CLOSE_WAIT_FRACTION",
    "NGINX_DEFAULT_KEEPALIVE",
    "SEED_OPEN_FILES",
    "SILENT_BUCKETS",
    "silent_threshold",
    "check_instances",
]
