"""The top line: which fleet, in which account and region, how fresh the data is, and the mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from wsfleet.tui.styling import app_styles
from wsfleet.tui.view import ACCENT, ERROR, MUTED, WARNING, age_seconds, fmt_age


@dataclass
class HeaderState:
    fleet: str = ""
    account_id: str | None = None  # None until this fleet's own read says which account
    account_read: bool = False  # a read came back: None then means STS could not say
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
        changed = False
        for key, value in changes.items():
            if getattr(self.state, key) != value:
                setattr(self.state, key, value)
                changed = True
        if changed:  # the screen passes the whole state on every batch of counts, mostly unchanged
            self.refresh()

    def render(self) -> Text:
        """Parts by importance; on a narrow terminal the least important go first (profile, region,
        labels), never the fleet, the account, the ages or the badges."""
        s = self.state
        styles = app_styles(self.app)
        width = self.size.width or 80
        now = self.clock()
        aws_age = age_seconds(s.status_at, now)
        counts_age = age_seconds(s.counts_at, now)
        late = 3 * max(s.interval, 1.0)
        aws_style = styles[ERROR] if s.stale else (styles[WARNING] if aws_age and aws_age > late else Style())
        counts_style = styles[WARNING] if counts_age and counts_age > late else Style()
        aws_text = (fmt_age(aws_age) if aws_age is not None else "…") + (" stale" if s.stale else "")
        counts_text = fmt_age(counts_age) if counts_age is not None else "…"
        busy = " ⟳" if s.busy and not s.paused else ""

        def build(level: int) -> Text:
            # level 0: everything spelled out; each level drops or shortens one thing
            t = Text(no_wrap=True, overflow="ellipsis")
            if level == 0:
                t.append(" wsfleet ", style="bold")
            else:
                t.append(" ")
            t.append(s.fleet or "—", style=styles[ACCENT])
            account = s.account_id or ("account ?" if s.account_read else "account …")
            t.append(("  acct " if level == 0 else " ") + account, style=Style() if s.account_id else styles[MUTED])
            if level < 4:
                t.append(f"  {s.region or 'default region'}" if level < 2 else f" {s.region or '-'}")
            if s.profile and level < 3:
                t.append(f"  profile {s.profile}" if level == 0 else f" {s.profile}", style=Style() if level == 0 else styles[MUTED])
            t.append(" │ ", style=styles[MUTED])
            t.append(f"{s.source} every {s.interval:g}s" if level == 0 else f"{s.source}/{s.interval:g}s")
            if level < 2:
                t.append("  aws ", style=styles[MUTED])
                t.append(aws_text, style=aws_style)
                t.append("  counts ", style=styles[MUTED])
                t.append(counts_text, style=counts_style)
            else:
                t.append(" age ", style=styles[MUTED])
                t.append(aws_text, style=aws_style)
                t.append("/", style=styles[MUTED])
                t.append(counts_text, style=counts_style)
            t.append(busy, style=styles[MUTED])
            return t

        badges = Text(no_wrap=True)
        if s.paused:
            badges.append(" ")
            badges.append(" PAUSED ", style=styles[WARNING] + Style(reverse=True))
        if s.read_only:
            badges.append(" ")
            badges.append(" READ-ONLY ", style=styles[ERROR] + Style(reverse=True))
        room = width - badges.cell_len
        for level in range(5):
            t = build(level)
            if t.cell_len <= room:
                break
        t.truncate(max(room, 0), overflow="ellipsis")
        if badges:
            t.pad_right(max(room - t.cell_len, 0))
            t.append_text(badges)
        return t
