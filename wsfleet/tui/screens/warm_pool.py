"""The warm pool dialog: min size, max prepared capacity, pool state, reuse on scale-in, with the
size the pool would hold."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Label, Select

from wsfleet.model import POOL_STATES
from wsfleet.scaling import warm_pool_size
from wsfleet.tui.screens.actions import ActionScreen, FormError, Tick, whole_number
from wsfleet.tui.view import MUTED, WARNING


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
