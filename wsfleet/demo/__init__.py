"""The embedded demo fleet (`wsfleet demo`): moto-backed AWS, real WebSocket and SSH servers on
loopback, a load generator and a scaling engine. See `wsfleet.demo.fleet.DemoFleet`.

Imported lazily: `from wsfleet.demo import DemoFleet` loads moto, asyncssh and websockets only then.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DemoFleet", "DemoFrame", "SCENARIOS", "SCENARIO_NAMES"]


def _share_botocore_models() -> None:
    """Before moto is imported: one botocore loader for the demo's process (see share_data_loader)."""
    from wsfleet.aws.session import share_data_loader

    share_data_loader()


def _moto_data_as_needed() -> None:
    """Before moto's backends are imported: its data files parsed once, the big ones read when asked
    (wsfleet.demo.moto_data)."""
    from wsfleet.demo import moto_data

    moto_data.install()


_share_botocore_models()
_moto_data_as_needed()


def __getattr__(name: str) -> Any:
    if name in ("DemoFleet", "DemoFrame"):
        from wsfleet.demo import fleet

        return getattr(fleet, name)
    if name in ("SCENARIOS", "SCENARIO_NAMES"):
        from wsfleet.demo import scenarios

        return getattr(scenarios, name)
    raise AttributeError(f"module 'wsfleet.demo' has no attribute {name!r}")
