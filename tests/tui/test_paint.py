"""What a refresh paints again: what changed is painted (and nothing stale stays on screen), what
did not change is neither rebuilt nor laid out again."""

from __future__ import annotations

import dataclasses

import pytest

from textual.widget import Widget
from textual.widgets import DataTable, Static

from tests.tui.conftest import settle
from wsfleet.tui.widgets import chart
from wsfleet.tui.widgets.instances import InstanceTable

BUSY = "i-0003a1b2c3d4e5f6a"  # over the ceiling in the fixture: 28,900
QUIET = "i-0005a1b2c3d4e5f6a"


def painted_row(table: InstanceTable, instance_id: str):
    """The strip the table paints for an instance's row (what the compositor puts on screen)."""
    y = table.header_height + table.get_row_index(instance_id) - int(table.scroll_y)
    return table.render_line(y)


def painted(widget: Widget) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def refresh_cycle(pilot, app) -> None:
    await pilot.press("r")
    await settle(pilot, app, cycles=app.dashboard.cycles + 1)
    await pilot.pause()


async def test_a_changed_count_is_painted_and_the_unchanged_cells_are_not_painted_again(make_app, directory, monkeypatch):
    app = make_app(directory)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        table = app.dashboard.query_one(InstanceTable)
        assert "21,150" in painted_row(table, QUIET).text
        painted_cells: list[str] = []
        real = DataTable._render_cell

        def spy(self, row_index, column_index, *args, **kwargs):
            if row_index >= 0:
                painted_cells.append(self._column_locations.get_key(column_index).value)
            return real(self, row_index, column_index, *args, **kwargs)

        monkeypatch.setattr(DataTable, "_render_cell", spy)
        directory.service("prod-chat").fx.counts[QUIET] = 23150
        await refresh_cycle(pilot, app)
        assert "23,150" in painted_row(table, QUIET).text
        assert "connections" in painted_cells
        # the rows kept their place and these cells their text: painted from what was drawn
        assert not {"id", "az", "address", "lifecycle"} & set(painted_cells)


async def test_a_theme_switch_paints_the_cells_in_its_colours(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        table = app.dashboard.query_one(InstanceTable)
        before = [s.style for s in painted_row(table, BUSY) if "28,900" in s.text]
        app.theme = "wsfleet-ansi"
        await pilot.pause()
        await pilot.pause()
        after = [s.style for s in painted_row(table, BUSY) if "28,900" in s.text]
        assert before and after and after[0].color.number == 1  # ANSI red
        assert before[0].color != after[0].color


async def test_the_alarm_chart_is_drawn_again_only_when_its_metric_changes(make_app, directory, monkeypatch):
    app = make_app(directory)
    builds = []
    real_build = chart.plt.build
    monkeypatch.setattr(chart.plt, "build", lambda: builds.append(1) or real_build())
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        plot = app.dashboard.query_one("#chart")
        first, drawn = painted(plot), len(builds)
        assert drawn >= 1
        await refresh_cycle(pilot, app)  # the same read again
        assert len(builds) == drawn and painted(plot) == first
        fx = directory.service("prod-chat").fx
        fx.metric = fx.metric[:-1] + [9000.0]  # the newest datapoint falls under the low threshold
        await refresh_cycle(pilot, app)
        assert len(builds) == drawn + 1
        assert painted(plot) != first


async def test_a_read_that_changes_nothing_lays_out_no_panel_again_and_a_change_is_shown(make_app, directory, monkeypatch):
    app = make_app(directory)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        d = app.dashboard
        panels = {"#instances-panel", "#chart-panel", "#scaling-panel", "#warm-panel", "#scaling", "#warm", "#chart-info"}
        repainted: list[str] = []
        real_refresh, real_update = Widget.refresh, Static.update

        def refresh_spy(self, *args, **kwargs):
            if f"#{self.id}" in panels:
                repainted.append(f"#{self.id}")
            return real_refresh(self, *args, **kwargs)

        def update_spy(self, *args, **kwargs):
            if f"#{self.id}" in panels:
                repainted.append(f"#{self.id} update")
            return real_update(self, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", refresh_spy)
        monkeypatch.setattr(Static, "update", update_spy)
        await refresh_cycle(pilot, app)
        assert repainted == []
        fx = directory.service("prod-chat").fx
        fx.warm_pool = dataclasses.replace(fx.warm_pool, min_size=3)
        await refresh_cycle(pilot, app)
        assert "#warm update" in repainted and "#scaling update" not in repainted
        assert "min 3" in painted(d.query_one("#warm"))


def _layouts_asked(monkeypatch, label) -> list[str]:
    """From now on, `label(widget)` of every widget that asks for a layout (refresh(layout=True))."""
    layouts: list[str] = []
    real_refresh = Widget.refresh

    def refresh_spy(self, *args, **kwargs):
        if kwargs.get("layout"):
            layouts.append(label(self))
        return real_refresh(self, *args, **kwargs)

    monkeypatch.setattr(Widget, "refresh", refresh_spy)
    return layouts


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_read_and_sweep_that_change_nothing_ask_for_no_layout(make_app, monkeypatch, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        layouts = _layouts_asked(monkeypatch, lambda w: f"{type(w).__name__}#{w.id}")
        await refresh_cycle(pilot, app)
        assert layouts == []  # at 80x24 the chart info is hidden: it asked for one on every read


async def test_hidden_panels_ask_for_no_layout_and_show_the_latest_read_when_shown(make_app, directory, monkeypatch):
    app = make_app(directory)
    async with app.run_test(size=(80, 24)) as pilot:  # narrow: one panel at a time
        await settle(pilot, app)
        d = app.dashboard
        for key in ("2", "4", "1"):  # each panel drawn once, then the table again
            await pilot.press(key)
            await pilot.pause()
        layouts = _layouts_asked(monkeypatch, lambda w: f"#{w.id}")
        fx = directory.service("prod-chat").fx
        fx.metric = fx.metric[:-1] + [23456.0]
        fx.warm_pool = dataclasses.replace(fx.warm_pool, min_size=3)
        await refresh_cycle(pilot, app)
        assert not {"#chart-info", "#warm", "#scaling"} & set(layouts)
        await pilot.press("2")
        await pilot.pause()
        assert "now 23,456" in painted(d.query_one("#chart-info"))
        await pilot.press("4")
        await pilot.pause()
        assert "min 3" in painted(d.query_one("#warm"))
