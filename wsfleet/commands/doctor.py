"""`wsfleet doctor [--format table|json] [--no-instances]`: audit the fleet's scaling setup.

Reads one FleetStatus and every policy of the group, then (unless --no-instances, or the fleet
counts from CloudWatch and so has no access to its instances) the instance facts over the
count source's channel and, in one GetMetricData batch, each instance's per-instance metric around
the time of those counts (metric-ratio), and prints `wsfleet.doctor.diagnose`'s findings.
Exit 1 when any finding is an error, 0 otherwise; AWS failures exit 3, config errors 2 (cli.py).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any

from wsfleet import doctor
from wsfleet.counts.cloudwatch import PERIOD_S  # the agent's publishing interval
from wsfleet.doctor.metric_ratio import InstanceMetric
from wsfleet.errors import EXIT_FINDING, EXIT_OK, WsfleetError
from wsfleet.model import FleetConfig, FleetStatus, Finding

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "ok": "green"}
_LABEL = {"error": "ERROR", "warning": "WARN", "info": "info", "ok": "ok"}


def run(args: Any, ctx: Any) -> int:
    fleet = ctx.fleet
    findings, status = diagnose_fleet(ctx, fleet, instances=not getattr(args, "no_instances", False))
    if getattr(args, "format", "table") == "json":
        print(json.dumps(to_json(fleet, status, findings), indent=2))
    else:
        print_table(fleet, status, findings, show_ok=bool(getattr(ctx, "verbose", False)))
    return EXIT_FINDING if doctor.has_errors(findings) else EXIT_OK


def diagnose_fleet(ctx: Any, fleet: FleetConfig, *, instances: bool = True) -> tuple[list[Finding], FleetStatus]:
    """Read AWS (and the instances) for `fleet` and run every check."""
    from wsfleet.aws.policies import read_policies
    from wsfleet.aws.reader import read_status

    session = ctx.aws(fleet)
    status = read_status(session, fleet)
    policies = read_policies(session, fleet.asg)
    facts = None
    instance_metric = None
    skipped = None
    if not instances:
        skipped = "skipped (--no-instances)"
    elif fleet.counts.source == "cloudwatch":
        skipped = "skipped: the fleet counts from CloudWatch (counts.source = \"cloudwatch\"), with no access to its instances"
    else:
        from wsfleet.instance_facts import gather_facts_sync

        began = datetime.now(timezone.utc)
        facts = gather_facts_sync(fleet, session, status.group)
        # The counts were taken while the facts script ran: the middle of that span is their time.
        counted_at = began + (datetime.now(timezone.utc) - began) / 2
        instance_metric = read_instance_metric(session, fleet, [f.instance_id for f in facts], counted_at)
    findings = doctor.diagnose(fleet, status, facts, policies=policies, instance_metric=instance_metric)
    if skipped:
        findings.append(Finding("instance-reach", "info", f"instance checks {skipped}", subject=fleet.asg))
        findings = doctor.sort_findings(findings)
    return findings, status


def read_instance_metric(session: Any, fleet: FleetConfig, instance_ids: list[str], counted_at: datetime) -> InstanceMetric:
    """Each instance's per-instance datapoints around `counted_at`, one GetMetricData batch; a
    failed read is the check's finding, not doctor's exit 3 (every other check still stands)."""
    from wsfleet.aws.metrics import read_instance_points
    from wsfleet.doctor.metric_ratio import window

    period = PERIOD_S
    start, end = window(counted_at, period)
    try:
        points = read_instance_points(session, fleet, instance_ids, start, end, period)
    except WsfleetError as exc:
        return InstanceMetric(counted_at, period, error=str(exc))
    return InstanceMetric(counted_at, period, points)


def to_json(fleet: FleetConfig, status: FleetStatus, findings: list[Finding]) -> dict[str, Any]:
    return {
        "fleet": fleet.name,
        "asg": fleet.asg,
        "taken_at": status.taken_at.isoformat(),
        "findings": [
            {"check": f.check, "severity": f.severity, "subject": f.subject, "found": f.found, "why": f.why, "fix": f.fix}
            for f in findings
        ],
        "summary": doctor.summary(findings),
    }


def print_table(fleet: FleetConfig, status: FleetStatus, findings: list[Finding], *, show_ok: bool = False) -> None:
    """Problems and notes as rows; the passed checks as one line (each as a row with -v)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    table = Table(title=f"wsfleet doctor · {fleet.name} · {fleet.asg}", title_justify="left", expand=True, show_lines=True)
    table.add_column("", no_wrap=True, width=5)
    table.add_column("check", no_wrap=True, style="bold")
    table.add_column("finding", ratio=1, overflow="fold")
    passed = [f for f in findings if f.severity == "ok"]
    rows = findings if show_ok else [f for f in findings if f.severity != "ok"]
    for f in rows:
        cell = Text(f.found)
        if f.why:
            cell.append("\nwhy: ", style="dim bold").append(f.why, style="dim")
        if f.fix:
            cell.append("\nfix: ", style="bold").append(f.fix, style="cyan")
        table.add_row(Text(_LABEL[f.severity], style=_STYLE[f.severity]), f.check, cell)
    if rows:
        console.print(table)
    if passed and not show_ok:
        names = list(dict.fromkeys(f.check for f in passed))
        console.print(Text(f"passed: {', '.join(names)} (-v shows each)", style=_STYLE["ok"]))
    counts = doctor.summary(findings)
    line = Text(" · ".join(f"{counts[s]} {s}{'s' if s in ('error', 'warning') and counts[s] != 1 else ''}" for s in ("error", "warning", "info", "ok")))
    line.stylize(_STYLE["error" if counts["error"] else "warning" if counts["warning"] else "ok"])
    console.print(line)
