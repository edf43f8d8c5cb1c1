"""`wsfleet schedule list [--format table|json]`, `schedule put NAME --cron EXPR [--time-zone TZ]
[--min N] [--max N] [--desired N] [--start ISO] [--end ISO] [--yes]`, `schedule delete NAME [--yes]`.

`list` shows each action's next run in its own time zone. `put` validates the cron expression
(5 fields, ranges, names), the IANA time zone, the start/end times (future, end after start; a
time without an offset is read in the action's time zone) and the sizes (min ≤ desired ≤ max,
also against the group's current bounds for the sizes it leaves out).

`list --format json` prints {"fleet", "asg", "taken_at", "scheduled_actions": [{"name",
"recurrence", "time_zone", "min_size", "max_size", "desired_capacity", "start_time", "end_time",
"next_run" (ISO 8601 with the action's UTC offset, or null)}]}.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from wsfleet import actions, cron
from wsfleet.commands._write import apply_plan, console
from wsfleet.errors import EXIT_OK, ConfigError, UsageError
from wsfleet.model import ScheduledAction, ScheduledActionConfig


def run(args: Any, ctx: Any) -> int:
    if args.schedule_command == "list":
        return _list(args, ctx)
    if args.schedule_command == "put":
        action = action_from_args(args)
        fleet = ctx.fleet
        return apply_plan(actions.plan_schedule_put(ctx.aws(fleet), fleet, action), ctx, yes=args.yes)
    fleet = ctx.fleet
    return apply_plan(actions.plan_schedule_delete(ctx.aws(fleet), fleet, args.name), ctx, yes=args.yes)


def parse_time(text: str, option: str, tz: str | None) -> datetime:
    """ISO 8601; without an offset it is a wall-clock time in the action's time zone."""
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time; write it like 2026-12-01T07:00 (in --time-zone) or 2026-12-01T06:00Z.") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=cron.zone(tz))
    return t.astimezone(timezone.utc)


def action_from_args(args: Any) -> ScheduledActionConfig:
    """The action the command line describes; every bad value is one sentence, before any AWS call."""
    cron.parse_cron(args.cron)  # its own sentence names the field
    tz = args.time_zone
    if tz is not None:
        cron.zone(tz)
    sizes = {}
    for key, option in (("min_size", "--min"), ("max_size", "--max"), ("desired", "--desired")):
        value = getattr(args, key)
        sizes[key] = None if value is None else actions.parse_count(value, option)
    return ScheduledActionConfig(
        name=args.name,
        recurrence=" ".join(args.cron.split()),
        time_zone=tz,
        min_size=sizes["min_size"],
        max_size=sizes["max_size"],
        desired_capacity=sizes["desired"],
        start_time=parse_time(args.start, "--start", tz) if args.start else None,
        end_time=parse_time(args.end, "--end", tz) if args.end else None,
    )


def next_run(action: ScheduledAction, now: datetime) -> datetime | None:
    """When the action runs next, in its time zone; None for a past one-off or an unreadable cron."""
    if action.recurrence:
        try:
            start = action.start_time if action.start_time and action.start_time > now else now
            nxt = cron.next_run(action.recurrence, action.time_zone, start)
        except ConfigError:
            return None
        if nxt is not None and action.end_time is not None and nxt > action.end_time:
            return None
        return nxt
    if action.start_time and action.start_time > now:
        try:
            return action.start_time.astimezone(cron.zone(action.time_zone))
        except ConfigError:
            return action.start_time
    return None


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _list(args: Any, ctx: Any) -> int:
    from wsfleet.aws.schedule import read_scheduled_actions

    fleet = ctx.fleet
    found = read_scheduled_actions(ctx.aws(fleet), fleet.asg)
    now = datetime.now(timezone.utc)
    rows = [(a, next_run(a, now)) for a in found]
    if args.format == "json":
        print(json.dumps({
            "fleet": fleet.name,
            "asg": fleet.asg,
            "taken_at": now.isoformat(),
            "scheduled_actions": [
                {"name": a.name, "recurrence": a.recurrence, "time_zone": a.time_zone, "min_size": a.min_size,
                 "max_size": a.max_size, "desired_capacity": a.desired_capacity, "start_time": _iso(a.start_time),
                 "end_time": _iso(a.end_time), "next_run": _iso(nxt)}
                for a, nxt in rows
            ],
        }, indent=2))
        return EXIT_OK
    from rich import box
    from rich.table import Table

    c = console()
    if not rows:
        c.print(f"{fleet.asg} has no scheduled actions.")
        return EXIT_OK
    timed = any(a.start_time or a.end_time for a, _ in rows)
    table = Table(title=f"Scheduled actions of {fleet.asg}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("name", "cron", "time zone", "min/max/desired", "next run (its time zone)") + (("start (UTC)", "end (UTC)") if timed else ()):
        table.add_column(col, overflow="fold")
    for a, nxt in rows:
        sizes = "/".join("-" if v is None else str(v) for v in (a.min_size, a.max_size, a.desired_capacity))
        cells = [a.name, a.recurrence or "(once)", a.time_zone or "UTC", sizes, nxt.strftime("%a %d %b %H:%M %Z") if nxt else "-"]
        if timed:
            cells += [t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if t else "-" for t in (a.start_time, a.end_time)]
        table.add_row(*cells)
    c.print(table)
    return EXIT_OK
