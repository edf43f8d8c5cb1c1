"""The deploy keys: `d` starts an instance refresh (the dip projected live, refused over the
threshold unless forced), `b` rebalances (the plan, then a progress panel)."""

from __future__ import annotations

from tests.tui.conftest import wait_for
from tests.tui.fakes import FakeDirectory, prod_fixture, staging_fixture
from tests.tui.test_dialogs import live, open_dialog, plan, preview, problem, set_input, text_of


async def test_refresh_dialog_projects_the_dip_and_refuses_it_over_the_threshold(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(110, 44)) as pilot:
        await open_dialog(pilot, app, "d", "RefreshScreen")
        assert "serve while 1 is replaced" in live(app)  # min healthy 90 of 11 in service
        assert "the policy would fire mid-deploy" in live(app)  # the fleet averages ~21,000 against 20,000
        await preview(pilot, app)
        assert "pass --force" in problem(app) and directory.service("prod-chat").executed == []


async def test_refresh_dialog_with_force_previews_and_applies(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(110, 44)) as pilot:
        await open_dialog(pilot, app, "d", "RefreshScreen")
        app.screen.query_one("#force").value = True
        await pilot.pause()
        await preview(pilot, app)
        assert "Start an instance refresh of prod-chat-asg" in plan(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dialog to close")
        assert [p.action for p in directory.service("prod-chat").executed] == ["refresh start"]


async def test_a_wrong_refresh_value_is_one_sentence_in_the_dialog(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(110, 44)) as pilot:
        await open_dialog(pilot, app, "d", "RefreshScreen")
        await set_input(pilot, app, "#min-healthy", "150")
        assert "--min-healthy 150 is out of range" in live(app)
        await preview(pilot, app)
        assert "--min-healthy 150 is out of range" in problem(app) and directory.service("prod-chat").executed == []


async def test_rebalance_shows_the_plan_then_the_progress(make_app):
    fx = prod_fixture()
    ids = [i.id for i in fx.instances]
    fx.counts = {iid: (280 if k < 2 else 20) for k, iid in enumerate(ids)} | {ids[10]: None}
    fx.fleet = fx.fleet.__class__(**{**fx.fleet.__dict__, "capacity": 400})
    directory = FakeDirectory(fx, staging_fixture())
    app = make_app(directory)
    async with app.run_test(size=(110, 44)) as pilot:
        await open_dialog(pilot, app, "b", "RebalanceScreen")
        await wait_for(pilot, lambda: app.screen.phase == "review", what="the rebalance plan")
        shown = text_of(app.screen.query_one("#plan"))
        first = app.screen.plan.steps[0].instance
        assert first in ids[:2] and f"1. {first} 280 → 0" in shown and "lands:" in shown
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen.phase == "done", what="the drains to finish")
        progress = text_of(app.screen.query_one("#progress"))
        assert f"drain done: {first} 280 → 0" in progress and "every instance InService" in progress
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dialog to close")


async def test_deploy_keys_are_refused_read_only(make_app):
    app = make_app(read_only=True)
    async with app.run_test(size=(110, 44)) as pilot:
        await pilot.pause()
        for key in ("d", "b"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.dashboard
        assert sum("Read-only" in (n.title or "") for n in app._notifications) == 2
