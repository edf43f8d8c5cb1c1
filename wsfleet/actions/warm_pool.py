"""Every write to AWS goes through here: validate → plan (before/after) → confirm → apply →
read back → audit.

A `Plan` is data: the changes it would make, each with the resource's normalised fields before and
after, plus warnings and notes. The CLI prints it; the dashboard shows it in a modal. Nothing is
written until `execute(plan, ...)`, which is also where `--read-only` refuses, so neither the CLI
nor the UI can get around it.

Bad input is rejected before any AWS call (ConfigError/UsageError, one sentence). The planners
then read the current state once and diff it against what is wanted, field by field, after
normalising both sides the same way (floats for thresholds and bounds, the AWS defaults for absent
fields), so a second `provision` right after the first plans no change.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Literal, Mapping, Sequence

from wsfleet import cron
from wsfleet.aws.provision import (
    alarm_fields,
    arn_placeholder,
    group_fields,
    policy_fields,
    same,
    scheduled_action_fields,
    steps_fields,
    warm_pool_fields,
)
from wsfleet.aws.provision import diff_kind as _diff_kind
from wsfleet.aws.provision import iso as _iso
from wsfleet.errors import AwsError, ConfigError, ReadOnlyError, UsageError, WsfleetError
from wsfleet.model import (
    POOL_STATES,
    Alarm,
    FleetConfig,
    GroupState,
    ScheduledAction,
    ScheduledActionConfig,
    StepAdjustment,
    StepRange,
    WarmPoolConfig,
)

ChangeKind = Literal["create", "update", "delete", "unchanged"]
ResultStatus = Literal["applied", "unchanged", "failed", "not-applied", "rolled-back", "rollback-failed", "mismatch", "unverified"]

METRIC_LOOKBACK = timedelta(minutes=15)


# =========================================================================== plan data


@dataclass(frozen=True)
class FieldDiff:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One resource: what it is now (`before`, None = absent) and what it will be (`after`, None = deleted)."""

    resource: str  # "group", "alarm", "step policy", "simple policy", "warm pool", "scheduled action"
    name: str
    kind: ChangeKind
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    warnings: tuple[str, ...] = ()
    write: "Write | None" = field(default=None, repr=False, compare=False)
    undo: "Write | None" = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.resource} {self.name}"

    @property
    def diffs(self) -> tuple[FieldDiff, ...]:
        """The fields this change sets (all of them for a create), in the order of `after`."""
        if self.kind == "delete":
            return tuple(FieldDiff(k, v, None) for k, v in (self.before or {}).items())
        before = self.before or {}
        return tuple(
            FieldDiff(k, before.get(k), v)
            for k, v in (self.after or {}).items()
            if self.before is None or not same(before.get(k), v)
        )


@dataclass(frozen=True)
class Plan:
    action: str  # "provision", "scale out", "thresholds set", "schedule put", ...
    fleet: str
    asg: str
    region: str | None
    summary: str  # one sentence: what this does, e.g. "Scale prod-chat-asg out from 4 to 6 instances."
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # context: where a number came from, the flap projection, ...
    atomic: bool = False  # all or nothing: a failed write undoes the ones before it
    known_arns: Mapping[str, str] = field(default_factory=dict)  # policy name -> ARN, for alarm actions
    session: Any = field(default=None, repr=False, compare=False)

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind != "unchanged")

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    @property
    def all_warnings(self) -> tuple[str, ...]:
        return self.warnings + tuple(w for c in self.changes for w in c.warnings)


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    status: ResultStatus
    error: str | None = None
    read_back: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    status: Literal["applied", "no-change", "declined", "failed", "rolled-back"]
    results: tuple[ChangeResult, ...] = ()
    error: str | None = None
    audit_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("applied", "no-change")

    @property
    def exit_code(self) -> int:
        from wsfleet.errors import EXIT_OK, EXIT_REMOTE, EXIT_USAGE

        if self.ok:
            return EXIT_OK
        return EXIT_USAGE if self.status == "declined" else EXIT_REMOTE

    def with_status(self, status: str) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.status == status)


# =========================================================================== writes (data + how to send)


class Write:
    """One AWS write. `apply` returns a policy ARN when it creates or replaces a policy."""

    def apply(self, session: Any, arns: Mapping[str, str]) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class SetCapacity(Write):
    asg: str
    desired: int
    max_size: int | None = None  # also raise MaxSize, in the same call

    def apply(self, session, arns):
        from wsfleet.aws import fleet as aws_fleet

        if self.max_size is None:
            aws_fleet.set_desired_capacity(session, self.asg, self.desired)
        else:
            aws_fleet.update_group(session, self.asg, max_size=self.max_size, desired=self.desired)
        return None


@dataclass(frozen=True)
class PutAlarm(Write):
    alarm: Alarm

    def apply(self, session, arns):
        from wsfleet.aws import alarms

        actions = tuple(_resolve_arn(a, arns) for a in self.alarm.alarm_actions)
        alarms.put_alarm(session, replace(self.alarm, alarm_actions=actions))
        return None


@dataclass(frozen=True)
class PutStepPolicy(Write):
    asg: str
    name: str
    steps: tuple[StepAdjustment, ...]
    warmup: int
    aggregation: str = "Average"

    def apply(self, session, arns):
        from wsfleet.aws import policies

        return policies.put_step_policy(session, self.asg, self.name, self.steps, self.warmup, self.aggregation)


@dataclass(frozen=True)
class PutSimplePolicy(Write):
    asg: str
    name: str
    adjustment: int
    cooldown: int

    def apply(self, session, arns):
        from wsfleet.aws import policies

        return policies.put_simple_policy(session, self.asg, self.name, self.adjustment, self.cooldown)


@dataclass(frozen=True)
class PutWarmPool(Write):
    asg: str
    config: WarmPoolConfig

    def apply(self, session, arns):
        from wsfleet.aws import warm_pool

        warm_pool.put_warm_pool(session, self.asg, self.config)
        return None


@dataclass(frozen=True)
class PutScheduledAction(Write):
    asg: str
    action: ScheduledActionConfig
    # AWS keeps a field that an update leaves out: dropping one (e.g. the max size, or the time
    # zone back to UTC) takes a delete and a fresh put; `previous` is put back if the put fails.
    previous: ScheduledActionConfig | None = None

    def apply(self, session, arns):
        from wsfleet.aws import schedule

        if self.previous is None:
            schedule.put_scheduled_action(session, self.asg, self.action)
            return None
        schedule.delete_scheduled_action(session, self.asg, self.action.name)
        try:
            schedule.put_scheduled_action(session, self.asg, self.action)
        except WsfleetError as e:
            try:
                schedule.put_scheduled_action(session, self.asg, self.previous)
            except WsfleetError:
                raise AwsError(f"{e.message.rstrip('.')}; the old action had been deleted to replace it and could not be put back.") from e
            raise AwsError(f"{e.message.rstrip('.')}; the old action was put back as it was.") from e
        return None


def _as_config(a: ScheduledAction, now: datetime | None = None) -> ScheduledActionConfig:
    """An action as read, ready to put back. AWS reports a recurring action's next start as its
    StartTime; a start in the past would be refused, so it is left out."""
    now = now or datetime.now(timezone.utc)
    start = a.start_time if a.start_time is not None and a.start_time > now else None
    return ScheduledActionConfig(a.name, a.recurrence, a.time_zone, a.min_size, a.max_size, a.desired_capacity, start, a.end_time)


def _put_action_write(asg: str, action: ScheduledActionConfig, current: ScheduledAction | None) -> PutScheduledAction:
    drops = current is not None and any(
        getattr(current, f) is not None and getattr(action, f) is None
        for f in ("recurrence", "time_zone", "min_size", "max_size", "desired_capacity", "end_time")
    )
    return PutScheduledAction(asg, action, _as_config(current) if drops and current else None)


@dataclass(frozen=True)
class DeleteScheduledAction(Write):
    asg: str
    name: str

    def apply(self, session, arns):
        from wsfleet.aws import schedule

        schedule.delete_scheduled_action(session, self.asg, self.name)
        return None


def _resolve_arn(value: str, arns: Mapping[str, str]) -> str:
    for name, arn in arns.items():
        if value == arn_placeholder(name):
            return arn
    return value


def _resolve(fields: Mapping[str, Any] | None, arns: Mapping[str, str]) -> dict[str, Any] | None:
    if fields is None:
        return None
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if isinstance(v, list):
            v = sorted(_resolve_arn(x, arns) if isinstance(x, str) else x for x in v) if k == "alarm_actions" else v
        out[k] = v
    return out


# =========================================================================== validation (pure, before any AWS call)


def _positive_int(value: Any, what: str, *, zero: bool = False) -> int:
    """An int from the command line or a caller; one sentence when it is not one."""
    if isinstance(value, bool):
        raise UsageError(f"{what} must be a whole number, not {value!r}.")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if not text.lstrip("+-").isdigit():
            raise UsageError(f"{what} must be a whole number, not {value!r}.")
        value = int(text)
    if isinstance(value, float):
        if not value.is_integer():
            raise UsageError(f"{what} must be a whole number, not {value!r}.")
        value = int(value)
    if not isinstance(value, int):
        raise UsageError(f"{what} must be a whole number, not {value!r}.")
    lowest = 0 if zero else 1
    if value < lowest:
        raise UsageError(f"{what} must be {'0 or more' if zero else 'at least 1'}, not {value}.")
    return value


def parse_count(value: Any, what: str, *, zero: bool = True) -> int:
    """A whole number of instances from text (`--min 4`), rejecting text, fractions and negatives."""
    return _positive_int(value, what, zero=zero)


def parse_connections(value: Any, what: str) -> float:
    """A threshold in connections per instance: a positive finite number."""
    try:
        text = str(value).strip().replace("_", "")
        if isinstance(value, str) and re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d*)?", text):
            text = text.replace(",", "")  # "20,000" as people write it
        x = float(text) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number of connections per instance, like 20000, not {value!r}.") from None
    if isinstance(value, bool) or not math.isfinite(x) or x <= 0:
        raise UsageError(f"{what} must be a positive number of connections per instance, not {value!r}.")
    return x


def validate_scheduled_action(a: ScheduledActionConfig, now: datetime) -> list[str]:
    """Problems with a scheduled action on its own (no AWS state needed), as sentences."""
    problems: list[str] = []
    if not a.name or not a.name.strip() or len(a.name) > 255 or any(ord(c) < 32 for c in a.name):
        problems.append(f"scheduled action name {a.name!r} must be 1-255 printable characters.")
    if a.recurrence is not None:
        try:
            cron.parse_cron(a.recurrence)
        except ConfigError as e:
            problems.append(e.message)
    try:
        cron.zone(a.time_zone)
    except ConfigError as e:
        problems.append(e.message)
    sizes = {"min size": a.min_size, "max size": a.max_size, "desired capacity": a.desired_capacity}
    if all(v is None for v in sizes.values()):
        problems.append(f"scheduled action {a.name!r} sets nothing: give at least one of min size, max size or desired capacity.")
    for what, v in sizes.items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            problems.append(f"scheduled action {a.name!r}: {what} must be a whole number 0 or more, not {v!r}.")
    if not problems:
        if a.min_size is not None and a.max_size is not None and a.min_size > a.max_size:
            problems.append(f"scheduled action {a.name!r}: min size {a.min_size} is above max size {a.max_size}; make min ≤ max.")
        elif a.desired_capacity is not None and (
            (a.min_size is not None and a.desired_capacity < a.min_size) or (a.max_size is not None and a.desired_capacity > a.max_size)
        ):
            lo = a.min_size if a.min_size is not None else "…"
            hi = a.max_size if a.max_size is not None else "…"
            problems.append(f"scheduled action {a.name!r}: desired capacity {a.desired_capacity} is outside min..max ({lo}..{hi}).")
    if a.recurrence is None and a.start_time is None:
        problems.append(f"scheduled action {a.name!r} needs a cron recurrence or a start time.")
    for what, t in (("start", a.start_time), ("end", a.end_time)):
        if t is not None and t.tzinfo is None:
            problems.append(f"scheduled action {a.name!r}: the {what} time needs a time zone.")
    if a.start_time is not None and a.end_time is not None and a.start_time.tzinfo and a.end_time.tzinfo:
        if a.end_time <= a.start_time:
            problems.append(f"scheduled action {a.name!r}: end time {_iso(a.end_time)} is not after start time {_iso(a.start_time)}.")
    if a.start_time is not None and a.start_time.tzinfo and a.start_time <= now:
        problems.append(f"scheduled action {a.name!r}: start time {_iso(a.start_time)} is in the past; AWS only takes future start times.")
    if a.end_time is not None and a.end_time.tzinfo and a.end_time <= now:
        problems.append(f"scheduled action {a.name!r}: end time {_iso(a.end_time)} is in the past.")
    return problems


def _check_against_group(a: ScheduledActionConfig, g: GroupState) -> str | None:
    """A scheduled action that sets only some sizes runs against the group's other bounds."""
    lo = a.min_size if a.min_size is not None else g.min_size
    hi = a.max_size if a.max_size is not None else g.max_size
    if lo > hi:
        which = f"min size {lo} is above the group's max size {hi}" if a.max_size is None else f"max size {hi} is below the group's min size {lo}"
        return f"scheduled action {a.name!r}: {which}; set both --min and --max."
    if a.desired_capacity is not None and not lo <= a.desired_capacity <= hi:
        return f"scheduled action {a.name!r}: desired capacity {a.desired_capacity} is outside the bounds it would run with ({lo}..{hi}); set --min/--max too."
    return None


def validate_fleet_writes(fleet: FleetConfig) -> list[str]:
    """What `provision` would send, checked before any AWS call."""
    from wsfleet import scaling

    so, si = fleet.scale_out, fleet.scale_in
    problems = [f"scale_out.steps: {p}" for p in scaling.validate_steps(so.threshold, so.steps)]
    if si.threshold >= so.threshold:
        problems.append(f"scale_in.threshold {si.threshold:g} must be below scale_out.threshold {so.threshold:g}.")
    for section, c in (("scale_out", so), ("scale_in", si)):
        if c.period < 10 or (c.period >= 60 and c.period % 60) or (c.period < 60 and c.period not in (10, 30)):
            problems.append(f"{section}.period {c.period} must be 10, 30 or a multiple of 60 seconds.")
        if c.evaluation_periods < 1:
            problems.append(f"{section}.evaluation_periods must be at least 1.")
        if not 1 <= c.datapoints_to_alarm <= max(c.evaluation_periods, 1):
            problems.append(f"{section}.datapoints_to_alarm {c.datapoints_to_alarm} must be 1..evaluation_periods ({c.evaluation_periods}).")
    if si.remove < 1:
        problems.append(f"scale_in.remove must be at least 1, not {si.remove}.")
    if so.warmup < 0 or si.cooldown < 0:
        problems.append("scale_out.warmup and scale_in.cooldown must be 0 or more seconds.")
    if fleet.warm_pool is not None:
        problems += validate_warm_pool(fleet.warm_pool)
    names = [a.name for a in fleet.schedule]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"scheduled action {dup!r} appears twice in the config.")
    return problems


def validate_warm_pool(w: WarmPoolConfig) -> list[str]:
    problems = []
    if isinstance(w.min_size, bool) or not isinstance(w.min_size, int) or w.min_size < 0:
        problems.append(f"warm pool min size must be a whole number 0 or more, not {w.min_size!r}.")
    cap = w.max_prepared_capacity
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        problems.append(f"warm pool max prepared capacity must be a whole number 0 or more (or none), not {cap!r}.")
    if w.pool_state not in POOL_STATES:
        problems.append(f"warm pool state {w.pool_state!r} must be one of {', '.join(POOL_STATES)}.")
    return problems


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _raise_first(problems: list[str], error: type[WsfleetError] = ConfigError) -> None:
    """One sentence for the first problem; the count of the others, so fixing one is not a surprise."""
    if problems:
        more = len(problems) - 1
        if not more:
            raise error(_sentence(problems[0]))
        raise error(f"{problems[0].strip().rstrip('.')} (and {more} more problem{'s' if more > 1 else ''} after this one).")


# =========================================================================== planners


def _read_group(session, fleet: FleetConfig) -> GroupState:
    from wsfleet.aws import fleet as aws_fleet

    return aws_fleet.read_group_sizes(session, fleet.asg)


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


def _flap_sentence(low: float, high: float, remove: int, sizes: Sequence[int]) -> str:
    shown = ", ".join(map(str, sizes[:8])) + ("…" if len(sizes) > 8 else "")
    return (
        f"Flap risk: at the low threshold {low:,.0f}, removing {remove} instance{'s' if remove != 1 else ''} from a group of "
        f"{shown} leaves the rest at or above the high threshold {high:,.0f}, so it would scale straight back out (rule 5)."
    )


def _warm_pool_warnings(w: WarmPoolConfig, g: GroupState) -> list[str]:
    out = []
    cap = w.max_prepared_capacity
    if cap is not None and cap <= g.desired:
        out.append(
            f"Max prepared capacity {cap} is not above the group's desired {g.desired} (it counts in-service instances too), "
            f"so the pool holds only its min size {w.min_size}."
        )
    if cap is not None and cap < w.min_size:
        out.append(f"Max prepared capacity {cap} is below the pool's min size {w.min_size}.")
    return out


def latest_average(session: Any, fleet: FleetConfig, now: datetime) -> tuple[float | None, str]:
    """The group metric's latest datapoint and a sentence saying where it came from."""
    from wsfleet.aws import metrics

    period = fleet.scale_out.period
    where = f"CloudWatch {fleet.metric.namespace}/{fleet.metric.name} ({fleet.metric.statistic}, {period} s periods)"
    try:
        series = metrics.read_group_metric(session, fleet, now - METRIC_LOOKBACK, now, period)
    except WsfleetError as e:
        return None, f"Could not read the current average from {where}: {e.message}"
    for t, v in zip(reversed(series.timestamps), reversed(series.values)):
        if v is not None:
            age = max(0, int((now - t).total_seconds() // 60)) if t.tzinfo else None
            when = t.astimezone(timezone.utc).strftime("%H:%M UTC") if t.tzinfo else str(t)
            ago = f", {age} min ago" if age is not None else ""
            return float(v), f"Current average {v:,.0f} connections per instance from {where}, datapoint at {when}{ago}."
    return None, f"No datapoint in the last {int(METRIC_LOOKBACK.total_seconds() // 60)} minutes from {where}: no projection."


def plan_scale(session: Any, fleet: FleetConfig, op: str, n: int, *, raise_max: bool = False, now: datetime | None = None) -> Plan:
    """SetDesiredCapacity, kept within min..max (moto does not enforce MaxSize: this check is ours)."""
    from wsfleet import scaling

    if op not in ("out", "in", "to"):
        raise UsageError(f"scale direction must be out, in or to, not {op!r}.")
    n = _positive_int(n, f"scale {op} N", zero=(op == "to"))
    group = _read_group(session, fleet)
    current = group.desired
    target = current + n if op == "out" else current - n if op == "in" else n
    verb = {"out": f"out by {n}", "in": f"in by {n}", "to": f"to {n}"}[op]
    if target < group.min_size:
        raise UsageError(
            f"scaling {fleet.asg} {verb} would leave {max(target, 0)} instances, below its MinSize {group.min_size}; "
            f"scale to {group.min_size} at the least, or lower MinSize first."
        )
    warnings: list[str] = []
    notes: list[str] = []
    after: dict[str, Any] = {"desired": target}
    max_size = None
    if target > group.max_size:
        if not raise_max:
            raise UsageError(
                f"scaling {fleet.asg} {verb} needs {target} instances, above its MaxSize {group.max_size}; "
                f"pass --raise-max to raise MaxSize to {target} as well, or scale to {group.max_size}."
            )
        max_size = target
        after = {"max_size": target, "desired": target}
        warnings.append(f"MaxSize goes up from {group.max_size} to {target}: scaling policies may then grow the group that far too.")

    if target < current:
        in_service = sum(1 for i in group.instances if i.lifecycle == "InService")
        count = in_service or current
        average, where = latest_average(session, fleet, now or datetime.now(timezone.utc))
        notes.append(where)
        if average is not None and count > 0:
            proj = scaling.project_scale_in(average, count, current - target, fleet.scale_out.threshold, fleet.capacity)
            if proj.per_instance is None:
                notes.append(f"Removing every instance leaves no capacity for the {average * count:,.0f} connections now held.")
                warnings.append("No instance would remain to hold the current connections.")
            else:
                notes.append(
                    f"Projection: {proj.n} → {proj.remaining} instances puts about {proj.per_instance:,.0f} connections on each remaining one "
                    f"(high threshold {fleet.scale_out.threshold:,.0f}, ceiling {fleet.capacity:,})."
                )
                if proj.reaches_high:
                    warnings.append(
                        f"{proj.per_instance:,.0f} per instance reaches the scale-out threshold {fleet.scale_out.threshold:,.0f}: "
                        f"the group would scale straight back out (flap)."
                    )
                if proj.over_capacity:
                    warnings.append(f"{proj.per_instance:,.0f} per instance is over the per-instance ceiling of {fleet.capacity:,} connections.")
    if target == current and max_size is None:
        change = Change("group", fleet.asg, "unchanged", group_fields(group), after)
        summary = f"{fleet.asg} is already at {current} instances."
    else:
        change = Change("group", fleet.asg, "update", group_fields(group), after, write=SetCapacity(fleet.asg, target, max_size))
        word = "out" if target > current else "in" if target < current else "to"
        summary = f"Scale {fleet.asg} {word} from {current} to {target} instance{'s' if target != 1 else ''}" + (
            f", raising MaxSize to {target}." if max_size is not None else "."
        )
    return Plan(f"scale {op}", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, (change,),
                tuple(warnings), tuple(notes), session=session)


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


_WARM_POOL_FIELDS = ("min_size", "max_prepared_capacity", "pool_state", "reuse_on_scale_in")


def plan_warm_pool(session: Any, fleet: FleetConfig, **fields: Any) -> Plan:
    """Create or change the warm pool; fields not given keep their current (or configured) value.

    `max_prepared_capacity=None` means "no cap" (AWS: the group's MaxSize); leave it out to keep it.
    """
    from wsfleet.aws import warm_pool as aws_warm_pool

    unknown = sorted(set(fields) - set(_WARM_POOL_FIELDS))
    if unknown:
        raise UsageError(f"unknown warm pool field {unknown[0]!r}; use {', '.join(_WARM_POOL_FIELDS)}.")
    if "min_size" in fields:
        fields["min_size"] = parse_count(fields["min_size"], "warm pool min size")
    if fields.get("max_prepared_capacity") is not None:
        fields["max_prepared_capacity"] = parse_count(fields["max_prepared_capacity"], "warm pool max prepared capacity")
    if "pool_state" in fields and fields["pool_state"] not in POOL_STATES:
        raise UsageError(f"warm pool state {fields['pool_state']!r} must be one of {', '.join(POOL_STATES)}.")
    if "reuse_on_scale_in" in fields and not isinstance(fields["reuse_on_scale_in"], bool):
        raise UsageError(f"reuse on scale-in must be true or false, not {fields['reuse_on_scale_in']!r}.")

    group = _read_group(session, fleet)
    current = aws_warm_pool.read_warm_pool(session, fleet.asg, with_addresses=False)  # the pool's settings only
    if current is not None:
        base = WarmPoolConfig(current.min_size, current.max_prepared_capacity, current.pool_state, current.reuse_on_scale_in)
    else:
        base = fleet.warm_pool or WarmPoolConfig()
    wanted = replace(base, **fields)
    _raise_first(validate_warm_pool(wanted), UsageError)
    before = warm_pool_fields(current) if current else None
    after = warm_pool_fields(wanted)
    kind = _diff_kind(before, after)
    summary = {
        "create": f"Create a warm pool for {fleet.asg}.",
        "update": f"Change the warm pool of {fleet.asg}.",
        "unchanged": f"The warm pool of {fleet.asg} is already like that.",
    }[kind]
    change = Change("warm pool", fleet.asg, kind, before, after, warnings=tuple(_warm_pool_warnings(wanted, group)),
                    write=None if kind == "unchanged" else PutWarmPool(fleet.asg, wanted))
    return Plan("warm-pool set", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, (change,), session=session)


# =========================================================================== execute


class _State:
    """A fresh read of the resources a plan touched, for the read-back (one call per kind)."""

    def __init__(self, session: Any, asg: str) -> None:
        self.session, self.asg = session, asg
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, read: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def fields(self, change: Change, names: Sequence[str]) -> Mapping[str, Any] | None:
        s, asg = self.session, self.asg
        if change.resource == "group":
            from wsfleet.aws import fleet as aws_fleet

            return group_fields(self._once("group", lambda: aws_fleet.read_group_sizes(s, asg)))
        if change.resource == "alarm":
            from wsfleet.aws import alarms as aws_alarms

            found = self._once("alarms", lambda: aws_alarms.read_alarms(s, list(names))).get(change.name)
            return alarm_fields(found) if found else None
        if change.resource in ("step policy", "simple policy"):
            from wsfleet.aws import policies as aws_policies

            found = self._once("policies", lambda: aws_policies.read_policies(s, asg)).get(change.name)
            return policy_fields(found) if found else None
        if change.resource == "warm pool":
            from wsfleet.aws import warm_pool as aws_warm_pool

            found = self._once("warm pool", lambda: aws_warm_pool.read_warm_pool(s, asg, with_addresses=False))
            return warm_pool_fields(found) if found else None
        if change.resource == "scheduled action":
            from wsfleet.aws import schedule as aws_schedule

            found = {a.name: a for a in self._once("schedule", lambda: aws_schedule.read_scheduled_actions(s, asg))}.get(change.name)
            times = change.after is not None and "start_time" in change.after
            return scheduled_action_fields(found, times=times) if found else None
        raise ValueError(f"unknown resource {change.resource!r}")


def _mismatch(intended: Mapping[str, Any] | None, actual: Mapping[str, Any] | None) -> str | None:
    if intended is None:
        return None if actual is None else "it still exists"
    if actual is None:
        return "it is not there"
    wrong = [f"{k} is {actual.get(k)!r}, not {v!r}" for k, v in intended.items() if not same(actual.get(k), v)]
    return "; ".join(wrong) or None


def _caller(session: Any) -> str | None:
    try:
        return session.caller_arn() if session is not None else None
    except Exception:  # identity is decoration in the log; never block a write on it
        return None


def _audit_entry(plan: Plan, result: str, error: str | None, results: Sequence[ChangeResult], arns: Mapping[str, str]) -> dict[str, Any]:
    pending = plan.pending
    return {
        "time": _iso(datetime.now(timezone.utc)),
        "caller": _caller(plan.session),
        "fleet": plan.fleet,
        "asg": plan.asg,
        "region": plan.region,
        "action": plan.action,
        "summary": plan.summary,
        "before": {c.label: c.before for c in pending},
        "after": {c.label: _resolve(c.after, arns) for c in pending},
        "result": result,
        "error": error,
        "changes": [{"resource": r.change.resource, "name": r.change.name, "kind": r.change.kind, "result": r.status, "error": r.error}
                    for r in results if r.change.kind != "unchanged"],
    }


def execute(plan: Plan, *, confirm: Callable[[Plan], bool], read_only: bool, audit: Any) -> Outcome:
    """Apply a plan: read-only gate, confirmation, the writes in order, a fresh read back, one audit line.

    Raises ReadOnlyError under --read-only (after logging the refused attempt). Returns an Outcome
    otherwise; a failed write is a result, not an exception, so the caller can say what was and
    wasn't applied. In an atomic plan a failure undoes the writes before it.
    """
    if not plan.has_changes:
        return Outcome(plan, "no-change", tuple(ChangeResult(c, "unchanged") for c in plan.changes))
    if read_only:
        message = f"--read-only is set, so wsfleet refused to write: {plan.summary} Nothing was changed."
        audit.append(_audit_entry(plan, "refused", "read-only", (), plan.known_arns))
        raise ReadOnlyError(message)
    audit.check_writable()  # before AWS changes: never leave a write unlogged
    if not confirm(plan):
        return Outcome(plan, "declined", tuple(ChangeResult(c, "not-applied" if c.kind != "unchanged" else "unchanged") for c in plan.changes))

    session = plan.session
    arns: dict[str, str] = dict(plan.known_arns)
    results: list[ChangeResult] = []
    failure: str | None = None
    for change in plan.changes:
        if change.kind == "unchanged":
            results.append(ChangeResult(change, "unchanged"))
        elif failure is not None:
            results.append(ChangeResult(change, "not-applied"))
        else:
            try:
                arn = change.write.apply(session, arns) if change.write else None
                if arn:
                    arns[change.name] = arn
                results.append(ChangeResult(change, "applied"))
            except WsfleetError as e:
                failure = f"{change.label}: {e.message}"
                results.append(ChangeResult(change, "failed", e.message))
            except Exception as e:  # a bug or an unwrapped botocore error: still a result, still audited
                failure = f"{change.label}: {type(e).__name__}: {e}"
                results.append(ChangeResult(change, "failed", f"{type(e).__name__}: {e}"))

    status: str = "applied"
    error: str | None = None
    if failure is not None and plan.atomic:
        results, restore_error = _roll_back(session, results, arns)
        if restore_error is None:
            results, restore_error = _verify_restored(session, plan, results)
        status = "rolled-back" if restore_error is None else "failed"
        restored = [r.change.label for r in results if r.status == "rolled-back"]
        error = f"{failure} — " + (
            (f"restored {', '.join(restored)} as it was; nothing changed." if restored else "nothing had been written; nothing changed.")
            if restore_error is None
            else f"AND restoring failed ({restore_error}); check it with `wsfleet status`."
        )
    else:
        results = _read_back(session, plan, results, arns)
        mismatches = [r for r in results if r.status in ("mismatch", "unverified")]
        if failure is not None:
            status = "failed"
            applied = [r.change.label for r in results if r.status == "applied"]
            not_applied = [r.change.label for r in results if r.status == "not-applied"]
            error = (
                f"{failure} Applied before it: {', '.join(applied) or 'nothing'}. "
                f"Not applied: {', '.join(not_applied) or 'nothing else'}."
                + (" Once that is fixed, the same command plans only what is still missing." if not_applied or plan.action == "provision" else "")
            )
        elif mismatches:
            status = "failed"
            error = " ".join(f"Read back {r.change.label}: {r.error}." for r in mismatches)

    audit.append(_audit_entry(plan, status, error, results, arns))
    return Outcome(plan, status, tuple(results), error, str(getattr(audit, "path", "")) or None)  # type: ignore[arg-type]


def _read_back(session: Any, plan: Plan, results: list[ChangeResult], arns: Mapping[str, str]) -> list[ChangeResult]:
    state = _State(session, plan.asg)
    alarm_names = [c.name for c in plan.changes if c.resource == "alarm"]
    out = []
    for r in results:
        if r.status != "applied":
            out.append(r)
            continue
        intended = _resolve(r.change.after, arns)
        try:
            actual = state.fields(r.change, alarm_names)
        except WsfleetError as e:
            out.append(replace(r, status="unverified", error=f"could not read it back: {e.message}"))
            continue
        wrong = _mismatch(intended, actual)
        out.append(replace(r, status="mismatch" if wrong else "applied", error=wrong, read_back=actual))
    return out


def _verify_restored(session: Any, plan: Plan, results: list[ChangeResult]) -> tuple[list[ChangeResult], str | None]:
    """Read the undone resources again: "restored" is a claim about AWS, so check it."""
    state = _State(session, plan.asg)
    names = [c.name for c in plan.changes if c.resource == "alarm"]
    out, problem = [], None
    for r in results:
        if r.status == "rolled-back":
            try:
                wrong = _mismatch(r.change.before, state.fields(r.change, names))
            except WsfleetError as e:
                wrong = f"could not read it back: {e.message}"
            if wrong:
                r = replace(r, status="rollback-failed", error=wrong)
                problem = problem or f"{r.change.label}: {wrong}"
        out.append(r)
    return out, problem


def _roll_back(session: Any, results: list[ChangeResult], arns: Mapping[str, str]) -> tuple[list[ChangeResult], str | None]:
    out = list(results)
    for i in reversed(range(len(out))):
        r = out[i]
        if r.status != "applied":
            continue
        if r.change.undo is None:
            return out, f"{r.change.label} has no way back"
        try:
            r.change.undo.apply(session, arns)
        except WsfleetError as e:
            out[i] = replace(r, status="rollback-failed", error=e.message)
            return out, f"{r.change.label}: {e.message}"
        except Exception as e:
            out[i] = replace(r, status="rollback-failed", error=f"{type(e).__name__}: {e}")
            return out, f"{r.change.label}: {type(e).__name__}: {e}"
        out[i] = replace(r, status="rolled-back")
    return out, None
