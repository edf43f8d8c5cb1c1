"""The demo's load generator on real loopback sockets: live sessions keep their connection busy
both ways (a ping every heartbeat, the server's pong), leaked ones go silent for good — as `ss -i`
on the instance's port shows them, which is what `wsfleet doctor` reads."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess

import pytest

from wsfleet.demo.instances import DemoInstance, DemoKeys, InstanceSockets
from wsfleet.demo.traffic import LoadGenerator

pytestmark = pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")

HEARTBEAT = 0.3
STEP_EVERY = 0.2
QUIET_FOR = 3.0  # seconds the leaked sessions stay silent before the look


def server_timers(port: int) -> dict[int, tuple[int, int]]:
    """Client port -> (lastsnd, lastrcv) in ms of every ESTABLISHED server socket on `port` (ss
    leaves out a timer that is 0: data went that way this very millisecond)."""
    out = subprocess.run(["ss", "-Htni", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    timers: dict[int, tuple[int, int]] = {}
    peer = None
    for line in out.splitlines():
        if not line[:1].isspace():  # the socket line: Recv-Q Send-Q Local Peer
            peer = int(line.split()[3].rsplit(":", 1)[1])
            continue
        if peer is not None:
            snd, rcv = re.search(r"lastsnd:(\d+)", line), re.search(r"lastrcv:(\d+)", line)
            timers[peer] = (int(snd.group(1)) if snd else 0, int(rcv.group(1)) if rcv else 0)
            peer = None
    return timers


@pytest.fixture
async def instance(tmp_path):
    inst = DemoInstance("i-0traffic", InstanceSockets.bind(), DemoKeys.create(tmp_path))
    await inst.start()
    yield inst
    await inst.stop()


async def test_live_sessions_refresh_the_servers_timers_and_leaked_ones_go_silent(instance):
    gen = LoadGenerator(max_connections=50, capacity=280, heartbeat=HEARTBEAT)
    targets = {instance.instance_id: instance.service_port}
    try:
        opened = await gen.step(sessions=20, leak_fraction=0.0, churn=0.0, targets=targets)
        assert opened.opened == 20
        # ten sessions end; every one of them leaves its connection open (leak_fraction 1)
        ended = await gen.step(sessions=10, leak_fraction=1.0, churn=0.0, targets=targets)
        assert (ended.leaked, ended.closed, gen.active_sessions, gen.leaked_connections) == (10, 0, 10, 10)
        pinged = 0
        loop = asyncio.get_running_loop()
        until = loop.time() + QUIET_FOR
        while loop.time() < until:
            await asyncio.sleep(STEP_EVERY)
            pinged += (await gen.step(sessions=10, leak_fraction=1.0, churn=0.0, targets=targets)).pinged
        assert pinged >= 10 * int(QUIET_FOR / (HEARTBEAT + STEP_EVERY))  # each live session, again and again

        live = {c.ws.local_address[1] for c in gen._clients if not c.leaked}
        leaked = {c.ws.local_address[1] for c in gen._clients if c.leaked}
        timers = server_timers(instance.service_port)
        assert set(timers) == live | leaked  # all 20 still ESTABLISHED on the server, leaked ones too
        assert instance.connections == 20
        for port in live:  # the server received a ping and sent a pong within the last beat or so
            snd, rcv = timers[port]
            assert rcv < 1500 and snd < 1500, (port, timers[port])
        for port in leaked:  # nothing either way since they leaked (and not even their last ping since)
            snd, rcv = timers[port]
            assert rcv >= (QUIET_FOR - 0.5) * 1000 and snd >= (QUIET_FOR - 0.5) * 1000, (port, timers[port])
    finally:
        await gen.close()


async def test_without_a_heartbeat_no_session_pings(instance):
    gen = LoadGenerator(max_connections=10, capacity=280)
    targets = {instance.instance_id: instance.service_port}
    try:
        await gen.step(sessions=5, leak_fraction=0.0, churn=0.0, targets=targets)
        await asyncio.sleep(0.3)
        assert (await gen.step(sessions=5, leak_fraction=0.0, churn=0.0, targets=targets)).pinged == 0
    finally:
        await gen.close()
