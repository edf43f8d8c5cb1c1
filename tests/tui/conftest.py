"""Fixtures for the dashboard tests: the app over fake fleets (tests/tui/fakes.py), a frozen clock."""

from __future__ import annotations

import pytest

from tests.tui.fakes import FakeDirectory, frozen_clock, prod_fixture, staging_fixture
from wsfleet.model import UiConfig
from wsfleet.tui.app import WsfleetApp


async def settle(pilot, app: WsfleetApp, cycles: int = 1, timeout: float = 5.0) -> None:
    """Wait until the dashboard has completed `cycles` refresh cycles (AWS read + sweep)."""
    waited = 0.0
    while app.dashboard is None or app.dashboard.cycles < cycles:
        await pilot.pause(0.02)
        waited += 0.02
        if waited > timeout:
            raise AssertionError(f"the dashboard did not finish {cycles} cycle(s) in {timeout}s")
    await pilot.pause()


async def wait_for(pilot, predicate, timeout: float = 5.0, what: str = "condition") -> None:
    waited = 0.0
    while not predicate():
        await pilot.pause(0.02)
        waited += 0.02
        if waited > timeout:
            raise AssertionError(f"timed out waiting for {what}")
    await pilot.pause()


@pytest.fixture
def directory():
    return FakeDirectory(prod_fixture(), staging_fixture())


@pytest.fixture
def make_app(tmp_path):
    """Build an app; `poll=False` keeps the refresh loop from arming itself (snapshots)."""

    def build(directory=None, *, read_only: bool = False, ui: UiConfig | None = None, n: int = 12, **kw) -> WsfleetApp:
        directory = directory or FakeDirectory(prod_fixture(n), staging_fixture(), read_only=read_only, ui=ui)
        kw.setdefault("clock", frozen_clock)
        kw.setdefault("export_dir", tmp_path)
        kw.setdefault("theme_dirs", None)
        return WsfleetApp(directory, ui=ui, **kw)

    return build
