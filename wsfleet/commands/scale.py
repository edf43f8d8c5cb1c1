"""`wsfleet scale out [N]`, `scale in [N]`, `scale to N` `[--raise-max] [--yes]`: SetDesiredCapacity,
kept within the group's MinSize..MaxSize (past MaxSize only with --raise-max). A scale-in shows
the projected connections per remaining instance and warns when that reaches the scale-out
threshold (the group would flap) or the per-instance ceiling.
"""

from __future__ import annotations

from typing import Any

from wsfleet import actions
from wsfleet.commands._write import apply_plan


def run(args: Any, ctx: Any) -> int:
    fleet = ctx.fleet
    plan = actions.plan_scale(ctx.aws(fleet), fleet, args.scale_command, args.n, raise_max=args.raise_max)
    return apply_plan(plan, ctx, yes=args.yes)
