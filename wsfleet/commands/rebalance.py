"""`wsfleet rebalance [--target-skew X] [--max-drains N] [--switch-algorithm] [--dry-run] [--yes]`:
drain the hottest instances one at a time (Standby), with where their connections will land.

Prints the plan (each drain with its projection under the target group's routing algorithm),
asks, then one line per drain as it goes. Ctrl-C stops the current drain at once and brings its
instance back (a second Ctrl-C interrupts that too: then `wsfleet status` shows what is left).
Exit codes: 0 done (or nothing to do after a dry run); 1 stopped before the target skew was
reached (refused step, abort); 2 a wrong value or a refusal before anything was written; 3 AWS
or SSH failure (every instance wsfleet put in Standby is brought back first).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from wsfleet.errors import EXIT_FINDING, EXIT_OK, EXIT_REMOTE, EXIT_USAGE, UsageError


def run(args: Any, ctx: Any) -> int:
    from wsfleet import actions
    from wsfleet.aws.reader import read_status
    from wsfleet.commands._write import apply_plan, audit_log, console

    target_skew = actions.parse_target_skew(args.target_skew) if args.target_skew is not None else None
    max_drains = actions.parse_max_drains(args.max_drains) if args.max_drains is not None else actions.rebalance.DEFAULT_MAX_DRAINS
    fleet = ctx.fleet
    if target_skew is None:
        target_skew = fleet.counts.max_skew
    session = ctx.aws(fleet)
    status = read_status(session, fleet, window_minutes=5)
    out = console()

    if args.switch_algorithm:
        code = apply_plan(actions.plan_algorithm(session, fleet, status), ctx, yes=args.yes)
        if code != EXIT_OK:
            return code
        status = read_status(session, fleet, window_minutes=5)

    loop = asyncio.new_event_loop()
    from wsfleet.counts import open_source

    source = open_source(fleet, session, None)
    try:
        def count() -> dict[str, int | None]:
            return loop.run_until_complete(_sweep(fleet, session, source))

        counts = {k: v for k, v in count().items() if v is not None}
        plan = actions.plan_rebalance(session, fleet, status, counts, target_skew=target_skew, max_drains=max_drains)
        for line in plan_lines(plan, fleet):
            out.print(line, markup=False, highlight=False)
        if args.dry_run:
            return EXIT_OK
        if not _confirmed(plan, args.yes):
            print("wsfleet: not confirmed, so nothing was changed.", file=sys.stderr)
            return EXIT_USAGE
        stop = _StopOnInterrupt()
        with stop:
            result = actions.run_rebalance(
                plan, fleet, read_only=ctx.read_only, audit=audit_log(ctx), count=count,
                progress=lambda line: print(f"wsfleet: {line}", file=sys.stderr, flush=True),
                should_stop=stop.requested, poll=min(2.0, max(0.5, fleet.counts.interval / 2)),
            )
        # the skew after, over the same warm connections
        final = {k: v for k, v in count().items() if v is not None} if result.results and not result.failed else {}
    finally:
        try:
            loop.run_until_complete(source.aclose())
        finally:
            loop.close()

    for iid, state in sorted(result.states.items()):
        out.print(f"  {iid}: {state}", markup=False, highlight=False)
    if final:
        from wsfleet.drain import skew

        s = skew(final)
        out.print(f"Skew now {s:.2f} (target {plan.target_skew:.2f}) after {len(result.results)} drain"
                  f"{'s' if len(result.results) != 1 else ''}." if s is not None else "No connections left to measure.",
                  markup=False, highlight=False)
    if result.failed:
        print(f"wsfleet: rebalance failed: {result.stopped}. Every instance wsfleet put in Standby was brought back"
              + (": " + ", ".join(f"{i} {s}" for i, s in sorted(result.states.items())) if result.states else "") + ".", file=sys.stderr)
        return EXIT_REMOTE
    if result.stopped:
        print(f"wsfleet: rebalance stopped: {result.stopped}.", file=sys.stderr)
        return 130 if "interrupt" in result.stopped or "request" in result.stopped else EXIT_FINDING
    return EXIT_OK


async def _sweep(fleet: Any, session: Any, source: Any) -> dict[str, int | None]:
    from wsfleet.aws.fleet import read_group
    from wsfleet.counts import collect_sweep, targets_for

    group = await asyncio.to_thread(read_group, session, fleet.asg)
    sweep = await collect_sweep(fleet, source, targets_for(fleet, group))
    return {r.instance_id: r.connections for r in sweep.instances}


def plan_lines(plan: Any, fleet: Any) -> list[str]:
    lines = [f"Plan for {plan.fleet} ({plan.asg}): {plan.summary}"]
    for k, step in enumerate(plan.steps, start=1):
        landing = ", ".join(f"{i} {plan_counts(plan, step, i):,}→{n:,}" for i, n in sorted(step.during.items()))
        lines.append(f"  {k}. drain {step.instance} ({step.moved:,} connections): {landing}")
        lines.append(f"     skew {step.skew_before:.2f} → {step.skew_after:.2f} once it is back (empty); "
                     f"average while it drains {step.average_during:,.0f} (scale-out at {fleet.scale_out.threshold:,.0f}, ceiling {fleet.capacity:,})")
    lines.append(f"  Then: {plan.stop_reason}")
    lines.extend(f"  {note}" for note in plan.notes)
    return lines


def plan_counts(plan: Any, step: Any, iid: str) -> int:
    """What `iid` holds before `step`, as projected by the steps before it."""
    current = dict(plan.counts)
    for s in plan.steps:
        if s is step:
            break
        current = dict(s.after)
    return current.get(iid, 0)


def _confirmed(plan: Any, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("there is no terminal to confirm on, so nothing was changed: pass --yes to apply without asking.")
    sys.stderr.write(f"{plan.summary} Go ahead? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


class _StopOnInterrupt:
    """The first Ctrl-C asks the run to stop (it ends the current drain and brings its instance
    back); a second one interrupts as usual."""

    def __init__(self) -> None:
        self._asked = False
        self._previous: Any = None

    def requested(self) -> bool:
        return self._asked

    def _handle(self, signum: int, frame: Any) -> None:
        if self._asked:
            raise KeyboardInterrupt
        self._asked = True
        print("wsfleet: stopping after this step; bringing any instance in Standby back (Ctrl-C again to interrupt).", file=sys.stderr, flush=True)

    def __enter__(self) -> "_StopOnInterrupt":
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread (tests): no handler, KeyboardInterrupt still works
            self._previous = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
