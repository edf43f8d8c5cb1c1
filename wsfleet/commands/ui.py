"""`wsfleet` / `wsfleet ui`: the dashboard over the configured fleets (and `wsfleet demo`'s)."""

from __future__ import annotations

import sys
from typing import Any

from wsfleet.errors import UsageError


def run(args: Any, ctx: Any) -> int:
    return open_dashboard(ctx)


def open_dashboard(ctx: Any) -> int:
    """Check the config and the terminal first (one sentence, exit 2), then run the app."""
    from wsfleet.service import FleetDirectory

    directory = FleetDirectory.from_context(ctx)
    fleet = directory.default_name(ctx.fleet_name)  # an unknown --fleet is a ConfigError here
    from wsfleet.tui.app import WsfleetApp

    app = WsfleetApp(directory, fleet=fleet, ui=ctx.app_config.ui)  # a bad ui.theme/keymap: ConfigError
    if not (sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()):
        raise UsageError("the dashboard needs a terminal; in scripts use `wsfleet status`, `wsfleet counts` or `wsfleet check`.")
    app.run()
    return int(app.return_code or 0)
