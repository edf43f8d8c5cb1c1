"""The balance strip: how evenly connections are spread, in one line; and the trend line under it:
the fleet's skew over the window and which way it moves (wsfleet.trend)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from wsfleet.balance import DEFAULT_MAX_SKEW, verdict
from wsfleet.model import BalanceStats, GroupState
from wsfleet.trend import Trend
from wsfleet.tui.styling import app_styles
from wsfleet.tui.view import ERROR, FLAG_SYMBOL, MUTED, OK, WARNING, fmt_age, fmt_int, fmt_short, sparkline


@dataclass
class BalanceState:
    stats: BalanceStats | None = None
    over_ceiling: int = 0
    not_serving: int = 0  # Pending, Terminating, …: shown, but outside the balance
    errors: int = 0
    capacity: int = 0
    max_skew: float = DEFAULT_MAX_SKEW
    group: GroupState | None = None


def _short(n: float | None) -> str:
    return fmt_short(n, whole_k_from=100_000)  # "12.3k": the strip has room for one decimal up to 99.9k


class BalanceStrip(Widget):
    DEFAULT_CSS = """
    BalanceStrip { height: 1; background: $surface; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = BalanceState()

    def update_state(self, **changes) -> None:
        changed = False
        for key, value in changes.items():
            if getattr(self.state, key) != value:
                setattr(self.state, key, value)
                changed = True
        if changed:  # the screen passes the whole state on every batch of counts, mostly unchanged
            self.refresh()

    def render(self) -> Text:
        """The longest wording that fits: full labels, then shorter ones, then symbols only."""
        width = self.size.width or 80
        right = self._right(compact=width < 120)
        room = width - right.cell_len - 1
        for level in range(3):
            t = self._left(level)
            if t.cell_len <= room:
                break
        t.truncate(max(room, 0), overflow="ellipsis")
        if right:
            t.pad_right(max(room + 1 - t.cell_len, 0))
            t.append_text(right)
        return t

    def _right(self, compact: bool) -> Text:
        g = self.state.group
        right = Text(no_wrap=True)
        if g is None:
            return right
        styles = app_styles(self.app)
        right.append("desired " if not compact else "des ", style=styles[MUTED])
        right.append(str(g.desired), style="bold")
        right.append(f" [{g.min_size}..{g.max_size}] ", style=styles[MUTED])
        return right

    def _left(self, level: int) -> Text:
        s = self.state
        styles = app_styles(self.app)
        full, compact = level == 0, level == 2
        t = Text(no_wrap=True, overflow="ellipsis")
        st = s.stats
        sep = (" · ", styles[MUTED]) if not compact else (" ", "")

        def gap() -> None:
            t.append(*sep)

        if st is None or st.instances == 0:
            t.append(" no instances yet", style=styles[MUTED])
            return t
        t.append(f" {st.measured}/{st.instances} measured" if not compact else f" {st.measured}/{st.instances}")
        if st.measured:
            num = fmt_int if not compact else _short
            for label, value, short in (("total", st.total, "Σ"), ("mean", st.mean, "mean"), ("min", st.min, "min"), ("max", st.max, "max")):
                gap()
                word = label if full else short
                t.append(word + ("" if word == "Σ" and compact else " "), style=styles[MUTED])
                t.append(num(value))
            if st.skew is not None:
                gap()
                t.append("skew ", style=styles[MUTED])
                t.append(f"{st.skew:.2f} ")
                if verdict(st, s.max_skew) == "balanced":
                    t.append("✓" if compact else "✓ balanced", style=styles[OK])
                else:
                    t.append("↑↓" if compact else "↑↓ imbalanced", style=styles[WARNING])
        elif not compact:
            gap()
            t.append("nothing measured yet", style=styles[MUTED])
        if s.over_ceiling:
            gap()
            text = f"{FLAG_SYMBOL['over']} {s.over_ceiling} over {fmt_int(s.capacity)}" if full else f"{FLAG_SYMBOL['over']}{s.over_ceiling}" + ("" if compact else " over")
            t.append(text, style=styles[ERROR])
        if s.errors:
            gap()
            text = f"{FLAG_SYMBOL['error']} {s.errors} unmeasured" if full else f"{FLAG_SYMBOL['error']}{s.errors}" + ("" if compact else " unmeasured")
            t.append(text, style=styles[ERROR])
        if s.not_serving:
            gap()
            t.append(f"{s.not_serving} not serving" if not compact else f"+{s.not_serving}", style=styles[MUTED])
        return t


SKEW_SPARK_WIDTH = 16


class SkewTrendLine(Widget):
    """' skew over 1m ▇▆▅▄▃▂ 2.10 → 1.80 · shrinking: skew 1.80 → under 1.25 in ~12 min at the current churn'."""

    DEFAULT_CSS = """
    SkewTrendLine { height: 1; background: $surface; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trend: Trend | None = None
        self.skews: list[float] = []

    def update_trend(self, trend: Trend | None, skews: list[tuple[float, float]] | None = None) -> None:
        self.trend = trend
        self.skews = [s for _, s in (skews or [])]
        self.refresh()

    def render(self) -> Text:
        width = self.size.width or 80
        for level in range(3):
            t = self._line(level)
            if t.cell_len <= width:
                break
        t.truncate(max(width, 0), overflow="ellipsis")
        return t

    def _line(self, level: int) -> Text:
        styles = app_styles(self.app)
        trend = self.trend
        t = Text(no_wrap=True, overflow="ellipsis")
        if trend is None:
            t.append(" skew trend: waiting for the first sweep", style=styles[MUTED])
            return t
        full, compact = level == 0, level == 2
        if trend.points < 2:  # no window yet: just the skew
            t.append(" skew", style=styles[MUTED])
        else:
            t.append(" skew over " if full else " skew ", style=styles[MUTED])
            if not compact:
                t.append(f"{fmt_age(trend.span_s)} ", style=styles[MUTED])
            t.append(sparkline(self.skews, SKEW_SPARK_WIDTH if not compact else 8, min_span=0.02))
        if trend.skew is not None:
            if full and trend.first_skew is not None and trend.points > 1:
                t.append(f" {trend.first_skew:.2f} → {trend.skew:.2f}")
            else:
                t.append(f" {trend.skew:.2f}")
        t.append(" · " if not compact else " ", style=styles[MUTED])
        if trend.direction == "unknown":
            role = MUTED
        elif trend.converging:
            role = OK
        else:
            role = WARNING
        t.append(trend.sentence() if full else trend.short(), style=styles[role])
        return t
