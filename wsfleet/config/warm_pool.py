"""A fleet's [warm_pool] table (left out: the fleet has no warm pool)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from wsfleet.config.reader import Reader
from wsfleet.model import POOL_STATES, WarmPoolConfig


class WarmPoolSection(Reader):
    def warm_pool(self, data: Any, path: tuple[str, ...]) -> WarmPoolConfig:
        d = WarmPoolConfig()
        t = self.table(data, path, tuple(f.name for f in fields(WarmPoolConfig)))
        return WarmPoolConfig(
            min_size=self.integer(t, path, "min_size", d.min_size, low=0, allowed="a whole number of instances of at least 0"),
            max_prepared_capacity=self.integer(
                t, path, "max_prepared_capacity", d.max_prepared_capacity, low=0,
                allowed="a whole number of instances of at least 0, or leave it out for the group's max size",
            ),
            pool_state=self.choice(t, path, "pool_state", POOL_STATES, d.pool_state),
            reuse_on_scale_in=self.boolean(t, path, "reuse_on_scale_in", d.reuse_on_scale_in),
        )
