"""`wsfleet warm-pool set [--min-size N] [--max-prepared N|none] [--state S]
[--reuse-on-scale-in|--no-reuse-on-scale-in] [--yes]`: create or change the group's warm pool.
Fields not given keep their current value (or the config's, for a new pool)."""

from __future__ import annotations

from typing import Any

from wsfleet import actions
from wsfleet.commands._write import apply_plan


def run(args: Any, ctx: Any) -> int:
    fields: dict[str, Any] = {}
    if args.min_size is not None:
        fields["min_size"] = actions.parse_count(args.min_size, "--min-size")
    if args.max_prepared is not None:
        text = args.max_prepared.strip().lower()
        fields["max_prepared_capacity"] = None if text in ("none", "-1") else actions.parse_count(args.max_prepared, "--max-prepared")
    if args.state is not None:
        fields["pool_state"] = args.state
    if args.reuse is not None:
        fields["reuse_on_scale_in"] = args.reuse
    fleet = ctx.fleet
    plan = actions.plan_warm_pool(ctx.aws(fleet), fleet, **fields)
    return apply_plan(plan, ctx, yes=args.yes)
