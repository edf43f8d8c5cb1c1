"""`SshSource.warm_up`: connecting ahead of a sweep (to the addresses the last run saw), and what the
sweep then does with each attempt: takes it over, drops it, or connects again elsewhere."""

from __future__ import annotations

import asyncio

from tests.helpers.asyncssh_hosts import closed_port
from tests.helpers.conn_holder import ConnHolder
from tests.ssh.conftest import sweep, target


async def _until(predicate, what: str, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {what}")


async def test_the_sweep_takes_over_a_warm_up_connection_instead_of_opening_another(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=4) as held:
        targets = [target(n, hosts[n].port, held.port) for n in range(2)]
        source = fleet.source()
        try:
            assert source.warm_up(targets) == 2
            await _until(lambda: all(h.accepted == 1 for h in hosts[:2]), "both hosts connected by the warm-up")
            rows = await sweep(source, targets)
        finally:
            await source.aclose()
    assert {i: (r.connections, r.error) for i, r in rows.items()} == {t.instance_id: (4, None) for t in targets}
    assert source.connects == 2 and [h.accepted for h in hosts[:2]] == [1, 1]
    assert all(r.latency_ms > 0 for r in rows.values())


async def test_an_instance_that_left_the_group_is_not_reported_and_its_connection_is_closed(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=2) as held:
        stays, left = target(0, hosts[0].port, held.port), target(1, hosts[1].port, held.port)
        source = fleet.source()
        try:
            source.warm_up([stays, left])
            await _until(lambda: hosts[1].accepted == 1, "the leaving instance connected by the warm-up")
            rows = await sweep(source, [stays])
            await _until(lambda: not hosts[1].connections, "the left instance's connection closed")
        finally:
            await source.aclose()
    assert list(rows) == [stays.instance_id] and rows[stays.instance_id].connections == 2


async def test_an_instance_whose_address_changed_is_connected_again_at_the_new_one(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=3) as held:
        old, new = target(0, hosts[0].port, held.port), target(0, hosts[1].port, held.port)  # same instance
        source = fleet.source()
        try:
            source.warm_up([old])
            await _until(lambda: hosts[0].accepted == 1, "the cached address connected")
            rows = await sweep(source, [new])
            await _until(lambda: not hosts[0].connections, "the old address's connection closed")
        finally:
            await source.aclose()
    row = rows[new.instance_id]
    assert (row.address, row.connections, row.error) == (f"127.0.0.1:{hosts[1].port}", 3, None)
    assert hosts[1].accepted == 1


async def test_an_instance_the_cache_did_not_know_is_connected_when_its_address_arrives(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=5) as held:
        known, new = target(0, hosts[0].port, held.port), target(1, hosts[1].port, held.port)
        source = fleet.source()
        try:
            source.warm_up([known])
            rows = await sweep(source, [known, new])
        finally:
            await source.aclose()
    assert {i: r.connections for i, r in rows.items()} == {known.instance_id: 5, new.instance_id: 5}
    assert source.connects == 2


async def test_a_warm_up_that_fails_is_the_rows_error_without_a_second_attempt(fleet):
    dead = target(0, closed_port(), 9)
    source = fleet.source()
    try:
        source.warm_up([dead])
        rows = await sweep(source, [dead])
    finally:
        await source.aclose()
    assert rows[dead.instance_id].error == "refused" and rows[dead.instance_id].connections is None
    assert source.connects == 1


async def test_a_warm_up_the_busy_client_could_not_drive_is_not_a_timeout(hosts, fleet):
    """The client was busy (a one-shot command reads AWS meanwhile) for longer than the timeout
    after the attempt began: the host gets its timeout from when the sweep asks for it."""
    import time

    fleet.trust(*hosts)
    with ConnHolder(count=8) as held:
        t = target(0, hosts[0].port, held.port)
        source = fleet.source(timeout=1.5)
        try:
            source.warm_up([t])
            await _until(lambda: hosts[0].accepted == 1, "the warm-up's connection accepted")
            time.sleep(2.0)  # the event loop blocked: the handshake cannot go on
            rows = await sweep(source, [t])
        finally:
            await source.aclose()
    assert (rows[t.instance_id].connections, rows[t.instance_id].error) == (8, None)
    assert source.connects == 1
