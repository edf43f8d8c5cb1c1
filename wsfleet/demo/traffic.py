"""The demo's users: real WebSocket clients, spread by the demo's load balancer.

Each step brings the open sessions to what the scenario wants: sessions that end close their
connection (or, in the `leak` story, leave it open for good), new sessions connect to an instance
the balancer picks among the targets it is given (the target group's registered instances), and
clients whose connection went away reconnect the same way (the seed's drain effect). The balancer
routes as the target group's `load_balancing.algorithm.type` says: round robin (and weighted
random, the same on average) hands each new connection to the next target in turn; least
outstanding requests hands it to the target with the fewest open connections (an open WebSocket
is an outstanding request for as long as it lasts), so a burst of reconnects fills the emptiest
targets first. Like the seed's target group health check, a target at its ceiling is skipped while
any other has room; when none has, the balancer sends to all of them.

A live session pings its server every `heartbeat` seconds (as a browser keeps a WebSocket alive),
so the server's socket sees data both ways (`ss -i` lastrcv/lastsnd); a leaked one goes fully
silent, like a tab abandoned behind a NAT: no message, no ping, its TCP connection still
ESTABLISHED. (Its transport still reads, so it notices its instance going away and reconnects —
silent again — like any other.) `cut` is the load balancer closing a deregistered target's
connections once its deregistration delay is over: those clients reconnect in the same step.

Everything is bounded: at most `max_connections` sockets, at most `concurrency` handshakes or
closes in flight, and every connect has a timeout.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Mapping

from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from wsfleet.demo.instances import LOOPBACK

CONNECT_TIMEOUT = 3.0
ROUND_ROBIN = "round_robin"
LEAST_OUTSTANDING = "least_outstanding_requests"


@dataclass
class _Client:
    ws: ClientConnection
    instance_id: str
    leaked: bool = False
    last_beat: float = 0.0  # loop time of its last ping (or its connect)


@dataclass
class TrafficStep:
    opened: int = 0
    closed: int = 0
    leaked: int = 0  # sessions that ended this step but left their connection open
    reconnected: int = 0  # clients that lost their instance and came back on another
    failed: int = 0  # connects that did not succeed (retried next step)
    unserved: int = 0  # sessions wanted but not open (no instance, or the socket budget)
    pinged: int = 0  # live sessions that pinged their server this step (heartbeat)


@dataclass
class _Pending:
    leaked: int = 0
    active: int = 0


class LoadGenerator:
    def __init__(
        self, *, max_connections: int, capacity: int, seed: int = 7, concurrency: int = 64, heartbeat: float | None = None
    ) -> None:
        self.max_connections = max_connections
        self.capacity = capacity
        self.heartbeat = heartbeat  # seconds between a live session's pings; None = live sessions are silent too
        self._rng = random.Random(seed)
        self._clients: list[_Client] = []
        self._sem = asyncio.Semaphore(concurrency)
        self._last_target: str | None = None
        self._lost = _Pending()  # clients that lost their instance, waiting to reconnect

    # -------------------------------------------------------------------------------- reading

    @property
    def open_connections(self) -> int:
        return len(self._clients)

    @property
    def active_sessions(self) -> int:
        return sum(1 for c in self._clients if not c.leaked)

    @property
    def leaked_connections(self) -> int:
        return sum(1 for c in self._clients if c.leaked)

    def per_instance(self) -> dict[str, int]:
        """Open client connections per instance, as this side sees them."""
        out: dict[str, int] = {}
        for c in self._clients:
            out[c.instance_id] = out.get(c.instance_id, 0) + 1
        return out

    # ------------------------------------------------------------------------------- stepping

    async def step(
        self, *, sessions: int, leak_fraction: float, churn: float, targets: Mapping[str, int], algorithm: str = ROUND_ROBIN
    ) -> TrafficStep:
        """Bring the clients to `sessions` active sessions over `targets` (instance id -> service port,
        the instances the balancer may send to now), routed by `algorithm` (the target group's
        `load_balancing.algorithm.type`; anything but least outstanding requests is round robin)."""
        result = TrafficStep()
        self._drop_closed()

        active = [c for c in self._clients if not c.leaked]
        ending = self._rng.sample(active, min(len(active), round(churn * len(active)))) if churn > 0 else []
        surplus = len(active) - len(ending) - sessions
        if surplus > 0:
            chosen = {id(c) for c in ending}
            ending += self._rng.sample([c for c in active if id(c) not in chosen], surplus)
        await self._end_sessions(ending, leak_fraction, result)

        want_active = max(0, sessions - self.active_sessions)
        budget = max(0, self.max_connections - len(self._clients))
        plan_leaked = min(self._lost.leaked, budget)
        plan_active = min(want_active, budget - plan_leaked) if targets else 0
        if not targets:
            plan_leaked = 0
        result.unserved = want_active - plan_active
        if plan_active or plan_leaked:
            assignments = self._assign(plan_active + plan_leaked, targets, algorithm)
            outcomes = await asyncio.gather(
                *(self._open(iid, targets[iid], leaked=i < plan_leaked) for i, iid in enumerate(assignments))
            )
            for i, ok in enumerate(outcomes):
                if not ok:
                    result.failed += 1
                    continue
                result.opened += 1
                if i < plan_leaked:
                    self._lost.leaked -= 1
                    result.reconnected += 1
                elif self._lost.active > 0:
                    self._lost.active -= 1
                    result.reconnected += 1
        # a lost session the scenario no longer wants does not come back
        self._lost.active = min(self._lost.active, max(0, sessions - self.active_sessions))
        result.pinged = await self._heartbeat()
        return result

    async def _heartbeat(self) -> int:
        """Ping from every live session whose last ping is `heartbeat` seconds old (leaked ones
        never); websockets on the server answers with a pong, so both directions carry data."""
        if self.heartbeat is None:
            return 0
        now = asyncio.get_running_loop().time()
        due = [c for c in self._clients if not c.leaked and now - c.last_beat >= self.heartbeat]
        for c in due:
            c.last_beat = now
        sent = await asyncio.gather(*(self._ping(c) for c in due))
        return sum(sent)

    @staticmethod
    async def _ping(c: _Client) -> bool:
        try:
            await c.ws.ping()  # the pong is not awaited: the next step's ping is the next beat
            return True
        except Exception:  # closed under it: the next step reconnects it
            return False

    def _drop_closed(self) -> None:
        """Forget clients whose connection closed under them (their instance went away): they
        reconnect in this step. A client whose connection is open stays where it is, even on an
        instance the balancer no longer sends new clients to."""
        kept = []
        for c in self._clients:
            if c.ws.state is State.OPEN:
                kept.append(c)
            elif c.leaked:
                self._lost.leaked += 1
            else:
                self._lost.active += 1
        self._clients = kept

    async def _end_sessions(self, ending: list[_Client], leak_fraction: float, result: TrafficStep) -> None:
        closing = []
        for c in ending:
            if leak_fraction > 0 and self._rng.random() < leak_fraction:
                c.leaked = True
                result.leaked += 1
            else:
                closing.append(c)
        if not closing:
            return
        gone = {id(c) for c in closing}
        self._clients = [c for c in self._clients if id(c) not in gone]
        await asyncio.gather(*(self._close(c) for c in closing))
        result.closed += len(closing)

    async def cut(self, instance_ids: set[str] | frozenset[str]) -> int:
        """Close every client connected to `instance_ids` (the load balancer ending a deregistered
        target's connections); they reconnect through the balancer in the next `step`. Returns how
        many were cut."""
        gone = [c for c in self._clients if c.instance_id in instance_ids]
        if not gone:
            return 0
        ids = {id(c) for c in gone}
        self._clients = [c for c in self._clients if id(c) not in ids]
        for c in gone:
            if c.leaked:
                self._lost.leaked += 1
            else:
                self._lost.active += 1
        await asyncio.gather(*(self._close(c) for c in gone))
        return len(gone)

    def _assign(self, count: int, targets: Mapping[str, int], algorithm: str = ROUND_ROBIN) -> list[str]:
        """Each new connection's target, in order, by `algorithm`; over the targets with room below
        the ceiling (all of them when none has)."""
        if algorithm == LEAST_OUTSTANDING:
            return self._assign_least_outstanding(count, targets)
        return self._assign_round_robin(count, targets)

    def _assign_least_outstanding(self, count: int, targets: Mapping[str, int]) -> list[str]:
        """Each to the target with the fewest open connections (ties: by id), counting the ones
        assigned before it: water-filling."""
        load = self.per_instance()
        level = {iid: load.get(iid, 0) for iid in targets}
        out: list[str] = []
        for _ in range(count):
            room = [iid for iid in level if level[iid] < self.capacity] or list(level)
            choice = min(room, key=lambda iid: (level[iid], iid))
            level[choice] += 1
            out.append(choice)
        return out

    def _assign_round_robin(self, count: int, targets: Mapping[str, int]) -> list[str]:
        """Round-robin over the instances with room below the ceiling (all of them if none has)."""
        load = self.per_instance()
        order = sorted(targets)
        out: list[str] = []
        start = 0
        if self._last_target is not None:
            start = next((i for i, iid in enumerate(order) if iid > self._last_target), 0)
        pos = start
        for _ in range(count):
            choice = None
            for k in range(len(order)):
                iid = order[(pos + k) % len(order)]
                if load.get(iid, 0) < self.capacity:
                    choice = iid
                    pos = (pos + k + 1) % len(order)
                    break
            if choice is None:  # every instance at its ceiling: the balancer fails open
                choice = order[pos % len(order)]
                pos = (pos + 1) % len(order)
            load[choice] = load.get(choice, 0) + 1
            out.append(choice)
            self._last_target = choice
        return out

    async def _open(self, instance_id: str, port: int, *, leaked: bool) -> bool:
        async with self._sem:
            try:
                ws = await connect(
                    f"ws://{LOOPBACK}:{port}/",
                    open_timeout=CONNECT_TIMEOUT,
                    ping_interval=None,
                    close_timeout=1,
                    compression=None,
                    max_queue=4,
                    # loopback only: never an HTTP(S)_PROXY from the environment (and no proxy
                    # lookup per connection, ~0.1 ms each of hundreds at the story's start)
                    proxy=None,
                )
            except (OSError, asyncio.TimeoutError, Exception):  # refused, reset, handshake failed
                return False
        # a session's first ping comes within one heartbeat of its connect, at a random point, so
        # hundreds that connect in one step do not all ping in the same later one
        beat = asyncio.get_running_loop().time() - (self._rng.uniform(0, self.heartbeat) if self.heartbeat else 0.0)
        self._clients.append(_Client(ws, instance_id, leaked, last_beat=beat))
        return True

    async def _close(self, c: _Client) -> None:
        async with self._sem:
            try:
                await asyncio.wait_for(c.ws.close(), 2.0)
            except Exception:
                c.ws.transport.abort()

    async def close(self) -> None:
        """Close every client (the demo is stopping)."""
        clients, self._clients = self._clients, []
        await asyncio.gather(*(self._close(c) for c in clients), return_exceptions=True)
