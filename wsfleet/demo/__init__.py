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


def _keep_moto_data_parsed() -> None:
    """Before moto's backends are imported: moto's data files (`load_resource`: the EC2 backend
    parses 92 of them as it is imported, instance types and their offerings in every region, AMIs)
    come through wsfleet.parsed_json, parsed once and then read back in marshal form. Idempotent;
    nothing when moto is not installed (the demo then says what to install)."""
    try:
        from moto.utilities import utils
    except ImportError:
        return
    original = utils.load_resource
    if getattr(original, "wsfleet_kept", False):
        return
    import os
    import sys

    from wsfleet import parsed_json

    def load_resource(package: str, resource: str) -> Any:
        module = sys.modules.get(package)
        where = getattr(module, "__file__", None)
        if where is None:
            return original(package, resource)
        path = os.path.join(os.path.dirname(where), resource)
        compressed = path if path.endswith(".gz") else path + ".gz"
        source = compressed if os.path.isfile(compressed) else path  # the file moto reads: the .gz first
        return parsed_json.load(source, lambda: original(package, resource))

    load_resource.wsfleet_kept = True  # type: ignore[attr-defined]
    utils.load_resource = load_resource


_share_botocore_models()
_keep_moto_data_parsed()


def __getattr__(name: str) -> Any:
    if name in ("DemoFleet", "DemoFrame"):
        from wsfleet.demo import fleet

        return getattr(fleet, name)
    if name in ("SCENARIOS", "SCENARIO_NAMES"):
        from wsfleet.demo import scenarios

        return getattr(scenarios, name)
    raise AttributeError(f"module 'wsfleet.demo' has no attribute {name!r}")
