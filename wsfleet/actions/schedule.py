"""The `schedule put` and `schedule delete` planners: one scheduled action created, replaced or deleted."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from wsfleet import cron
from wsfleet.actions._reads import _read_group
from wsfleet.actions.plan import Change, Plan
from wsfleet.actions.validate import _check_against_group, _raise_first, validate_scheduled_action
from wsfleet.actions.writes import DeleteScheduledAction, _put_action_write
from wsfleet.aws.provision import diff_kind as _diff_kind
from wsfleet.aws.provision import scheduled_action_fields
from wsfleet.errors import UsageError
from wsfleet.model import FleetConfig, ScheduledActionConfig


def plan_schedule_put(session: Any, fleet: FleetConfig, action: ScheduledActionConfig, *, now: datetime | None = None) -> Plan:
    from wsfleet.aws import schedule as aws_schedule

    now = now or datetime.now(timezone.utc)
    _raise_first(validate_scheduled_action(action, now), UsageError)
    group = _read_group(session, fleet)
    problem = _check_against_group(action, group)
    if problem:
        raise UsageError(problem)
    current = {a.name: a for a in aws_schedule.read_scheduled_actions(session, fleet.asg)}.get(action.name)
    with_times = action.start_time is not None or action.end_time is not None or (current is not None and current.end_time is not None)
    after = scheduled_action_fields(action, times=with_times)
    before = scheduled_action_fields(current, times=with_times) if current else None
    kind = _diff_kind(before, after)
    notes = []
    if action.recurrence:
        nxt = cron.next_run(action.recurrence, action.time_zone, max(now, action.start_time or now))
        if nxt is not None and (action.end_time is None or nxt <= action.end_time):
            notes.append(f"Next run: {nxt.strftime('%a %Y-%m-%d %H:%M %Z')} ({action.time_zone or 'UTC'}).")
    verb = {"create": "Create", "update": "Replace", "unchanged": "Keep"}[kind]
    summary = f"{verb} scheduled action {action.name} on {fleet.asg}."
    change = Change("scheduled action", action.name, kind, before, after,
                    write=None if kind == "unchanged" else _put_action_write(fleet.asg, action, current))
    return Plan("schedule put", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, (change,), (), tuple(notes), session=session)


def plan_schedule_delete(session: Any, fleet: FleetConfig, name: str) -> Plan:
    from wsfleet.aws import schedule as aws_schedule

    if not name or not name.strip():
        raise UsageError("give the name of the scheduled action to delete (`wsfleet schedule list` shows them).")
    current = {a.name: a for a in aws_schedule.read_scheduled_actions(session, fleet.asg)}.get(name)
    if current is None:
        raise UsageError(f"{fleet.asg} has no scheduled action named {name!r}; `wsfleet schedule list` shows the ones it has.")
    notes = []
    if any(a.name == name for a in fleet.schedule):
        notes.append(f"{name!r} is in the config: a later `wsfleet provision` creates it again unless you remove it there.")
    change = Change("scheduled action", name, "delete", scheduled_action_fields(current), None, write=DeleteScheduledAction(fleet.asg, name))
    return Plan("schedule delete", fleet.name, fleet.asg, getattr(session, "region", fleet.region),
                f"Delete scheduled action {name} from {fleet.asg}.", (change,), (), tuple(notes), session=session)
