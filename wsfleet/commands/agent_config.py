"""`wsfleet agent-config`: print the CloudWatch agent JSON for the configured fleet's metric."""

from __future__ import annotations

import sys

from wsfleet.agent_config import render
from wsfleet.config import ConfigNotFoundError


def run(args, ctx) -> int:
    try:
        fleet = ctx.fleet
    except ConfigNotFoundError:
        # No config anywhere: the defaults are exactly what a new fleet should start from.
        fleet = None
        print("wsfleet: no config file found; printing the agent file for the default metric (TCP_Connections/TCPconnections).", file=sys.stderr)
    sys.stdout.write(render(fleet))
    return 0
