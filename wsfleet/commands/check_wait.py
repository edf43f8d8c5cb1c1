"""`wsfleet check --wait DURATION [--interval S] [--no-refresh-wait]`: a deploy pipeline's last step.

Sweeps every S seconds (default: the fleet's `counts.interval`) until the fleet is balanced (exit 0),
DURATION passes (exit 1, with the last verdict) or the sweeps fail (exit 3: an AWS error that
retrying cannot mend, or MAX_FAILED_SWEEPS sweeps in a row that failed or measured nothing).
While an instance refresh is in progress the fleet is not judged: half of it is still being
replaced. Each sweep prints one progress line on stderr (elapsed, skew, the hottest and coldest
instance, the trend from `wsfleet.trend`); the result goes to stdout as `check` prints it, the
JSON with "waited_s" and "sweeps" added.

One count source serves every sweep (its SSH connections stay open); the group is re-read each
sweep (instances come and go during a deploy) for one DescribeAutoScalingGroups, EC2 being asked
only about instances not seen before (`GroupWatch`). The last sweep starts at DURATION at the
latest, so the whole wait lasts at most DURATION plus one sweep.
"""

from __future__ import annotations

import asyncio
import math
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, TextIO

from wsfleet.errors import EXIT_FINDING, EXIT_REMOTE, UsageError, WsfleetError
from wsfleet.model import CountSweep, FleetConfig, GroupState, InstanceRefresh
from wsfleet.trend import CountHistory, Trend

MAX_WAIT_S = 24 * 3600.0  # a pipeline step that waits longer than a day is a mistake
MIN_INTERVAL_S = 1.0  # as the dashboard: a group read and a sweep at most once a second
MAX_FAILED_SWEEPS = 3  # sweeps in a row that failed (AWS) or measured nothing before giving up
# AWS errors that retrying does not mend: exit 3 at once (AwsCallError.kind)
PERMANENT_KINDS = frozenset({"access-denied", "credentials", "not-found", "invalid"})


# ----------------------------------------------------------------------------- options (pure)

_DURATION = re.compile(r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)(?P<unit>s?))?")
_EXAMPLES = "e.g. 90, 90s, 15m, 1h or 1h30m"


def parse_duration(text: str, option: str = "--wait", *, minimum: float = 0.0, maximum: float = MAX_WAIT_S) -> float:
    """Seconds in `text`: a number of seconds (`90`, `2.5`) or hours, minutes and seconds in that
    order (`90s`, `15m`, `1h`, `1h30m`, `1m30s`). More than zero, at least `minimum`, at most
    `maximum`; anything else is a UsageError naming `option`."""
    value = str(text).strip()
    match = _DURATION.fullmatch(value)
    groups = match.groupdict() if match else {}
    bare_after_unit = bool(groups.get("s")) and not groups.get("unit") and bool(groups.get("h") or groups.get("m"))
    if not value or match is None or not any(groups.get(k) for k in ("h", "m", "s")) or bare_after_unit:
        why = "is negative" if value.startswith("-") else "is not a duration"
        raise UsageError(f"{option} {value!r} {why}: give a number of seconds or hours, minutes and seconds in that order ({_EXAMPLES}).")
    seconds = 3600 * float(groups["h"] or 0) + 60 * float(groups["m"] or 0) + float(groups["s"] or 0)
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"{option} {value!r} is no time at all: give more than zero ({_EXAMPLES}).")
    if seconds < minimum:
        raise UsageError(f"{option} {value!r} is too short: give at least {fmt_elapsed(minimum)} ({_EXAMPLES}).")
    if seconds > maximum:
        raise UsageError(f"{option} {value!r} is longer than {fmt_elapsed(maximum)}: give at most that ({_EXAMPLES}).")
    return seconds


@dataclass(frozen=True)
class WaitOptions:
    duration_s: float
    interval_s: float | None  # None: the fleet's counts.interval
    refresh_wait: bool = True


def wait_options(args: Any) -> WaitOptions | None:
    """--wait/--interval/--no-refresh-wait checked (UsageError), or None without --wait."""
    wait = getattr(args, "wait", None)
    interval = getattr(args, "interval", None)
    no_refresh_wait = bool(getattr(args, "no_refresh_wait", False))
    if wait is None:
        extra = [flag for flag, given in (("--interval", interval is not None), ("--no-refresh-wait", no_refresh_wait)) if given]
        if extra:
            raise UsageError(f"{' and '.join(extra)} only work with --wait DURATION: add it, e.g. `wsfleet check --wait 15m {' '.join(extra)}`.")
        return None
    duration = parse_duration(wait, "--wait")
    interval_s = parse_duration(interval, "--interval", minimum=MIN_INTERVAL_S) if interval is not None else None
    return WaitOptions(duration, interval_s, refresh_wait=not no_refresh_wait)


def fmt_elapsed(seconds: float) -> str:
    """45s, 2m05s, 1h02m (a progress line's clock)."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


# ----------------------------------------------------------------------------- progress lines (pure)


def sweep_counts(sweep: CountSweep) -> dict[str, int | None]:
    """The serving instances' counts, as the verdict sees them (an error is no count)."""
    from wsfleet.balance import serving

    return {r.instance_id: (None if r.error else r.connections) for r in sweep.instances if serving(r)}


def progress_line(elapsed_s: float, number: int, sweep: CountSweep, max_skew: float, trend: Trend,
                  refresh: InstanceRefresh | None = None) -> str:
    """One sweep in one line: elapsed, skew against the limit, hottest and coldest, the trend."""
    s = sweep.summary
    head = f"wsfleet: [{fmt_elapsed(elapsed_s)}] sweep {number}"
    if refresh is not None and refresh.active:
        done = f" {refresh.percentage_complete}%" if refresh.percentage_complete is not None else ""
        head += f" (instance refresh {refresh.status}{done}: not judged until it ends)"
    if not s.instances:
        return f"{head}: the group has no in-service instances to measure"
    if not s.measured:
        return f"{head}: none of the {s.instances} in-service instances could be measured"
    measured = [(count, iid) for iid, count in sweep_counts(sweep).items() if count is not None]
    hot, cold = max(measured), min(measured)
    sign = "<=" if s.skew <= max_skew else ">"
    return (f"{head}: skew {s.skew:.2f} {sign} {max_skew:.2f} ({s.measured} of {s.instances} measured), "
            f"hottest {hot[1]} {hot[0]:,}, coldest {cold[1]} {cold[0]:,}; {trend.sentence()}")


# ----------------------------------------------------------------------------- the group, re-read cheaply


class GroupWatch:
    """The group as each sweep of a wait needs it, for one DescribeAutoScalingGroups a sweep.

    EC2 is asked only about instances it has not described as running before (a running
    instance's addresses do not change); the launch template is resolved (one
    DescribeLaunchTemplates) only when the group names "$Latest"/"$Default". Blocking (boto3).
    """

    def __init__(self, session: Any, asg: str) -> None:
        self._session = session
        self._asg = asg
        self._described: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []  # sentences for the user (the launch template could not be resolved)

    def read(self) -> GroupState:
        from wsfleet.aws.fleet import describe_group, describe_instances, group_from_aws
        from wsfleet.commands.counts import resolved_template

        raw = describe_group(self._session, self._asg)
        ids = [i["InstanceId"] for i in raw.get("Instances", ())]
        described = {i: self._described[i] for i in ids if i in self._described}
        new = [i for i in ids if i not in described]
        if new:
            fresh = describe_instances(self._session, new)
            described.update(fresh)
            self._described = {**{i: d for i, d in self._described.items() if i in described},
                               **{i: d for i, d in fresh.items() if (d.get("State") or {}).get("Name") == "running"}}
        else:
            self._described = described
        return resolved_template(self._session, group_from_aws(raw, described), self.problems)


# ----------------------------------------------------------------------------- the wait


@dataclass(frozen=True)
class WaitOutcome:
    code: int
    sweep: CountSweep | None  # what to report on stdout (the last good sweep, or the last unmeasured one)
    verdict: str | None
    sweeps: int
    waited_s: float


async def wait_for_balance(fleet: FleetConfig, session: Any, options: WaitOptions, *, max_skew: float,
                           source_name: str | None = None, err: TextIO | None = None,
                           clock: Callable[[], float] = time.monotonic) -> WaitOutcome:
    """Sweep until balanced, DURATION or failure (see the module docstring). Cancelling it (Ctrl-C)
    closes the count source's connections on the way out."""
    from wsfleet.aws.refresh import RefreshUnavailable, read_latest_refresh
    from wsfleet.commands.counts import judge
    from wsfleet.counts import collect_sweep, open_source, targets_for

    err = err or sys.stderr

    def say(line: str) -> None:
        print(line, file=err, flush=True)

    interval = options.interval_s or max(float(fleet.counts.interval), MIN_INTERVAL_S)
    watch = GroupWatch(session, fleet.asg)
    history = CountHistory()
    source = open_source(fleet, session, source_name)
    started = clock()
    deadline = started + options.duration_s
    read_refresh = options.refresh_wait
    refresh_said: str | None = None  # the refresh id whose wait was announced
    said_problems = 0
    number = failures = 0
    good: tuple[CountSweep, str | None] | None = None
    unmeasured: CountSweep | None = None
    refresh: InstanceRefresh | None = None
    try:
        while True:
            sweep_started = clock()
            number += 1
            try:
                group = await asyncio.to_thread(watch.read)
                if read_refresh:
                    try:
                        refresh = await asyncio.to_thread(read_latest_refresh, session, fleet.asg)
                    except RefreshUnavailable:
                        read_refresh, refresh = False, None
                        where = session.endpoint_url or "this AWS endpoint"
                        say(f"wsfleet: refresh state is unavailable from {where} (no DescribeInstanceRefreshes): "
                            f"going on as if no instance refresh runs.")
                sweep = await collect_sweep(fleet, source, targets_for(fleet, group))
            except WsfleetError as exc:
                failures += 1
                if getattr(exc, "kind", None) in PERMANENT_KINDS or exc.exit_code != EXIT_REMOTE or failures >= MAX_FAILED_SWEEPS:
                    raise
                say(f"wsfleet: [{fmt_elapsed(clock() - started)}] sweep {number} failed ({failures} of "
                    f"{MAX_FAILED_SWEEPS} in a row): {exc.message}")
            else:
                for problem in watch.problems[said_problems:]:
                    say(f"wsfleet: {problem}.")
                said_problems = len(watch.problems)
                active = refresh is not None and refresh.active
                if active and refresh.id != refresh_said:
                    refresh_said = refresh.id
                    say(f"wsfleet: instance refresh {refresh.id} is {refresh.status}: waiting for it to end "
                        f"before judging the balance (--no-refresh-wait judges at once).")
                elif not active and refresh_said is not None:
                    say(f"wsfleet: instance refresh {refresh_said} ended" + (f" ({refresh.status})." if refresh else "."))
                    refresh_said = None
                elapsed = clock() - started
                history.record_sweep(elapsed, sweep_counts(sweep), sweep.summary.skew)
                say(progress_line(elapsed, number, sweep, max_skew, history.trend(max_skew), refresh))
                if sweep.summary.measured:
                    failures, unmeasured = 0, None
                    verdict = judge(sweep, max_skew)
                    good = (sweep, verdict)
                    if verdict == "balanced" and not active:
                        return WaitOutcome(0, sweep, verdict, number, clock() - started)
                else:
                    failures += 1
                    unmeasured = sweep
                    if failures >= MAX_FAILED_SWEEPS:
                        return WaitOutcome(EXIT_REMOTE, sweep, None, number, clock() - started)
            now = clock()
            if now >= deadline:
                break
            next_at = min(sweep_started + interval, deadline)
            await asyncio.sleep(max(next_at - now, 0.0))
    finally:
        await source.aclose()

    waited = clock() - started
    if good is None:
        return WaitOutcome(EXIT_REMOTE, unmeasured, None, number, waited)
    sweep, verdict = good
    still = f"the instance refresh {refresh.id} was still {refresh.status}" if refresh is not None and refresh.active else None
    what = f"skew {sweep.summary.skew:.2f} > {max_skew:.2f}" if verdict != "balanced" else f"skew {sweep.summary.skew:.2f} but {still}"
    say(f"wsfleet: not balanced after {fmt_elapsed(waited)} ({number} sweeps): {what}; {history.trend(max_skew).sentence()}.")
    if still and verdict != "balanced":
        say(f"wsfleet: {still}: a half-refreshed fleet is not judged balanced.")
    if unmeasured is not None:
        say(f"wsfleet: the last sweep measured nothing; reporting the sweep at {sweep.taken_at:%H:%M:%S} UTC.")
    return WaitOutcome(EXIT_FINDING, sweep, verdict, number, waited)


def run_wait(fleet: FleetConfig, session: Any, options: WaitOptions, *, max_skew: float, source: str | None,
             fmt: str, verbose: bool = False) -> int:
    from wsfleet.commands.counts import print_result, result_code

    outcome = asyncio.run(wait_for_balance(fleet, session, options, max_skew=max_skew, source_name=source))
    if outcome.sweep is None:
        return outcome.code
    extra = {"waited_s": round(outcome.waited_s, 1), "sweeps": outcome.sweeps}
    print_result(outcome.sweep, checking=True, verdict=outcome.verdict, max_skew=max_skew, fmt=fmt, verbose=verbose, extra=extra)
    code = result_code(outcome.sweep, checking=True, verdict=outcome.verdict, asg=fleet.asg)
    return max(code, outcome.code)
