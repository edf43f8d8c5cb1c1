"""The dashboard on fixture fleets: what it shows, its keys, its refresh loop."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest
from textual.widgets import Input

from tests.tui.conftest import settle, wait_for
from tests.tui.fakes import FakeDirectory, prod_fixture, staging_fixture
from wsfleet.errors import ConfigError
from wsfleet.model import CountsConfig, UiConfig
from wsfleet.tui.widgets.balance import BalanceStrip
from wsfleet.tui.widgets.header import FleetHeader
from wsfleet.tui.widgets.instances import InstanceTable


def table_of(app) -> InstanceTable:
    return app.dashboard.query_one(InstanceTable)


def cell(app, instance_id: str, column: str) -> str:
    return table_of(app).get_cell(instance_id, column).plain


def fast(fx, interval: float = 0.05):
    fx.fleet = dataclasses.replace(fx.fleet, counts=CountsConfig(interval=interval))
    return fx


# ------------------------------------------------------------------------------- what it shows


async def test_table_fills_with_every_instance_and_its_count(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        table = table_of(app)
        assert table.row_count == 12
        assert cell(app, "i-0000a1b2c3d4e5f6a", "connections") == "21,400"
        assert cell(app, "i-0000a1b2c3d4e5f6a", "az") == "us-east-1a"
        assert cell(app, "i-0000a1b2c3d4e5f6a", "address") == "10.0.0.10"


async def test_counts_stream_in_as_hosts_answer(make_app, directory):
    svc = directory.service("prod-chat")
    svc.sweep_delay = 0.15
    app = make_app(directory)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: table_of(app).row_count == 12, what="rows from the group read")
        await wait_for(pilot, lambda: cell(app, "i-0000a1b2c3d4e5f6a", "connections") == "21,400", what="the first count")
        # the first host has answered while the last has not: it is still waiting, not blank
        assert cell(app, "i-0011a1b2c3d4e5f6a", "connections") == "…"
        assert cell(app, "i-0011a1b2c3d4e5f6a", "flag") == "·"


async def test_rows_over_ceiling_far_from_mean_or_in_error_carry_a_symbol(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert cell(app, "i-0003a1b2c3d4e5f6a", "flag") == "▲"  # 28,900 > 28,000
        assert cell(app, "i-0007a1b2c3d4e5f6a", "flag") == "↓"  # 2,100, far below the mean
        assert cell(app, "i-0010a1b2c3d4e5f6a", "flag") == "✗"  # timeout
        assert cell(app, "i-0000a1b2c3d4e5f6a", "flag") == " "
        # a Pending instance is outside the balance: no "far from the mean" for it, no Δ
        assert (cell(app, "i-0011a1b2c3d4e5f6a", "flag"), cell(app, "i-0011a1b2c3d4e5f6a", "delta")) == (" ", "")
        assert cell(app, "i-0010a1b2c3d4e5f6a", "error").startswith("timeout")
        # and colour: the over-ceiling row's count is styled, the normal one is not
        assert table_of(app).get_cell("i-0003a1b2c3d4e5f6a", "connections").style
        assert not table_of(app).get_cell("i-0000a1b2c3d4e5f6a", "connections").style


async def test_far_from_the_mean_uses_the_fleets_max_skew(make_app):
    fx = prod_fixture()
    fx.fleet = dataclasses.replace(fx.fleet, counts=dataclasses.replace(fx.fleet.counts, max_skew=1.05))
    app = make_app(FakeDirectory(fx, staging_fixture()))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert cell(app, "i-0001a1b2c3d4e5f6a", "flag") == "↑"  # +8.3% is far with 1.05
        assert cell(app, "i-0002a1b2c3d4e5f6a", "flag") == " "  # +3.3% is not


async def test_bar_and_delta_show_share_of_ceiling_and_distance_to_mean(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert cell(app, "i-0003a1b2c3d4e5f6a", "bar").endswith("103%")
        assert cell(app, "i-0007a1b2c3d4e5f6a", "delta") == "-90%"


async def test_header_names_fleet_account_region_profile_source_and_cadence(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = app.dashboard.query_one(FleetHeader).render().plain
        for part in ("prod-chat", "111122223333", "us-east-1", "profile prod", "ssh every 5s", "aws 0s", "counts 0s"):
            assert part in text
        assert "READ-ONLY" not in text


async def test_header_shows_read_only_badge(make_app):
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert "READ-ONLY" in app.dashboard.query_one(FleetHeader).render().plain


async def test_balance_strip_has_totals_skew_verdict_and_over_ceiling(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = app.dashboard.query_one(BalanceStrip).render().plain
        assert "10/11 measured" in text  # the Pending instance is outside the balance
        assert "1 not serving" in text
        assert "imbalanced" in text
        assert "1 over" in text
        assert "1 unmeasured" in text
        assert "desired 12 [1..12]" in text


# ------------------------------------------------------------------------------- refresh loop


async def test_r_refreshes_now(make_app, directory):
    app = make_app(directory)
    svc = directory.service("prod-chat")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        svc.fx.counts["i-0000a1b2c3d4e5f6a"] = 9999
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert svc.reads == 2
        assert cell(app, "i-0000a1b2c3d4e5f6a", "connections") == "9,999"


async def test_slow_reads_never_overlap_and_are_never_cancelled(make_app):
    fx = fast(prod_fixture())
    directory = FakeDirectory(fx, staging_fixture())
    svc = directory.service("prod-chat")
    svc.read_delay = 0.25  # five times the interval
    app = make_app(directory, min_interval=0.02)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, cycles=4, timeout=10)
        assert svc.max_active_reads == 1
        assert svc.completed_reads >= 4  # each slow read landed: a tick never cancelled one
        assert app.dashboard.cycles >= 4


async def test_next_poll_is_armed_only_after_the_cycle_ends(make_app):
    fx = fast(prod_fixture())
    directory = FakeDirectory(fx, staging_fixture())
    svc = directory.service("prod-chat")
    svc.sweep_delay = 0.02  # a 12-host sweep takes ~0.25 s, five intervals
    app = make_app(directory, min_interval=0.02)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, cycles=3, timeout=10)
        # one read per sweep: reads never piled up behind a running sweep
        assert abs(svc.reads - svc.sweeps) <= 1


async def test_pause_stops_polling_and_p_again_resumes(make_app):
    fx = fast(prod_fixture())
    directory = FakeDirectory(fx, staging_fixture())
    svc = directory.service("prod-chat")
    app = make_app(directory, min_interval=0.02)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        await pilot.pause(0.2)  # let a cycle in flight finish
        reads = svc.reads
        await pilot.pause(0.4)
        assert svc.reads == reads
        assert "PAUSED" in app.dashboard.query_one(FleetHeader).render().plain
        await pilot.press("p")
        await wait_for(pilot, lambda: svc.reads > reads, what="polling to resume")
        assert "PAUSED" not in app.dashboard.query_one(FleetHeader).render().plain


async def test_polling_waits_while_a_dialog_is_open(make_app):
    fx = fast(prod_fixture())
    directory = FakeDirectory(fx, staging_fixture())
    svc = directory.service("prod-chat")
    app = make_app(directory, min_interval=0.02)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        reads = svc.reads
        await pilot.pause(0.4)
        assert svc.reads == reads
        await pilot.press("escape")
        await wait_for(pilot, lambda: svc.reads > reads, what="polling after the dialog closed")


async def test_failed_read_toasts_and_keeps_last_good_data(make_app, directory):
    app = make_app(directory)
    svc = directory.service("prod-chat")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        svc.fail_reads = "AccessDenied: the role may not call autoscaling:DescribeAutoScalingGroups; add it to the policy."
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert app.is_running
        assert table_of(app).row_count == 12  # last good data stays
        assert any("AccessDenied" in n.message for n in app._notifications)
        header = app.dashboard.query_one(FleetHeader).render().plain
        assert "stale" in header


async def test_a_failure_that_repeats_is_said_once_and_recovery_is_said(make_app, directory):
    app = make_app(directory)
    svc = directory.service("prod-chat")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        svc.fail_reads = "Throttling: Rate exceeded after 5 attempts; the dashboard tries again at the next refresh."
        for cycle in (2, 3, 4):
            await pilot.press("r")
            await settle(pilot, app, cycles=cycle)
        assert sum("Throttling" in n.message for n in app._notifications) == 1
        svc.fail_reads = None
        await pilot.press("r")
        await settle(pilot, app, cycles=5)
        assert any("work again" in n.message for n in app._notifications)
        assert "stale" not in app.dashboard.query_one(FleetHeader).render().plain


async def test_a_sweep_that_cannot_start_is_said_and_polling_goes_on(make_app, directory):
    from wsfleet.errors import ConfigError

    svc = directory.service("prod-chat")

    async def no_source(group):
        raise ConfigError("ssh.key ~/.ssh/fleet_ed25519 cannot be read (No such file or directory); fix ssh.key in the fleet config.")
        yield  # pragma: no cover

    svc.sweep = no_source
    app = make_app(directory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert app.is_running
        assert sum("ssh.key" in n.message for n in app._notifications) == 1
        assert table_of(app).row_count == 12  # the group is shown, its counts wait
        assert cell(app, "i-0000a1b2c3d4e5f6a", "connections") == "…"


async def test_first_read_failing_keeps_the_app_up(make_app, directory):
    directory.service("prod-chat").fail_reads = "Could not connect to the endpoint URL http://127.0.0.1:9/; is moto running?"
    app = make_app(directory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.is_running
        assert table_of(app).row_count == 0
        assert any("Could not connect" in n.message for n in app._notifications)


async def test_an_unexpected_exception_in_a_read_is_a_toast_not_a_crash(make_app, directory):
    def boom(window_minutes=60, on_group=None):
        raise KeyError("Instances")

    directory.service("prod-chat").read_status = boom
    app = make_app(directory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.is_running
        assert any("unexpected error: KeyError" in n.message for n in app._notifications)


async def test_refresh_updates_cells_in_place_without_clearing(make_app, directory, monkeypatch):
    app = make_app(directory)
    svc = directory.service("prod-chat")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        table = table_of(app)
        calls = {"clear": 0, "update": []}
        monkeypatch.setattr(table, "clear", lambda *a, **k: calls.__setitem__("clear", calls["clear"] + 1))
        real_update = table.update_cells

        def spy(changes):
            changes = list(changes)
            calls["update"].extend((r, c) for r, c, _ in changes)
            return real_update(changes)

        monkeypatch.setattr(table, "update_cells", spy)
        monkeypatch.setattr(table, "update_cell", lambda *a, **k: pytest.fail("cells are set in one batch, never one by one"))
        svc.fx.counts["i-0005a1b2c3d4e5f6a"] += 1
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert calls["clear"] == 0
        changed_rows = {r for r, _ in calls["update"]}
        assert "i-0005a1b2c3d4e5f6a" in changed_rows
        assert cell(app, "i-0005a1b2c3d4e5f6a", "connections") == "21,151"
        # a 1-connection change moves the mean a hair: only cells whose text changed were rewritten
        assert len(calls["update"]) < 12 * 5


async def test_cursor_and_scroll_stay_on_the_same_instance_across_refreshes(make_app):
    app = make_app(n=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = table_of(app)
        table.focus()
        table.move_cursor(row=25)
        await pilot.press("down", "down", "down", "down", "down")
        await pilot.pause()
        key, scroll = table.cursor_key(), table.scroll_y
        assert scroll > 0
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert table.cursor_key() == key
        assert table.scroll_y == scroll


async def test_sort_by_connections_then_reverse_keeps_the_cursor_instance(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        table = table_of(app)
        table.focus()
        await pilot.press("down", "down")
        key = table.cursor_key()
        app.dashboard.sort_by("connections")
        await pilot.pause()
        order = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        counts = [table.rows_by_id[i].connections for i in order]
        measured = [c for c in counts if c is not None]
        assert measured == sorted(measured)
        assert counts[-1] is None  # not measured sorts last
        assert table.cursor_key() == key
        await pilot.press("O")
        order = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert order[0] == "i-0003a1b2c3d4e5f6a"  # the busiest first
        assert table.cursor_key() == key


async def test_o_cycles_the_sort_column(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("o")
        assert table_of(app).sort_column == "connections"
        assert "sort conns" in app.dashboard.query_one("#instances-panel").border_title


async def test_clicking_a_header_sorts_by_it(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        table = table_of(app)
        keys = [c.key.value for c in table.columns.values()]
        x = table.region.x + sum(c.get_render_width(table) for c in list(table.columns.values())[:keys.index("az")]) + 2
        await pilot.click(offset=(x, table.region.y))  # the AZ header
        await pilot.pause()
        assert table.sort_column == "az"


async def test_slash_filters_and_escape_clears(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        box = app.dashboard.query_one("#filter", Input)
        assert box.has_focus
        await pilot.press(*"timeout")
        await pilot.pause()
        assert table_of(app).row_count == 1
        assert "filter “timeout”" in app.dashboard.query_one("#instances-panel").border_title
        await pilot.press("escape")
        await pilot.pause()
        assert table_of(app).row_count == 12
        assert not box.display


async def test_filter_survives_a_refresh(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"east-1b", "enter")
        await pilot.pause()
        assert table_of(app).row_count == 4
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert table_of(app).row_count == 4


async def test_instances_that_leave_the_group_leave_the_table(make_app, directory):
    app = make_app(directory)
    svc = directory.service("prod-chat")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        svc.fx.instances = svc.fx.instances[:10]
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert table_of(app).row_count == 10


# ------------------------------------------------------------------------------- fleets, export, help


async def test_switching_fleet_shows_the_other_account_and_none_of_the_old_rows(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.dashboard.status is not None and app.dashboard.status.fleet == "staging-chat", what="the staging read")
        await settle(pilot, app, cycles=2)
        header = app.dashboard.query_one(FleetHeader).render().plain
        assert "staging-chat" in header and "444455556666" in header and "eu-west-1" in header
        assert "111122223333" not in header
        assert table_of(app).row_count == 3
        assert all(r.startswith("i-01") for r in table_of(app).rows_by_id)


async def test_a_read_landing_after_a_fleet_switch_is_dropped(make_app, directory):
    prod = directory.service("prod-chat")
    prod.read_delay = 0.4
    app = make_app(directory)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.1)  # prod's first read is in flight
        app.dashboard.switch_fleet("staging-chat")
        await wait_for(pilot, lambda: app.dashboard.status is not None, what="a read")
        await pilot.pause(0.6)  # prod's read lands now, for the old generation
        assert app.dashboard.status.fleet == "staging-chat"
        assert "111122223333" not in app.dashboard.query_one(FleetHeader).render().plain
        assert not any(r.startswith("i-00") for r in table_of(app).rows_by_id)


async def test_a_fleet_that_cannot_be_opened_leaves_the_current_one_on_screen(make_app, directory):
    directory.unusable["staging-chat"] = "AWS profile 'staging' of fleet 'staging-chat' is not in your AWS config: fix `profile` in the fleet config."
    app = make_app(directory)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        app.dashboard.switch_fleet("staging-chat")
        await pilot.pause()
        assert app.is_running
        assert app.dashboard.service.fleet.name == "prod-chat"
        assert "111122223333" in app.dashboard.query_one(FleetHeader).render().plain
        assert any("AWS profile 'staging'" in n.message for n in app._notifications)


async def test_switch_fleet_with_one_fleet_says_so(make_app):
    app = make_app(FakeDirectory(prod_fixture()))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await pilot.pause()
        assert any("Only one fleet" in n.message for n in app._notifications)


async def test_export_writes_json_and_csv_and_names_them(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == ["wsfleet-prod-chat-20261126T143000Z.csv", "wsfleet-prod-chat-20261126T143000Z.json"]
        doc = json.loads((tmp_path / files[1]).read_text())
        assert doc["account_id"] == "111122223333"
        assert len(doc["instances"]) == 12
        assert doc["summary"]["max"] == 28900
        assert doc["verdict"] == "imbalanced"
        rows = list(csv.DictReader((tmp_path / files[0]).open()))
        assert {r["id"]: r["error"] for r in rows}["i-0010a1b2c3d4e5f6a"] == "timeout"
        assert any(str(tmp_path / files[1]) in n.message for n in app._notifications)
        await pilot.press("e")  # a second export never overwrites the first
        await pilot.pause()
        assert len(list(tmp_path.iterdir())) == 4


async def test_export_to_an_unwritable_directory_says_so(make_app, tmp_path):
    app = make_app(export_dir=tmp_path / "missing" / "dir")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        assert app.is_running
        assert any("Could not write the export" in n.message for n in app._notifications)


async def test_help_lists_the_live_keymap(make_app):
    app = make_app(ui=UiConfig(keymap={"scale_out": "a", "refresh": "R,f5"}))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        rows = {binding_id: keys for keys, _, binding_id in app.dashboard.live_keymap()}
        assert rows["scale_out"] == "a"
        assert set(rows["refresh"].split()) == {"R", "f5"}
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_the_key_line_shows_the_live_keys_and_dims_writes_when_read_only(make_app):
    from wsfleet.tui.widgets.keybar import KeyBar

    app = make_app(ui=UiConfig(keymap={"scale_out": "a"}), read_only=True)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot, app)
        bar = app.dashboard.query_one(KeyBar)
        text = bar.plain()
        assert "a Scale out" in text and "+ Scale out" not in text
        markup = str(bar.query_one("#key-list").content)
        assert "[dim strike]Scale out[/]" in markup and "[dim strike]Refresh" not in markup


async def test_a_remapped_key_runs_its_action_and_the_old_one_does_not(make_app):
    app = make_app(ui=UiConfig(keymap={"scale_out": "a"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("plus")
        await pilot.pause()
        assert app.screen is app.dashboard
        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "ScaleScreen"


@pytest.mark.parametrize(
    ("keymap", "sentence"),
    [
        ({"scale_outt": "a"}, "'scale_outt' is not a binding id"),
        ({"scale_in": "ctrl+d"}, "is a ctrl chord"),
        ({"modal_apply": "ctrl+y"}, "is a ctrl chord"),
        ({"quit": ""}, "give the key(s) as a string"),
    ],
)
def test_a_bad_keymap_is_refused_with_one_sentence(make_app, keymap, sentence):
    with pytest.raises(ConfigError) as info:
        make_app(ui=UiConfig(keymap=keymap))
    assert sentence in info.value.message


def test_ui_scale_step_must_be_positive(make_app):
    with pytest.raises(ConfigError, match="ui.scale_step"):
        make_app(ui=UiConfig(scale_step=0))


async def test_quit_closes_the_count_sources(make_app, directory):
    app = make_app(directory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert directory.closed
    assert not app.is_running


# ------------------------------------------------------------------------------- layout and panels


async def test_narrow_terminal_shows_one_panel_at_a_time(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        d = app.dashboard
        assert d.narrow
        assert d.query_one("#instances-panel").display and not d.query_one("#side").display
        await pilot.press("2")
        await pilot.pause()
        assert not d.query_one("#instances-panel").display
        assert d.query_one("#chart-panel").display and not d.query_one("#scaling-panel").display
        await pilot.press("4")
        await pilot.pause()
        assert d.query_one("#warm-panel").display and not d.query_one("#chart-panel").display
        await pilot.press("1")
        await pilot.pause()
        assert d.query_one("#instances-panel").display


async def test_wide_terminal_shows_every_panel(make_app):
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot, app)
        d = app.dashboard
        assert not d.narrow
        for panel in ("#instances-panel", "#chart-panel", "#scaling-panel", "#warm-panel"):
            assert d.query_one(panel).display
        assert not d.query_one("#tabs").display


@pytest.mark.parametrize(("n", "table_bigger"), [(12, False), (60, True)])
async def test_the_table_takes_the_lines_it_needs(make_app, n, table_bigger):
    app = make_app(n=n)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        d = app.dashboard
        table_h, side_h = d.query_one("#instances-panel").region.height, d.query_one("#side").region.height
        assert (table_h > side_h) is table_bigger
        if not table_bigger:
            assert table_h == n + 4


async def test_chart_view_and_window_keys(make_app, directory):
    app = make_app(directory)
    svc = directory.service("prod-chat")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        d = app.dashboard
        await pilot.press("c")
        await pilot.pause()
        assert d.chart_view == "distribution"
        assert d.query_one("#chart-panel").border_title == "Per-instance distribution"
        await pilot.press("c", "left_square_bracket")
        await settle(pilot, app, cycles=2)
        assert d.window_minutes == 15
        assert "15 min" in d.query_one("#chart-panel").border_title
        assert len(d.status.metric.values) == 15
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert any("already at its shortest" in n.message for n in app._notifications)
        assert svc.reads >= 2


async def test_scaling_panel_shows_absolute_steps_and_the_one_firing(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = app.dashboard.query_one("#scaling").build().plain
        assert "20,000–25,000 → +2  ◀ fires now" in text
        assert "30,000–∞ → +3" in text
        assert "weekday-morning" in text and "next Fri 27 Nov 07:00 CET" in text
        assert "flap-safe for 1..12" in text


async def test_warm_pool_panel_lists_warmed_instances(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = app.dashboard.query_one("#warm").build().plain
        assert "Stopped" in text and "min 2" in text and "max prepared 6" in text
        assert "Warmed:Pending" in text and "1 ready for the next scale-out" in text


async def test_chart_info_names_alarm_states_and_step(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = app.dashboard.query_one("#chart-info").render().plain
        assert "high ≥20,000 ALARM" in text
        assert "low ≤9,500 OK" in text
        assert "step 20,000–25,000 → +2" in text


async def test_no_metric_datapoints_yet_is_said_not_drawn(make_app, directory):
    directory.service("prod-chat").fx.metric = [None] * 60  # a new fleet: the agent has not reported
    app = make_app(directory)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert app.is_running
        assert "no datapoints of TCP_Connections/TCPconnections" in app.dashboard.query_one("#chart").render().plain
        assert "now —  → no step fires" in app.dashboard.query_one("#chart-info").render().plain


async def test_status_problems_are_shown_once(make_app, directory):
    directory.service("prod-chat").fx.problems = ("AccessDenied on DescribeWarmPool: add autoscaling:DescribeWarmPool.",)
    app = make_app(directory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("r")
        await settle(pilot, app, cycles=2)
        assert sum("DescribeWarmPool" in n.message for n in app._notifications) == 1


# ------------------------------------------------------------------------------- themes and palette


async def test_themes_from_files_are_registered_and_config_picks_one(make_app):
    app = make_app(ui=UiConfig(theme="light"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.theme == "wsfleet-light"
        assert {"wsfleet-dark", "wsfleet-light", "wsfleet-ansi"} <= set(app.available_themes)


def test_an_unknown_theme_is_refused(make_app):
    with pytest.raises(ConfigError, match="ui.theme 'neon' is not a theme"):
        make_app(ui=UiConfig(theme="neon"))


async def test_a_user_theme_file_is_loaded_and_a_broken_one_skipped(make_app, tmp_path):
    from wsfleet.tui.themes import BUNDLED_DIR

    user = tmp_path / "themes"
    user.mkdir()
    (user / "night.toml").write_text('name = "night-shift"\nprimary = "#88aaff"\ndark = true\n')
    (user / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    app = make_app(ui=UiConfig(theme="night-shift"), theme_dirs=[BUNDLED_DIR, user])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.theme == "night-shift"
        assert any("broken.toml" in n.message for n in app._notifications)


async def test_palette_lists_every_action_and_switches_theme(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        titles = {c.title: c for c in app.get_system_commands(app.dashboard)}
        for title in ("Scale out", "Scale in", "Thresholds and steps", "Scheduled actions", "Warm pool", "Refresh now",
                      "Pause / resume polling", "Switch fleet", "Export snapshot", "Filter instances", "Help: keys",
                      "Sort by conns", "Theme: wsfleet-ansi"):
            assert title in titles
        titles["Theme: wsfleet-ansi"].callback()
        await pilot.pause()
        assert app.theme == "wsfleet-ansi"
        # table cells were restyled for the new theme, not left with the old colours
        assert table_of(app).get_cell("i-0003a1b2c3d4e5f6a", "connections").style.color.number == 1  # ANSI red


# ------------------------------------------------------------------------------- trend and launch template


async def sweep_with(pilot, app, fx, clock: list[float], t: float, **counts: int) -> None:
    """One refresh cycle (`r`) at history time `t`, with some instances' counts changed first."""
    for instance_id, n in counts.items():
        fx.counts[instance_id] = n
    clock[0] = t
    done = app.dashboard.cycles
    await pilot.press("r")
    await wait_for(pilot, lambda: app.dashboard.cycles > done, what="the refresh cycle")


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
async def test_sparklines_and_the_skew_trend_follow_a_draining_instance(make_app, size):
    from wsfleet.trend import estimate
    from wsfleet.tui.widgets.balance import SkewTrendLine

    fx = prod_fixture()
    app = make_app(FakeDirectory(fx, staging_fixture()), poll=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        clock = [0.0]
        table_of(app).monotonic = lambda: clock[0]
        hot, fresh = "i-0003a1b2c3d4e5f6a", "i-0007a1b2c3d4e5f6a"
        line = app.dashboard.query_one(SkewTrendLine)
        for minute, (h, f) in enumerate([(28900, 2100), (28300, 2600), (27700, 3100), (27100, 3600)]):
            await sweep_with(pilot, app, fx, clock, 60.0 * minute, **{hot: h, fresh: f})
            if minute == 0:
                assert "1 of 4" in line.render().plain or "1/4 sweeps" in line.render().plain
        # each between its own lowest and highest, over at least a tenth of its highest: the filled one
        # (2,100 → 3,600) spans all eight levels; the drained one (28,900 → 27,100, 1,800 over a span
        # of 2,890) ends at the floor from level 1,800 / 2,890 * 7 = 4.4 → ▅
        assert cell(app, hot, "spark") == "    ▅▄▂▁"
        assert cell(app, fresh, "spark") == "    ▁▃▆█"
        assert cell(app, "i-0000a1b2c3d4e5f6a", "spark") == "    ▁▁▁▁"  # a steady count is a flat line
        skews = table_of(app).history.skews()
        assert [t for t, _ in skews] == [0.0, 60.0, 120.0, 180.0]
        trend = estimate(skews, 1.25)
        assert trend.direction == "shrinking" and trend.skew > 1.25
        text = line.render().plain
        assert len(text) <= size[0] and text.startswith(" skew")
        if size[0] >= 120:
            assert f"skew over 3m █▆▃▁ {skews[0][1]:.2f} → {skews[-1][1]:.2f} · " in text
            assert text.endswith(trend.sentence()) and "at the current churn" in text
        else:
            assert text.endswith(trend.short()) and trend.short().startswith("shrinking, under 1.25 in ~")


async def test_the_lt_column_marks_instances_on_an_old_launch_template_version(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        assert cell(app, "i-0003a1b2c3d4e5f6a", "template") == "v6 old"
        assert cell(app, "i-0005a1b2c3d4e5f6a", "template") == "v6 old"
        assert cell(app, "i-0000a1b2c3d4e5f6a", "template") == "v7"
        assert table_of(app).get_cell("i-0003a1b2c3d4e5f6a", "template").style  # marked in colour too
        assert not table_of(app).get_cell("i-0000a1b2c3d4e5f6a", "template").style
        await pilot.press("slash")
        await pilot.press(*"old")
        await pilot.pause()
        assert table_of(app).row_count == 2


async def test_the_lt_column_is_a_dash_when_the_group_does_not_say(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        app.dashboard.switch_fleet("staging-chat")
        await settle(pilot, app, cycles=2)
        assert cell(app, "i-0100a1b2c3d4e5f6a", "template") == "—"


async def test_counts_come_from_the_group_before_the_rest_of_the_status(make_app, directory):
    """The sweep starts once the read has the group (GroupLoaded), not after the alarms, policies
    and metric: while the rest of the read is held, every row has its count; the cycle ends, and
    the next read starts, only once the held read is in (reads never overlap)."""
    import threading

    svc = directory.service("prod-chat")
    gate = svc.read_gate = threading.Event()
    app = make_app(directory, min_interval=0.02)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: app.dashboard is not None and svc.sweeps >= 1 and not app.dashboard.pending
                           and all(r.counted for r in app.dashboard.query_one(InstanceTable).rows_by_id.values())
                           and app.dashboard.query_one(InstanceTable).rows_by_id, what="counts while the status read is held")
            dash = app.dashboard
            assert dash.status is None and dash.cycle_running and svc.active_reads == 1 and svc.reads == 1
            gate.set()
            await settle(pilot, app, cycles=2, timeout=10)
            assert dash.status is not None and svc.max_active_reads == 1
    finally:
        gate.set()
