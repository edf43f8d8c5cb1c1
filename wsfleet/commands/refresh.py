"""`wsfleet refresh status|start|cancel|rollback`: instance refreshes (deploys).

    wsfleet refresh status [--format table|json]
    wsfleet refresh start [--min-healthy P] [--max-healthy P] [--warmup S] [--checkpoints 20,50,100]
                          [--checkpoint-delay S] [--skip-matching] [--auto-rollback] [--suspend-scaling]
                          [--force] [--dry-run] [--yes]
    wsfleet refresh cancel [--yes]
    wsfleet refresh rollback [--yes]

`refresh status --format json` is one object, or `null` when the group never had a refresh:

    {"id", "status", "status_reason", "percentage_complete", "instances_to_update",
     "started_at", "ended_at" (ISO 8601, UTC, or null),
     "checkpoint" (the last checkpoint percentage reached, or null), "next_checkpoint",
     "preferences": {"min_healthy_percentage", "max_healthy_percentage", "instance_warmup",
                     "checkpoint_percentages", "checkpoint_delay", "skip_matching", "auto_rollback"}}

The writes go through the one write path (validate → preview → confirm → apply → read back →
audit); `--read-only` refuses them. `refresh status` also resumes the scaling alarms that
`refresh start --suspend-scaling` paused, once it sees that refresh ended (an audited write).
Exit codes: 0; 2 for a wrong value or a refusal (nothing written); 3 for AWS failures, including
an endpoint without the refresh calls.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from wsfleet.errors import EXIT_OK, ReadOnlyError
from wsfleet.model import GroupState, InstanceRefresh


def run(args: Any, ctx: Any) -> int:
    command = args.refresh_command
    fleet = ctx.fleet
    if command == "start":
        return _start(args, ctx, fleet)
    session = ctx.aws(fleet)
    if command == "status":
        return _status(args, ctx, fleet, session)

    from wsfleet import actions
    from wsfleet.commands._write import apply_plan

    plan = actions.plan_refresh_cancel(session, fleet) if command == "cancel" else actions.plan_refresh_rollback(session, fleet)
    return apply_plan(plan, ctx, yes=args.yes)


def _start(args: Any, ctx: Any, fleet: Any) -> int:
    from wsfleet import actions
    from wsfleet.commands._write import apply_plan, print_plan

    request = actions.refresh_request(  # every value checked before any AWS call
        min_healthy=args.min_healthy,
        max_healthy=args.max_healthy,
        warmup=args.warmup,
        checkpoints=args.checkpoints,
        checkpoint_delay=args.checkpoint_delay,
        skip_matching=args.skip_matching,
        auto_rollback=args.auto_rollback,
        suspend_scaling=args.suspend_scaling,
        force=args.force,
    )
    plan = actions.plan_refresh_start(ctx.aws(fleet), fleet, request)
    if args.dry_run:
        print_plan(plan)
        return EXIT_OK
    return apply_plan(plan, ctx, yes=args.yes)


def _status(args: Any, ctx: Any, fleet: Any, session: Any) -> int:
    from wsfleet.aws import fleet as aws_fleet
    from wsfleet.aws import refresh as aws_refresh

    refresh = aws_refresh.read_latest_refresh(session, fleet.asg)  # unavailable: exit 3, one sentence
    group = aws_fleet.read_group_sizes(session, fleet.asg)
    group = replace(group, launch_template=aws_refresh.deploying_to(
        aws_fleet.resolve_launch_template(session, group.launch_template), refresh))
    resume_alarms_if_due(ctx, fleet, session, group, refresh)
    if getattr(args, "format", "table") == "json":
        print(json.dumps(refresh_to_json(refresh), indent=2))
    else:
        print_refresh(fleet.asg, refresh, group)
    return EXIT_OK


def resume_alarms_if_due(ctx: Any, fleet: Any, session: Any, group: GroupState, refresh: InstanceRefresh | None, err: Any = None) -> None:
    """Resume the AlarmNotification that wsfleet suspended for a refresh that has ended (audited);
    under --read-only, say that it stays suspended."""
    from wsfleet import actions
    from wsfleet.commands._write import audit_log

    err = err or sys.stderr
    plan = actions.plan_resume_alarms(session, fleet, group, refresh)
    if plan is None:
        return
    try:
        outcome = actions.execute(plan, confirm=lambda _: True, read_only=ctx.read_only, audit=audit_log(ctx))
    except ReadOnlyError:
        print(f"wsfleet: {plan.summary.rstrip('.')} is due, but --read-only is set: the alarms stay paused until a wsfleet without --read-only sees it.", file=err)
        return
    if outcome.ok:
        print(f"wsfleet: {plan.summary} (audited)", file=err)
    else:
        print(f"wsfleet: could not resume the alarms: {outcome.error}", file=err)


# ----------------------------------------------------------------------------- JSON


def refresh_to_json(r: InstanceRefresh | None) -> dict[str, Any] | None:
    """The documented object (see the module docstring); None when there is no refresh."""
    if r is None:
        return None
    p = r.preferences
    return {
        "id": r.id,
        "status": r.status,
        "status_reason": r.status_reason,
        "percentage_complete": r.percentage_complete,
        "instances_to_update": r.instances_to_update,
        "started_at": _iso(r.started_at),
        "ended_at": _iso(r.ended_at),
        "checkpoint": r.last_checkpoint,
        "next_checkpoint": r.next_checkpoint,
        "preferences": {
            "min_healthy_percentage": p.min_healthy_percentage,
            "max_healthy_percentage": p.max_healthy_percentage,
            "instance_warmup": p.instance_warmup,
            "checkpoint_percentages": list(p.checkpoint_percentages),
            "checkpoint_delay": p.checkpoint_delay,
            "skip_matching": p.skip_matching,
            "auto_rollback": p.auto_rollback,
        },
    }


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).isoformat()


# ----------------------------------------------------------------------------- table


def refresh_lines(r: InstanceRefresh | None, *, now: datetime | None = None) -> list[str]:
    """The refresh in a few lines (the `refresh status` table and `wsfleet status`)."""
    if r is None:
        return ["no instance refresh has run on this group."]
    now = now or datetime.now(timezone.utc)
    done = "" if r.percentage_complete is None else f", {r.percentage_complete}% done"
    left = "" if r.instances_to_update is None else f", {r.instances_to_update} instance{'s' if r.instances_to_update != 1 else ''} to update"
    lines = [f"{r.id}: {r.status}{done}{left}"]
    when = []
    if r.started_at:
        when.append(f"started {r.started_at:%Y-%m-%d %H:%M:%S} UTC ({_ago(now, r.started_at)})")
    if r.ended_at:
        when.append(f"ended {r.ended_at:%H:%M:%S} UTC")
    p = r.preferences
    prefs = [f"min healthy {p.min_healthy_percentage}%" if p.min_healthy_percentage is not None else None,
             f"max healthy {p.max_healthy_percentage}%" if p.max_healthy_percentage is not None else None,
             f"warmup {p.instance_warmup} s" if p.instance_warmup is not None else None,
             ("checkpoints " + ",".join(str(c) for c in p.checkpoint_percentages)
              + (f" (delay {p.checkpoint_delay} s)" if p.checkpoint_delay is not None else "")) if p.checkpoint_percentages else None,
             "skip matching" if p.skip_matching else None, "auto rollback" if p.auto_rollback else None]
    lines.append(" · ".join(when + [x for x in prefs if x]))
    if r.last_checkpoint is not None and r.active:
        lines.append(f"checkpoint {r.last_checkpoint}% reached" + (f", next {r.next_checkpoint}%" if r.next_checkpoint else ""))
    if r.status_reason:
        lines.append(f"reason: {r.status_reason}")
    return lines


def version_lines(group: GroupState) -> list[str]:
    ref = group.launch_template
    if ref is None or ref.current_version is None:
        return []
    serving = [i for i in group.instances if i.lifecycle in ("InService", "Pending", "Pending:Wait", "Pending:Proceed")]
    current = [i for i in serving if ref.is_current(i.launch_template_version)]
    label = ref.current_version if ref.is_launch_configuration else f"v{ref.current_version}"
    old = sorted({i.launch_template_version or "?" for i in serving if ref.is_current(i.launch_template_version) is False})
    line = f"instances: {len(current)} of {len(serving)} run {label} (current)"
    if old:
        line += f"; {len(serving) - len(current)} an older version ({', '.join('v' + v for v in old)})"
    return [line]


def print_refresh(asg: str, r: InstanceRefresh | None, group: GroupState) -> None:
    from rich.text import Text

    from wsfleet.commands._write import console

    c = console()
    lines = refresh_lines(r)
    style = "bold" if r is None or not r.active else "bold yellow"
    c.print(Text(f"instance refresh of {asg}: {lines[0]}", style=style))
    for line in lines[1:] + version_lines(group):
        c.print(Text(f"  {line}"))


def _ago(now: datetime, t: datetime) -> str:
    s = max(0, int((now - t).total_seconds()))
    if s < 120:
        return f"{s} s ago"
    if s < 7200:
        return f"{s // 60} min ago"
    return f"{s // 3600} h ago"
