"""The demo fleet's engine loop: each step drives the traffic, lets the servers settle, follows
the load balancer, writes `state.json` and publishes a `DemoFrame`; holding still between steps.

`DemoFleet` (`fleet.py`) starts and stops it; its methods here are `DemoFleet`'s (`_FleetSteps` is a
mixin of it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from wsfleet.demo import bootstrap, moto_extensions
from wsfleet.demo.config_file import ASG_NAME, write_atomic
from wsfleet.demo.traffic import LEAST_OUTSTANDING, ROUND_ROBIN, LoadGenerator

log = logging.getLogger("wsfleet.demo.fleet")  # the demo fleet's one logger, as before the split

SETTLE_TIMEOUT = 1.0  # seconds to wait for servers to see what the clients did
HOLD_FILE = "hold"  # next to the config: while it exists no engine step runs
HOLD_LIMIT = 120.0  # seconds a hold lasts at most (a forgotten file must not freeze the demo for good)


@dataclass(frozen=True)
class DemoFrame:
    """One engine step, as `wsfleet demo --no-ui` prints it."""

    t: float
    scenario: str
    desired: int
    in_service: int
    warm: int
    total_connections: int
    avg_connections: float | None
    alarms: dict[str, str]
    event: str | None
    pending: int = 0
    sessions: int = 0
    leaked: int = 0
    connections: dict[str, int] = field(default_factory=dict)  # instance id -> its servers' own count
    # the group's running or latest instance refresh: {"id", "status", "percentage_complete"}; None: never had one
    refresh: dict[str, Any] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


class _FleetSteps:
    """`DemoFleet`'s engine loop, one step at a time (a mixin: the state it reads and writes is
    `DemoFleet`'s, set up in its `__init__` and `start()`)."""

    # ===================================================================================== run

    async def _first_sessions(self) -> None:
        """The story's sessions at t=0, connected as soon as the instances serve (before any
        provisioning): the first counts anyone takes are the story's, and the engine's first step
        finds them open and keeps them (it routes the same targets at t=0: nothing has launched yet)."""
        self._traffic = LoadGenerator(max_connections=self.max_connections, capacity=self.scenario.capacity, heartbeat=self.timing.heartbeat)
        sc = self.scenario
        balancer = self._group.balancer()
        views = {v.id: v for v in self._group.instances()}
        self._opening_step = await self._traffic.step(
            sessions=min(sc.sessions_at(0.0), self.max_connections), leak_fraction=sc.leak_fraction, churn=sc.churn,
            targets=self._targets(balancer, views), algorithm=_routing(balancer.algorithm) if balancer.attached else ROUND_ROBIN)
        await self._settle()

    async def _run(self) -> None:
        if self._traffic is None:
            await self._first_sessions()
        step = 0
        previous_t = -1.0
        while not self._stop_event.is_set():
            if await self._hold_while_asked():
                # no burst of catch-up steps after a hold: the next one is due a tick from now
                step = max(step, int((time.monotonic() - self._t0) / self.timing.tick))
                if self._stop_event.is_set():
                    break
            t = time.monotonic() - self._t0
            try:
                await self._tick(t, previous_t)
            except Exception as exc:  # one failed step must not end the demo
                message = f"engine step failed: {type(exc).__name__}: {exc}"
                log.warning(message, exc_info=log.isEnabledFor(logging.DEBUG))
                self.errors.append(message)
                del self.errors[:-100]
            previous_t = t
            step += 1
            delay = self._t0 + step * self.timing.tick - time.monotonic()
            try:
                await asyncio.wait_for(self._stop_event.wait(), max(0.0, delay))
            except asyncio.TimeoutError:
                pass

    def _hold_asked(self) -> bool:
        """Whether a hold is asked for now (under `_hold_cond`)."""
        asked = self._hold_users > 0 or (self.workdir is not None and (self.workdir / HOLD_FILE).exists())
        if not asked:
            self._hold_ignored = False
        return asked and not self._hold_ignored

    async def _hold_while_asked(self) -> bool:
        """Between two steps: while a hold is asked for, run no step. Returns whether it held."""
        with self._hold_cond:
            if not self._hold_asked():
                return False
            self._holding = True
            t, counts, lifecycles = self._last_stable
            self._write_state("held", t, counts, lifecycles)
            self._hold_cond.notify_all()
        deadline = time.monotonic() + HOLD_LIMIT
        try:
            while not self._stop_event.is_set():
                with self._hold_cond:
                    if time.monotonic() >= deadline and self._hold_asked():
                        self._hold_ignored = True
                        self.errors.append(f"the demo was held for {HOLD_LIMIT:.0f} s; it goes on (remove {self.workdir / HOLD_FILE})")
                    if not self._hold_asked():
                        return True
                try:
                    await asyncio.wait_for(self._stop_event.wait(), 0.05)
                except asyncio.TimeoutError:
                    pass
            return True
        finally:
            with self._hold_cond:
                self._holding = False

    async def _aws(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._aws_pool, fn, *args)

    async def _tick(self, t: float, previous_t: float) -> None:
        now = datetime.now(timezone.utc)
        sc = self.scenario
        self._write_state("changing", t, {})
        events: list[str] = []
        events += await self._aws(self._engine.advance, now)
        if sc.deploy_due(previous_t, t):
            events += await self._aws(self._deploy, now)
        await self._wait_started()
        balancer = self._group.balancer()
        dropped = await self._remove_instances(balancer)
        if dropped:
            events.append(f"{dropped} clients dropped by instances leaving the group, reconnecting")

        views = {v.id: v for v in self._group.instances()} if self._group else {}
        events += await self._follow_balancer(balancer, views)
        targets = self._targets(balancer, views)
        sessions = min(sc.sessions_at(t), self.max_connections)
        if self._opening_step is not None:  # the first step: its sessions connected while the fleet booted
            result, self._opening_step = self._opening_step, None
        else:
            result = await self._traffic.step(sessions=sessions, leak_fraction=sc.leak_fraction, churn=sc.churn, targets=targets,
                                              algorithm=_routing(balancer.algorithm) if balancer.attached else ROUND_ROBIN)
        if result.leaked:
            events.append(f"{result.leaked} sessions ended without closing their connection")

        counts = await self._settle()
        in_service = {iid: counts.get(iid, 0) for iid in targets}
        average = await self._aws(self._engine.publish, now, in_service)
        events += await self._aws(self._engine.evaluate, now)

        min_size, max_size, desired = self._group.capacity()
        views = self._group.instances()
        frame = DemoFrame(
            t=round(t, 1),
            scenario=sc.name,
            desired=desired,
            in_service=sum(1 for v in views if v.lifecycle == "InService"),
            warm=len(self._group.warm_instances()),
            total_connections=sum(counts.values()),
            avg_connections=None if average is None else round(average, 1),
            alarms={
                "high": self._engine.state.alarm_states.get(self._engine.fleet.high_alarm_name, "INSUFFICIENT_DATA"),
                "low": self._engine.state.alarm_states.get(self._engine.fleet.low_alarm_name, "INSUFFICIENT_DATA"),
            },
            event="; ".join(events) or None,
            pending=sum(1 for v in views if v.lifecycle.startswith("Pending")),
            sessions=self._traffic.active_sessions,
            leaked=self._traffic.leaked_connections,
            connections=dict(sorted(counts.items())),
            refresh=self._refresh_summary(),
        )
        lifecycles = {v.id: v.lifecycle for v in views}
        with self._hold_cond:
            self._last_stable = (t, counts, lifecycles)
            self._write_state("stable", t, counts, lifecycles)
        self._publish_frame(frame)

    def _targets(self, balancer: moto_extensions.BalancerView, views: dict[str, Any]) -> dict[str, int]:
        """Instance id -> service port of the instances the balancer sends new connections to: the
        target group's registered instances (without a target group: the InService ones)."""
        running = {iid: inst.service_port for iid, inst in self._instances.items() if not inst.stopped}
        if balancer.attached:
            return {iid: port for iid, port in running.items() if iid in balancer.registered}
        return {iid: port for iid, port in running.items() if iid in views and views[iid].lifecycle == "InService"}

    async def _follow_balancer(self, balancer: moto_extensions.BalancerView, views: dict[str, Any]) -> list[str]:
        """What the load balancer does to open connections this step: a newly deregistered target
        keeps them for the deregistration delay; once that is over, the demo closes what an instance
        still in the group holds (one that left it is stopped by `_remove_instances`), and those
        clients reconnect through the balancer. Returns event texts."""
        if not balancer.attached:
            return []
        events = []
        routing = _routing(balancer.algorithm)
        if balancer.algorithm != self._algorithm_seen:
            if self._algorithm_seen is not None:
                events.append(f"load balancer: new connections now routed by {routing.replace('_', ' ')} "
                              f"(load_balancing.algorithm.type {balancer.algorithm})")
            self._algorithm_seen = balancer.algorithm
        held = self._traffic.per_instance()
        for iid in sorted(set(balancer.draining) - self._draining_seen):
            events.append(f"{iid} deregistered: its {held.get(iid, 0)} connections stay open for the deregistration delay "
                          f"({balancer.deregistration_delay:.0f} s)")
        self._draining_seen = set(balancer.draining)
        drained = {iid for iid, n in held.items()
                   if n and iid in views and iid not in balancer.registered and iid not in balancer.draining}
        if drained:
            cut = await self._traffic.cut(drained)
            events.append(f"deregistration delay over for {', '.join(sorted(drained))}: {cut} clients disconnected, "
                          f"reconnecting through the load balancer ({routing.replace('_', ' ')})")
        return events

    def _deploy(self, now: datetime) -> list[str]:
        """The story's release, as a pipeline makes one: a new launch template version (EC2), then
        an instance refresh to it (Auto Scaling), both through the AWS API. The engine carries the
        refresh out; the replaced instances' clients reconnect through the balancer."""
        from wsfleet.aws.errors import aws_errors

        plan = self.scenario.deploy
        session = self._engine.session
        with aws_errors(f"creating a new version of launch template {bootstrap.LAUNCH_TEMPLATE}"):
            created = session.client("ec2").create_launch_template_version(
                LaunchTemplateName=bootstrap.LAUNCH_TEMPLATE,
                SourceVersion="$Latest",
                VersionDescription=f"demo release {now:%H:%M:%S}",
                LaunchTemplateData={"ImageId": bootstrap.RELEASE_IMAGE_ID},
            )
        version = str(created["LaunchTemplateVersion"]["VersionNumber"])
        with aws_errors(f"starting an instance refresh of {ASG_NAME}"):
            refresh_id = session.client("autoscaling").start_instance_refresh(
                AutoScalingGroupName=ASG_NAME,
                Strategy="Rolling",
                DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateName": bootstrap.LAUNCH_TEMPLATE, "Version": version}},
                Preferences={"MinHealthyPercentage": plan.min_healthy, "InstanceWarmup": plan.warmup, "SkipMatching": False},
            )["InstanceRefreshId"]
        return [
            f"deploy: launch template version {version}; instance refresh {refresh_id[:8]} started "
            f"(MinHealthyPercentage {plan.min_healthy}, InstanceWarmup {plan.warmup} s)"
        ]

    def _refresh_summary(self) -> dict[str, Any] | None:
        refresh = self._group.latest_refresh() if self._group else None
        if refresh is None:
            return None
        return {"id": refresh.id, "status": refresh.status, "percentage_complete": refresh.percentage_complete}

    async def _settle(self) -> dict[str, int]:
        """Each instance's own count, once its server agrees with what the clients did."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            expected = self._traffic.per_instance()
            counts = {iid: inst.connections for iid, inst in self._instances.items() if not inst.stopped}
            if all(counts[iid] == expected.get(iid, 0) for iid in counts) or time.monotonic() > deadline:
                return counts
            await asyncio.sleep(0.01)

    def _write_state(self, state: str, t: float, counts: dict[str, int], lifecycles: dict[str, str] | None = None) -> None:
        if state == "changing":
            self._generation += 1
        hosts = self.hosts()
        body = {
            "generation": self._generation,
            "state": state,  # "changing" while connections move; "stable" until the next step starts
            "t": round(t, 1),
            "instances": {
                iid: {
                    "connections": n,
                    "lifecycle": (lifecycles or {}).get(iid),
                    "ssh_port": hosts[iid].ssh_port if iid in hosts else None,
                    "service_port": hosts[iid].service_port if iid in hosts else None,
                }
                for iid, n in sorted(counts.items())
            },
        }
        write_atomic(self.state_path, json.dumps(body, indent=1))

    def _publish_frame(self, frame: DemoFrame) -> None:
        self.latest_frame = frame
        while True:
            try:
                self._frames.put_nowait(frame)
                break
            except queue.Full:  # nobody reads frames (a dashboard reads AWS and SSH): keep the newest
                try:
                    self._frames.get_nowait()
                except queue.Empty:
                    pass
        if self.on_frame is not None:
            try:
                self.on_frame(frame)
            except Exception as exc:
                log.debug("on_frame callback failed: %r", exc)


def _routing(algorithm: str) -> str:
    """The demo balancer's routing for a target group's load_balancing.algorithm.type: least
    outstanding requests, else round robin (weighted random spreads the same way on average; moto
    stores any text, AWS would refuse it)."""
    return LEAST_OUTSTANDING if algorithm == LEAST_OUTSTANDING else ROUND_ROBIN
