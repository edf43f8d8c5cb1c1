"""The scaling panel (capacity, steps, scale-in, schedule, activities) and the warm pool panel."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Callable

from rich.text import Text
from textual.widgets import Static

from wsfleet.model import FleetConfig, FleetStatus
from wsfleet.scaling import flap_unsafe_sizes, step_for
from wsfleet.tui.styling import app_styles
from wsfleet.scaling import live_steps
from wsfleet.tui.view import ACCENT, ERROR, MUTED, OK, WARNING, fmt_int, fmt_step, high_alarm_params, latest, low_alarm_params


def _styles(widget) -> dict:
    return app_styles(widget.app)


def _provisioning(widget) -> bool:
    """Whether the fleet was still being provisioned by the app's boot when the widget's status
    was read: `wsfleet demo` opens the dashboard when its instances serve and provisions alarms,
    policies, warm pool and schedule after the first counts, so what is missing meanwhile is on
    its way, not absent. A read that began before provisioning ended counts as during it."""
    try:
        boot = getattr(widget.app, "boot", None)
    except Exception:  # not mounted in an app
        return False
    provisioning_at = getattr(boot, "provisioning_at", None)
    return bool(provisioning_at and widget.status is not None and provisioning_at(widget.status.taken_at))


_ON_ITS_WAY = "being provisioned…"


def _clock(dt: datetime | None, now: datetime | None) -> str:
    if dt is None:
        return "—"
    if now is not None and dt.tzinfo is not None and now.tzinfo is not None and abs((now - dt).total_seconds()) < 86400:
        return dt.astimezone(now.tzinfo).strftime("%H:%M:%S")
    return dt.strftime("%Y-%m-%d %H:%M")


def _next_run(recurrence: str | None, tz: str | None, now: datetime | None) -> str:
    if not recurrence or now is None:
        return ""
    try:
        from wsfleet.cron import next_run

        nxt = next_run(recurrence, tz, now)
    except Exception:  # a recurrence AWS holds but our parser refuses: say so, don't crash
        return "next: ?"
    if nxt is None:
        return "next: never"
    return "next " + nxt.strftime("%a %d %b %H:%M %Z")


class _TextPanel(Static):
    """A Static over one built Text, replaced only when it reads differently: `update` lays the
    whole screen out again, and the panels are rebuilt on every AWS read, mostly to the same text."""

    _shown: Text | None = None

    def show(self, text: Text) -> None:
        if self._shown is not None and text == self._shown:  # same characters, same styles
            return
        self._shown = text
        self.update(text, layout=bool(self.region))  # hidden (80x24): laid out when shown


class ScalingPanel(_TextPanel):
    def __init__(self, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.fleet: FleetConfig | None = None
        self.status: FleetStatus | None = None

    def set_data(self, fleet: FleetConfig | None, status: FleetStatus | None) -> None:
        self.fleet, self.status = fleet, status
        self.show(self.build())

    def on_mount(self) -> None:
        self.show(self.build())

    def build(self) -> Text:
        s = _styles(self)
        t = Text(no_wrap=True, overflow="ellipsis")  # one line per item; narrow panels cut, not wrap
        fleet, status = self.fleet, self.status
        if fleet is None or status is None:
            t.append("waiting for the first read…", style=s[MUTED])
            return t
        g = status.group
        in_service = sum(1 for i in g.instances if i.lifecycle == "InService")
        pending = sum(1 for i in g.instances if i.lifecycle.startswith("Pending"))
        t.append("Capacity ", style=s[ACCENT])
        t.append(f"desired {g.desired} [{g.min_size}..{g.max_size}] · {in_service} in service")
        if pending:
            t.append(f" · {pending} pending", style=s[WARNING])
        if g.suspended_processes:
            t.append(f"\n  suspended: {', '.join(g.suspended_processes)}", style=s[WARNING])
        self._refresh_line(t, status, s)
        # scale out
        hp = high_alarm_params(fleet, status.high_alarm)
        threshold, steps, origin = live_steps(fleet, status)
        value, _ = latest(status.metric)
        firing = step_for(value, threshold, steps) if value is not None else None
        pol = status.scale_out_policy
        t.append("\nScale out ", style=s[ACCENT])
        t.append(f"≥ {fmt_int(hp.threshold)} · {hp.datapoints_to_alarm} of {hp.evaluation_periods} × {hp.period}s")
        warmup = pol.warmup if pol and pol.warmup is not None else fleet.scale_out.warmup
        t.append(f" · warmup {warmup}s", style=s[MUTED])
        provisioning = _provisioning(self)
        if pol is None and provisioning:
            t.append(f" · {_ON_ITS_WAY}", style=s[MUTED])
        elif pol is None:
            t.append(" · no policy in AWS (run `wsfleet provision`)", style=s[WARNING])
        for step in steps:
            t.append("\n  " + fmt_step(step), style=s[ERROR] if step == firing else "")
            if step == firing:
                t.append("  ◀ fires now", style=s[ERROR])
        # scale in
        lp = low_alarm_params(fleet, status.low_alarm)
        inpol = status.scale_in_policy
        remove = -(inpol.scaling_adjustment or 0) if inpol and inpol.scaling_adjustment else fleet.scale_in.remove
        cooldown = inpol.cooldown if inpol and inpol.cooldown is not None else fleet.scale_in.cooldown
        t.append("\nScale in ", style=s[ACCENT])
        t.append(f"≤ {fmt_int(lp.threshold)} · {lp.datapoints_to_alarm} of {lp.evaluation_periods} × {lp.period}s → −{remove}")
        t.append(f" · cooldown {cooldown}s", style=s[MUTED])
        if inpol is None and provisioning:
            t.append(f" · {_ON_ITS_WAY}", style=s[MUTED])
        elif inpol is None:
            t.append(" · no policy in AWS", style=s[WARNING])
        unsafe = flap_unsafe_sizes(lp.threshold, hp.threshold, g.min_size, g.max_size, remove=max(remove, 1))
        if unsafe:
            t.append(f"\n  ↯ flaps at n = {_ranges(unsafe)}: removing {max(remove, 1)} at {fmt_int(lp.threshold)} reaches {fmt_int(hp.threshold)}", style=s[WARNING])
        else:
            t.append(f"\n  flap-safe for {g.min_size}..{g.max_size} instances", style=s[OK])
        # schedule
        now = self.clock()
        t.append("\nSchedule", style=s[ACCENT])
        if not status.scheduled_actions:
            t.append(f"  {_ON_ITS_WAY}" if provisioning else "  none", style=s[MUTED])
        for a in status.scheduled_actions:
            sizes = " ".join(f"{k} {v}" for k, v in (("min", a.min_size), ("max", a.max_size), ("desired", a.desired_capacity)) if v is not None)
            t.append(f"\n  {a.name}", style="bold")
            t.append(f"  {sizes}")
            when = a.recurrence or (a.start_time.isoformat() if a.start_time else "")
            t.append(f"\n    {when} {a.time_zone or 'UTC'}", style=s[MUTED])
            nxt = _next_run(a.recurrence, a.time_zone, now)
            if nxt:
                t.append(f" · {nxt}", style=s[OK])
        # activities
        t.append("\nActivities", style=s[ACCENT])
        if not status.activities:
            t.append("  none recorded", style=s[MUTED])
        for act in status.activities[:6]:
            role = OK if act.status == "Successful" else ERROR if act.status in ("Failed", "Cancelled") else WARNING
            t.append(f"\n  {_clock(act.start_time, now)} ", style=s[MUTED])
            t.append(f"{act.status:<10}", style=s[role])
            t.append(f" {act.description}")
        return t


    def _refresh_line(self, t: Text, status: FleetStatus, s: dict) -> None:
        """The running instance refresh (or one that ended in the last half hour), or that this
        endpoint cannot say."""
        r = status.instance_refresh
        if status.refresh_unavailable:
            t.append("\nRefresh ", style=s[ACCENT])
            t.append("unavailable from this endpoint", style=s[MUTED])
            return
        if r is None:
            return
        now = self.clock()
        if r.active:
            t.append("\nRefresh ", style=s[ACCENT])
            t.append(f"{r.status} {r.percentage_complete or 0}%", style=s[WARNING])
            if r.instances_to_update is not None:
                t.append(f" · {r.instances_to_update} to update")
            if r.preferences.min_healthy_percentage is not None:
                t.append(f" · min healthy {r.preferences.min_healthy_percentage}%", style=s[MUTED])
            if r.last_checkpoint is not None:
                t.append(f" · checkpoint {r.last_checkpoint}%", style=s[MUTED])
        elif r.ended_at is not None and (now - r.ended_at).total_seconds() < 1800:
            role = OK if r.status == "Successful" else ERROR
            t.append("\nRefresh ", style=s[ACCENT])
            t.append(r.status, style=s[role])
            t.append(f" · ended {_clock(r.ended_at, now)}", style=s[MUTED])


def _ranges(ns: list[int]) -> str:
    ns = sorted(set(ns))
    out: list[str] = []
    start = prev = ns[0]
    for n in ns[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}..{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


class WarmPoolPanel(_TextPanel):
    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.status: FleetStatus | None = None

    def set_data(self, status: FleetStatus | None) -> None:
        self.status = status
        self.show(self.build())

    def on_mount(self) -> None:
        self.show(self.build())

    def build(self) -> Text:
        s = _styles(self)
        t = Text(no_wrap=True, overflow="ellipsis")
        if self.status is None:
            t.append("waiting for the first read…", style=s[MUTED])
            return t
        wp = self.status.warm_pool
        if wp is None and _provisioning(self):
            t.append(f"the warm pool is {_ON_ITS_WAY}", style=s[MUTED])
            return t
        if wp is None:
            t.append("no warm pool: a scale-out launches cold instances\n", style=s[MUTED])
            t.append("press w to configure one", style=s[MUTED])
            return t
        maxp = str(wp.max_prepared_capacity) if wp.max_prepared_capacity is not None else f"group max ({self.status.group.max_size})"
        t.append("State ", style=s[ACCENT])
        t.append(f"{wp.pool_state}   ")
        t.append("min ", style=s[ACCENT])
        t.append(f"{wp.min_size}   ")
        t.append("max prepared ", style=s[ACCENT])
        t.append(maxp)
        t.append("\nReuse on scale-in ", style=s[ACCENT])
        t.append("yes" if wp.reuse_on_scale_in else "no")
        if wp.status:
            t.append(f"   status {wp.status}", style=s[WARNING])
        by_state = Counter(i.lifecycle for i in wp.instances)
        t.append("\nInstances ", style=s[ACCENT])
        if not wp.instances:
            t.append("none warmed yet", style=s[WARNING] if wp.min_size else s[MUTED])
        else:
            t.append(" · ".join(f"{n} {state}" for state, n in sorted(by_state.items())))
            ready = sum(n for state, n in by_state.items() if state.startswith("Warmed:") and not state.startswith("Warmed:Pending"))
            t.append(f"\n  {ready} ready for the next scale-out", style=s[OK] if ready else s[WARNING])
            for inst in wp.instances:
                role = OK if inst.lifecycle in ("Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated") else WARNING
                t.append(f"\n  {inst.id}  ")
                t.append(inst.lifecycle, style=s[role])
                t.append(f"  {inst.az}", style=s[MUTED])
        return t
