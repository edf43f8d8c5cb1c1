"""Capacity arranged ahead of need: a warm pool that holds what the first step adds, and scheduled
actions that set possible sizes and will run."""

from __future__ import annotations

from datetime import datetime, timezone

from wsfleet import scaling
from wsfleet.doctor._text import _ids, _ok, _provision_fix, _snippet
from wsfleet.model import FleetConfig, FleetStatus, Finding


# --------------------------------------------------------------------------- warm pool


def check_warm_pool(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """A warm pool exists and holds at least what the first step adds."""
    g, wp, cfg = status.group, status.warm_pool, fleet.warm_pool
    policy, alarm = status.scale_out_policy, status.high_alarm
    first_add = fleet.scale_out.steps[0].add if fleet.scale_out.steps else 1
    if policy is not None and alarm is not None and policy.steps:
        try:
            first_add = scaling.to_absolute(alarm.threshold, policy.steps)[0].add
        except Exception:
            pass
    snippet = _snippet(fleet, "warm_pool", f"min_size = {max(first_add, 2)}", 'pool_state = "Stopped"', "reuse_on_scale_in = true")
    if wp is None:
        if cfg is not None:
            return [Finding(
                "warm-pool", "error",
                f"the config has a warm pool but {fleet.asg} has none",
                "every scale-out launches from cold — with one or two instances at the morning ramp the seed could not scale fast enough",
                _provision_fix(), subject=fleet.asg,
            )]
        return [Finding(
            "warm-pool", "warning",
            f"{fleet.asg} has no warm pool",
            "every scale-out launches from cold — with one or two instances at the morning ramp the seed could not scale fast enough; its fix was a warm pool of stopped instances",
            snippet + "\n" + _provision_fix(), subject=fleet.asg,
        )]
    prepared_max = wp.max_prepared_capacity if wp.max_prepared_capacity is not None else g.max_size
    size = scaling.warm_pool_size(min_size=wp.min_size, max_prepared=wp.max_prepared_capacity, desired=g.desired, max_size=g.max_size)
    warmed = [i for i in wp.instances if i.lifecycle.startswith("Warmed:")]
    seen = f"; {len(warmed)} warm now" if wp.instances else ""
    if size < first_add:
        return [Finding(
            "warm-pool", "warning",
            f"the warm pool holds {size} instance{'s' if size != 1 else ''} (min {wp.min_size}, max prepared {prepared_max if wp.max_prepared_capacity is not None else 'the group max'} − desired {g.desired}){seen}, "
            f"but the first step adds {first_add}",
            "the instances beyond the pool start cold, which is the slow scale-out the warm pool exists to avoid",
            snippet + "\n" + _provision_fix(), subject=fleet.asg,
        )]
    return [_ok("warm-pool", f"the warm pool holds {size} ({wp.pool_state}){seen}; the first step adds {first_add}", fleet.asg)]


# --------------------------------------------------------------------------- schedule


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def _put_action(a, **changes) -> str:
    """The `wsfleet schedule put` that rewrites action `a` with `changes` (every field resent)."""
    import shlex

    v = {"min_size": a.min_size, "max_size": a.max_size, "desired_capacity": a.desired_capacity, **changes}
    if not a.recurrence:
        return f"wsfleet schedule delete {a.name}   # then put it again with sizes min {v['min_size']}, max {v['max_size']}, desired {v['desired_capacity']}"
    parts = ["wsfleet schedule put", shlex.quote(a.name), "--cron", shlex.quote(a.recurrence)]
    if a.time_zone:
        parts += ["--time-zone", shlex.quote(a.time_zone)]
    for flag, key in (("--min", "min_size"), ("--max", "max_size"), ("--desired", "desired_capacity")):
        if v[key] is not None:
            parts += [flag, str(v[key])]
    if a.start_time:
        parts += ["--start", _aware(a.start_time).isoformat()]
    if a.end_time:
        parts += ["--end", _aware(a.end_time).isoformat()]
    return " ".join(parts)


def check_schedule(fleet: FleetConfig, status: FleetStatus, now: datetime) -> list[Finding]:
    """Scheduled actions that set impossible sizes, or will never run."""
    from wsfleet import cron  # pure; the actions engineer's module

    now = _aware(now)
    g = status.group
    out: list[Finding] = []
    why_size = "AWS refuses the change when the action runs, so the capacity the seed schedules before a known peak never arrives"
    configured = {s.name for s in fleet.schedule}
    for a in status.scheduled_actions:
        problems: list[tuple[str, str, str, str]] = []  # severity, found, why, fix
        lo = a.min_size if a.min_size is not None else g.min_size
        hi = a.max_size if a.max_size is not None else g.max_size
        if a.min_size is not None and a.max_size is not None and a.min_size > a.max_size:
            problems.append(("error", f"sets min {a.min_size} above max {a.max_size}", why_size,
                             _put_action(a, min_size=a.max_size, max_size=a.min_size)))
        elif a.min_size is not None and a.min_size > hi:
            problems.append(("error", f"sets min {a.min_size} above the group's max {hi}", why_size,
                             _put_action(a, max_size=a.min_size)))
        elif a.max_size is not None and a.max_size < lo:
            problems.append(("error", f"sets max {a.max_size} below the group's min {lo}", why_size,
                             _put_action(a, min_size=a.max_size)))
        elif a.desired_capacity is not None and not lo <= a.desired_capacity <= hi:
            problems.append(("error", f"sets desired {a.desired_capacity} outside {lo}..{hi}", why_size,
                             _put_action(a, desired_capacity=min(max(a.desired_capacity, lo), hi))))
        never = "it never runs: the capacity it should add before the peak never comes"
        delete = f"wsfleet schedule delete {a.name}"
        end = _aware(a.end_time) if a.end_time else None
        start = _aware(a.start_time) if a.start_time else None
        if start and end and start > end:
            problems.append(("error", f"starts ({start:%Y-%m-%d %H:%M}) after it ends ({end:%Y-%m-%d %H:%M})", never, delete))
        elif end and end <= now:
            problems.append(("warning", f"ended at {end:%Y-%m-%d %H:%M %Z}", never, delete))
        elif a.recurrence:
            try:
                nxt = cron.next_run(a.recurrence, a.time_zone, max(now, start) if start else now)
            except Exception as exc:  # ConfigError from the cron parser: one sentence
                problems.append(("error", f"has a recurrence that cannot run: {exc}", never, delete))
            else:
                if nxt is None:
                    problems.append(("error", f'recurrence "{a.recurrence}" never fires', never, delete))
                elif end and nxt > end:
                    problems.append(("warning", f'recurrence "{a.recurrence}" next fires {nxt:%Y-%m-%d %H:%M}, after it ends {end:%Y-%m-%d %H:%M}', never, delete))
        elif start and start <= now:
            problems.append(("info", f"was due once at {start:%Y-%m-%d %H:%M %Z} and is still listed",
                             "a one-time action that already ran is normally removed; check the activity history for a failure", delete))
        for severity, found, why, fix in problems:
            if a.name in configured:
                fix += f"\n# {a.name} is in the config: fix it in [[fleets.{fleet.name}.schedule]] too, or the next provision puts it back"
            out.append(Finding("schedule", severity, f"scheduled action {a.name} {found}", why, fix, subject=a.name))
        if not problems:
            out.append(_ok("schedule", f"scheduled action {a.name} ({a.recurrence or (a.start_time and f'{a.start_time:%Y-%m-%d %H:%M}') or 'once'}) is valid", a.name))
    live = {a.name for a in status.scheduled_actions}
    missing = [s.name for s in fleet.schedule if s.name not in live]
    if missing:
        out.append(Finding(
            "schedule", "warning",
            f"scheduled action{'s' if len(missing) > 1 else ''} {_ids(missing)} in the config but not in {fleet.asg}",
            "the seed scales out before its known peaks; without these the morning ramp starts from the night's size",
            _provision_fix(), subject=_ids(missing),
        ))
    if not status.scheduled_actions and not fleet.schedule:
        out.append(Finding(
            "schedule", "info",
            f"{fleet.asg} has no scheduled actions",
            "with predictable peaks the seed adds instances before the traffic arrives (its Lambda, later scheduled actions)",
            'wsfleet schedule put weekday-morning --cron "0 7 * * MON-FRI" --time-zone Europe/Berlin --min 4 --desired 4',
            subject=fleet.asg,
        ))
    return out
