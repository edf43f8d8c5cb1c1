"""The read several planners start from: the group's current sizes."""

from __future__ import annotations

from wsfleet.model import FleetConfig, GroupState


def _read_group(session, fleet: FleetConfig) -> GroupState:
    from wsfleet.aws import fleet as aws_fleet

    return aws_fleet.read_group_sizes(session, fleet.asg)
