"""Snapshots of the main screen and every dialog at 80x24 and 160x48, on fixture data with a frozen
clock (no wall-clock time anywhere on screen). Update with `pytest tests/tui --snapshot-update`
after checking the new pictures in the report it writes."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.tui.conftest import settle, wait_for

SIZES = [(80, 24), (160, 48)]


def still(app) -> None:
    """No blinking cursor in a picture."""
    for box in app.screen.query(Input):
        box.cursor_blink = False


async def one_cycle_then_hold(pilot, app) -> None:
    """Exactly one refresh cycle, then no more: the sparklines and the trend line depend on how
    many sweeps ran, and a picture must not depend on how fast the machine was (on a loaded one
    the next poll came due before the picture was taken)."""
    await wait_for(pilot, lambda: app.dashboard is not None, timeout=30, what="the dashboard")
    dashboard = app.dashboard
    dashboard.poll = False  # the cycle running now arms no next one
    if dashboard.next_timer is not None:
        dashboard.next_timer.stop()
        dashboard.next_timer = None
    await settle(pilot, app, cycles=1, timeout=30)
    assert dashboard.cycles == 1, f"{dashboard.cycles} cycles ran before the picture"


def opened(key: str, screen: str, *then: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await one_cycle_then_hold(pilot, app)
        await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ == screen, what=screen)
        for k in then:
            await pilot.press(k)
            await pilot.pause()
        if hasattr(app.screen, "phase"):
            await wait_for(pilot, lambda: app.screen.phase not in ("planning", "applying"), what="the plan")
        still(app)
        await pilot.pause()

    return run_before


async def _settled(pilot) -> None:
    await one_cycle_then_hold(pilot, pilot.app)
    still(pilot.app)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, make_app, size):
    assert snap_compare(make_app(poll=True), terminal_size=size, run_before=_settled)


@pytest.mark.parametrize("panel", ["2", "3", "4"], ids=["alarms", "scaling", "warm_pool"])
def test_main_screen_narrow_panels(snap_compare, make_app, panel):
    async def run_before(pilot):
        await _settled(pilot)
        await pilot.press(panel)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_main_screen_distribution_view(snap_compare, make_app):
    async def run_before(pilot):
        await _settled(pilot)
        await pilot.press("c")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(160, 48), run_before=run_before)


def test_main_screen_read_only(snap_compare, make_app):
    assert snap_compare(make_app(read_only=True), terminal_size=(80, 24), run_before=_settled)


@pytest.mark.parametrize("theme", ["light", "ansi"])
def test_main_screen_themes(snap_compare, make_app, theme):
    from wsfleet.model import UiConfig

    assert snap_compare(make_app(ui=UiConfig(theme=theme)), terminal_size=(160, 48), run_before=_settled)


DIALOGS = {
    "scale_out": ("plus", "ScaleScreen"),
    "scale_in": ("minus", "ScaleScreen"),
    "thresholds": ("t", "ThresholdsScreen"),
    "schedule": ("s", "ScheduleScreen"),
    "warm_pool": ("w", "WarmPoolScreen"),
    "help": ("question_mark", "HelpScreen"),
    "fleets": ("f", "FleetScreen"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("dialog", list(DIALOGS))
def test_dialog(snap_compare, make_app, dialog, size):
    key, screen = DIALOGS[dialog]
    assert snap_compare(make_app(), terminal_size=size, run_before=opened(key, screen))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_scale_in_plan_preview(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=opened("minus", "ScaleScreen", "enter"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_thresholds_with_a_wrong_value(snap_compare, make_app, size):
    async def run_before(pilot):
        await opened("t", "ThresholdsScreen")(pilot)
        pilot.app.screen.query_one("#low", Input).value = "25000"
        await pilot.press("enter")
        await pilot.pause()
        still(pilot.app)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_schedule_form(snap_compare, make_app, size):
    async def run_before(pilot):
        await opened("s", "ScheduleScreen")(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ScheduleFormScreen", what="the form")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
