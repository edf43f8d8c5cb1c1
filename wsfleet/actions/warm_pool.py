"""The `warm-pool set` planner: the warm pool created or changed, fields not given kept as they are."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wsfleet.actions._reads import _read_group
from wsfleet.actions.plan import Change, Plan
from wsfleet.actions.validate import _raise_first, _warm_pool_warnings, parse_count, validate_warm_pool
from wsfleet.actions.writes import PutWarmPool
from wsfleet.aws.provision import diff_kind as _diff_kind
from wsfleet.aws.provision import warm_pool_fields
from wsfleet.errors import UsageError
from wsfleet.model import POOL_STATES, FleetConfig, WarmPoolConfig


_WARM_POOL_FIELDS = ("min_size", "max_prepared_capacity", "pool_state", "reuse_on_scale_in")


def plan_warm_pool(session: Any, fleet: FleetConfig, **fields: Any) -> Plan:
    """Create or change the warm pool; fields not given keep their current (or configured) value.

    `max_prepared_capacity=None` means "no cap" (AWS: the group's MaxSize); leave it out to keep it.
    """
    from wsfleet.aws import warm_pool as aws_warm_pool

    unknown = sorted(set(fields) - set(_WARM_POOL_FIELDS))
    if unknown:
        raise UsageError(f"unknown warm pool field {unknown[0]!r}; use {', '.join(_WARM_POOL_FIELDS)}.")
    if "min_size" in fields:
        fields["min_size"] = parse_count(fields["min_size"], "warm pool min size")
    if fields.get("max_prepared_capacity") is not None:
        fields["max_prepared_capacity"] = parse_count(fields["max_prepared_capacity"], "warm pool max prepared capacity")
    if "pool_state" in fields and fields["pool_state"] not in POOL_STATES:
        raise UsageError(f"warm pool state {fields['pool_state']!r} must be one of {', '.join(POOL_STATES)}.")
    if "reuse_on_scale_in" in fields and not isinstance(fields["reuse_on_scale_in"], bool):
        raise UsageError(f"reuse on scale-in must be true or false, not {fields['reuse_on_scale_in']!r}.")

    group = _read_group(session, fleet)
    current = aws_warm_pool.read_warm_pool(session, fleet.asg, with_addresses=False)  # the pool's settings only
    if current is not None:
        base = WarmPoolConfig(current.min_size, current.max_prepared_capacity, current.pool_state, current.reuse_on_scale_in)
    else:
        base = fleet.warm_pool or WarmPoolConfig()
    wanted = replace(base, **fields)
    _raise_first(validate_warm_pool(wanted), UsageError)
    before = warm_pool_fields(current) if current else None
    after = warm_pool_fields(wanted)
    kind = _diff_kind(before, after)
    summary = {
        "create": f"Create a warm pool for {fleet.asg}.",
        "update": f"Change the warm pool of {fleet.asg}.",
        "unchanged": f"The warm pool of {fleet.asg} is already like that.",
    }[kind]
    change = Change("warm pool", fleet.asg, kind, before, after, warnings=tuple(_warm_pool_warnings(wanted, group)),
                    write=None if kind == "unchanged" else PutWarmPool(fleet.asg, wanted))
    return Plan("warm-pool set", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, (change,), session=session)
