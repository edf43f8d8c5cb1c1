"""The `thresholds set` planner: the alarm thresholds and the step bounds moved together,
as one all-or-nothing change."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from wsfleet.actions._reads import _read_group
from wsfleet.actions.plan import Change, Plan
from wsfleet.actions.validate import _flap_sentence, _raise_first, parse_connections
from wsfleet.actions.writes import PutAlarm, PutStepPolicy
from wsfleet.aws.provision import alarm_fields, policy_fields, same, steps_fields
from wsfleet.aws.provision import diff_kind as _diff_kind
from wsfleet.errors import UsageError
from wsfleet.model import FleetConfig, StepRange


def _fmt_abs_steps(steps: Sequence[StepRange]) -> str:
    return ", ".join(f"{s.lower:,.0f}–{'∞' if s.upper is None else f'{s.upper:,.0f}'}: +{s.add}" for s in steps)


def plan_thresholds(
    session: Any,
    fleet: FleetConfig,
    high: float | None = None,
    low: float | None = None,
    steps: Sequence[StepRange] | str | None = None,
) -> Plan:
    """Move the alarm thresholds and the step bounds together (rule 2), as one all-or-nothing change."""
    from wsfleet import scaling
    from wsfleet.aws import alarms as aws_alarms
    from wsfleet.aws import policies as aws_policies

    if high is None and low is None and steps is None:
        raise UsageError("nothing to change: give --high, --low and/or --steps.")
    high = None if high is None else parse_connections(high, "--high")
    low = None if low is None else parse_connections(low, "--low")
    if isinstance(steps, str):
        steps = scaling.parse_steps_spec(steps)
    if steps is not None:
        steps = tuple(steps)
        # shape (overlaps, gaps, open end, adds) is checkable now; the start needs the threshold
        _raise_first([f"--steps: {p}" for p in scaling.validate_steps(high if high is not None else steps[0].lower, steps)] if steps else ["--steps is empty."])
    if high is not None and low is not None and low >= high:
        raise UsageError(f"--low {low:,.0f} must be below --high {high:,.0f}, or the group scales in and out at once.")

    group = _read_group(session, fleet)
    current_alarms = aws_alarms.read_alarms(session, [fleet.high_alarm_name, fleet.low_alarm_name])
    high_alarm = current_alarms.get(fleet.high_alarm_name)
    low_alarm = current_alarms.get(fleet.low_alarm_name)
    policies = aws_policies.read_policies(session, fleet.asg)
    step_policy = policies.get(fleet.scale_out.policy_name)

    if (high is not None or steps is not None) and high_alarm is None:
        raise UsageError(f"the high alarm {fleet.high_alarm_name} does not exist; run `wsfleet provision` first.")
    if low is not None and low_alarm is None:
        raise UsageError(f"the low alarm {fleet.low_alarm_name} does not exist; run `wsfleet provision` first.")
    if (high is not None or steps is not None) and (step_policy is None or step_policy.policy_type != "StepScaling"):
        raise UsageError(f"the step policy {fleet.scale_out.policy_name} does not exist on {fleet.asg}; run `wsfleet provision` first.")

    old_high = high_alarm.threshold if high_alarm else fleet.scale_out.threshold
    old_low = low_alarm.threshold if low_alarm else fleet.scale_in.threshold
    new_high = high if high is not None else old_high
    new_low = low if low is not None else old_low
    if new_low >= new_high:
        raise UsageError(
            f"the low threshold {new_low:,.0f} must stay below the high threshold {new_high:,.0f}; "
            f"give {'--high' if high is None else '--low'} too."
        )

    changes: list[Change] = []
    notes: list[str] = []
    warnings: list[str] = []
    if high is not None or steps is not None:
        assert high_alarm is not None and step_policy is not None
        old_abs = scaling.to_absolute(old_high, step_policy.steps)
        if steps is not None:
            problems = scaling.validate_steps(new_high, steps)
            _raise_first([f"--steps: {p}" for p in problems], UsageError)
            new_abs = tuple(steps)
            new_rel = scaling.to_relative(new_high, steps)
        else:
            new_abs = scaling.shift_steps(old_high, new_high, old_abs)
            new_rel = scaling.to_relative(new_high, new_abs)
        notes.append(f"Steps now: {_fmt_abs_steps(old_abs)}.")
        notes.append(f"Steps after: {_fmt_abs_steps(new_abs)}" + (" (same widths: the relative bounds stay)." if steps is None else "."))
        new_alarm = replace(high_alarm, threshold=float(new_high))
        if not same(new_high, old_high):
            changes.append(Change("alarm", high_alarm.name, "update", alarm_fields(high_alarm), alarm_fields(new_alarm),
                                  write=PutAlarm(new_alarm), undo=PutAlarm(high_alarm)))
        before = policy_fields(step_policy)
        after = dict(before, steps=steps_fields(new_rel))
        kind = _diff_kind(before, after)
        warmup = step_policy.warmup if step_policy.warmup is not None else fleet.scale_out.warmup
        aggregation = step_policy.metric_aggregation_type or "Average"
        changes.append(Change("step policy", step_policy.name, kind, before, after,
                              write=None if kind == "unchanged" else PutStepPolicy(fleet.asg, step_policy.name, tuple(new_rel), warmup, aggregation),
                              undo=PutStepPolicy(fleet.asg, step_policy.name, tuple(step_policy.steps), warmup, aggregation)))
    if low is not None and low_alarm is not None and not same(low, old_low):
        new_alarm = replace(low_alarm, threshold=float(low))
        changes.insert(1 if changes and changes[0].resource == "alarm" else 0,
                       Change("alarm", low_alarm.name, "update", alarm_fields(low_alarm), alarm_fields(new_alarm),
                              write=PutAlarm(new_alarm), undo=PutAlarm(low_alarm)))

    flap = scaling.flap_unsafe_sizes(new_low, new_high, group.min_size, group.max_size, fleet.scale_in.remove)
    if flap:
        warnings.append(_flap_sentence(new_low, new_high, fleet.scale_in.remove, flap))
    else:
        notes.append(f"Flap check: removing {fleet.scale_in.remove} at {new_low:,.0f} stays below {new_high:,.0f} for every size {group.min_size}..{group.max_size}.")
    drift = []
    if not same(new_high, fleet.scale_out.threshold):
        drift.append(f"scale_out.threshold = {new_high:g}")
    if not same(new_low, fleet.scale_in.threshold):
        drift.append(f"scale_in.threshold = {new_low:g}")
    if drift and any(c.kind != "unchanged" for c in changes):
        notes.append(f"The config still has other values: set {', '.join(drift)} there, or a later `wsfleet provision` puts them back.")

    parts = []
    if not same(new_high, old_high):
        parts.append(f"high {old_high:,.0f} → {new_high:,.0f}")
    if not same(new_low, old_low):
        parts.append(f"low {old_low:,.0f} → {new_low:,.0f}")
    if steps is not None and any(c.resource == "step policy" and c.kind == "update" for c in changes):
        parts.append("new steps")
    summary = f"Change the thresholds of {fleet.asg}: {', '.join(parts)}." if parts else f"The thresholds of {fleet.asg} are already as asked."
    return Plan("thresholds set", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, tuple(changes),
                tuple(warnings), tuple(notes), atomic=True, session=session)
