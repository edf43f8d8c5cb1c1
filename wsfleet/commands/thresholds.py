"""`wsfleet thresholds set [--high X] [--low Y] [--steps SPEC] [--yes]` and
`wsfleet thresholds simulate [--high X] [--low Y] [--steps SPEC] [--hours H | --csv PATH] [--format]`.

`set` moves the alarm thresholds and the step bounds together (DESIGN rule 2): `--high` alone
keeps the steps' widths (their relative bounds), `--steps` gives absolute steps that must start
at the (new) threshold. Alarm and policy are one change: if the policy write fails, the alarm is
put back. The flap projection for the new pair of thresholds is part of the plan.

`simulate` replays metric history (CloudWatch's last `--hours`, or a CSV) through what AWS has
now and through the proposal (`wsfleet.whatif`), and prints them side by side. It writes nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from wsfleet import actions
from wsfleet.commands._write import apply_plan, console
from wsfleet.errors import EXIT_OK, UsageError


def run(args: Any, ctx: Any) -> int:
    if args.thresholds_command == "set":
        fleet = ctx.fleet
        plan = actions.plan_thresholds(ctx.aws(fleet), fleet, high=args.high, low=args.low, steps=args.steps)
        return apply_plan(plan, ctx, yes=args.yes)
    return _simulate(args, ctx)


def _simulate(args: Any, ctx: Any) -> int:
    from wsfleet import scaling, whatif
    from wsfleet.aws import alarms as aws_alarms
    from wsfleet.aws import fleet as aws_fleet
    from wsfleet.aws import metrics as aws_metrics
    from wsfleet.aws import policies as aws_policies

    if args.high is None and args.low is None and args.steps is None:
        raise UsageError("nothing to compare: give --high, --low and/or --steps to simulate.")
    high = None if args.high is None else actions.parse_connections(args.high, "--high")
    low = None if args.low is None else actions.parse_connections(args.low, "--low")
    steps = scaling.parse_steps_spec(args.steps) if args.steps else None
    if not args.csv and not (0 < args.hours <= 24 * 15):
        raise UsageError(f"--hours must be above 0 and at most 360 (CloudWatch keeps one-minute data for 15 days), not {args.hours:g}.")
    history = whatif.load_history_csv(args.csv) if args.csv else None

    fleet = ctx.fleet
    session = ctx.aws(fleet)
    group = aws_fleet.read_group_sizes(session, fleet.asg)  # sizes only: no EC2 call
    current = whatif.WhatIfConfig.from_fleet(fleet, min_size=group.min_size, max_size=group.max_size)
    # "current" is what AWS has now, where it differs from the config
    live = aws_alarms.read_alarms(session, [fleet.high_alarm_name, fleet.low_alarm_name])
    policy = aws_policies.read_policies(session, fleet.asg).get(fleet.scale_out.policy_name)
    sources = ["config"]
    if fleet.high_alarm_name in live:
        t = live[fleet.high_alarm_name].threshold
        live_steps = scaling.to_absolute(t, policy.steps) if policy and policy.steps else scaling.shift_steps(fleet.scale_out.threshold, t, fleet.scale_out.steps)
        current = replace(current, scale_out=replace(current.scale_out, threshold=t, steps=live_steps))
        sources.append("high alarm")
    if fleet.low_alarm_name in live:
        current = replace(current, scale_in=replace(current.scale_in, threshold=live[fleet.low_alarm_name].threshold))
        sources.append("low alarm")
    proposed = whatif.propose(current, high=high, low=low, steps=steps)

    initial = None
    if history is None:
        end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        # the alarms' own period (gcd: one history serves a 60 s and a 300 s alarm alike)
        period = math.gcd(int(current.scale_out.period), int(current.scale_in.period))
        series = aws_metrics.read_group_metric(session, fleet, end - timedelta(hours=args.hours), end, period)
        if not any(v is not None for v in series.values):
            raise UsageError(
                f"CloudWatch has no {fleet.metric.namespace}/{fleet.metric.name} datapoints for {fleet.asg} in the last "
                f"{args.hours:g} hours; give a history with --csv, or a longer --hours."
            )
        history = whatif.MetricHistory.from_series(series)
        initial = group.desired  # CloudWatch's group average has no instance count: assume today's size
        where = f"CloudWatch {fleet.metric.namespace}/{fleet.metric.name}, last {args.hours:g} h at {period} s, {group.desired} instances assumed"
    else:
        where = f"{args.csv}, {len(history)} periods of {history.period} s"
    result = whatif.compare(history, current, proposed, initial_instances=initial)

    if args.format == "json":
        print(json.dumps({"fleet": fleet.name, "asg": fleet.asg, "history": where, **result.to_dict()}, indent=2, default=str))
        return EXIT_OK
    from rich.table import Table

    c = console()
    cur, pro = current.summary(), proposed.summary()
    c.print(f"What if, for {fleet.asg} ({where}); current = {' + '.join(sources)}:")
    table = Table(show_header=True)
    table.add_column("")
    table.add_column("current", justify="right")
    table.add_column("proposed", justify="right")
    for key in ("high", "low", "steps"):
        table.add_row(key, _cell(cur[key]), _cell(pro[key]))
    for what, a, b in result.rows():
        table.add_row(what, _cell(a), _cell(b))
    c.print(table)
    flap = scaling.flap_unsafe_sizes(proposed.scale_in.threshold, proposed.scale_out.threshold, group.min_size, group.max_size, proposed.scale_in.remove)
    if flap:
        c.print(f"! The proposal flaps at group sizes {', '.join(map(str, flap))} (rule 5).")
    c.print("Nothing was written; `wsfleet thresholds set` with the same options applies it.")
    return EXIT_OK


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)
