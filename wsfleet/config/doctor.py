"""A fleet's [doctor] table: the limits `wsfleet doctor` judges connections by."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from wsfleet.config.reader import Reader
from wsfleet.model import DoctorConfig


class DoctorSection(Reader):
    def doctor(self, data: Any, path: tuple[str, ...]) -> DoctorConfig:
        d = DoctorConfig()
        t = self.table(data, path, tuple(f.name for f in fields(DoctorConfig)))
        return DoctorConfig(
            silent_after=self.number(
                t, path, "silent_after", d.silent_after, positive=True,
                allowed="a number of seconds above 0 (how long a connection may carry no data before doctor counts it as left behind)",
            ),
        )
