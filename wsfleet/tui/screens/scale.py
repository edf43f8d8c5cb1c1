"""The scale out / scale in dialog: how many instances, with MaxSize, the warm pool and the
scale-in projection shown live."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Label

from wsfleet.model import FleetStatus
from wsfleet.scaling import live_steps
from wsfleet.tui.screens.actions import ActionScreen, FormError, Tick, whole_number
from wsfleet.tui.view import ERROR, MUTED, OK, WARNING, fmt_int, latest


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
