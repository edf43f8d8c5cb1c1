"""`wsfleet agent-config [--sender | --host-wide]`: what the instances need to publish the scaling metric.

    wsfleet agent-config              the agent JSON: the exact count over StatsD (with --sender's script)
    wsfleet agent-config --sender     the instance-side sender, a POSIX sh script (its `install` sets up the timer)
    wsfleet agent-config --host-wide  the agent JSON with netstat's host-wide tcp_established (the seed's; caveat on stderr)

stdout is the file itself, so `> amazon-cloudwatch-agent.json` or `> wsfleet-count-sender` is the whole
step; what to do with it goes to stderr.
"""

from __future__ import annotations

import sys

from wsfleet.config import ConfigNotFoundError
from wsfleet.errors import UsageError


def run(args, ctx) -> int:
    from wsfleet.agent_config import HOST_WIDE_CAVEAT, render

    sender, host_wide = getattr(args, "sender", False), getattr(args, "host_wide", False)
    if sender and host_wide:
        raise UsageError("--sender and --host-wide do not go together: the sender feeds the exact metric; "
                         "--host-wide publishes netstat's count and needs no sender.")
    try:
        fleet = ctx.fleet
    except ConfigNotFoundError:
        # No config anywhere: the defaults are exactly what a new fleet should start from.
        fleet = None
        print("wsfleet: no config file found; printing it for the default metric (TCP_Connections/TCPconnections, port 443).", file=sys.stderr)
    where = f"[fleets.{fleet.name}.metric] name" if fleet is not None else "the metric name"
    try:
        if sender:
            from wsfleet import __version__
            from wsfleet.agent_sender import SCRIPT_PATH, sender_script

            text = sender_script(fleet, __version__)
        else:
            text = render(fleet, host_wide=host_wide)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}; or publish the host-wide count with --host-wide.") from None
    sys.stdout.write(text)
    sys.stdout.flush()
    if sender:
        print(f"wsfleet: on each instance (user data, or once by hand): save this as {SCRIPT_PATH}, then run "
              f"`sh {SCRIPT_PATH} install` (a systemd timer; a cron line where there is no systemd).", file=sys.stderr)
    elif host_wide:
        print(f"wsfleet: caveat: {HOST_WIDE_CAVEAT}", file=sys.stderr)
    return 0
