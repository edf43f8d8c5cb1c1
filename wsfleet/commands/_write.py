"""What every writing command shares: print the plan, ask (or not), execute, print the outcome.

The decisions (read-only gate, apply, read back, audit) are in `wsfleet.actions.execute`; this is
only the terminal side of it.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from wsfleet.actions import Change, Outcome, Plan, execute
from wsfleet.errors import EXIT_OK, UsageError

_MARK = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}
_STYLE = {"create": "green", "update": "yellow", "delete": "red", "unchanged": "dim"}
_RESULT_STYLE = {"applied": "green", "unchanged": "dim", "failed": "bold red", "not-applied": "yellow",
                 "rolled-back": "yellow", "rollback-failed": "bold red", "mismatch": "bold red", "unverified": "red"}


def console(file: Any = None) -> Any:
    from rich.console import Console

    file = file or sys.stdout
    # piped or captured output is read later, in a log or a CI page: no need to fit 80 columns
    width = None if hasattr(file, "isatty") and file.isatty() else 120
    return Console(file=file, highlight=False, soft_wrap=True, markup=False, emoji=False, width=width)


def audit_log(ctx: Any) -> Any:
    """The audit log of this config (its `audit_log` key, else the user log dir)."""
    from wsfleet.audit import AuditLog

    return AuditLog.for_config(ctx.app_config)


def fmt_value(field: str, value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,}"
    if isinstance(value, int):
        return str(value)
    if field == "steps" and isinstance(value, list):
        parts = []
        for lower, upper, add in value:
            lo = "" if lower is None else f"{lower:,.0f}"
            hi = "" if upper is None else f"{upper:,.0f}"
            parts.append(f"{lo}..{hi}:{add:+d}")
        return ", ".join(parts)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def plan_lines(plan: Plan) -> list[tuple[str, str]]:
    """(text, style) lines for a plan, as the CLI prints it (the UI has its own modal)."""
    where = f"{plan.fleet} ({plan.asg}" + (f", {plan.region})" if plan.region else ")")
    out: list[tuple[str, str]] = [(f"Plan for {where}: {plan.summary}", "bold")]
    for change in plan.changes:
        out.append((f"  {_MARK[change.kind]} {change.kind:<9} {change.label}", _STYLE[change.kind]))
        if change.kind != "unchanged":
            out.extend(_diff_lines(change))
        for w in change.warnings:
            out.append((f"      ! {w}", "yellow"))
    for note in plan.notes:
        out.append((f"  {note}", ""))
    for warning in plan.warnings:
        out.append((f"  ! {warning}", "bold yellow"))
    return out


def _label(field: str) -> str:
    return "steps (relative to the threshold)" if field == "steps" else field


def _diff_lines(change: Change) -> list[tuple[str, str]]:
    lines = []
    for d in change.diffs:
        field = _label(d.field)
        if change.kind == "create":
            lines.append((f"      {field}: {fmt_value(d.field, d.after)}", ""))
        elif change.kind == "delete":
            lines.append((f"      {field}: {fmt_value(d.field, d.before)}", "dim"))
        else:
            lines.append((f"      {field}: {fmt_value(d.field, d.before)} → {fmt_value(d.field, d.after)}", ""))
    return lines


def print_plan(plan: Plan, out: Any = None) -> None:
    from rich.text import Text

    c = console(out)
    for text, style in plan_lines(plan):
        c.print(Text(text, style=style or ""))


def confirmer(yes: bool, *, stdin: Any = None, stderr: Any = None) -> Callable[[Plan], bool]:
    """--yes: go ahead. Otherwise ask on the terminal, repeating the change; no terminal: refuse."""
    if yes:
        return lambda plan: True

    def ask(plan: Plan) -> bool:
        i = stdin or sys.stdin
        e = stderr or sys.stderr
        if not (hasattr(i, "isatty") and i.isatty()):
            raise UsageError("there is no terminal to confirm on, so nothing was changed: pass --yes to apply without asking.")
        n = len(plan.pending)
        e.write(f"{plan.summary} Apply {n} change{'s' if n != 1 else ''} to {plan.asg}? [y/N] ")
        e.flush()
        answer = i.readline()
        return answer.strip().lower() in ("y", "yes")

    return ask


def result_lines(outcome: Outcome) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for r in outcome.results:
        if r.change.kind == "unchanged":
            continue
        detail = ""
        if r.status == "applied":
            detail = " (read back: as intended)" if r.read_back is not None or r.change.after is None else ""
        elif r.error:
            detail = f": {r.error}"
        lines.append((f"  {r.status:<12} {r.change.label}{detail}", _RESULT_STYLE.get(r.status, "")))
    return lines


def apply_plan(plan: Plan, ctx: Any, *, yes: bool, out: Any = None) -> int:
    """Print the plan, then execute it (read-only gate, confirmation, apply, read back, audit)."""
    from rich.text import Text

    print_plan(plan, out)
    if not plan.has_changes:
        console(out).print("Nothing to change.")
        return EXIT_OK
    outcome = execute(plan, confirm=confirmer(yes), read_only=ctx.read_only, audit=audit_log(ctx))
    c = console(out)
    if outcome.status == "declined":
        print("wsfleet: not confirmed, so nothing was changed.", file=sys.stderr)
        return outcome.exit_code
    for text, style in result_lines(outcome):
        c.print(Text(text, style=style))
    if outcome.ok:
        c.print(Text(f"Done: {plan.summary}", style="bold green"))
        if outcome.audit_path:
            c.print(Text(f"Logged to {outcome.audit_path}.", style="dim"))
        return EXIT_OK
    print(f"wsfleet: {outcome.error}", file=sys.stderr)
    return outcome.exit_code

