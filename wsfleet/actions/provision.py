"""The `provision` planner: what the config says should exist vs what does, diffed field by field
after normalising both sides alike, so a second `provision` right after the first plans no change."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from wsfleet.actions.plan import Change, Plan
from wsfleet.actions.validate import (
    _check_against_group,
    _flap_sentence,
    _raise_first,
    _warm_pool_warnings,
    validate_fleet_writes,
    validate_scheduled_action,
)
from wsfleet.actions.writes import PutAlarm, PutSimplePolicy, PutStepPolicy, PutWarmPool, Write, _put_action_write
from wsfleet.model import FleetConfig


def plan_provision(session: Any, fleet: FleetConfig, *, now: datetime | None = None) -> Plan:
    """What the config says should exist (policies, alarms, warm pool, schedule) vs what does."""
    from wsfleet import scaling
    from wsfleet.aws import provision

    now = now or datetime.now(timezone.utc)
    _raise_first(validate_fleet_writes(fleet))
    for a in fleet.schedule:
        # a start time in the past only matters if it would be sent: checked per change below
        _raise_first([p for p in validate_scheduled_action(a, now) if "in the past" not in p])

    state = provision.read_state(session, fleet)
    changes: list[Change] = []
    for d in provision.diff_fleet(fleet, state):
        warnings: tuple[str, ...] = ()
        if d.resource == "warm pool":
            warnings = tuple(_warm_pool_warnings(d.desired, state.group))
        if d.resource == "scheduled action" and d.kind != "unchanged":
            _raise_first(validate_scheduled_action(d.desired, now))
            _raise_first([p for p in [_check_against_group(d.desired, state.group)] if p])
        write = None if d.kind == "unchanged" else _provision_write(fleet.asg, d)
        changes.append(Change(d.resource, d.name, d.kind, d.before, d.after, warnings, write=write))

    notes: list[str] = []
    warnings_: list[str] = []
    unmanaged = provision.unmanaged_actions(fleet, state)
    if unmanaged:
        notes.append(f"Scheduled actions not in the config are left alone: {', '.join(unmanaged)}.")
    so, si = fleet.scale_out, fleet.scale_in
    flap = scaling.flap_unsafe_sizes(si.threshold, so.threshold, state.group.min_size, state.group.max_size, si.remove)
    if flap:
        warnings_.append(_flap_sentence(si.threshold, so.threshold, si.remove, flap))

    pending = sum(c.kind != "unchanged" for c in changes)
    summary = (
        f"Provision {pending} of {len(changes)} resources for {fleet.asg} from the config."
        if pending
        else f"Everything for {fleet.asg} already matches the config."
    )
    return Plan("provision", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, tuple(changes),
                tuple(warnings_), tuple(notes), atomic=False, known_arns=state.policy_arns, session=session)


def _provision_write(asg: str, d: Any) -> Write:
    p = d.desired
    if d.resource == "step policy":
        return PutStepPolicy(asg, p.name, tuple(p.steps), int(p.warmup), p.metric_aggregation_type or "Average")
    if d.resource == "simple policy":
        return PutSimplePolicy(asg, p.name, int(p.scaling_adjustment), int(p.cooldown))
    if d.resource == "alarm":
        return PutAlarm(p)
    if d.resource == "warm pool":
        return PutWarmPool(asg, p)
    if d.resource == "scheduled action":
        return _put_action_write(asg, p, d.current)
    raise ValueError(f"no write for {d.resource!r}")
