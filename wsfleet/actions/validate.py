"""Pure checks on what a write asks for, before any AWS call: bad input is one sentence
(ConfigError/UsageError), and the warnings several planners give are sentences too."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Sequence

from wsfleet import cron
from wsfleet.aws.provision import iso as _iso
from wsfleet.errors import ConfigError, UsageError, WsfleetError
from wsfleet.model import POOL_STATES, FleetConfig, GroupState, ScheduledActionConfig, WarmPoolConfig


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
