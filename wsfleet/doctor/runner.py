"""The runner: every check of `wsfleet doctor` in `CHECKS` order, the findings most severe first.

A check that meets a resource in a shape it did not expect becomes a warning of its own; the others
still run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from wsfleet.doctor.alarms import (
    check_alarm_actions,
    check_alarm_config,
    check_alarm_metric,
    check_alarms_exist,
    check_aws_read,
    check_metric_data,
    check_missing_data,
    check_policies_exist,
    check_steps,
    check_suspended_scaling,
)
from wsfleet.doctor.capacity import check_ceiling, check_flap, check_warmup
from wsfleet.doctor.instances import check_instances
from wsfleet.doctor.metric_ratio import InstanceMetric, check_metric_ratio
from wsfleet.doctor.load_balancer import check_idle_timeout, check_target_groups
from wsfleet.doctor.schedule import check_schedule, check_warm_pool
from wsfleet.model import SEVERITIES, FleetConfig, FleetStatus, Finding, InstanceFacts, ScalingPolicy

CHECKS = (
    "aws-read",
    "alarms-exist",
    "policies-exist",
    "alarm-actions",
    "alarm-metric",
    "alarm-config",
    "metric-data",
    "missing-data",
    "steps",
    "suspended-scaling",
    "flap",
    "ceiling",
    "warmup",
    "warm-pool",
    "schedule",
    "target-group",
    "idle-timeout",
    "instance-reach",
    "service-listening",
    "open-files",
    "port-range",
    "nginx-keepalive",
    "close-wait",
    "silent-connections",
    "balance",
    "metric-ratio",
)


def diagnose(
    fleet: FleetConfig,
    status: FleetStatus,
    facts: Sequence[InstanceFacts] | None = None,
    *,
    policies: Mapping[str, ScalingPolicy] | None = None,
    now: datetime | None = None,
    instance_metric: InstanceMetric | None = None,
) -> list[Finding]:
    """Every check, most severe first. `facts` None = the instance checks were skipped;
    `instance_metric`: the per-instance metric around the time the facts were read (metric-ratio)."""
    now = now or status.taken_at
    if policies is None:
        policies = {p.name: p for p in (status.scale_out_policy, status.scale_in_policy) if p is not None}
    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("aws-read", lambda: check_aws_read(fleet, status)),
        ("alarms-exist", lambda: check_alarms_exist(fleet, status)),
        ("policies-exist", lambda: check_policies_exist(fleet, status)),
        ("alarm-actions", lambda: check_alarm_actions(fleet, status, policies)),
        ("alarm-metric", lambda: check_alarm_metric(fleet, status)),
        ("alarm-config", lambda: check_alarm_config(fleet, status)),
        ("metric-data", lambda: check_metric_data(fleet, status)),
        ("missing-data", lambda: check_missing_data(fleet, status)),
        ("steps", lambda: check_steps(fleet, status)),
        ("suspended-scaling", lambda: check_suspended_scaling(fleet, status)),
        ("flap", lambda: check_flap(fleet, status)),
        ("ceiling", lambda: check_ceiling(fleet, status)),
        ("warmup", lambda: check_warmup(fleet, status)),
        ("warm-pool", lambda: check_warm_pool(fleet, status)),
        ("schedule", lambda: check_schedule(fleet, status, now)),
        ("target-group", lambda: check_target_groups(fleet, status)),
        ("idle-timeout", lambda: check_idle_timeout(fleet, status)),
    ]
    if facts is not None:
        checks.append(("instance-reach", lambda: check_instances(fleet, status, facts)))
        checks.append(("metric-ratio", lambda: check_metric_ratio(fleet, facts, instance_metric)))
    findings: list[Finding] = []
    for name, check in checks:
        try:
            findings += check()
        except Exception as exc:  # a resource AWS holds in a shape no check expected: say so, go on
            findings.append(Finding(
                name, "warning", f"the {name} check could not run: {type(exc).__name__}: {exc}",
                "this part of the setup is unchecked", "rerun with -v and report the resource's shape",
            ))
    return sort_findings(findings)


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Most severe first; within a severity, in check order (stable)."""
    order = {c: i for i, c in enumerate(CHECKS)}
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), order.get(f.check, len(order))))


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    return {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
