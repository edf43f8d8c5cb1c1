"""`wsfleet audit [-n N] [--format table|json]`: the most recent writes from the audit log, oldest
first. JSON is a list of the log's lines as written: {"time", "caller", "fleet", "asg", "region",
"action", "summary", "before", "after", "result", "error", "changes"}.

Works without a config file (then the default log in the user log dir is read).
"""

from __future__ import annotations

import json
from typing import Any

from wsfleet.audit import AuditLog
from wsfleet.errors import EXIT_OK, UsageError


def _log(ctx: Any) -> AuditLog:
    from wsfleet.config import ConfigNotFoundError

    try:
        return AuditLog.for_config(ctx.app_config)
    except ConfigNotFoundError:
        return AuditLog.for_config(None)


def run(args: Any, ctx: Any) -> int:
    if args.n < 1:
        raise UsageError(f"-n must be at least 1, not {args.n}.")
    log = _log(ctx)
    entries = log.recent(args.n)
    if args.format == "json":
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return EXIT_OK
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from wsfleet.commands._write import console

    c = console()
    if not entries:
        c.print(f"No writes logged yet ({log.path}).")
        return EXIT_OK
    table = Table(title=f"Recent writes ({log.path})", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("time (UTC)", "who", "fleet", "action", "result", "what"):
        table.add_column(col, overflow="fold", no_wrap=col in ("time (UTC)", "result"))
    for e in entries:
        result = str(e.get("result", ""))
        style = {"applied": "green", "refused": "yellow", "rolled-back": "yellow"}.get(result, "red")
        what = str(e.get("summary") or "")
        if e.get("error") and result != "refused":
            what += f" — {e['error']}"
        caller = str(e.get("caller") or "unknown")
        table.add_row(str(e.get("time", "")).replace("T", " ").rstrip("Z")[:16], caller.rsplit("/", 1)[-1] if "/" in caller else caller,
                      str(e.get("fleet", "")), str(e.get("action", "")), Text(result, style=style), what)
    c.print(table)
    return EXIT_OK
