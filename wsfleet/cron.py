"""Five-field Unix cron, as Auto Scaling scheduled actions take it: validation and next run.

Pure: no I/O. `parse_cron` turns a `Recurrence` into the sets of minutes, hours, days, months and
weekdays it fires on, or raises ConfigError with one sentence saying which field is wrong and how
to write it. `next_run` walks local wall-clock time in the action's IANA time zone, which is how
AWS evaluates `Recurrence` with `TimeZone` (a 07:00 action stays at 07:00 across DST changes).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wsfleet.errors import ConfigError

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # cron numbers them 0-6 from Sunday

EXAMPLE = '"0 7 * * MON-FRI"'


@dataclass(frozen=True)
class _Field:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] means low + i

    def describe(self) -> str:
        span = f"{self.low}-{self.high}"
        if self.names:
            span += f" or {self.names[0]}-{self.names[-1]}"
        if self.label == "day of week":
            span += " (0 = Sunday)"
        return span


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, MONTH_NAMES),
    _Field("day of week", 0, 6, WEEKDAY_NAMES),
)


@dataclass(frozen=True)
class CronSchedule:
    """What a cron expression fires on. Weekdays use cron's numbering (0 = Sunday)."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    # Vixie cron: when both day fields are restricted a day matches if EITHER does; a field that
    # starts with "*" (even "*/2") counts as unrestricted.
    days_restricted: bool
    weekdays_restricted: bool

    def matches_day(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        dom = d.day in self.days
        dow = (d.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        if self.days_restricted:
            return dom
        if self.weekdays_restricted:
            return dow
        return True


def _bad(expr: str, what: str) -> ConfigError:
    return ConfigError(f'cron expression "{expr}": {what}.')


def _value(expr: str, f: _Field, text: str) -> int:
    upper = text.upper()
    if f.names and upper in f.names:
        return f.low + f.names.index(upper)
    if not text.isdigit():
        hint = f"a number {f.low}-{f.high}" + (f" or a name {f.names[0]}-{f.names[-1]}" if f.names else "")
        raise _bad(expr, f'{f.label} "{text}" is not {hint}')
    n = int(text)
    if not f.low <= n <= f.high:
        raise _bad(expr, f"{f.label} {n} is out of range; use {f.describe()}")
    return n


def _parse_field(expr: str, f: _Field, text: str) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _bad(expr, f'{f.label} "{text}" has an empty list item; separate values with single commas, e.g. "1,15"')
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise _bad(expr, f'{f.label} step "/{step_text}" must be a whole number of at least 1, e.g. "*/5"')
            step = int(step_text)
        if base == "*":
            lo, hi = f.low, f.high
        elif "-" in base:
            a, _, b = base.partition("-")
            lo, hi = _value(expr, f, a), _value(expr, f, b)
            if lo > hi:
                raise _bad(expr, f'{f.label} range "{base}" runs backwards; write it low-high, or as a list such as "FRI-SAT,SUN"')
        else:
            lo = _value(expr, f, base)
            hi = f.high if slash else lo  # "5/15" means 5-max/15, as in Vixie cron
        values.update(range(lo, hi + 1, step))
    return values


def parse_cron(expression: str) -> CronSchedule:
    """Validate a 5-field cron `Recurrence`; raise ConfigError with one sentence when it is wrong."""
    expr = " ".join(str(expression).split())
    parts = expr.split(" ") if expr else []
    if len(parts) != 5:
        extra = " (AWS does not take a seconds or year field)" if len(parts) in (6, 7) else ""
        raise _bad(
            expr,
            f"has {len(parts)} field{'s' if len(parts) != 1 else ''}{extra}; write 5: minute hour day-of-month month day-of-week, e.g. {EXAMPLE}",
        )
    sets = [_parse_field(expr, f, text) for f, text in zip(_FIELDS, parts)]
    schedule = CronSchedule(
        expression=expr,
        minutes=frozenset(sets[0]),
        hours=frozenset(sets[1]),
        days=frozenset(sets[2]),
        months=frozenset(sets[3]),
        weekdays=frozenset(sets[4]),
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
    )
    if schedule.days_restricted and not schedule.weekdays_restricted:
        longest = {m: (29 if m == 2 else calendar.monthrange(2001, m)[1]) for m in schedule.months}
        if not any(d <= longest[m] for d in schedule.days for m in schedule.months):
            months = ",".join(MONTH_NAMES[m - 1] for m in sorted(schedule.months))
            raise _bad(expr, f"day of month {','.join(map(str, sorted(schedule.days)))} never occurs in {months}, so it would never run")
    return schedule


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone `name` (None = UTC, AWS's default); ConfigError when unknown."""
    if name is None:
        return ZoneInfo("UTC")
    try:
        if not name or name != name.strip() or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f'time zone "{name}" is not an IANA time zone name; use one like "Europe/Berlin", "America/New_York" or "UTC".'
        ) from None


_HORIZON_DAYS = 8 * 366  # "29 FEB" can be 8 years away (no 29 Feb between 2096 and 2104)


def next_run(schedule: CronSchedule | str, tz: str | None, after: datetime) -> datetime | None:
    """The first time strictly after `after` that the schedule fires, as an aware datetime in `tz`.

    Wall-clock times skipped by a DST change do not fire; a repeated hour fires once (the first).
    None when nothing fires within eight years (cannot happen for a schedule parse_cron accepted).
    """
    if isinstance(schedule, str):
        schedule = parse_cron(schedule)
    if after.tzinfo is None:
        raise ValueError("next_run needs an aware datetime")
    z = zone(tz)
    local = after.astimezone(z)
    start = (local.replace(tzinfo=None, second=0, microsecond=0)) + timedelta(minutes=1)
    hours = sorted(schedule.hours)
    minutes = sorted(schedule.minutes)
    day = start.date()
    for _ in range(_HORIZON_DAYS):
        if schedule.matches_day(day):
            for h in hours:
                if day == start.date() and h < start.hour:
                    continue
                for m in minutes:
                    wall = datetime.combine(day, time(h, m))
                    if wall < start:
                        continue
                    candidate = wall.replace(tzinfo=z, fold=0)
                    # a wall time inside a spring-forward gap does not round-trip: it never happens
                    if candidate.astimezone(timezone.utc).astimezone(z).replace(tzinfo=None) != wall:
                        continue
                    if candidate > after:
                        return candidate
        day += timedelta(days=1)
    return None


def next_runs(schedule: CronSchedule | str, tz: str | None, after: datetime, count: int) -> list[datetime]:
    """The next `count` run times after `after` (fewer if the schedule ends)."""
    if isinstance(schedule, str):
        schedule = parse_cron(schedule)
    runs: list[datetime] = []
    at = after
    while len(runs) < count:
        nxt = next_run(schedule, tz, at)
        if nxt is None:
            break
        runs.append(nxt)
        at = nxt
    return runs
