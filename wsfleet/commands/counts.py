"""`wsfleet counts` (one sweep of per-instance connection counts) and `wsfleet check` (its verdict).

    wsfleet counts [--source ssh|ssm|cloudwatch] [--format table|json|csv] [--no-cache]
    wsfleet check [--max-skew X] [--source ...] [--format table|json] [--no-cache]
    wsfleet check --wait DURATION [--interval S] [--no-refresh-wait] [...]   (check_wait.py)

`counts --format json` is one object (DESIGN.md, a contract):

    {"fleet", "asg", "source", "taken_at" (ISO 8601, UTC),
     "instances": [{"id", "az", "address", "lifecycle", "health", "connections" (int or null),
                    "error" (null or timeout|refused|auth|host-key|command|parse|not-found),
                    "latency_ms", "launch_template_version" (string or null),
                    "current" (true|false|null: runs the version the group launches now)}],
     "summary": {"instances", "measured", "total", "mean", "min", "max", "skew" (max/mean), "cv"}}

`check --format json` adds "verdict" ("balanced" | "imbalanced"; null when nothing was measured)
and "max_skew" (--max-skew, else the fleet's counts.max_skew, default 1.25); with --wait also
"waited_s" and "sweeps".

Over ssh the sweep starts before the AWS read ends (`sweep_over_ssh`): the read runs beside it,
and the instances the last run found (the address cache, `counts.address_cache`; `--no-cache`
skips it) are connected to meanwhile. The rows are the fresh read's, as without the cache.

Exit codes. counts: 0; 3 when the group has instances and none could be measured. check: 0
balanced, 1 imbalanced, 3 when it could not measure (AWS failure, or no instance measured),
2 usage. Instances that could not be measured are listed (and named on stderr by `check`); they
never count as zero connections.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from wsfleet.counts.base import launch_template_label
from wsfleet.errors import EXIT_FINDING, EXIT_OK, EXIT_REMOTE, UsageError
from wsfleet.model import CountSweep, InstanceCount


def _max_skew(value: float | None) -> float | None:
    """The --max-skew given, checked; None when not given (then the fleet's counts.max_skew applies)."""
    from wsfleet.balance import DEFAULT_MAX_SKEW

    if value is None:
        return None
    if not math.isfinite(value) or value < 1.0:
        raise UsageError(
            f"--max-skew {value} is not allowed: give a number of at least 1.0 (the busiest instance's "
            f"connections over the mean; never below 1), e.g. --max-skew {DEFAULT_MAX_SKEW}."
        )
    return float(value)


def run(args: Any, ctx: Any) -> int:
    checking = getattr(args, "command", "counts") == "check"
    # every option is checked before the config is read or AWS is called
    max_skew = _max_skew(getattr(args, "max_skew", None)) if checking else None
    wait = None
    if checking:
        from wsfleet.commands.check_wait import wait_options

        wait = wait_options(args)
    fleet = ctx.fleet
    if checking and max_skew is None:
        max_skew = fleet.counts.max_skew
    fmt = getattr(args, "format", "table")
    verbose = getattr(ctx, "verbose", False)
    if wait is not None:
        from wsfleet.commands.check_wait import run_wait

        return run_wait(fleet, ctx.aws(fleet), wait, max_skew=max_skew, source=getattr(args, "source", None), fmt=fmt, verbose=verbose)

    if (getattr(args, "source", None) or fleet.counts.source) == "ssh":
        sweep = sweep_over_ssh(ctx, fleet, use_cache=not getattr(args, "no_cache", False))
    else:
        from wsfleet.counts import open_source, targets_for

        session = ctx.aws(fleet)
        group = read_counted_group(session, fleet.asg)
        targets = targets_for(fleet, group)
        source = open_source(fleet, session, getattr(args, "source", None))
        import asyncio

        sweep = asyncio.run(_collect(fleet, source, targets))

    verdict = judge(sweep, max_skew) if checking else None
    print_result(sweep, checking=checking, verdict=verdict, max_skew=max_skew, fmt=fmt, verbose=verbose)
    return result_code(sweep, checking=checking, verdict=verdict, asg=fleet.asg)


def sweep_over_ssh(ctx: Any, fleet, *, use_cache: bool = True) -> CountSweep:
    """One sweep over SSH, started as early as it can be (the one-shot latency of `counts`/`check`).

    The AWS side runs beside the sweep (`wsfleet.beside`: a forked process on the other core, or a
    thread): importing botocore and reading the group (`read_group`: Auto Scaling, then EC2 for the
    addresses), then resolving the launch template and reading the instance refreshes, at once,
    while the sweep runs (they only say which rows are `current`). Meanwhile this process imports
    asyncssh, loads the keys and, with the address cache (`counts.address_cache`), starts
    connecting to the instances the last run saw. Rows come from the fresh read only: a cached
    instance that left the group is dropped unread, one whose address changed is connected again
    at the new one, a new one is connected when its address arrives. `use_cache=False`
    (`--no-cache`) neither reads nor writes the cache."""
    from wsfleet.beside import Beside
    from wsfleet.counts import address_cache

    cached = address_cache.load(fleet) if use_cache else ()
    aws = Beside(lambda: _aws_side(ctx, fleet, cached if use_cache else None), verbose=getattr(ctx, "verbose", False))
    aws.start()  # before asyncio and asyncssh are imported: the AWS side needs neither
    import asyncio

    from wsfleet.counts import open_source
    from wsfleet.errors import WsfleetError

    try:
        try:
            source = open_source(fleet, None, "ssh")
        except WsfleetError:
            aws.next_blocking()  # an AWS failure is the one to report, as when the group was read first
            raise
        return asyncio.run(_sweep_ahead(fleet, source, aws, cached))
    finally:
        aws.close()


def _aws_side(ctx: Any, fleet, cached):
    """The group with addresses (saved for the next run unless `cached` is None), then what it
    launches now with the sentences about what could not be read (`_current_template`)."""
    from wsfleet.aws.fleet import read_group

    session = ctx.aws(fleet)
    group = read_group(session, fleet.asg)
    if cached is not None:
        from wsfleet.counts import address_cache

        address_cache.save(fleet, group, cached)
    yield group
    yield _current_template(session, fleet.asg, group.launch_template)


async def _sweep_ahead(fleet, source, aws, cached) -> CountSweep:
    import asyncio
    import logging
    from dataclasses import replace

    from wsfleet.counts import collect_sweep, targets_for
    from wsfleet.model import GroupState

    answered = False
    try:
        if cached:
            guess = GroupState(name=fleet.asg, min_size=0, max_size=0, desired=0, instances=cached)
            started = source.warm_up(targets_for(fleet, guess))
            logging.getLogger(__name__).info("connecting to %d instances from the address cache while the group is read", started)
        group = await aws.next()
        template = asyncio.ensure_future(aws.next())
        sweep = await collect_sweep(fleet, source, targets_for(fleet, replace(group, launch_template=None)))
        template, problems = await template
        answered = True
    finally:
        if not answered:
            aws.stop()  # a pending read of the AWS side must not hold up the loop's shutdown
        await source.aclose()
    for problem in problems:
        print(f"wsfleet: {problem}.", file=sys.stderr)
    return with_current(sweep, template)


def _current_template(session: Any, asg: str, ref):
    """(what the group launches now, problems): `read_counted_group`'s two reads, at once."""
    from concurrent.futures import ThreadPoolExecutor

    from wsfleet.aws.refresh import deploying_to, read_latest_refresh
    from wsfleet.errors import WsfleetError

    if ref is None or ref.is_launch_configuration:
        return ref, []

    def latest_refresh():
        try:
            return read_latest_refresh(session, asg)
        except WsfleetError:
            return None  # as with_deploy_target: no refresh calls at this endpoint

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wsfleet-aws") as pool:
        refresh = pool.submit(latest_refresh)
        problems: list[str] = []
        resolved = resolved_ref(session, ref, problems)
        return deploying_to(resolved, refresh.result()), problems


def with_current(sweep: CountSweep, template) -> CountSweep:
    """`sweep` with each row's `current` said by `template` (as `targets_for` says it for targets)."""
    from dataclasses import replace

    rows = tuple(replace(r, current=template.is_current(r.launch_template_version) if template else None)
                 for r in sweep.instances)
    return replace(sweep, instances=rows)


def read_counted_group(session: Any, asg: str):
    """The group with its instances' addresses and its launch template resolved (`resolved_template`)."""
    from wsfleet.aws.fleet import read_group

    from dataclasses import replace

    from wsfleet.aws.refresh import with_deploy_target

    problems: list[str] = []
    group = resolved_template(session, read_group(session, asg), problems)
    for problem in problems:
        print(f"wsfleet: {problem}.", file=sys.stderr)
    # during a refresh, "current" is the version it deploys (one DescribeInstanceRefreshes; none
    # when the endpoint lacks it)
    return replace(group, launch_template=with_deploy_target(session, asg, group.launch_template))


def resolved_template(session: Any, group, problems: list[str]):
    """`group` with its launch template resolved to a version number, so each row can say whether
    it is current. One that cannot be resolved (say ec2:DescribeLaunchTemplates is denied) leaves
    `current` unknown, and a sentence (without its final stop) in `problems`."""
    from dataclasses import replace

    return replace(group, launch_template=resolved_ref(session, group.launch_template, problems))


def resolved_ref(session: Any, ref, problems: list[str]):
    """`ref` resolved (`aws.fleet.resolve_launch_template`), or as it is with a sentence in `problems`."""
    from wsfleet.aws.fleet import resolve_launch_template
    from wsfleet.errors import WsfleetError

    try:
        return resolve_launch_template(session, ref)
    except WsfleetError as exc:
        problems.append(f"which launch template version is current is unknown ({exc.message.rstrip('.')})")
        return ref


def judge(sweep: CountSweep, max_skew: float) -> str | None:
    """The verdict over a sweep; None when nothing was measured."""
    from wsfleet.balance import verdict

    return verdict(sweep.summary, max_skew) if sweep.summary.measured else None


def print_result(sweep: CountSweep, *, checking: bool, verdict: str | None, max_skew: float | None, fmt: str,
                 verbose: bool = False, extra: dict[str, Any] | None = None) -> None:
    """The sweep on stdout as `counts`/`check` print it; `extra` keys are added to the JSON."""
    if fmt == "json":
        doc = sweep_to_json(sweep)
        if checking:
            doc["verdict"] = verdict
            doc["max_skew"] = max_skew
        doc.update(extra or {})
        print(json.dumps(doc, indent=2))
    elif fmt == "csv":
        write_csv(sweep, sys.stdout)
    else:
        print_table(sweep, verbose=verbose)
        if checking:
            print(_verdict_line(sweep, verdict, max_skew))
    sys.stdout.flush()


def result_code(sweep: CountSweep, *, checking: bool, verdict: str | None, asg: str) -> int:
    """The exit code for a sweep, with the sentences about what could not be measured on stderr."""
    from wsfleet.balance import serving

    unmeasured = [r for r in sweep.instances if r.connections is None and serving(r)]
    if checking and unmeasured:
        names = ", ".join(f"{r.instance_id} ({r.error})" for r in unmeasured)
        print(f"wsfleet: not measured, left out of the verdict: {names}.", file=sys.stderr)
    if sweep.summary.instances and not sweep.summary.measured:
        print(f"wsfleet: could not measure any of the {sweep.summary.instances} in-service instances of {asg} "
              f"over {sweep.source}: see the error column (rerun with -v for details).", file=sys.stderr)
        return EXIT_REMOTE
    if checking and not sweep.summary.instances:
        print(f"wsfleet: {asg} has no in-service instances to measure.", file=sys.stderr)
        return EXIT_REMOTE
    if checking:
        return EXIT_OK if verdict == "balanced" else EXIT_FINDING
    return EXIT_OK


async def _collect(fleet, source, targets) -> CountSweep:
    from wsfleet.counts import collect_sweep

    try:
        return await collect_sweep(fleet, source, targets)
    finally:
        await source.aclose()


# ----------------------------------------------------------------------------- formats


def _number(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(float(x), digits)


def instance_to_json(row: InstanceCount) -> dict[str, Any]:
    return {
        "id": row.instance_id,
        "az": row.az,
        "address": row.address,
        "lifecycle": row.lifecycle,
        "health": row.health,
        "connections": row.connections,
        "error": row.error,
        "latency_ms": _number(row.latency_ms, 1),
        "launch_template_version": row.launch_template_version,
        "current": row.current,
    }


def sweep_to_json(sweep: CountSweep) -> dict[str, Any]:
    s = sweep.summary
    return {
        "fleet": sweep.fleet,
        "asg": sweep.asg,
        "source": sweep.source,
        "taken_at": sweep.taken_at.isoformat(),
        "instances": [instance_to_json(r) for r in sweep.instances],
        "summary": {
            "instances": s.instances,
            "measured": s.measured,
            "total": s.total,
            "mean": _number(s.mean),
            "min": s.min,
            "max": s.max,
            "skew": _number(s.skew),
            "cv": _number(s.cv),
        },
    }


CSV_FIELDS = ("id", "az", "address", "lifecycle", "health", "connections", "error", "latency_ms", "age_s", "detail",
              "launch_template_version", "current")


def write_csv(sweep: CountSweep, out) -> None:
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in sweep.instances:
        writer.writerow([
            r.instance_id, r.az, r.address or "", r.lifecycle, r.health,
            "" if r.connections is None else r.connections, r.error or "",
            "" if r.latency_ms is None else f"{r.latency_ms:.1f}",
            "" if r.age_s is None else f"{r.age_s:.0f}", r.detail or "",
            r.launch_template_version or "", "" if r.current is None else str(r.current).lower(),
        ])


def _summary_line(sweep: CountSweep) -> str:
    s = sweep.summary
    if not s.measured:
        return f"{s.instances} in service, none measured ({sweep.source}, {sweep.taken_at:%H:%M:%S} UTC)"
    return (f"{s.instances} in service, {s.measured} measured ({sweep.source}, {sweep.taken_at:%H:%M:%S} UTC): "
            f"total {s.total:,}, mean {s.mean:,.1f}, min {s.min:,}, max {s.max:,}, skew {s.skew:.2f}, cv {s.cv:.2f}")


def _verdict_line(sweep: CountSweep, verdict: str | None, max_skew: float) -> str:
    s = sweep.summary
    if verdict is None:
        return "verdict: not measured"
    sign = "<=" if verdict == "balanced" else ">"
    return f"verdict: {verdict} (skew {s.skew:.2f} {sign} max {max_skew:.2f}, over {s.measured} of {s.instances} in-service instances)"


def print_table(sweep: CountSweep, *, verbose: bool = False, console=None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console(file=sys.stdout, highlight=False, soft_wrap=False)
    aged = any(r.age_s is not None for r in sweep.instances)
    # compact, so a row fits 80 columns (a jump box, tmux); only the error text wraps
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1),
                  title=f"{sweep.fleet} / {sweep.asg}", title_justify="left")
    versions = any(r.launch_template_version for r in sweep.instances)
    columns = [("INSTANCE", "left"), ("AZ", "left"), ("ADDRESS", "left"), ("STATE", "left")] + ([("LT", "left")] if versions else []) + [
        ("CONNS", "right"), ("AGE" if aged else "LATENCY", "right"), ("ERROR", "left")]
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold", no_wrap=name != "ERROR")
    for r in sweep.instances:
        state = r.lifecycle if r.health in ("", "Healthy") else f"{r.lifecycle}/{r.health}"
        when = (f"{r.age_s:.0f} s" if r.age_s is not None else "") if aged else (f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "")
        error = Text("")
        if r.error:
            detail = r.detail or ""
            if not verbose and len(detail) > 90:
                detail = detail[:87] + "..."
            error = Text(f"{r.error}: {detail}" if detail else r.error, style="red")
        connections = Text(f"{r.connections:,}") if r.connections is not None else Text("-", style="dim")
        template = Text(launch_template_label(r.launch_template_version, r.current) or "-",
                        style="yellow" if r.current is False else "dim" if r.launch_template_version is None else "")
        table.add_row(r.instance_id, r.az, r.address or "-", state, *([template] if versions else []), connections, when, error)
    console.print(table)
    console.print(_summary_line(sweep))
