"""How doctor's findings read, shared by every family of checks: counts and instance lists as a
person reads them, the config section a fix points to, the `provision` fix, the ok finding."""

from __future__ import annotations

from collections.abc import Sequence

from wsfleet.model import FleetConfig, Finding


def _n(x: float | int | None) -> str:
    """A count as a person reads it: 20,000 — decimals only when there are any."""
    if x is None:
        return "none"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.1f}"
    return f"{int(x):,}"


def _ids(ids: Sequence[str], limit: int = 5) -> str:
    ids = list(ids)
    if len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join(ids[:limit]) + f" and {len(ids) - limit} more"


def _section(fleet: FleetConfig, part: str = "") -> str:
    return f"[fleets.{fleet.name}{'.' + part if part else ''}]"


def _snippet(fleet: FleetConfig, part: str, *lines: str) -> str:
    return "\n".join((_section(fleet, part), *lines))


def _provision_fix(extra: str = "") -> str:
    return (extra + "\n" if extra else "") + "wsfleet provision --dry-run   # see the change, then: wsfleet provision"


def _ok(check: str, found: str, subject: str = "") -> Finding:
    return Finding(check, "ok", found, subject=subject)
