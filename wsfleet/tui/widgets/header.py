"""The top line: which fleet, in which account and region, how fresh the data is, and the mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from wsfleet.tui.styling import role_styles
from wsfleet.tui.view import ERROR, MUTED, WARNING, age_seconds, fmt_age


@dataclass
class HeaderState:
    fleet: str = ""
    account_id: str | None = None  # None until this fleet's own read says which account
    region: str | None = None
    profile: str | None = None
    source: str = "ssh"
    interval: float = 5.0
    status_at: datetime | None = None
    counts_at: datetime | None = None
    stale: bool = False  # the last AWS read failed: what is shown is the last good one
    read_only: bool = False
    paused: bool = False
    busy: bool = False


class FleetHeader(Widget):
    DEFAULT_CSS = """
    FleetHeader { height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = HeaderState()
        self.clock = clock

    def update_state(self, **changes) -> None:
        for key, value in changes.items():
            setattr(self.state, key, value)
        self.refresh()

    def render(self) -> Text:
        s = self.state
        styles = role_styles(self.app.theme_variables, ansi=bool(getattr(self.app.current_theme, "ansi", False)))
        width = self.size.width or 80
        compact = width < 120
        now = self.clock()
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" wsfleet " if not compact else " ", style="bold")
        t.append(s.fleet or "—", style=styles["accent"])
        account = s.account_id or "account …"
        t.append(("  acct " if not compact else "  ") + account, style="" if s.account_id else styles[MUTED])
        t.append(f"  {s.region or 'default region'}")
        if s.profile:
            t.append(f"  {'profile ' if not compact else ''}{s.profile}", style=styles[MUTED] if compact else "")
        t.append("  │ ", style=styles[MUTED])
        t.append(f"{s.source} every {s.interval:g}s" if not compact else f"{s.source}/{s.interval:g}s")
        aws_age = age_seconds(s.status_at, now)
        counts_age = age_seconds(s.counts_at, now)
        late = 3 * max(s.interval, 1.0)
        t.append("  aws " if not compact else "  aws ", style=styles[MUTED])
        t.append(fmt_age(aws_age) if aws_age is not None else "…", style=styles[ERROR] if s.stale else (styles[WARNING] if aws_age and aws_age > late else ""))
        if s.stale:
            t.append(" stale", style=styles[ERROR])
        t.append("  counts ", style=styles[MUTED])
        t.append(fmt_age(counts_age) if counts_age is not None else "…", style=styles[WARNING] if counts_age and counts_age > late else "")
        if s.busy and not s.paused:
            t.append(" ⟳", style=styles[MUTED])
        badges: list[tuple[str, Style]] = []
        if s.paused:
            badges.append((" PAUSED ", styles[WARNING] + Style(reverse=True)))
        if s.read_only:
            badges.append((" READ-ONLY ", styles[ERROR] + Style(reverse=True)))
        if badges:
            right = Text(no_wrap=True)
            for label, style in badges:
                right.append(" ")
                right.append(label, style=style)
            room = width - right.cell_len
            t.truncate(max(room, 0), overflow="ellipsis")
            t.pad_right(max(room - t.cell_len, 0))
            t.append_text(right)
        return t
