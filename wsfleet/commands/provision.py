"""`wsfleet provision [--dry-run] [--yes]`: create or update the alarms, policies, warm pool and
scheduled actions the config describes. Prints the plan (create / update field by field /
unchanged); `--dry-run` stops there. A second run right after the first plans no change.

Exit 0 done (or nothing to do, or a dry run); 2 config error, not confirmed, --read-only;
3 an AWS write failed (the output says what was and wasn't applied).
"""

from __future__ import annotations

from typing import Any

from wsfleet import actions
from wsfleet.commands._write import apply_plan, console, print_plan
from wsfleet.errors import EXIT_OK


def run(args: Any, ctx: Any) -> int:
    fleet = ctx.fleet
    plan = actions.plan_provision(ctx.aws(fleet), fleet)
    if args.dry_run:
        print_plan(plan)
        console().print("Dry run: nothing was written." if plan.has_changes else "Nothing to change.")
        return EXIT_OK
    return apply_plan(plan, ctx, yes=args.yes)
