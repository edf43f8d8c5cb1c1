"""The dashboard opened before its fleet exists (`wsfleet demo`: the fleet boots in a child process):
a boot screen with the child's progress, then the dashboard; a fleet that never comes up is one
sentence and exit code 3; `q` while booting quits at once and cancels the wait."""

from __future__ import annotations

import threading

from textual.widgets import Static

from tests.tui.conftest import settle, wait_for
from tests.tui.fakes import FakeDirectory, frozen_clock, prod_fixture
from wsfleet.errors import WsfleetError
from wsfleet.tui.app import WsfleetApp
from wsfleet.tui.screens.boot import BootScreen


class FakeBoot:
    title = "Starting the demo fleet…"

    def __init__(self, directory=None, error: str | None = None) -> None:
        self.directory, self.error = directory, error
        self.release = threading.Event()
        self.cancelled = threading.Event()
        self.lines = ["moto on 127.0.0.1"]

    def progress(self) -> list[str]:
        return list(self.lines)

    def cancel(self) -> None:
        self.cancelled.set()
        self.release.set()

    def wait(self):
        self.release.wait(10)
        if self.cancelled.is_set():
            raise WsfleetError("the demo was stopped before its fleet started.")
        if self.error:
            raise WsfleetError(self.error)
        return self.directory


def app_for(boot: FakeBoot) -> WsfleetApp:
    return WsfleetApp(None, boot=boot, clock=frozen_clock, theme_dirs=None)


async def test_the_boot_screen_shows_progress_then_the_dashboard_replaces_it():
    boot = FakeBoot(FakeDirectory(prod_fixture(4)))
    app = app_for(boot)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BootScreen), what="the boot screen")
        await wait_for(pilot, lambda: "moto on 127.0.0.1" in str(app.screen.query_one("#boot-log", Static).render()), what="progress")
        assert "Starting the demo fleet…" in str(app.screen.query_one("#boot-title", Static).render())
        assert app.dashboard is None
        boot.lines.append("4 instances serving")
        boot.release.set()
        await settle(pilot, app)
        assert app.screen is app.dashboard and app.fleet_name == boot.directory.default_name(None)
        assert len(app.screen_stack) == 2  # the boot screen was replaced, not left underneath


async def test_a_fleet_that_never_starts_exits_with_its_sentence_and_code_3():
    boot = FakeBoot(error="the demo fleet did not start (exit code 2): --instances 99 is outside the demo group's 1..12.")
    app = app_for(boot)
    async with app.run_test() as pilot:
        boot.release.set()
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == 3 and app.boot_error.startswith("the demo fleet did not start (exit code 2)")


async def test_quitting_while_it_boots_cancels_the_wait_and_exits_cleanly():
    boot = FakeBoot(FakeDirectory(prod_fixture(4)))
    app = app_for(boot)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BootScreen), what="the boot screen")
        await pilot.press("q")
        await wait_for(pilot, lambda: boot.cancelled.is_set(), what="the cancel")
    assert app.boot_error is None and app.boot_cancelled and not app.return_code


async def test_a_fleet_that_cannot_be_shown_is_a_sentence_not_a_hang():
    boot = FakeBoot(FakeDirectory(prod_fixture(4)))
    app = WsfleetApp(None, fleet="nope", boot=boot, clock=frozen_clock, theme_dirs=None)
    async with app.run_test() as pilot:
        boot.release.set()
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == 3 and app.boot_error


def test_an_app_needs_a_directory_or_a_boot():
    import pytest

    with pytest.raises(ValueError):
        WsfleetApp(None)


async def test_while_the_boot_still_provisions_missing_policies_warm_pool_and_schedule_are_on_their_way():
    from dataclasses import replace

    from wsfleet.tui.widgets.panels import ScalingPanel, WarmPoolPanel

    fixture = prod_fixture(4)
    fixture.warm_pool, fixture.schedule = None, []
    boot = FakeBoot(FakeDirectory(fixture))
    boot.provisioning = True
    boot.provisioning_at = lambda when: boot.provisioning
    app = app_for(boot)
    async with app.run_test(size=(200, 50)) as pilot:
        boot.release.set()
        await settle(pilot, app)
        scaling, warm = app.screen.query_one(ScalingPanel), app.screen.query_one(WarmPoolPanel)
        bare = replace(scaling.status, scale_out_policy=None, scale_in_policy=None, warm_pool=None, scheduled_actions=())
        scaling.set_data(scaling.fleet, bare)
        warm.set_data(bare)
        text, pool = scaling.build().plain, warm.build().plain
        assert text.count("being provisioned…") == 3 and "no policy in AWS" not in text, text
        assert pool == "the warm pool is being provisioned…"
        boot.provisioning = False  # provisioned, and still none: then they are absent, and said so
        text, pool = scaling.build().plain, warm.build().plain
        assert "being provisioned" not in text and text.count("no policy in AWS") == 2 and "Schedule  none" in text
        assert pool.startswith("no warm pool")


async def test_the_boot_hears_when_the_first_counts_are_on_screen():
    """The demo provisions once the dashboard has painted its first counts (`counts_shown`): not
    before the sweep is in, and then it is told."""
    boot = FakeBoot(FakeDirectory(prod_fixture(4)))
    shown: list = []
    boot.counts_shown = lambda: shown.append(sum(r.counted for r in app.dashboard.query_one("InstanceTable").rows_by_id.values()))
    app = app_for(boot)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BootScreen), what="the boot screen")
        assert shown == []
        boot.release.set()
        await wait_for(pilot, lambda: shown, what="counts_shown")
        assert shown[0] == 4  # every instance's count was in the table when it was called


async def test_the_seconds_tick_without_laying_the_boot_screen_out_and_a_new_line_is_shown(monkeypatch):
    from textual.widget import Widget

    boot = FakeBoot(FakeDirectory(prod_fixture(4)))
    app = app_for(boot)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BootScreen), what="the boot screen")
        title, log = app.screen.query_one("#boot-title", Static), app.screen.query_one("#boot-log", Static)
        await wait_for(pilot, lambda: "moto on 127.0.0.1" in str(log.render()), what="progress")
        layouts: list[str] = []
        real_refresh = Widget.refresh

        def refresh_spy(self, *args, **kwargs):
            if kwargs.get("layout"):
                layouts.append(self.id)
            return real_refresh(self, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", refresh_spy)
        shown = str(title.render())
        await wait_for(pilot, lambda: str(title.render()) != shown, what="the seconds to move")
        assert "boot-title" not in layouts and "boot-log" not in layouts
        boot.lines.append("4 instances serving")
        await wait_for(pilot, lambda: "4 instances serving" in str(log.render()), what="the new line")
        assert "boot-log" in layouts
        boot.release.set()
