"""The balance strip: how evenly connections are spread, in one line."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from wsfleet.balance import DEFAULT_MAX_SKEW, verdict
from wsfleet.model import BalanceStats, GroupState
from wsfleet.tui.styling import role_styles
from wsfleet.tui.view import ERROR, FLAG_SYMBOL, MUTED, OK, WARNING, fmt_int


@dataclass
class BalanceState:
    stats: BalanceStats | None = None
    over_ceiling: int = 0
    errors: int = 0
    capacity: int = 0
    max_skew: float = DEFAULT_MAX_SKEW
    group: GroupState | None = None


def _short(n: float | None) -> str:
    if n is None:
        return "—"
    if abs(n) >= 100_000:
        return f"{n / 1000:.0f}k"
    if abs(n) >= 1000:
        return f"{n / 1000:.1f}k"
    return f"{n:.0f}"


class BalanceStrip(Widget):
    DEFAULT_CSS = """
    BalanceStrip { height: 1; background: $surface; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = BalanceState()

    def update_state(self, **changes) -> None:
        for key, value in changes.items():
            setattr(self.state, key, value)
        self.refresh()

    def render(self) -> Text:
        s = self.state
        styles = role_styles(self.app.theme_variables, ansi=bool(getattr(self.app.current_theme, "ansi", False)))
        compact = (self.size.width or 80) < 120
        t = Text(no_wrap=True, overflow="ellipsis")
        st = s.stats
        sep = (" · ", styles[MUTED]) if not compact else (" ", "")

        def gap() -> None:
            t.append(*sep)

        if st is None or st.instances == 0:
            t.append(" no instances yet", style=styles[MUTED])
        else:
            t.append(f" {st.measured}/{st.instances} measured" if not compact else f" {st.measured}/{st.instances}")
            if st.measured:
                num = fmt_int if not compact else _short
                parts = [("total", st.total, "Σ"), ("mean", st.mean, "mean"), ("min", st.min, "min"), ("max", st.max, "max")]
                for label, value, short in parts:
                    gap()
                    t.append(f"{label if not compact else short}" + ("" if short == "Σ" and compact else " "), style=styles[MUTED])
                    t.append(num(value))
                if st.skew is not None:
                    v = verdict(st, s.max_skew)
                    gap()
                    t.append("skew ", style=styles[MUTED])
                    t.append(f"{st.skew:.2f} ")
                    if v == "balanced":
                        t.append("✓ balanced" if not compact else "✓", style=styles[OK])
                    else:
                        t.append("↑↓ imbalanced" if not compact else "↑↓", style=styles[WARNING])
            if s.over_ceiling:
                gap()
                t.append(f"{FLAG_SYMBOL['over']} {s.over_ceiling} over {fmt_int(s.capacity)}" if not compact else f"{FLAG_SYMBOL['over']}{s.over_ceiling}", style=styles[ERROR])
            if s.errors:
                gap()
                t.append(f"{FLAG_SYMBOL['error']} {s.errors} not measured" if not compact else f"{FLAG_SYMBOL['error']}{s.errors}", style=styles[ERROR])
        g = s.group
        if g is not None:
            right = Text(no_wrap=True)
            right.append("desired " if not compact else "des ", style=styles[MUTED])
            right.append(str(g.desired), style="bold")
            right.append(f" [{g.min_size}..{g.max_size}] ", style=styles[MUTED])
            room = (self.size.width or 80) - right.cell_len
            t.truncate(max(room - 1, 0), overflow="ellipsis")
            t.pad_right(max(room - t.cell_len, 0))
            t.append_text(right)
        return t
