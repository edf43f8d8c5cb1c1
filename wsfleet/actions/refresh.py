"""Instance refreshes (deploys) through the one write path: start (with the capacity projection of
rule 9 in the preview), cancel, roll back, and resuming the alarms wsfleet suspended for one.

`--suspend-scaling` writes three changes as one (atomic): suspend AlarmNotification, tag the group
with `wsfleet:resume-alarms-after-refresh` (the time it was suspended), start the refresh. The tag
is how any later wsfleet (the dashboard, `refresh status`, `check --wait`) knows the suspension is
its own and resumes it once no refresh runs: `plan_resume_alarms`. A suspension wsfleet did not
make is never touched, only reported (doctor).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from wsfleet.actions.plan import Change, Plan
from wsfleet.actions.scale import latest_average
from wsfleet.actions.writes import (
    CancelRefresh,
    DeleteGroupTag,
    PutGroupTag,
    ResumeProcesses,
    RollbackRefresh,
    StartRefresh,
    SuspendProcesses,
)
from wsfleet.aws.provision import iso as _iso
from wsfleet.aws.refresh import RESUME_TAG
from wsfleet.errors import UsageError
from wsfleet.model import FleetConfig, GroupState, InstanceRefresh, RefreshPreferences

# AWS's limits for StartInstanceRefresh's preferences (API reference, RefreshPreferences)
MIN_HEALTHY_DEFAULT = 90
MAX_CHECKPOINT_DELAY = 172_800  # seconds (two days)
# a resume tag with no refresh seen after it: the start failed after the tag (or the tag is stale)
RESUME_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class RefreshRequest:
    """`wsfleet refresh start`'s options, checked (see `refresh_request`)."""

    preferences: RefreshPreferences
    suspend_scaling: bool = False
    force: bool = False


def _percent(value: Any, flag: str, low: int, high: int, default_note: str) -> int:
    text = str(value).strip().rstrip("%")
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not a whole percentage: give a number from {low} to {high}{default_note}.") from None
    if not low <= number <= high:
        raise UsageError(f"{flag} {number} is out of range: give a whole percentage from {low} to {high}{default_note}.")
    return number


def _seconds(value: Any, flag: str, high: int | None = None) -> int:
    text = str(value).strip().lower().removesuffix("s")
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not a whole number of seconds: give e.g. {flag} 300.") from None
    if number < 0 or (high is not None and number > high):
        limit = f"from 0 to {high:,}" if high is not None else "of 0 or more"
        raise UsageError(f"{flag} {number} is out of range: give a number of seconds {limit}.")
    return number


def parse_checkpoints(value: Any) -> tuple[int, ...]:
    """"20,50,100" -> (20, 50, 100): whole percentages 1..100, strictly ascending."""
    parts = [p.strip().rstrip("%") for p in str(value).split(",")]
    try:
        numbers = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(
            f"--checkpoints {value!r} is not a list of whole percentages: give ascending numbers from 1 to 100, "
            f"e.g. --checkpoints 20,50,100."
        ) from None
    bad = [n for n in numbers if not 1 <= n <= 100]
    if bad:
        raise UsageError(f"--checkpoints {value!r} holds {bad[0]}, out of range: each checkpoint is a percentage from 1 to 100.")
    if any(b <= a for a, b in zip(numbers, numbers[1:])):
        raise UsageError(f"--checkpoints {value!r} is not strictly ascending: give each percentage once, smallest first, e.g. 20,50,100.")
    return numbers


def refresh_request(
    *,
    min_healthy: Any = None,
    max_healthy: Any = None,
    warmup: Any = None,
    checkpoints: Any = None,
    checkpoint_delay: Any = None,
    skip_matching: bool = False,
    auto_rollback: bool = False,
    suspend_scaling: bool = False,
    force: bool = False,
) -> RefreshRequest:
    """Check every option before any AWS call; one sentence per wrong value (UsageError, exit 2)."""
    p_min = MIN_HEALTHY_DEFAULT if min_healthy is None else _percent(min_healthy, "--min-healthy", 0, 100, f" (AWS's default is {MIN_HEALTHY_DEFAULT})")
    p_max = None
    if max_healthy is not None:
        p_max = _percent(max_healthy, "--max-healthy", 100, 200, " (AWS's default is 100)")
        if min_healthy is None:
            raise UsageError(f"--max-healthy {p_max} needs --min-healthy too (AWS requires both): e.g. --min-healthy 100 --max-healthy {p_max}.")
        if p_max - p_min > 100:
            raise UsageError(
                f"--max-healthy {p_max} is more than 100 points above --min-healthy {p_min}: AWS allows a difference of at most 100."
            )
    points = parse_checkpoints(checkpoints) if checkpoints not in (None, "") else ()
    delay = None
    if checkpoint_delay is not None:
        if not points:
            raise UsageError("--checkpoint-delay only applies with --checkpoints: give e.g. --checkpoints 50,100 --checkpoint-delay 600.")
        delay = _seconds(checkpoint_delay, "--checkpoint-delay", MAX_CHECKPOINT_DELAY)
    prefs = RefreshPreferences(
        min_healthy_percentage=p_min,
        max_healthy_percentage=p_max,
        instance_warmup=None if warmup is None else _seconds(warmup, "--warmup"),
        checkpoint_percentages=points,
        checkpoint_delay=delay,
        skip_matching=bool(skip_matching),
        auto_rollback=bool(auto_rollback),
    )
    return RefreshRequest(prefs, suspend_scaling=bool(suspend_scaling), force=bool(force))


def preference_fields(p: RefreshPreferences) -> dict[str, Any]:
    """The preferences as a plan shows and reads them back (only those set)."""
    out: dict[str, Any] = {}
    for key in ("min_healthy_percentage", "max_healthy_percentage", "instance_warmup", "checkpoint_delay", "skip_matching", "auto_rollback"):
        value = getattr(p, key)
        if value is not None:
            out[key] = value
    if p.checkpoint_percentages:
        out["checkpoint_percentages"] = list(p.checkpoint_percentages)
    return out


def version_note(group: GroupState) -> str | None:
    """How many serving instances run an older launch template version than the group launches."""
    ref = group.launch_template
    if ref is None:
        return None
    serving = [i for i in group.instances if i.lifecycle == "InService"]
    current = ref.current_version
    if current is None:
        return f"The group launches {ref.name} {ref.version}, which could not be resolved to a version number."
    old = [i for i in serving if ref.is_current(i.launch_template_version) is False]
    what = f"launch configuration {current}" if ref.is_launch_configuration else f"{ref.name} v{current}"
    if not old:
        return f"Every in-service instance already runs {what}: a refresh replaces them all anyway unless --skip-matching is given."
    versions = sorted({i.launch_template_version or "?" for i in old})
    return f"{len(old)} of {len(serving)} in-service instances run an older version ({', '.join('v' + v for v in versions)}); the group launches {what}."


def resume_due(group: GroupState, refresh: InstanceRefresh | None, now: datetime) -> str | None:
    """Why the alarms wsfleet suspended for a refresh should be resumed now, or None.

    Due when the group carries wsfleet's resume tag and no refresh runs: the refresh that started
    after the tag has ended, or none was ever seen within RESUME_GRACE of the tag (its start failed).
    """
    tag = group.tag(RESUME_TAG)
    if tag is None:
        return None
    if refresh is not None and refresh.active:
        return None
    since = _parse_time(tag)
    if refresh is not None and (since is None or refresh.started_at is None or refresh.started_at >= since - timedelta(seconds=5)):
        return f"the instance refresh {refresh.id} it was suspended for ended {refresh.status}"
    if since is None or now - since >= RESUME_GRACE:
        return "no instance refresh has run since it was suspended"
    return None


def _parse_time(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


# =========================================================================== planners


def plan_refresh_start(session: Any, fleet: FleetConfig, request: RefreshRequest, *, now: datetime | None = None) -> Plan:
    """StartInstanceRefresh, previewed with the capacity dip it causes (rule 9).

    A dip that would fire the scale-out policy mid-deploy, or put instances over the ceiling, is
    refused unless `request.force`, with the min healthy percentage that stays safe.
    """
    from wsfleet import scaling
    from wsfleet.aws import fleet as aws_fleet
    from wsfleet.aws import refresh as aws_refresh

    now = now or datetime.now(timezone.utc)
    group = aws_fleet.read_group_sizes(session, fleet.asg)
    group = replace(group, launch_template=aws_fleet.resolve_launch_template(session, group.launch_template))
    latest = aws_refresh.read_latest_refresh(session, fleet.asg)  # RefreshUnavailable: this command fails, exit 3
    if latest is not None and latest.active:
        raise UsageError(
            f"an instance refresh ({latest.id}, {latest.status}, {latest.percentage_complete or 0}% done) is already "
            f"in progress on {fleet.asg}: follow it with `wsfleet refresh status`, or stop it with `wsfleet refresh cancel` first."
        )
    prefs = request.preferences
    serving = sum(1 for i in group.instances if i.lifecycle == "InService")
    n = serving or group.desired
    if n == 0:
        raise UsageError(f"{fleet.asg} has no instances in service, so there is nothing to refresh.")
    p_min = prefs.min_healthy_percentage if prefs.min_healthy_percentage is not None else MIN_HEALTHY_DEFAULT
    p_max = prefs.max_healthy_percentage or 100
    notes: list[str] = []
    warnings: list[str] = []
    version = version_note(group)
    if version:
        notes.append(version)

    average, where = latest_average(session, fleet, now)
    notes.append(where)
    threshold = fleet.scale_out.threshold
    if average is not None:
        proj = scaling.project_refresh(average, n, p_min, p_max, threshold, fleet.capacity)
        notes.append(_projection_sentence(proj, threshold, fleet.capacity))
        problems = _dip_problems(proj, threshold, fleet.capacity)
        if problems:
            advice = _safe_advice(proj, average, threshold)
            if not request.force:
                raise UsageError(f"{' and '.join(problems)}: {advice}, or pass --force to start it anyway. Nothing was changed.")
            warnings.append(f"{' and '.join(problems)} (--force given; {advice}).")
    else:
        warnings.append("No current average, so the capacity dip could not be projected: check the dashboard before a large refresh.")

    changes: list[Change] = []
    suspended = set(group.suspended_processes)
    if request.suspend_scaling:
        if aws_refresh.ALARM_NOTIFICATION in suspended:
            notes.append(
                f"{aws_refresh.ALARM_NOTIFICATION} is already suspended on {fleet.asg} (not by this command): "
                f"wsfleet leaves it as it is and will not resume it."
            )
        else:
            before = {"suspended_processes": sorted(suspended)}
            after = {"suspended_processes": sorted(suspended | {aws_refresh.ALARM_NOTIFICATION})}
            changes.append(Change(
                "scaling processes", fleet.asg, "update", before, after,
                warnings=(f"The alarms stop scaling {fleet.asg} until the refresh ends; wsfleet resumes "
                          f"{aws_refresh.ALARM_NOTIFICATION} when it sees the refresh finished (the dashboard, refresh status).",),
                write=SuspendProcesses(fleet.asg, (aws_refresh.ALARM_NOTIFICATION,)),
                undo=ResumeProcesses(fleet.asg, (aws_refresh.ALARM_NOTIFICATION,)),
            ))
            stamp = _iso(now)
            changes.append(Change(
                "group tag", aws_refresh.RESUME_TAG, "create", None, {"value": stamp},
                write=PutGroupTag(fleet.asg, aws_refresh.RESUME_TAG, stamp),
                undo=DeleteGroupTag(fleet.asg, aws_refresh.RESUME_TAG),
            ))
    before = {"status": latest.status if latest else None}
    after = {"status": "started", **preference_fields(prefs)}
    changes.append(Change("instance refresh", fleet.asg, "create", before, after, write=StartRefresh(fleet.asg, prefs)))
    summary = (
        f"Start an instance refresh of {fleet.asg}: replace its {n} in-service instances "
        f"keeping at least {p_min}% healthy" + (f" (up to {p_max}% in service)" if p_max > 100 else "")
        + (", with the scaling alarms paused." if any(c.resource == "scaling processes" for c in changes) else ".")
    )
    return Plan("refresh start", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, tuple(changes),
                tuple(warnings), tuple(notes), atomic=True, session=session)


def _projection_sentence(p: Any, threshold: float, capacity: int) -> str:
    per = "every connection dropped" if p.per_instance == float("inf") else f"about {p.per_instance:,.0f} connections each"
    return (
        f"Projection: min healthy {p.min_healthy}% of {p.n} keeps {p.serving} serving while {p.batch} "
        f"{'is' if p.batch == 1 else 'are'} replaced at a time: {per} (from {p.average:,.0f}; "
        f"scale-out threshold {threshold:,.0f}, ceiling {capacity:,})."
    )


def _dip_problems(p: Any, threshold: float, capacity: int) -> list[str]:
    per = "all" if p.per_instance == float("inf") else f"{p.per_instance:,.0f}"
    problems = []
    if p.reaches_high:
        problems.append(f"during each batch the {p.serving} serving instances would average {per} connections, at or over the "
                        f"scale-out threshold {threshold:,.0f} (the step policy would fire mid-deploy)")
    if p.over_capacity:
        problems.append(f"{per} per instance is over the ceiling of {capacity:,}")
    return problems


def _safe_advice(p: Any, average: float, threshold: float) -> str:
    if p.safe_min_healthy is not None and p.safe_min_healthy > p.min_healthy:
        return f"--min-healthy {p.safe_min_healthy} keeps the dip safe"
    if average < threshold:
        extra = max(100 + -(-100 // max(p.n, 1)), 101)  # room for at least one extra instance
        return f"--min-healthy 100 --max-healthy {min(extra, 200)} launches each replacement before terminating, so nothing dips"
    return f"the average {average:,.0f} is already at the threshold: scale out first (`wsfleet scale out`)"


def plan_refresh_cancel(session: Any, fleet: FleetConfig) -> Plan:
    running = _running_refresh(session, fleet, "cancel")
    before = {"status": running.status, "percentage_complete": running.percentage_complete}
    change = Change("instance refresh", running.id, "update", before, {"status": "cancelling"}, write=CancelRefresh(fleet.asg))
    summary = (f"Cancel instance refresh {running.id} of {fleet.asg} at {running.percentage_complete or 0}%: "
               f"instances already replaced stay on the new version; the rest are not replaced.")
    return Plan("refresh cancel", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, (change,),
                notes=_resume_note(session, fleet), session=session)


def plan_refresh_rollback(session: Any, fleet: FleetConfig) -> Plan:
    running = _running_refresh(session, fleet, "roll back")
    before = {"status": running.status, "percentage_complete": running.percentage_complete}
    change = Change("instance refresh", running.id, "update", before, {"status": "rolling back"}, write=RollbackRefresh(fleet.asg))
    summary = (f"Roll back instance refresh {running.id} of {fleet.asg} at {running.percentage_complete or 0}%: "
               f"the instances already replaced are replaced again with the previous launch template.")
    return Plan("refresh rollback", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, (change,),
                notes=_resume_note(session, fleet), session=session)


def _running_refresh(session: Any, fleet: FleetConfig, verb: str) -> InstanceRefresh:
    from wsfleet.aws import refresh as aws_refresh

    latest = aws_refresh.read_latest_refresh(session, fleet.asg)
    if latest is None or not latest.active:
        last = f" (the latest, {latest.id}, ended {latest.status})" if latest else ""
        raise UsageError(f"no instance refresh is running on {fleet.asg}{last}, so there is nothing to {verb}: see `wsfleet refresh status`.")
    if verb == "roll back" and latest.status == "RollbackInProgress":
        raise UsageError(f"instance refresh {latest.id} of {fleet.asg} is already rolling back: follow it with `wsfleet refresh status`.")
    if latest.status == "Cancelling":
        raise UsageError(f"instance refresh {latest.id} of {fleet.asg} is already being cancelled: follow it with `wsfleet refresh status`.")
    return latest


def _resume_note(session: Any, fleet: FleetConfig) -> tuple[str, ...]:
    from wsfleet.aws import fleet as aws_fleet
    from wsfleet.aws import refresh as aws_refresh

    group = aws_fleet.read_group_sizes(session, fleet.asg)
    if group.tag(aws_refresh.RESUME_TAG) is None:
        return ()
    return (f"wsfleet resumes {aws_refresh.ALARM_NOTIFICATION} (suspended for this refresh) once the refresh has ended.",)


def plan_resume_alarms(session: Any, fleet: FleetConfig, group: GroupState, refresh: InstanceRefresh | None, *, now: datetime | None = None) -> Plan | None:
    """Resume the AlarmNotification wsfleet suspended for a refresh, once no refresh runs; None when
    nothing is due. The tag goes in the same plan, so a resume is never repeated or forgotten."""
    from wsfleet.aws import refresh as aws_refresh

    now = now or datetime.now(timezone.utc)
    why = resume_due(group, refresh, now)
    if why is None:
        return None
    changes: list[Change] = []
    suspended = set(group.suspended_processes)
    if aws_refresh.ALARM_NOTIFICATION in suspended:
        changes.append(Change(
            "scaling processes", fleet.asg, "update", {"suspended_processes": sorted(suspended)},
            {"suspended_processes": sorted(suspended - {aws_refresh.ALARM_NOTIFICATION})},
            write=ResumeProcesses(fleet.asg, (aws_refresh.ALARM_NOTIFICATION,)),
        ))
    changes.append(Change("group tag", aws_refresh.RESUME_TAG, "delete", {"value": group.tag(aws_refresh.RESUME_TAG)}, None,
                          write=DeleteGroupTag(fleet.asg, aws_refresh.RESUME_TAG)))
    summary = f"Resume {aws_refresh.ALARM_NOTIFICATION} on {fleet.asg}: wsfleet suspended it for a refresh, and {why}."
    return Plan("refresh resume-alarms", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, tuple(changes), session=session)


# =========================================================================== read back


_PHASE = {
    "Pending": "started", "InProgress": "started", "Baking": "started", "Successful": "started",
    "Cancelling": "cancelling", "Cancelled": "cancelling",
    "RollbackInProgress": "rolling back", "RollbackSuccessful": "rolling back",
}


def refresh_fields(refresh: InstanceRefresh | None) -> dict[str, Any] | None:
    """A refresh as a plan's `after` states it: its phase (started, cancelling, rolling back) and preferences."""
    if refresh is None:
        return None
    return {"status": _PHASE.get(refresh.status, refresh.status), "percentage_complete": refresh.percentage_complete,
            **preference_fields(refresh.preferences)}
