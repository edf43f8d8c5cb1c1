"""A host's timeout runs from when its connection attempt starts, not from when it was queued
behind `counts.concurrency`: a slow-but-alive host under a full concurrency limit is measured, not
reported as a timeout because others were ahead of it.

Three hosts each take about SLOW s to log in (their sshd waits before authentication), one
connection at a time (concurrency 1), with a per-host timeout of TIMEOUT s: the three logins
together take longer than one timeout, each alone well under it. Were the clock started at queueing,
the third host (queued about 2 × SLOW) would be a timeout."""

from __future__ import annotations

import time

from tests.helpers.conn_holder import ConnHolder
from tests.ssh.conftest import sweep, target

SLOW = 1.0
TIMEOUT = 2.6  # > SLOW plus a login on a loaded machine; < the 3 × SLOW the three take in a row


async def test_the_timeout_starts_when_the_host_gets_its_slot(hosts, fleet):
    fleet.trust(*hosts[:3])
    for h in hosts[:3]:
        h.auth_delay = SLOW
    with ConnHolder(count=3) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts[:3])]
        source = fleet.source(timeout=TIMEOUT, concurrency=1)
        try:
            started = time.monotonic()
            rows = await sweep(source, targets)
            took = time.monotonic() - started
        finally:
            await source.aclose()
    assert [(rows[t.instance_id].connections, rows[t.instance_id].error) for t in targets] == [(3, None)] * 3, rows
    assert took >= 3 * SLOW > TIMEOUT  # the logins ran one after another, longer than one timeout together
    assert all(SLOW * 1000 <= rows[t.instance_id].latency_ms < TIMEOUT * 1000 for t in targets)  # each from its own start


async def test_a_host_slower_than_its_timeout_is_still_a_timeout(hosts, fleet):
    fleet.trust(hosts[0])
    hosts[0].auth_delay = 3.0
    with ConnHolder(count=1) as held:
        source = fleet.source(timeout=1.0, concurrency=1)
        try:
            rows = await sweep(source, [target(0, hosts[0].port, held.port)])
        finally:
            await source.aclose()
    (row,) = rows.values()
    assert row.error == "timeout" and row.connections is None
