"""Dialogs that change the fleet, all through `wsfleet.actions` (via the FleetService):
edit → preview the plan (before/after, warnings) → apply → the outcome.

A wrong value shows one sentence under the form and nothing is planned or written. Building the
plan and applying it read and write AWS, so both run in thread workers; the dialog says what it is
doing meanwhile and ignores a second Enter.
"""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from wsfleet.errors import ConfigError, WsfleetError
from wsfleet.model import FleetStatus, POOL_STATES, StepRange
from wsfleet.scaling import live_steps, warm_pool_size
from wsfleet.tui.styling import app_styles
from wsfleet.tui.view import ERROR, MUTED, OK, WARNING, fmt_int, fmt_step, latest, low_alarm_params


class Tick(Checkbox):
    """A checkbox whose state reads without colour: X when ticked, blank when not."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.BUTTON_INNER = "X" if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
        super().watch_value()
        self.refresh()


class FormError(Exception):
    """A wrong value in a dialog: one sentence saying what, where and what to do."""


class PlanReady(Message):
    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan


class PlanFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class Applied(Message):
    def __init__(self, outcome: Any) -> None:
        super().__init__()
        self.outcome = outcome


class ApplyFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


def whole_number(text: str, what: str, *, minimum: int = 0, blank: int | None | str = "required") -> int | None:
    """Parse one whole-number field; FormError with one sentence when it isn't one."""
    t = text.strip().replace("_", "").replace(",", "")
    if not t:
        if blank == "required":
            raise FormError(f"{what} is empty; type a whole number.")
        return blank  # type: ignore[return-value]
    if not t.lstrip("+-").isdigit():
        raise FormError(f"{what} must be a whole number, not {text.strip()!r}.")
    value = int(t)
    if value < minimum:
        raise FormError(f"{what} must be {minimum} or more, not {value}.")
    return value


def connections(text: str, what: str) -> float:
    t = text.strip().replace("_", "").replace(",", "")
    try:
        value = float(t)
    except ValueError:
        raise FormError(f"{what} must be a number of connections per instance, like 20000, not {text.strip()!r}.") from None
    if value <= 0 or value != value or value in (float("inf"),):
        raise FormError(f"{what} must be a positive number of connections per instance, not {text.strip()!r}.")
    return value


def render_plan(plan: Any, styles: dict) -> Group:
    """A plan as the user reads it: the summary, each change field by field, warnings, notes."""
    parts: list[Any] = [Text(plan.summary, style="bold")]
    for change in plan.changes:
        head = Text()
        kind_role = {"create": OK, "update": WARNING, "delete": ERROR}.get(change.kind, MUTED)
        head.append(f"\n{change.kind:<9}", style=styles[kind_role])
        head.append(f" {change.resource} {change.name}")
        parts.append(head)
        diffs = change.diffs if hasattr(change, "diffs") else ()
        if diffs:
            table = Table.grid(padding=(0, 2))
            table.add_column(style=styles[MUTED], no_wrap=True)
            table.add_column(justify="right", no_wrap=False)
            table.add_column(no_wrap=True)
            table.add_column(justify="left", style="bold", no_wrap=False)
            for d in diffs:
                table.add_row("  " + d.field, _value(d.before), "→", _value(d.after))
            parts.append(table)
    for w in getattr(plan, "all_warnings", getattr(plan, "warnings", ())):
        parts.append(Text(f"⚠ {w}", style=styles[WARNING]))
    for n in getattr(plan, "notes", ()):
        parts.append(Text(n, style=styles[MUTED]))
    return Group(*parts)


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v.is_integer():
        return f"{int(v):,}"
    if isinstance(v, (int, float)):
        return f"{v:,}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) if not isinstance(x, (list, tuple)) else "(" + " ".join(_value(y) for y in x) + ")" for x in v)
    return str(v)


class ActionScreen(ModalScreen[str | None]):
    """Base dialog: subclasses give `form()`, `live()` and `request()`."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="modal_cancel"),
        Binding("y", "apply", "Apply", id="modal_apply"),
    ]
    DIALOG_TITLE = ""
    PREVIEW_ON_MOUNT = False

    def __init__(self, service: Any, status: FleetStatus | None) -> None:
        super().__init__()
        self.service = service
        self.status = status
        self.phase = "edit"  # edit | planning | review | applying
        self.plan: Any = None
        self.outcome: Any = None

    # -------------------------------------------------------------- subclass hooks

    def form(self) -> ComposeResult:
        return iter(())

    def live(self) -> Text:
        return Text()

    def request(self) -> Callable[[Any], Any]:
        """Validate the form; return a function service -> Plan. Raise FormError on a wrong value."""
        raise NotImplementedError

    # -------------------------------------------------------------- composition

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.DIALOG_TITLE, classes="dialog-title")
            with VerticalScroll(id="dialog-body"):
                with Vertical(id="form"):
                    yield from self.form()
                yield Static(id="live")
                yield Static(id="problem")
                yield Static(id="plan")
            with Horizontal(id="buttons"):
                yield Button("Preview", id="preview", variant="primary", compact=True)
                yield Button("Apply", id="apply", variant="error", compact=True)
                yield Button("Back", id="back", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Static("enter preview · esc cancel", id="hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.styles_map = app_styles(self.app)
        self._set_phase("edit")
        self._update_live()
        if self.PREVIEW_ON_MOUNT:
            self.action_preview()
        else:
            first = next((w for w in self.query("#form Input, #form Select, #form Checkbox") if not w.disabled), None)
            if first is not None:
                first.focus()

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        reviewing = phase in ("review", "applying")
        self.query_one("#preview").display = phase in ("edit", "planning")
        self.query_one("#apply").display = reviewing
        self.query_one("#back").display = reviewing and not self.PREVIEW_ON_MOUNT
        self.query_one("#apply", Button).disabled = phase == "applying"
        self.query_one("#preview", Button).disabled = phase == "planning"
        for w in self.query("#form Input, #form Select, #form Checkbox"):
            w.disabled = phase != "edit" or w.has_class("fixed")
        self.query_one("#plan").display = reviewing
        self.query_one("#live").display = phase in ("edit", "planning")
        hint = {
            "edit": "enter preview · esc cancel",
            "planning": "reading the current state…",
            "review": "y apply · esc cancel" + ("" if self.PREVIEW_ON_MOUNT else " · back to edit"),
            "applying": "applying… (reading back the result)",
        }[phase]
        self.query_one("#hint", Static).update(hint)

    def _problem(self, sentence: str | None) -> None:
        if sentence and not sentence.rstrip().endswith((".", "?", "!")):
            sentence = sentence.rstrip() + "."
        box = self.query_one("#problem", Static)
        box.update(Text(sentence, style=self.styles_map[ERROR]) if sentence else "")
        box.display = bool(sentence)

    def _update_live(self) -> None:
        try:
            text = self.live()
        except FormError as exc:
            text = Text(str(exc), style=self.styles_map[ERROR])
        except WsfleetError as exc:
            text = Text(exc.message, style=self.styles_map[ERROR])
        self.query_one("#live", Static).update(text)

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        if self.phase == "edit":
            self._problem(None)
            self._update_live()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#preview")
    def _preview_pressed(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.plan = None
        self._problem(None)
        self._set_phase("edit")
        self._update_live()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    # -------------------------------------------------------------- preview → apply

    def action_preview(self) -> None:
        if self.phase != "edit":
            return
        try:
            make = self.request()
        except FormError as exc:
            self._problem(str(exc))
            return
        except WsfleetError as exc:
            self._problem(exc.message)
            return
        self._problem(None)
        self._set_phase("planning")
        self._make_plan(make)

    @work(thread=True, group="dialog", exit_on_error=False)
    def _make_plan(self, make: Callable[[Any], Any]) -> None:
        try:
            plan = make(self.service)
        except WsfleetError as exc:
            self.post_message(PlanFailed(exc.message))
        except Exception as exc:
            self.post_message(PlanFailed(f"unexpected error while planning: {type(exc).__name__}: {exc}."))
        else:
            self.post_message(PlanReady(plan))

    @on(PlanFailed)
    def _plan_failed(self, msg: PlanFailed) -> None:
        self._problem(msg.error)
        self._set_phase("edit")
        if self.PREVIEW_ON_MOUNT:
            self.query_one("#preview").display = False
            self.query_one("#hint", Static).update("esc close")

    @on(PlanReady)
    def _plan_ready(self, msg: PlanReady) -> None:
        self.plan = msg.plan
        self.query_one("#plan", Static).update(render_plan(msg.plan, self.styles_map))
        self._set_phase("review")
        if not getattr(msg.plan, "has_changes", True):
            self.query_one("#apply").display = False
            self.query_one("#hint", Static).update("nothing to change · esc close")
            self.query_one("#cancel", Button).focus()
            return
        self.query_one("#apply", Button).focus()

    def action_apply(self) -> None:
        if self.phase != "review" or self.plan is None or not getattr(self.plan, "has_changes", True):
            return
        self._set_phase("applying")
        self._execute(self.plan)

    @work(thread=True, group="dialog", exit_on_error=False)
    def _execute(self, plan: Any) -> None:
        try:
            outcome = self.service.execute(plan)
        except WsfleetError as exc:
            self.post_message(ApplyFailed(exc.message))
        except Exception as exc:
            self.post_message(ApplyFailed(f"unexpected error while applying: {type(exc).__name__}: {exc}."))
        else:
            self.post_message(Applied(outcome))

    @on(ApplyFailed)
    def _apply_failed(self, msg: ApplyFailed) -> None:
        self._problem(msg.error)
        self._set_phase("review")
        self.query_one("#apply").display = False
        self.query_one("#hint", Static).update("esc close")
        self.query_one("#cancel", Button).focus()

    @on(Applied)
    def _applied(self, msg: Applied) -> None:
        self.outcome = msg.outcome
        ok = getattr(msg.outcome, "ok", True)
        if ok:
            self.dismiss(self.plan.summary)
            return
        error = getattr(msg.outcome, "error", None) or f"the change ended as {getattr(msg.outcome, 'status', 'failed')}."
        self._apply_failed(ApplyFailed(error))

    def action_cancel(self) -> None:
        if self.phase == "applying":
            self.app.notify("The change is being applied; wait for its result.", severity="warning", timeout=3)
            return
        self.dismiss(None)


# ================================================================================= scale out / in


class ScaleScreen(ActionScreen):
    def __init__(self, service: Any, status: FleetStatus, op: str, step: int, mean: float | None = None) -> None:
        super().__init__(service, status)
        self.op = op
        self.step = max(int(step), 1)
        self.mean = mean
        self.DIALOG_TITLE = "Scale out" if op == "out" else "Scale in"

    def form(self) -> ComposeResult:
        g = self.status.group
        yield Label(f"{'Add' if self.op == 'out' else 'Remove'} instances (desired now {g.desired}, min {g.min_size}, max {g.max_size})")
        yield Input(str(self.step), id="n", restrict=r"[0-9+\- ]*", compact=True)
        if self.op == "out":
            yield Tick("raise MaxSize if the new desired is above it", id="raise-max", compact=True)

    def _n(self) -> int:
        n = whole_number(self.query_one("#n", Input).value, f"the number of instances to {'add' if self.op == 'out' else 'remove'}", minimum=1)
        assert n is not None
        return n

    def live(self) -> Text:
        s = self.styles_map
        g = self.status.group
        n = self._n()
        t = Text()
        if self.op == "out":
            target = g.desired + n
            t.append(f"desired {g.desired} → {target}")
            if target > g.max_size:
                raise_max = self.query_one("#raise-max", Checkbox).value
                if raise_max:
                    t.append(f"\n⚠ MaxSize goes up from {g.max_size} to {target}.", style=s[WARNING])
                elif g.desired >= g.max_size:
                    t.append(f"\n⚠ the group is at its MaxSize {g.max_size}: tick “raise MaxSize” to raise it to {target}.", style=s[WARNING])
                else:
                    t.append(f"\n⚠ {target} is above MaxSize {g.max_size}: tick “raise MaxSize”, or add {g.max_size - g.desired} at most.", style=s[WARNING])
            warm = self.status.warm_pool
            if warm is not None:
                ready = sum(1 for i in warm.instances if i.lifecycle in ("Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated"))
                if ready >= n:
                    t.append(f"\nthe warm pool has {ready} ready: {'it starts' if n == 1 else f'all {n} start'} warm.", style=s[MUTED])
                else:
                    t.append(f"\nthe warm pool has {ready} ready: {n - ready} of the {n} launch cold.", style=s[WARNING] if ready == 0 else s[MUTED])
            return t
        from wsfleet.scaling import project_scale_in

        target = g.desired - n
        t.append(f"desired {g.desired} → {target}")
        if target < g.min_size:
            t.append(f"\n✗ below MinSize {g.min_size}: remove {max(g.desired - g.min_size, 0)} at most.", style=s[ERROR])
            return t
        average, where = self._average()
        in_service = sum(1 for i in g.instances if i.lifecycle == "InService") or g.desired
        if average is None:
            t.append("\nno current average (no counts, no datapoint): no projection.", style=s[MUTED])
            return t
        threshold, _, _ = live_steps(self.service.fleet, self.status)
        proj = project_scale_in(average, in_service, n, threshold, self.service.fleet.capacity)
        if proj.per_instance is None:
            t.append("\n✗ no instance would remain for the current connections.", style=s[ERROR])
            return t
        t.append(f"\nprojection: {fmt_int(average)} avg ({where}) on {proj.n} → about {fmt_int(proj.per_instance)} on each of {proj.remaining}")
        if proj.reaches_high:
            t.append(f"\n↯ flap: that reaches the scale-out threshold {fmt_int(threshold)}; the group would scale straight back out.", style=s[ERROR])
        if proj.over_capacity:
            t.append(f"\n▲ over the per-instance ceiling {fmt_int(self.service.fleet.capacity)}.", style=s[ERROR])
        if not proj.reaches_high and not proj.over_capacity:
            t.append(f"\nstays below the scale-out threshold {fmt_int(threshold)}.", style=s[OK])
        return t

    def _average(self) -> tuple[float | None, str]:
        if self.mean is not None:
            return self.mean, "live counts"
        value, _ = latest(self.status.metric)
        return value, "CloudWatch"

    def request(self) -> Callable[[Any], Any]:
        n = self._n()
        g = self.status.group
        raise_max = False
        if self.op == "out":
            raise_max = self.query_one("#raise-max", Checkbox).value
            if g.desired + n > g.max_size and not raise_max:
                if g.desired >= g.max_size:
                    raise FormError(f"the group is at its MaxSize {g.max_size}; tick “raise MaxSize” to raise it to {g.desired + n}.")
                raise FormError(f"desired {g.desired + n} would be above MaxSize {g.max_size}; tick “raise MaxSize” or add {g.max_size - g.desired} at most.")
        elif g.desired - n < g.min_size:
            raise FormError(f"removing {n} would leave {g.desired - n}, below MinSize {g.min_size}; remove {max(g.desired - g.min_size, 0)} at most.")
        op = self.op
        return lambda service: service.plan_scale(op, n, raise_max=raise_max)


# ================================================================================= thresholds and steps


class ThresholdsScreen(ActionScreen):
    DIALOG_TITLE = "Thresholds and steps"

    def __init__(self, service: Any, status: FleetStatus) -> None:
        super().__init__(service, status)
        from wsfleet.scaling import format_steps_spec

        fleet = service.fleet
        self.high0, self.steps0, _ = live_steps(fleet, status)
        self.low0 = low_alarm_params(fleet, status.low_alarm).threshold
        self.spec0 = format_steps_spec(self.steps0)

    def form(self) -> ComposeResult:
        yield Label("High threshold (scale out at avg ≥, connections per instance)")
        yield Input(f"{self.high0:g}", id="high", compact=True)
        yield Label("Low threshold (scale in at avg ≤)")
        yield Input(f"{self.low0:g}", id="low", compact=True)
        yield Label("Steps, absolute: FROM:TO:+N,…,FROM::+N (leave as is to keep their widths)")
        yield Input(self.spec0, id="steps", compact=True)

    def _values(self) -> tuple[float, float, tuple[StepRange, ...], bool]:
        from wsfleet import scaling

        high = connections(self.query_one("#high", Input).value, "the high threshold")
        low = connections(self.query_one("#low", Input).value, "the low threshold")
        if low >= high:
            raise FormError(f"the low threshold {fmt_int(low)} must be below the high threshold {fmt_int(high)}, or the group scales in and out at once.")
        spec = self.query_one("#steps", Input).value.strip()
        steps_given = spec != self.spec0
        if steps_given:
            if not spec:
                raise FormError("the steps are empty; give them like 22000:25000:+2,25000:30000:+2,30000::+3.")
            try:
                steps = scaling.parse_steps_spec(spec)
            except ConfigError as exc:
                raise FormError(exc.message.replace("--steps", "the steps", 1)) from None
        else:
            steps = scaling.shift_steps(self.high0, high, self.steps0)
        problems = scaling.validate_steps(high, steps)
        if problems:
            raise FormError(f"steps: {problems[0]}")
        return high, low, tuple(steps), steps_given

    def live(self) -> Text:
        from wsfleet.scaling import flap_unsafe_sizes, step_for

        s = self.styles_map
        high, low, steps, steps_given = self._values()
        g = self.status.group
        t = Text()
        t.append("steps" + (" (shifted with the threshold)" if not steps_given and high != self.high0 else "") + ": ", style=s[MUTED])
        t.append(", ".join(fmt_step(x) for x in steps))
        value, _ = latest(self.status.metric)
        fires = step_for(value, high, steps) if value is not None else None
        t.append("\nnow ", style=s[MUTED])
        t.append(fmt_int(value) if value is not None else "—")
        t.append(" → " + (f"step {fmt_step(fires)} would fire" if fires else "no step fires"), style=s[ERROR] if fires else s[OK])
        remove = self.service.fleet.scale_in.remove
        unsafe = flap_unsafe_sizes(low, high, g.min_size, g.max_size, remove=remove)
        if unsafe:
            from wsfleet.tui.widgets.panels import _ranges

            worst = max(unsafe, key=lambda n: low * n / max(n - remove, 1))
            t.append(f"\n↯ flap: at n = {_ranges(unsafe)} removing {remove} at {fmt_int(low)} leaves up to {fmt_int(low * worst / max(worst - remove, 1))} each, ≥ {fmt_int(high)}.", style=s[ERROR])
        else:
            t.append(f"\nflap-safe: removing {remove} at {fmt_int(low)} stays below {fmt_int(high)} for {g.min_size}..{g.max_size} instances.", style=s[OK])
        t.append_text(self._what_if(high, low, steps))
        return t

    def _what_if(self, high: float, low: float, steps: tuple[StepRange, ...]) -> Text:
        """The chart window's history replayed through the current and the proposed settings."""
        from dataclasses import replace

        from wsfleet import whatif

        s = self.styles_map
        series = self.status.metric
        if series is None or not any(v is not None for v in series.values):
            return Text("\nwhat-if: no metric history in this window to replay yet.", style=s[MUTED])
        fleet, g = self.service.fleet, self.status.group
        try:
            base = whatif.WhatIfConfig.from_fleet(fleet, min_size=g.min_size, max_size=g.max_size)
            current = replace(
                base,
                scale_out=replace(base.scale_out, threshold=self.high0, steps=self.steps0),
                scale_in=replace(base.scale_in, threshold=self.low0),
            )
            proposed = whatif.propose(current, high=high, low=low, steps=steps)
            result = whatif.compare(whatif.MetricHistory.from_series(series), current, proposed, initial_instances=g.desired)
        except (ConfigError, ValueError) as exc:
            return Text(f"\nwhat-if: cannot replay this window ({exc}).", style=s[MUTED])
        c, p = result.current, result.proposed
        minutes = max(1, round(len(series.values) * series.period / 60))  # 361 ten-second points: "60 min"
        t = Text(f"\nwhat-if, last {minutes} min replayed: ", style=s[MUTED])
        t.append(f"scale-outs {c.scale_outs} → {p.scale_outs}, scale-ins {c.scale_ins} → {p.scale_ins}, ")
        t.append(f"flaps {len(c.flaps)} → {len(p.flaps)}", style=s[ERROR] if len(p.flaps) > len(c.flaps) else "")
        if c.peak_per_instance is not None and p.peak_per_instance is not None:
            t.append(f", peak {fmt_int(c.peak_per_instance)} → {fmt_int(p.peak_per_instance)}")
        if c.blocked_at_max or p.blocked_at_max:
            t.append(f", held at max {c.blocked_at_max} → {p.blocked_at_max} periods", style=s[WARNING])
        return t

    def request(self) -> Callable[[Any], Any]:
        high, low, steps, steps_given = self._values()
        changed_high = high if high != self.high0 else None
        changed_low = low if low != self.low0 else None
        changed_steps = steps if steps_given else None
        if changed_high is None and changed_low is None and changed_steps is None:
            raise FormError("nothing changed: edit the high or low threshold or the steps first.")
        return lambda service: service.plan_thresholds(high=changed_high, low=changed_low, steps=changed_steps)


# ================================================================================= warm pool


class WarmPoolScreen(ActionScreen):
    DIALOG_TITLE = "Warm pool"

    def form(self) -> ComposeResult:
        wp = self.status.warm_pool
        cfg = self.service.fleet.warm_pool
        min_size = wp.min_size if wp else (cfg.min_size if cfg else 0)
        max_prep = wp.max_prepared_capacity if wp else (cfg.max_prepared_capacity if cfg else None)
        state = wp.pool_state if wp else (cfg.pool_state if cfg else "Stopped")
        reuse = wp.reuse_on_scale_in if wp else (cfg.reuse_on_scale_in if cfg else False)
        yield Label("Min size (instances kept warm)")
        yield Input(str(min_size), id="min-size", compact=True)
        yield Label("Max prepared capacity (blank: up to the group's MaxSize)")
        yield Input("" if max_prep is None or max_prep < 0 else str(max_prep), id="max-prepared", compact=True)
        yield Label("Pool state")
        yield Select([(s, s) for s in POOL_STATES], value=state if state in POOL_STATES else "Stopped", allow_blank=False, id="pool-state", compact=True)
        yield Tick("reuse instances on scale-in (return them to the pool)", value=bool(reuse), id="reuse", compact=True)

    def _fields(self) -> dict:
        min_size = whole_number(self.query_one("#min-size", Input).value, "the warm pool min size", minimum=0)
        max_prep = whole_number(self.query_one("#max-prepared", Input).value, "the max prepared capacity", minimum=0, blank=None)
        if max_prep is not None and min_size is not None and max_prep < min_size:
            raise FormError(f"max prepared capacity {max_prep} is below the min size {min_size}; raise it or leave it blank.")
        return {
            "min_size": min_size,
            "max_prepared_capacity": max_prep,
            "pool_state": self.query_one("#pool-state", Select).value,
            "reuse_on_scale_in": self.query_one("#reuse", Checkbox).value,
        }

    def live(self) -> Text:
        f = self._fields()
        s = self.styles_map
        g = self.status.group
        t = Text()
        cap = f["max_prepared_capacity"] if f["max_prepared_capacity"] is not None else g.max_size
        size = warm_pool_size(min_size=f["min_size"], max_prepared=f["max_prepared_capacity"], desired=g.desired, max_size=g.max_size)
        cap_name = "max prepared" if f["max_prepared_capacity"] is not None else "MaxSize"
        t.append(f"the pool holds max(min {f['min_size']}, {cap_name} {cap} − desired {g.desired}) = {size} {f['pool_state'].lower()} instance{'s' if size != 1 else ''}", style=s[MUTED])
        if f["pool_state"] == "Running":
            t.append("\n⚠ Running warm instances are billed like in-service ones.", style=s[WARNING])
        return t

    def request(self) -> Callable[[Any], Any]:
        fields = self._fields()
        return lambda service: service.plan_warm_pool(**fields)
