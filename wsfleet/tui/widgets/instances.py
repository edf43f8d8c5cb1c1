"""The instances table: one row per instance, diff-updated by row key as counts stream in.

The table's rows are a view of `self.rows` (every instance the group read or a count reported),
narrowed by the `/` filter and ordered by the sort column. A refresh never clears the table: rows
are added and removed by key, cells are rewritten only when their text or role changed, and
columns have fixed widths (no width recomputation on update: NOTES.md, DataTable costs).

Each count also goes into the table's `history` (wsfleet.trend.CountHistory), from which the row's
sparkline is drawn as the count arrives; the screen adds the fleet's skew after each sweep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist

from wsfleet.balance import DEFAULT_MAX_SKEW, balance_stats, serving, sweep_balance
from wsfleet.model import BalanceStats, Instance, InstanceCount, LaunchTemplateRef
from wsfleet.trend import CountHistory, Trend
from wsfleet.tui.styling import app_styles, role_styles, styled
from wsfleet.tui.view import COLUMN_KEYS, COLUMNS, SPARK_WIDTH, Cell, InstanceRow, Judgement, judge, matches, row_cells, sort_value

Cells = dict[str, Cell]
TEXT_CACHE_SIZE = 20_000  # styled cell texts kept for reuse (bars, deltas, flags and flat sparklines repeat)


class InstanceTable(DataTable):
    """DataTable with a model behind it; see the module docstring."""

    def __init__(self, *, capacity: int = 28000, max_skew: float = DEFAULT_MAX_SKEW, address_kind: str = "private_ip", id: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.monotonic = monotonic  # the history's clock (the screen's wall clock may be frozen in tests)
        self.history = CountHistory()
        self.capacity = capacity
        self.max_skew = max_skew
        self.address_kind = address_kind
        self.now: datetime | None = None
        self.rows_by_id: dict[str, InstanceRow] = {}
        self.judgements: dict[str, Judgement] = {}
        self.stats: BalanceStats = balance_stats([])
        self.filter_text = ""
        self.sort_column = "id"
        self.sort_reverse = False
        self._rendered: dict[str, Cells] = {}
        self._styles = role_styles({}, ansi=True)
        self._texts: dict[Cell, Text] = {}
        self._drawn_cells: dict[tuple[int, int], tuple[object, tuple, Any]] = {}  # see _render_cell

    # ------------------------------------------------------------------ setup

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col.label, width=col.width, key=col.key)
        self._label_sorted_column()
        self.set_styles_from_theme()

    def on_resize(self) -> None:
        self.fit_error_column()

    def fit_error_column(self) -> None:
        """The error column takes the width the others leave (the others never change width)."""
        column = self.columns.get(ColumnKey("error"))
        if column is None or not self.size.width:
            return
        pad = 2 * self.cell_padding
        used = sum(c.width + pad for c in COLUMNS if c.key != "error")
        width = max(16, self.size.width - used - pad - 1)
        if column.width != width:
            column.width = width
            self._require_update_dimensions = True
            self._clear_caches()
            self.refresh()

    def set_styles_from_theme(self) -> bool:
        """Restyle every cell for the app's theme; False (nothing done) when its colours are the ones drawn."""
        styles = app_styles(self.app)
        if styles == self._styles:
            return False
        self._styles = styles
        self._texts.clear()
        self._rendered.clear()
        self.render_rows(force=True)
        return True

    # ------------------------------------------------------------------ model updates

    def reset(self, *, capacity: int, address_kind: str, max_skew: float = DEFAULT_MAX_SKEW) -> None:
        """A different fleet: nothing of the previous one may stay on screen."""
        self.capacity = capacity
        self.max_skew = max_skew
        self.address_kind = address_kind
        self.rows_by_id.clear()
        self.judgements.clear()
        self._rendered.clear()
        self.history.clear()
        self.stats = balance_stats([])
        self.clear()

    def set_instances(self, instances: Sequence[Instance], launch_template: LaunchTemplateRef | None = None) -> None:
        """The group's members from an AWS read: new ones appear, gone ones disappear. With the
        group's (resolved) launch template, each row says whether it runs the current version."""
        current = {i.id for i in instances}
        for gone in [rid for rid in self.rows_by_id if rid not in current]:
            del self.rows_by_id[gone]
            self.judgements.pop(gone, None)
            self._drop_row(gone)
        added = False
        for inst in instances:
            row = self.rows_by_id.get(inst.id)
            if row is None:
                self.rows_by_id[inst.id] = InstanceRow.from_instance(inst, self.address_kind, launch_template)
                added = True
            else:
                self.rows_by_id[inst.id] = row.with_instance(inst, launch_template)
        self.render_rows(resort=added)

    def apply_counts(self, counts: Iterable[InstanceCount]) -> None:
        """Counts as hosts answer (a batch of the stream). Unknown ids get a row of their own."""
        added = False
        history, now = self.history, self.monotonic()
        for count in counts:
            row = self.rows_by_id.get(count.instance_id)
            if row is None:
                row = InstanceRow(id=count.instance_id, az=count.az, lifecycle=count.lifecycle, health=count.health)
                added = True
            history.observe(count.instance_id, now, None if count.error else count.connections)
            self.rows_by_id[count.instance_id] = row.with_count(count, history.counts(count.instance_id, SPARK_WIDTH))
        self.render_rows(resort=added)

    def sweep_ended(self) -> Trend:
        """After a sweep: the fleet's skew into the history (and its bounds kept); the trend."""
        now = self.monotonic()
        self.history.observe_skew(now, self.stats.skew if self.stats.measured else None)
        self.history.prune(now)
        return self.history.trend(self.max_skew)

    # ------------------------------------------------------------------ rendering (diff by row key)

    def render_rows(self, *, force: bool = False, resort: bool = False) -> None:
        rows = self.rows_by_id
        self.stats = sweep_balance(rows.values())  # serving instances only, as `wsfleet check` computes it
        mean = self.stats.mean
        capacity, max_skew, now, text = self.capacity, self.max_skew, self.now, self._text
        present = self.rows
        rendered = self._rendered
        changed: list[tuple[str, str, Text]] = []
        with self.app.batch_update():
            for rid, row in rows.items():
                j = judge(row, mean, capacity, max_skew, serving(row))
                self.judgements[rid] = j
                if self.filter_text and not matches(row, self.filter_text):
                    if rid in rendered:
                        self._drop_row(rid)
                    continue
                cells = row_cells(row, j, now)
                previous = rendered.get(rid)
                if rid not in present:
                    self.add_row(*(text(cells[k]) for k in COLUMN_KEYS), key=rid)
                    resort = True
                elif force or previous is None:
                    changed.extend((rid, k, text(cells[k])) for k in COLUMN_KEYS)
                elif previous != cells:
                    changed.extend([(rid, k, text(c)) for k, c in cells.items() if previous[k] != c])
                rendered[rid] = cells
            self.update_cells(changed)
            if resort:
                self.resort()

    def _text(self, cell: Cell) -> Text:
        """The styled text of a cell, shared by every cell with the same text and role: a sweep
        rewrites thousands of cells, and building a rich Text is most of a cell's cost. (Cells are
        only rendered, never changed in place, so sharing is safe.)"""
        found = self._texts.get(cell)
        if found is None:
            if len(self._texts) >= TEXT_CACHE_SIZE:
                self._texts.clear()
            found = self._texts[cell] = styled(cell, self._styles)
        return found

    def update_cells(self, changes: Iterable[tuple[str, str, Text]]) -> None:
        """`update_cell` for many cells with one repaint.

        DataTable.update_cell stores the value and repaints, once per call: at 1,000 rows that
        repaint bookkeeping was two thirds of a sweep's cost. This stores the same values the same
        way (never touching widths: fixed columns) and repaints once.
        """
        data = self._data
        count = 0
        for row_key, column_key, value in changes:
            row = data.get(row_key)
            if row is None or column_key not in row:
                self.update_cell(row_key, column_key, value)  # raises CellDoesNotExist, as it would
                continue
            row[column_key] = value
            count += 1
        if count:
            self._update_count += 1
            self.refresh()

    # ------------------------------------------------------------------ painting

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int, cursor: bool = False, hover: bool = False) -> Any:
        """DataTable's cell painting, kept per cell while the cell's value and look stay the same.

        DataTable keys its own cell cache on a counter that every update bumps, so a sweep that
        changes a few counts painted every visible cell again through Rich (Padding, Styled):
        most of a sweep's paint. A value here is one of the shared, never-changed Texts of
        `_text`, so the same object in the same place, at the same width and in the same state
        paints the same lines. Whatever else changes a cell's look (theme, CSS, cursor display)
        goes through `_clear_caches` / `notify_style_update`, which empty this cache too.
        """
        if row_index < 0 or column_index < 0:  # the header row, row labels: as DataTable does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self._data.get(row_key) if row_key is not None else None
        value = row.get(column_key) if row is not None else None
        if value is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        look = (
            base_style, width, cursor, hover, self.rows[row_key].height, self.cell_padding, self.show_cursor, self._show_hover_cursor,
            self._pseudo_class_state, self.fixed_rows, self.fixed_columns, self.cursor_foreground_priority, self.cursor_background_priority,
        )
        slot = (row_index, column_index)
        drawn = self._drawn_cells.get(slot)
        if drawn is not None and drawn[0] is value and drawn[1] == look:
            return drawn[2]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._drawn_cells[slot] = (value, look, lines)
        return lines

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._forget_drawn_cells()

    def notify_style_update(self) -> None:
        self._forget_drawn_cells()
        super().notify_style_update()

    def _forget_drawn_cells(self) -> None:
        cells = getattr(self, "_drawn_cells", None)  # None while DataTable.__init__ runs
        if cells:
            cells.clear()

    def _drop_row(self, rid: str) -> None:
        self._rendered.pop(rid, None)
        try:
            self.remove_row(rid)
        except RowDoesNotExist:
            pass

    # ------------------------------------------------------------------ filter and sort

    def set_filter(self, query: str) -> None:
        self.filter_text = query.strip()
        self.render_rows(resort=True)

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if column not in COLUMN_KEYS:
            raise ValueError(column)
        if reverse is None:
            reverse = (not self.sort_reverse) if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column, reverse
        self._label_sorted_column()
        self.resort()

    def resort(self) -> None:
        """Reorder rows by the sort column; the cursor stays on the same instance, the scroll stays put."""
        if not self.row_count:
            return
        cursor_key = self.cursor_key()
        column, rows, judgements, reverse = self.sort_column, self.rows_by_id, self.judgements, self.sort_reverse
        self.sort("id", key=lambda cell: sort_value(column, rows[cell.plain], judgements[cell.plain], reverse), reverse=reverse)
        if cursor_key is not None:
            try:
                self.move_cursor(row=self.get_row_index(cursor_key), scroll=False)
            except RowDoesNotExist:
                pass

    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

    def _label_sorted_column(self) -> None:
        arrow = "▼" if self.sort_reverse else "▲"
        for col in COLUMNS:
            column = self.columns.get(ColumnKey(col.key))
            if column is None:
                continue
            if col.key != self.sort_column:
                column.label = Text(col.label)
            elif col.width < 3:
                column.label = Text(arrow)
            else:
                column.label = Text(f"{col.label} {arrow}")
        self._update_count += 1
        self.refresh()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(event.column_key.value)

    # ------------------------------------------------------------------ reads for others

    def visible_count(self) -> int:
        return self.row_count

    def rows_in_order(self) -> list[InstanceRow]:
        """All rows (not only the filtered ones), in the current sort order."""
        column, judgements, reverse = self.sort_column, self.judgements, self.sort_reverse
        rows = list(self.rows_by_id.values())
        rows.sort(key=lambda r: sort_value(column, r, judgements.get(r.id) or judge(r, self.stats.mean, self.capacity, self.max_skew, serving(r)), reverse), reverse=reverse)
        return rows
