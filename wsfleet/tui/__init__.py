"""The dashboard (the only layer that imports Textual).

`WsfleetApp(directory)` runs over a `wsfleet.service.FleetDirectory` (or a fake with the same
methods); `wsfleet.commands.ui.open_dashboard(ctx)` builds one from the CLI context.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "WsfleetApp":
        from wsfleet.tui.app import WsfleetApp

        return WsfleetApp
    raise AttributeError(name)
