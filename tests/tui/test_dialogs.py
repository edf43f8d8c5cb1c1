"""Every dialog: accept, cancel, each wrong value (one sentence, nothing changes), read-only refusals."""

from __future__ import annotations

import re

from textual.widgets import Checkbox, Input, Select, Static

from tests.tui.conftest import settle, wait_for
from tests.tui.fakes import FakeDirectory, prod_fixture, staging_fixture
from wsfleet.errors import AwsError
from wsfleet.model import UiConfig


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text (it may hold a Rich renderable, not a string)."""
    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, color_system=None, file=open("/dev/null", "w"))
    console.print(content)
    return console.export_text()


def problem(app) -> str:
    return text_of(app.screen.query_one("#problem", Static)).strip()


def live(app) -> str:
    return text_of(app.screen.query_one("#live", Static))


def plan(app) -> str:
    return text_of(app.screen.query_one("#plan", Static))


async def open_dialog(pilot, app, key: str, name: str) -> None:
    await settle(pilot, app)
    await pilot.press(key)
    await wait_for(pilot, lambda: type(app.screen).__name__ == name, what=f"the {name}")


async def set_input(pilot, app, selector: str, value: str) -> None:
    box = app.screen.query_one(selector, Input)
    box.value = value
    await pilot.pause()


async def preview(pilot, app) -> None:
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.screen.phase in ("review", "edit") and app.screen.phase != "planning", what="the plan")


def fleet(directory):
    return directory.service("prod-chat")


# ------------------------------------------------------------------------------- scale out


async def test_scale_out_previews_then_applies_and_desired_rises(make_app, directory):
    directory.service("prod-chat").fx.desired = 10
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "plus", "ScaleScreen")
        assert "desired 10 → 11" in live(app)
        await preview(pilot, app)
        assert app.screen.phase == "review"
        plan_text = plan(app)
        assert "Scale prod-chat-asg out from 10 to 11" in plan_text
        assert fleet(directory).executed == []  # nothing before the confirmation
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dialog to close")
        assert fleet(directory).fx.desired == 11
        assert any("Scale prod-chat-asg out from 10 to 11" in n.message for n in app._notifications)
        await settle(pilot, app, cycles=2)  # the change is read back at once
        assert app.dashboard.status.group.desired == 11


async def test_scale_out_uses_the_configured_step(make_app):
    directory = FakeDirectory(prod_fixture(), staging_fixture(), ui=UiConfig(scale_step=3))
    directory.service("prod-chat").fx.desired = 5
    app = make_app(directory, ui=UiConfig(scale_step=3))
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "plus", "ScaleScreen")
        assert app.screen.query_one("#n", Input).value == "3"
        assert "desired 5 → 8" in live(app)


async def test_scale_out_cancel_changes_nothing(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "plus", "ScaleScreen")
        await preview(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert fleet(directory).executed == []


SCALE_OUT_WRONG = [
    ("", "the number of instances to add is empty; type a whole number."),
    ("0", "the number of instances to add must be 1 or more, not 0."),
    ("-2", "the number of instances to add must be 1 or more, not -2."),
    ("1 2", "the number of instances to add must be a whole number, not '1 2'."),
]


async def test_scale_out_wrong_number_is_one_sentence_and_changes_nothing(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "plus", "ScaleScreen")
        for value, sentence in SCALE_OUT_WRONG:
            await set_input(pilot, app, "#n", value)
            await pilot.press("enter")
            await pilot.pause()
            assert problem(app) == sentence, value
            assert app.screen.phase == "edit"
        assert fleet(directory).executed == []
        assert fleet(directory).fx.desired == 12


async def test_scale_out_at_max_offers_to_raise_max(make_app, directory):
    app = make_app(directory)  # desired 12 = max 12
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "plus", "ScaleScreen")
        assert "at its MaxSize 12: tick “raise MaxSize” to raise it to 13" in live(app)
        await pilot.press("enter")
        await pilot.pause()
        assert problem(app) == "the group is at its MaxSize 12; tick “raise MaxSize” to raise it to 13."
        assert fleet(directory).executed == []
        app.screen.query_one("#raise-max", Checkbox).value = True
        await pilot.pause()
        assert "MaxSize goes up from 12 to 13" in live(app)
        await preview(pilot, app)
        assert "MaxSize goes up from 12 to 13" in plan(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dialog to close")
        assert (fleet(directory).fx.desired, fleet(directory).fx.max_size) == (13, 13)


async def test_a_plan_the_service_refuses_is_one_sentence(make_app, directory):
    def refuse(op, n, *, raise_max=False):
        raise AwsError("AccessDenied: the role may not call autoscaling:DescribeAutoScalingGroups; add it to the policy.")

    fleet(directory).plan_scale = refuse
    fleet(directory).fx.desired = 5
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "plus", "ScaleScreen")
        await preview(pilot, app)
        assert app.screen.phase == "edit"
        assert problem(app).startswith("AccessDenied")
        assert fleet(directory).executed == []


async def test_a_failed_apply_is_shown_and_the_dialog_stays(make_app, directory):
    from wsfleet import actions

    svc = fleet(directory)
    svc.fx.desired = 5
    svc.execute = lambda plan: actions.Outcome(plan, "failed", error="group prod-chat-asg: Throttling after 5 retries; try again in a minute.")
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "plus", "ScaleScreen")
        await preview(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: "Throttling" in problem(app), what="the failure")
        assert type(app.screen).__name__ == "ScaleScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


# ------------------------------------------------------------------------------- scale in


async def test_scale_in_shows_projection_and_flap_warning(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "minus", "ScaleScreen")
        text = live(app)
        assert "desired 12 → 11" in text
        assert "projection:" in text and "live counts" in text
        # average ~20,405 on 11 in service: removing one leaves ~22,446 each, over the 20,000 threshold
        assert "↯ flap" in text
        await preview(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dialog to close")
        assert fleet(directory).fx.desired == 11


async def test_scale_in_below_min_is_refused(make_app, directory):
    fleet(directory).fx.desired = 2
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "minus", "ScaleScreen")
        await set_input(pilot, app, "#n", "2")
        await pilot.press("enter")
        await pilot.pause()
        assert problem(app) == "removing 2 would leave 0, below MinSize 1; remove 1 at most."
        assert fleet(directory).executed == []


async def test_scale_in_when_safe_says_so(make_app, directory):
    fx = fleet(directory).fx
    fx.counts = {k: (3000 if v is not None else None) for k, v in fx.counts.items()}
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "minus", "ScaleScreen")
        assert "stays below the scale-out threshold 20,000" in live(app)


# ------------------------------------------------------------------------------- thresholds


async def test_thresholds_editor_applies_high_and_shifts_steps(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "t", "ThresholdsScreen")
        assert app.screen.query_one("#high", Input).value == "20000"
        assert app.screen.query_one("#steps", Input).value == "20000:25000:+2,25000:30000:+2,30000::+3"
        assert "step 20,000–25,000 → +2 would fire" in live(app)
        await set_input(pilot, app, "#high", "22000")
        text = live(app)
        assert "(shifted with the threshold)" in text
        assert "22,000–27,000 → +2" in text
        assert "no step fires" in text  # the current 21,900 is below 22,000
        await preview(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dialog to close")
        fx = fleet(directory).fx
        assert fx.high_threshold == 22000
        assert fx.steps[0] == (22000, 27000, 2)


async def test_thresholds_editor_projects_flapping(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "t", "ThresholdsScreen")
        await set_input(pilot, app, "#low", "15000")
        assert "↯ flap: at n = 2..4" in live(app)


async def test_thresholds_editor_replays_the_chart_window_through_the_proposal(make_app, directory):
    """Issue 7's live what-if: the window's history replayed through current vs proposed settings."""
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "t", "ThresholdsScreen")
        before = re.search(r"what-if, last 60 min replayed: scale-outs (\d+) → (\d+).*held at max (\d+) → (\d+)", live(app))
        assert before and before.group(1) == before.group(2) and before.group(3) == before.group(4)  # nothing proposed yet
        await set_input(pilot, app, "#high", "12000")
        after = re.search(r"scale-outs (\d+) → (\d+).*held at max (\d+) → (\d+)", live(app))
        # the fixture's group is at its max: a much lower threshold wants to scale out for far longer
        assert after and int(after.group(4)) > int(after.group(3))


THRESHOLDS_WRONG = [
    ("#high", "lots", "the high threshold must be a number of connections per instance, like 20000, not 'lots'."),
    ("#high", "-5", "the high threshold must be a positive number of connections per instance, not '-5'."),
    ("#low", "25000", "the low threshold 25,000 must be below the high threshold 20,000, or the group scales in and out at once."),
    ("#steps", "", "the steps are empty; give them like 22000:25000:+2,25000:30000:+2,30000::+3."),
    ("#steps", "21000:25000:+2,25000::+3", "steps: the first step starts at 21,000, not at the alarm threshold 20,000"),
    ("#steps", "20000:25000:+2,24000::+3", "the steps 20000:25000:+2,24000::+3: step 2 starts at 24,000, overlapping step 1"),
    ("#steps", "20000-25000", "the steps item 1 \"20000-25000\" is not FROM:TO:+N"),
]


async def test_thresholds_wrong_value_is_one_sentence_and_changes_nothing(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "t", "ThresholdsScreen")
        valid = {f: app.screen.query_one(f, Input).value for f in ("#high", "#low", "#steps")}
        for field, value, sentence in THRESHOLDS_WRONG:
            for f, v in valid.items():
                await set_input(pilot, app, f, v)
            await set_input(pilot, app, field, value)
            await pilot.press("enter")
            await pilot.pause()
            said = problem(app)
            assert said.startswith(sentence) and said.endswith("."), (field, value, said)
            assert not re.search(r"\.\s+[A-Z]", said), said  # one sentence
            assert app.screen.phase == "edit"
        assert fleet(directory).executed == []


async def test_thresholds_with_nothing_changed_says_so(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "t", "ThresholdsScreen")
        await pilot.press("enter")
        await pilot.pause()
        assert problem(app) == "nothing changed: edit the high or low threshold or the steps first."


async def test_thresholds_cancel_changes_nothing(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "t", "ThresholdsScreen")
        await set_input(pilot, app, "#high", "23000")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert fleet(directory).fx.high_threshold == 20000


# ------------------------------------------------------------------------------- warm pool


async def test_warm_pool_dialog_applies(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "w", "WarmPoolScreen")
        assert app.screen.query_one("#min-size", Input).value == "2"
        await set_input(pilot, app, "#min-size", "3")
        app.screen.query_one("#pool-state", Select).value = "Hibernated"
        await pilot.pause()
        await preview(pilot, app)
        assert "Hibernated" in plan(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dialog to close")
        pool = fleet(directory).fx.warm_pool
        assert (pool.min_size, pool.pool_state) == (3, "Hibernated")


WARM_POOL_WRONG = [
    ("#min-size", "two", "the warm pool min size must be a whole number, not 'two'."),
    ("#min-size", "", "the warm pool min size is empty; type a whole number."),
    ("#max-prepared", "1", "max prepared capacity 1 is below the min size 2; raise it or leave it blank."),
    ("#max-prepared", "1.5", "the max prepared capacity must be a whole number, not '1.5'."),
]


async def test_warm_pool_wrong_value_is_one_sentence(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "w", "WarmPoolScreen")
        for field, value, sentence in WARM_POOL_WRONG:
            await set_input(pilot, app, "#min-size", "2")
            await set_input(pilot, app, "#max-prepared", "6")
            await set_input(pilot, app, field, value)
            await pilot.press("enter")
            await pilot.pause()
            assert problem(app) == sentence
        assert fleet(directory).executed == []


async def test_warm_pool_cancel_changes_nothing(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_dialog(pilot, app, "w", "WarmPoolScreen")
        await set_input(pilot, app, "#min-size", "5")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert fleet(directory).fx.warm_pool.min_size == 2


# ------------------------------------------------------------------------------- scheduled actions


async def test_schedule_lists_actions_with_next_run_in_their_zone(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_dialog(pilot, app, "s", "ScheduleScreen")
        table = app.screen.query_one("#schedule-table")
        assert table.row_count == 2
        assert table.get_cell("weekday-morning", "next") == "Fri 27 Nov 07:00 CET"
        assert table.get_cell("night", "next") == "Thu 26 Nov 22:30 UTC"


async def test_schedule_add_applies(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "s", "ScheduleScreen")
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleFormScreen", what="the form")
        await set_input(pilot, app, "#name", "friday-peak")
        await set_input(pilot, app, "#cron", "30 17 * * FRI")
        await set_input(pilot, app, "#tz", "America/New_York")
        await set_input(pilot, app, "#min", "6")
        await set_input(pilot, app, "#desired", "8")
        assert "next run Fri 27 Nov 17:30 EST" in live(app)
        await preview(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleScreen", what="back to the list")
        await wait_for(pilot, lambda: app.screen.query_one("#schedule-table").row_count == 3, what="the list re-read")
        assert any(a.name == "friday-peak" and a.desired_capacity == 8 for a in fleet(directory).fx.schedule)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_schedule_edit_keeps_the_name_and_applies(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "s", "ScheduleScreen")
        await pilot.press("enter")  # or e
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleFormScreen", what="the form")
        assert app.screen.query_one("#name", Input).disabled
        assert app.screen.query_one("#name", Input).value == "night"  # sorted: night first
        await set_input(pilot, app, "#desired", "3")
        await set_input(pilot, app, "#min", "3")
        await preview(pilot, app)
        assert app.screen.phase == "review", problem(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleScreen", what="back to the list")
        night = next(a for a in fleet(directory).fx.schedule if a.name == "night")
        assert (night.min_size, night.desired_capacity) == (3, 3)


async def test_schedule_delete_previews_then_deletes(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "s", "ScheduleScreen")
        await pilot.press("d")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleDeleteScreen" and app.screen.phase == "review", what="the delete plan")
        assert "Delete scheduled action night" in plan(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleScreen", what="back to the list")
        await wait_for(pilot, lambda: app.screen.query_one("#schedule-table").row_count == 1, what="the list re-read")
        assert [a.name for a in fleet(directory).fx.schedule] == ["weekday-morning"]


async def test_schedule_delete_cancel_keeps_it(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "s", "ScheduleScreen")
        await pilot.press("d")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleDeleteScreen", what="the delete dialog")
        await pilot.press("escape")
        await pilot.pause()
        assert len(fleet(directory).fx.schedule) == 2


SCHEDULE_WRONG = [
    ("#name", "", "the name is empty"),
    ("#name", "night", "a scheduled action named 'night' already exists"),
    ("#cron", "0 7 * * MON-FRI *", "cron"),
    ("#cron", "61 7 * * *", "cron"),
    ("#cron", "", "the cron expression is empty"),
    ("#tz", "Mars/Olympus", ""),
    ("#min", "x", "the min size must be a whole number, not 'x'."),
    ("#max", "2", "scheduled action 'friday-peak': min size 6 is above max size 2"),
    ("#desired", "20", ""),
]


async def test_schedule_form_wrong_value_is_one_sentence(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(120, 45)) as pilot:
        await open_dialog(pilot, app, "s", "ScheduleScreen")
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScheduleFormScreen", what="the form")
        for field, value, sentence_start in SCHEDULE_WRONG:
            for f, v in (("#name", "friday-peak"), ("#cron", "30 17 * * FRI"), ("#tz", "UTC"), ("#min", "6"), ("#max", "12"), ("#desired", "")):
                await set_input(pilot, app, f, v)
            await set_input(pilot, app, field, value)
            await pilot.press("enter")
            await pilot.pause()
            said = problem(app)
            assert said, f"a wrong {field} must say why"
            assert said.lower().startswith(sentence_start.lower()), (field, value, said)
            assert not re.search(r"\.\s+[A-Z]", said), said
            assert app.screen.phase == "edit"
        assert len(fleet(directory).fx.schedule) == 2


# ------------------------------------------------------------------------------- read-only


async def test_read_only_refuses_every_write_and_says_why(make_app):
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        for key, what in (("plus", "scaling out"), ("minus", "scaling in"), ("t", "changing thresholds"), ("s", "editing scheduled actions"), ("w", "changing the warm pool")):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.dashboard, key
            assert any(f"Read-only: {what} is disabled because wsfleet was started with --read-only" in n.message for n in app._notifications), key


async def test_read_only_gate_in_execute_holds_even_if_a_dialog_got_through(make_app):
    """The UI refuses first; the write path refuses again (actions.execute's gate)."""
    directory = FakeDirectory(prod_fixture(), staging_fixture(), read_only=True)
    svc = fleet(directory)
    svc.fx.desired = 5
    app = make_app(directory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        from wsfleet.tui.screens.actions import ScaleScreen

        app.push_screen(ScaleScreen(svc, app.dashboard.status, "out", 1))
        await pilot.pause()
        await preview(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: "--read-only is set" in problem(app), what="the refusal")
        assert svc.fx.desired == 5


async def test_dialogs_wait_for_the_first_read(make_app, directory):
    import threading

    gate = fleet(directory).read_gate = threading.Event()  # the first read cannot finish before the key
    app = make_app(directory)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.1)
            await pilot.press("plus")
            await pilot.pause()
            assert app.screen is app.dashboard
            assert any("Wait for the first read" in n.message for n in app._notifications)
            gate.set()
    finally:
        gate.set()
