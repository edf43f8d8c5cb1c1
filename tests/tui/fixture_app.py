"""The dashboard on fixture data, for snapshots and for looking at it by hand:
`python -m tests.tui.fixture_app [--read-only] [--live]` (live: the wall clock and polling)."""

from __future__ import annotations

import sys

from tests.tui.fakes import FakeDirectory, frozen_clock, prod_fixture, staging_fixture
from wsfleet.tui.app import WsfleetApp


def make_app(*, read_only: bool = False, poll: bool = True, live: bool = False, n: int = 12, **kw) -> WsfleetApp:
    directory = FakeDirectory(prod_fixture(n), staging_fixture(), read_only=read_only)
    if live:
        return WsfleetApp(directory, poll=poll, **kw)
    return WsfleetApp(directory, clock=frozen_clock, poll=poll, **kw)


if __name__ == "__main__":
    make_app(read_only="--read-only" in sys.argv, live="--live" in sys.argv).run()
