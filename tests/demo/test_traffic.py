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


# ------------------------------------------------------------------------ the load balancer's routing


@pytest.fixture
async def three(tmp_path):
    keys = DemoKeys.create(tmp_path)
    insts = [DemoInstance(f"i-0{n}", InstanceSockets.bind(), keys) for n in "abc"]
    await asyncio.gather(*(i.start() for i in insts))
    yield insts
    await asyncio.gather(*(i.stop() for i in insts))


async def _settled(insts, gen) -> dict[str, int]:
    """Each instance's own count, once the servers see what the clients did (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        counts = {i.instance_id: i.connections for i in insts}
        if counts == {i.instance_id: gen.per_instance().get(i.instance_id, 0) for i in insts} or loop.time() > deadline:
            return counts
        await asyncio.sleep(0.01)


async def test_round_robin_gives_every_target_an_equal_share_of_new_connections(three):
    gen = LoadGenerator(max_connections=100, capacity=280)
    a, b, c = three
    try:
        await gen.step(sessions=30, leak_fraction=0.0, churn=0.0, targets={a.instance_id: a.service_port})
        targets = {i.instance_id: i.service_port for i in three}
        await gen.step(sessions=60, leak_fraction=0.0, churn=0.0, targets=targets, algorithm="round_robin")
        assert await _settled(three, gen) == {"i-0a": 40, "i-0b": 10, "i-0c": 10}  # the full one got its share too
    finally:
        await gen.close()


async def test_least_outstanding_requests_fills_the_emptiest_targets_first(three):
    gen = LoadGenerator(max_connections=100, capacity=280)
    a, b, c = three
    try:
        await gen.step(sessions=30, leak_fraction=0.0, churn=0.0, targets={a.instance_id: a.service_port})
        await gen.step(sessions=40, leak_fraction=0.0, churn=0.0, targets={b.instance_id: b.service_port})
        targets = {i.instance_id: i.service_port for i in three}
        await gen.step(sessions=64, leak_fraction=0.0, churn=0.0, targets=targets, algorithm="least_outstanding_requests")
        # water-filling: c rises to b's 10, then both together to 17 (the odd one by id)
        assert await _settled(three, gen) == {"i-0a": 30, "i-0b": 17, "i-0c": 17}
    finally:
        await gen.close()


async def test_a_cut_target_s_clients_reconnect_through_the_balancer_to_the_others(three):
    gen = LoadGenerator(max_connections=100, capacity=280)
    a, b, c = three
    try:
        targets = {i.instance_id: i.service_port for i in three}
        await gen.step(sessions=30, leak_fraction=0.0, churn=0.0, targets=targets)
        assert await gen.cut({a.instance_id}) == 10
        registered = {b.instance_id: b.service_port, c.instance_id: c.service_port}
        step = await gen.step(sessions=30, leak_fraction=0.0, churn=0.0, targets=registered, algorithm="least_outstanding_requests")
        assert (step.opened, step.reconnected) == (10, 10)
        assert await _settled(three, gen) == {"i-0a": 0, "i-0b": 15, "i-0c": 15}
    finally:
        await gen.close()
