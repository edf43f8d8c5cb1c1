"""The one interface every connection-count source implements, and the row builders they share."""

from __future__ import annotations

from typing import AsyncIterator, Protocol, Sequence, runtime_checkable

from wsfleet.model import CountError, CountTarget, InstanceCount


@runtime_checkable
class CountSource(Protocol):
    """A way to count every instance's connections.

    `sweep` yields one `InstanceCount` per target, in the order the hosts answer; a host that
    cannot be measured is a row with `error` set, never an exception. A failure of the whole
    source (AWS access denied, no credentials) raises `WsfleetError`. Sweeps of one source do not
    overlap: a second sweep waits for the first. `aclose` releases connections and tasks.
    """

    name: str

    def sweep(self, targets: Sequence[CountTarget]) -> AsyncIterator[InstanceCount]: ...

    async def aclose(self) -> None: ...


def address_of(target: CountTarget) -> str | None:
    if target.host is None:
        return None
    if target.ssh_port == 22:
        return target.host
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.ssh_port}"


def _row(target: CountTarget, address: str | None, **fields) -> InstanceCount:
    """A row for `target`: its identity and state, plus what the source found."""
    return InstanceCount(
        instance_id=target.instance_id,
        az=target.az,
        address=address if address is not None else address_of(target),
        lifecycle=target.lifecycle,
        health=target.health,
        launch_template_version=target.launch_template_version,
        current=target.current,
        **fields,
    )


def measured(target: CountTarget, connections: int, *, latency_ms: float | None = None,
             age_s: float | None = None, address: str | None = None) -> InstanceCount:
    return _row(target, address, connections=connections, latency_ms=latency_ms, age_s=age_s)


def failed(target: CountTarget, error: CountError, detail: str | None = None, *,
           latency_ms: float | None = None, address: str | None = None) -> InstanceCount:
    return _row(target, address, connections=None, error=error, latency_ms=latency_ms, detail=detail)


def launch_template_label(version: str | None, current: bool | None) -> str:
    """How a table names a row's launch template version: "v3", "v2 old", a launch configuration's
    name; "" when unknown."""
    if version is None:
        return ""
    label = f"v{version}" if version.isdigit() else version
    return f"{label} old" if current is False else label
