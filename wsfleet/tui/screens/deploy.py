"""The deploy dialogs: start an instance refresh (with the same preview as `wsfleet refresh start`,
its capacity dip projected live from the dashboard's counts) and rebalance (drain the hottest
instances one at a time, with a progress panel; Esc stops after the current step and brings every
instance in Standby back)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from wsfleet.errors import UsageError, WsfleetError
from wsfleet.model import FleetStatus
from wsfleet.tui.screens.actions import ActionScreen, FormError, Tick
from wsfleet.tui.styling import app_styles
from wsfleet.tui.view import ERROR, MUTED, OK, WARNING, fmt_int, latest


class RefreshScreen(ActionScreen):
    DIALOG_TITLE = "Start an instance refresh"

    def __init__(self, service: Any, status: FleetStatus, mean: float | None = None) -> None:
        super().__init__(service, status)
        self.mean = mean

    def form(self) -> ComposeResult:
        yield Label("Min healthy % (AWS default 90)")
        yield Input("90", id="min-healthy", restrict=r"[0-9]*", compact=True)
        yield Label("Max healthy % (100-200; blank = 100)")
        yield Input("", id="max-healthy", restrict=r"[0-9]*", compact=True)
        yield Label("Instance warm-up, seconds (blank = the group's)")
        yield Input("", id="warmup", restrict=r"[0-9]*", compact=True)
        yield Label("Checkpoints, e.g. 20,50,100 (blank = none)")
        yield Input("", id="checkpoints", restrict=r"[0-9, ]*", compact=True)
        yield Tick("skip instances already on the new version", id="skip-matching", compact=True)
        yield Tick("pause the scaling alarms until it ends", id="suspend-scaling", compact=True)
        yield Tick("start even if the dip fires scale-out or passes the ceiling", id="force", compact=True)

    def _request(self) -> Any:
        from wsfleet import actions

        def value(widget_id: str) -> str | None:
            text = self.query_one(f"#{widget_id}", Input).value.strip()
            return text or None

        try:
            return actions.refresh_request(
                min_healthy=value("min-healthy"),
                max_healthy=value("max-healthy"),
                warmup=value("warmup"),
                checkpoints=value("checkpoints"),
                skip_matching=self.query_one("#skip-matching", Tick).value,
                suspend_scaling=self.query_one("#suspend-scaling", Tick).value,
                force=self.query_one("#force", Tick).value,
            )
        except UsageError as exc:
            raise FormError(exc.message) from None

    def live(self) -> Text:
        from wsfleet.scaling import live_steps, project_refresh

        s = self.styles_map
        request = self._request()
        g = self.status.group
        n = sum(1 for i in g.instances if i.lifecycle == "InService") or g.desired
        average = self.mean if self.mean is not None else latest(self.status.metric)[0]
        t = Text()
        refresh = self.status.instance_refresh
        if refresh is not None and refresh.active:
            t.append(f"✗ refresh {refresh.id} is already {refresh.status} ({refresh.percentage_complete or 0}%).", style=s[ERROR])
            return t
        if average is None or n == 0:
            t.append("no current average: no projection of the dip.", style=s[MUTED])
            return t
        p = request.preferences
        threshold, _, _ = live_steps(self.service.fleet, self.status)
        proj = project_refresh(average, n, p.min_healthy_percentage or 90, p.max_healthy_percentage or 100, threshold, self.service.fleet.capacity)
        per = "every connection dropped" if proj.per_instance == float("inf") else f"about {fmt_int(proj.per_instance)} each"
        t.append(f"{proj.serving} of {n} serve while {proj.batch} {'is' if proj.batch == 1 else 'are'} replaced: {per}")
        if proj.reaches_high:
            t.append(f"\n↯ at or over the scale-out threshold {fmt_int(threshold)}: the policy would fire mid-deploy.", style=s[ERROR])
        if proj.over_capacity:
            t.append(f"\n▲ over the per-instance ceiling {fmt_int(self.service.fleet.capacity)}.", style=s[ERROR])
        if proj.reaches_high or proj.over_capacity:
            if proj.safe_min_healthy is not None:
                t.append(f"\nmin healthy {proj.safe_min_healthy}% keeps it safe.", style=s[WARNING])
            else:
                t.append("\nmin healthy 100% with max healthy above 100% launches before terminating.", style=s[WARNING])
        else:
            t.append(f"\nstays below the scale-out threshold {fmt_int(threshold)} and the ceiling.", style=s[OK])
        return t

    def request(self) -> Callable[[Any], Any]:
        request = self._request()
        return lambda service: service.plan_refresh_start(request)


# ================================================================================= rebalance


class Progress(Message):
    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line


class Finished(Message):
    def __init__(self, run: Any = None, error: str | None = None) -> None:
        super().__init__()
        self.run = run
        self.error = error


class RebalanceScreen(ModalScreen[str | None]):
    """The plan (drains and where their connections land), then a progress panel while it runs."""

    BINDINGS = [
        Binding("escape", "stop", "Stop / close", id="rebalance_stop"),
        Binding("y", "start", "Start", id="rebalance_start"),
    ]

    def __init__(self, service: Any, status: FleetStatus, counts: dict[str, int], *, target_skew: float, max_drains: int = 3) -> None:
        super().__init__()
        self.service, self.status, self.counts = service, status, counts
        self.target_skew, self.max_drains = target_skew, max_drains
        self.plan: Any = None
        self.phase = "planning"  # planning | review | running | done
        self._stop = threading.Event()
        self._lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Rebalance", classes="dialog-title")
            with VerticalScroll(id="dialog-body"):
                yield Static("reading the load balancer…", id="plan")
                yield Static(id="progress")
            with Horizontal(id="buttons"):
                yield Button("Start", id="start", variant="error", compact=True)
                yield Button("Close", id="close", compact=True)
            yield Static("planning…", id="hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.styles_map = app_styles(self.app)
        self.query_one("#start").display = False
        self._plan()

    @work(thread=True, group="dialog", exit_on_error=False)
    def _plan(self) -> None:
        try:
            plan = self.service.plan_rebalance(self.status, self.counts, target_skew=self.target_skew, max_drains=self.max_drains)
        except WsfleetError as exc:
            self.app.call_from_thread(self._show_refusal, exc.message)
        except Exception as exc:
            self.app.call_from_thread(self._show_refusal, f"unexpected error while planning: {type(exc).__name__}: {exc}.")
        else:
            self.app.call_from_thread(self._show_plan, plan)

    def _show_refusal(self, sentence: str) -> None:
        self.phase = "done"
        self.query_one("#plan", Static).update(Text(sentence, style=self.styles_map[ERROR]))
        self.query_one("#hint", Static).update("esc close")

    def _show_plan(self, plan: Any) -> None:
        self.plan = plan
        self.phase = "review"
        s = self.styles_map
        t = Text(plan.summary, style="bold")
        for k, step in enumerate(plan.steps, start=1):
            t.append(f"\n{k}. {step.instance} {fmt_int(step.moved)} → 0; lands: ")
            t.append(", ".join(f"{i} {fmt_int(n)}" for i, n in sorted(step.during.items())))
            t.append(f"\n   skew {step.skew_before:.2f} → {step.skew_after:.2f}, average while out {fmt_int(step.average_during)}", style=s[MUTED])
        t.append(f"\nthen: {plan.stop_reason}", style=s[MUTED])
        for note in plan.notes:
            t.append(f"\n{note}", style=s[MUTED])
        self.query_one("#plan", Static).update(t)
        self.query_one("#start").display = True
        self.query_one("#start", Button).focus()
        self.query_one("#hint", Static).update("y start · esc close")

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_stop()

    def action_start(self) -> None:
        if self.phase != "review" or self.plan is None:
            return
        self.phase = "running"
        self.query_one("#start").display = False
        self.query_one("#hint", Static).update("running · esc stops after this step and brings the instance back")
        loop = asyncio.get_running_loop()
        self._run(loop)

    @work(thread=True, group="dialog", exit_on_error=False)
    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        def count() -> dict[str, int | None]:
            return asyncio.run_coroutine_threadsafe(self._sweep(), loop).result(timeout=120)

        try:
            run = self.service.run_rebalance(self.plan, count=count, progress=lambda line: self.post_message(Progress(line)),
                                             should_stop=self._stop.is_set)
        except WsfleetError as exc:
            self.post_message(Finished(error=exc.message))
        except Exception as exc:
            self.post_message(Finished(error=f"unexpected error: {type(exc).__name__}: {exc}."))
        else:
            self.post_message(Finished(run))

    async def _sweep(self) -> dict[str, int | None]:
        group = await asyncio.to_thread(lambda: self.service.read_status(window_minutes=5).group)
        return {c.instance_id: c.connections async for c in self.service.sweep(group)}

    @on(Progress)
    def _progress(self, msg: Progress) -> None:
        self._lines.append(msg.line)
        self.query_one("#progress", Static).update(Text("\n".join(self._lines[-12:])))

    @on(Finished)
    def _finished(self, msg: Finished) -> None:
        self.phase = "done"
        s = self.styles_map
        if msg.error:
            line = Text(f"✗ {msg.error}", style=s[ERROR])
        elif msg.run.failed:
            line = Text(f"✗ failed: {msg.run.stopped}; every instance in Standby was brought back.", style=s[ERROR])
        elif msg.run.stopped:
            line = Text(f"stopped: {msg.run.stopped}.", style=s[WARNING])
        else:
            line = Text(f"done: {len(msg.run.results)} drain(s); every instance InService.", style=s[OK])
        self._lines.append(line.plain)
        progress = Text("\n".join(self._lines[-12:-1]) + "\n")
        progress.append_text(line)
        self.query_one("#progress", Static).update(progress)
        self.query_one("#hint", Static).update("esc close")

    def action_stop(self) -> None:
        if self.phase == "running":
            self._stop.set()
            self.query_one("#hint", Static).update("stopping after this step; bringing the instance back…")
            return
        self.dismiss(None)
