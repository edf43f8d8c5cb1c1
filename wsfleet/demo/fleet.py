"""`DemoFleet`: the whole embedded demo, started and stopped as one thing.

    with DemoFleet(scenario="spike") as demo:      # or: demo.start() ... demo.stop()
        run_dashboard(config=demo.config_path, fleet=demo.fleet_name)

`start()` brings up moto's server, creates the group, starts one WebSocket + SSH server per
instance (writing the demo's config file as they launch), connects the story's first sessions,
calls `on_serving`, then provisions the group through wsfleet's own `provision` code and starts
the engine, and returns (about 0.4 s of CPU here, after about 0.5 s of importing moto, boto3 and
asyncssh). With `first_counts_wait` set (the dashboard's boot sets it), provisioning first waits
until every instance has been asked for its count, at most that long, so that the dashboard's
first read and sweep do not share the process with it. Everything then runs in one background thread with its own event loop (servers,
clients, engine steps) plus one worker thread for AWS calls; the caller's thread stays free for a
dashboard. `stop()` closes every client and server, stops both threads and moto's server, and
removes the temporary directory.

Each engine step produces a `DemoFrame` (also written to `state.json` next to the config, with each
instance's own count of its connections, for tests and curious users).

The load balancer is the group's target group, read from moto every step (`DemoGroup.balancer`):
only registered instances receive new connections, routed by the target group's algorithm; a
deregistered instance (Standby, scaled in, replaced) keeps its connections for the deregistration
delay, then the demo closes what is left and those clients reconnect through the balancer.

Holding still: while a file named `hold` exists next to the config (or inside `with demo.held():`)
no engine step runs, so no connection moves and the engine changes nothing; `state.json` then says
`"state": "held"` with the last step's counts, which is what the servers hold until it is released.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from wsfleet.demo import bootstrap, isolation, moto_extensions
from wsfleet.demo.aws_stand_in import HostWideModel
from wsfleet.demo.config_file import ASG_NAME, FLEET_NAME, REGION, DemoConfigFile, Endpoint, render
from wsfleet.demo.fleet_step import HOLD_FILE, HOLD_LIMIT, SETTLE_TIMEOUT, DemoFrame, _FleetSteps, _routing  # noqa: F401
from wsfleet.demo.instances import DemoInstance, DemoKeys, InstanceSockets
from wsfleet.demo.scenarios import DEFAULT_MAX_CONNECTIONS, MAX_SIZE, MIN_SIZE, SCENARIOS, DemoTiming, Scenario
from wsfleet.demo.traffic import LoadGenerator
from wsfleet.errors import UsageError

log = logging.getLogger(__name__)

# moto keeps its state per process, not per server: two demos in one process would share one account
_running_lock = threading.Lock()


WORKDIR_PREFIX = "wsfleet-demo-"
OWNER_FILE = "owner"  # "<pid> <start time>" of the process that made the directory


def _process_identity(pid: int | None = None) -> str:
    pid = pid or os.getpid()
    try:
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]  # field 22: starttime
    except (OSError, IndexError):
        start = "?"
    return f"{pid} {start}"


def remove_stale_workdirs(parent: str | None = None) -> list[Path]:
    """Remove the temporary directories of demos whose process is gone (killed with SIGKILL, say).

    Only directories made by a demo (they hold an owner file), owned by this user, whose owner
    process no longer exists (same pid and start time) are removed."""
    removed = []
    for path in Path(parent or tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        try:
            if not path.is_dir() or path.stat().st_uid != os.getuid():
                continue
            pid_text, _, start = (path / OWNER_FILE).read_text().partition(" ")
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
            alive = _process_identity(pid) == f"{pid} {start}" or start == "?"
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _check(scenario: str, instances: int | None, max_connections: int) -> Scenario:
    if scenario not in SCENARIOS:
        raise UsageError(f"unknown demo scenario {scenario!r}; use one of {', '.join(SCENARIOS)}.")
    if instances is not None and not (MIN_SIZE <= instances <= MAX_SIZE):
        raise UsageError(f"--instances {instances} is outside the demo group's {MIN_SIZE}..{MAX_SIZE}; pick a number in that range.")
    if not 1 <= max_connections <= 8000:
        raise UsageError(f"the demo holds 1..8000 connections (each is 2 open files here), not {max_connections}.")
    return SCENARIOS[scenario]


class DemoFleet(_FleetSteps):
    fleet_name = FLEET_NAME

    def __init__(
        self,
        scenario: str = "spike",
        instances: int | None = None,
        *,
        timing: DemoTiming | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        on_frame: Callable[[DemoFrame], None] | None = None,
        count_timeout: float = 2.0,
        host_wide: bool = False,
        on_progress: Callable[[str], None] | None = None,
    ) -> None:
        self.scenario = _check(scenario, instances, max_connections)
        # publish what the agent's netstat tcp_established would (aws_stand_in.HostWideModel), not the exact count
        self.host_wide = HostWideModel() if host_wide else None
        self.count_timeout = count_timeout  # the config's per-host SSH timeout
        self.start_instances = instances if instances is not None else self.scenario.start_instances
        self.timing = timing or DemoTiming()
        self.max_connections = max_connections
        self.on_frame = on_frame
        self.on_progress = on_progress or (lambda text: None)  # start()'s steps, as they happen
        # Set by a dashboard that boots the demo (commands.demo._DemoBoot): on_serving is called once
        # the instances serve the story's first sessions and the config is written; provisioning
        # then waits, at most first_counts_wait seconds, until every instance has been asked for its
        # count, so the dashboard's first read and sweep do not queue behind it. None: at once.
        # With counts_shown_reported, until stop_waiting_for_counts() (the dashboard has painted
        # its first counts: asked is not yet shown, and provisioning would share the paint's CPU).
        self.on_serving: Callable[[], None] = lambda: None
        self.first_counts_wait: float | None = None
        self.counts_shown_reported = False
        self._counts_wait_released = threading.Event()
        self._counts_wait_wakeup: asyncio.Event | None = None
        self.workdir: Path | None = None
        self.config_path: Path | None = None
        self.state_path: Path | None = None
        self.endpoint_url: str | None = None
        self.latest_frame: DemoFrame | None = None
        self.errors: list[str] = []  # what went wrong while running (the newest 100)
        self.warnings: tuple[str, ...] = ()  # what `provision` warned about (the flap story's low threshold)
        self._frames: queue.Queue[DemoFrame] = queue.Queue(maxsize=1000)
        self._started = False
        self._stopped = False
        self._holds_lock = False
        self._env_saved: dict[str, str | None] = {}
        self._moto: bootstrap.MotoServer | None = None
        self._group: moto_extensions.DemoGroup | None = None
        self._config: DemoConfigFile | None = None
        self._keys: DemoKeys | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._aws_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._run_future: concurrent.futures.Future | None = None
        self._stop_event: asyncio.Event | None = None
        self._instances: dict[str, DemoInstance] = {}
        self._starting: dict[str, asyncio.Task] = {}
        self._removals: set[str] = set()
        self._lock = threading.Lock()
        self._generation = 0
        self._t0 = 0.0
        self._traffic: LoadGenerator | None = None
        self._opening_step: Any = None  # the first sessions' TrafficStep, reported by the engine's first step
        self._engine: Any = None
        self._hold_cond = threading.Condition()
        self._hold_users = 0  # callers inside `held()`
        self._holding = False  # the loop is holding still now
        self._hold_ignored = False  # a hold outlived HOLD_LIMIT: ignored until it is released
        self._last_stable: tuple[float, dict[str, int], dict[str, str]] = (0.0, {}, {})
        self._draining_seen: set[str] = set()
        self._algorithm_seen: str | None = None

    # =============================================================================== lifecycle

    def __enter__(self) -> "DemoFleet":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def __aenter__(self) -> "DemoFleet":
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.to_thread(self.stop)

    def start(self) -> "DemoFleet":
        """Bring the demo up; returns once its instances serve and its config file is written."""
        if self._started:
            raise RuntimeError("DemoFleet.start() called twice")
        if not _running_lock.acquire(blocking=False):
            raise UsageError("a demo fleet is already running in this process; stop it before starting another.")
        self._started = True
        self._holds_lock = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._isolate_env()
        remove_stale_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        (self.workdir / OWNER_FILE).write_text(_process_identity())
        self.config_path = self.workdir / "wsfleet.toml"
        self.state_path = self.workdir / "state.json"
        self._keys = DemoKeys.create(self.workdir)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wsfleet-demo-loop", daemon=True)
        self._thread.start()
        self._aws_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="wsfleet-demo-aws")

        self._moto = bootstrap.MotoServer()
        self.endpoint_url = self._moto.start()
        self.on_progress(f"moto (the demo's AWS) on {self.endpoint_url}; creating the group ({self.start_instances} instances)…")
        started = datetime.now(timezone.utc)
        # the scheduled action fires at the first whole minute at least 30 s away
        schedule_at = (started + timedelta(seconds=90)).replace(second=0, microsecond=0)

        def render_with(hosts: dict[str, Endpoint]) -> str:
            return render(
                scenario=self.scenario, timing=self.timing, endpoint_url=self.endpoint_url or "", keys=self._keys,
                workdir=self.workdir, hosts=hosts, schedule_at=schedule_at, count_timeout=self.count_timeout,
            )

        self._config = DemoConfigFile(self.config_path, self._keys, render_with)
        bootstrap.create_group(
            self.endpoint_url, REGION, ASG_NAME, desired=self.start_instances, min_size=MIN_SIZE, max_size=MAX_SIZE,
            deregistration_delay=self.timing.deregistration_delay,
        )
        moto_extensions.enable(bootstrap.ACCOUNT_ID, REGION)
        # the listener binds each instance's sockets and rewrites the config before the request
        # that launched the instance returns; the first call reports the instances it started with
        self._group = moto_extensions.DemoGroup(bootstrap.ACCOUNT_ID, REGION, ASG_NAME, self._on_group_change)

        self._call(self._wait_started(), timeout=10)
        self._call(self._first_sessions(), timeout=30)
        self.on_serving()
        if self.first_counts_wait:
            self.on_progress("serving; provisioning once the first counts are taken…")
            self._call(self._first_counts_asked(self.first_counts_wait), timeout=self.first_counts_wait + 5)

        from wsfleet.aws.session import AwsSession
        from wsfleet.config import load_config, select_fleet
        from wsfleet.demo.engine import ScalingEngine

        fleet = select_fleet(load_config(str(self.config_path)), FLEET_NAME)
        session = AwsSession(fleet)
        self.on_progress("provisioning the alarms, policies and warm pool…")
        outcome = bootstrap.provision(session, fleet, self.workdir / "audit.jsonl")
        self.warnings = tuple(outcome.plan.all_warnings)
        self._engine = ScalingEngine(session, fleet, self._group, self.timing, started=started, host_wide=self.host_wide)
        self._t0 = time.monotonic()
        self._stop_event = asyncio.Event()  # binds to the demo's loop on first use (set from stop())
        self._run_future = asyncio.run_coroutine_threadsafe(self._run(), self._loop)

    def stop_waiting_for_counts(self) -> None:
        """Provision now, without waiting for the first counts (any thread; e.g. the dashboard quit)."""
        self._counts_wait_released.set()
        wakeup, loop = self._counts_wait_wakeup, self._loop
        if wakeup is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wakeup.set)

    async def _first_counts_asked(self, timeout: float) -> bool:
        """Whether every serving instance was asked for a count within `timeout` seconds (with
        counts_shown_reported: False; only the release, or the timeout, ends the wait)."""
        self._counts_wait_wakeup = asyncio.Event()
        if self._counts_wait_released.is_set():
            return False
        waited_for = () if self.counts_shown_reported else [i.count_asked.wait() for i in self._instances.values() if not i.stopped]
        asked = asyncio.ensure_future(asyncio.gather(*waited_for) if waited_for else asyncio.Event().wait())
        released = asyncio.ensure_future(self._counts_wait_wakeup.wait())
        try:
            await asyncio.wait([asked, released], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            return asked.done() and not asked.cancelled()
        finally:
            for task in (asked, released):
                task.cancel()
            await asyncio.gather(asked, released, return_exceptions=True)

    def stop(self) -> None:
        """Stop everything it started; safe to call more than once, and after a failed start."""
        if self._stopped:
            return
        self._stopped = True
        with self._hold_cond:
            self._hold_cond.notify_all()  # a caller waiting in held() gives up: the demo is stopping
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            if self._stop_event is not None:
                self._loop.call_soon_threadsafe(self._stop_event.set)
            if self._run_future is not None:
                try:
                    self._run_future.result(timeout=15)
                except Exception as exc:  # already logged by the loop; stopping goes on
                    log.debug("demo engine ended with %r", exc)
            try:
                self._call(self._shutdown_servers(), timeout=15)
            except Exception as exc:
                log.debug("closing demo servers: %r", exc)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if self._loop is not None and not self._loop.is_running():
            self._loop.close()
        if self._aws_pool is not None:
            self._aws_pool.shutdown(wait=True, cancel_futures=True)
        if self._group is not None:
            self._group.close()
        moto_extensions.disable(bootstrap.ACCOUNT_ID, REGION)
        if self._moto is not None:
            try:
                self._moto.reset()
            except Exception as exc:
                log.debug("resetting moto: %r", exc)
            self._moto.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self._restore_env()
        if self._holds_lock:
            self._holds_lock = False
            _running_lock.release()

    def _isolate_env(self) -> None:
        # The demo talks only to its own moto: never to a real account, whatever the shell holds.
        self._env_saved = isolation.isolate()

    def _restore_env(self) -> None:
        isolation.restore(self._env_saved)
        self._env_saved.clear()

    def _call(self, coro, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    # ================================================================================ reading

    @property
    def running(self) -> bool:
        return self._started and not self._stopped

    def hosts(self) -> dict[str, Endpoint]:
        """The current instance id -> (ssh port, service port) map (what the config file holds)."""
        return self._config.hosts() if self._config else {}

    def next_frame(self, timeout: float | None = None) -> DemoFrame | None:
        """The next engine step's frame, or None when none came within `timeout` seconds."""
        try:
            return self._frames.get(timeout=timeout)
        except queue.Empty:
            return None

    @contextlib.contextmanager
    def held(self, timeout: float = 30.0) -> Iterator[DemoFrame | None]:
        """Hold the demo still for the block: no engine step runs, so no connection moves and the
        engine changes nothing (what another client writes through the API still happens). Yields
        the last step's frame, whose counts the servers hold throughout. At most HOLD_LIMIT seconds."""
        with self._hold_cond:
            self._hold_users += 1
            try:
                if not self._hold_cond.wait_for(lambda: self._holding or not self.running, timeout):
                    raise TimeoutError(f"the demo did not hold still within {timeout:.0f} s (its current step did not end)")
            except BaseException:
                self._hold_users -= 1
                raise
        try:
            yield self.latest_frame
        finally:
            with self._hold_cond:
                self._hold_users -= 1

    def try_line(self) -> str:
        """A command to run from another terminal against this demo."""
        return f"AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo wsfleet --config {self.config_path} counts"

    # ============================================================ instances (listener + loop side)

    def _on_group_change(self, change: moto_extensions.GroupChange) -> None:
        """Called by moto_extensions (any thread, under its lock) when instances join or leave."""
        add: dict[str, Endpoint] = {}
        bound: dict[str, InstanceSockets] = {}
        for view in change.launched:
            try:
                sockets = InstanceSockets.bind()
            except OSError as exc:
                self.errors.append(f"{view.id}: could not bind its ports ({exc})")
                continue
            bound[view.id] = sockets
            add[view.id] = Endpoint(sockets.ssh_port, sockets.service_port)
        with self._lock:
            self._removals.update(change.removed)
        self._config.update(add=add, remove=change.removed)
        if bound and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._start_instances, bound)

    def _start_instances(self, bound: dict[str, InstanceSockets]) -> None:
        for iid, sockets in bound.items():
            instance = DemoInstance(iid, sockets, self._keys, silent_after=self.timing.silent_after)
            self._instances[iid] = instance
            self._starting[iid] = asyncio.ensure_future(instance.start())

    async def _wait_started(self) -> None:
        while True:
            tasks = list(self._starting.values())
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if all(t.done() for t in self._starting.values()):
                for iid, task in list(self._starting.items()):
                    if task.exception() is not None:
                        self.errors.append(f"{iid}: its servers did not start ({task.exception()})")
                    del self._starting[iid]
                return

    async def _remove_instances(self, balancer: moto_extensions.BalancerView) -> int:
        """Stop the servers of instances that left the group, once the load balancer has drained
        them (AWS terminates an instance after its deregistration delay); returns the connections
        they still held."""
        with self._lock:
            gone, self._removals = self._removals, set()
            draining = {iid for iid in gone if iid in balancer.draining}
            self._removals |= draining
        dropped = 0
        for iid in gone - draining:
            instance = self._instances.pop(iid, None)
            task = self._starting.pop(iid, None)
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
            if instance is not None:
                dropped += instance.connections
                await instance.stop()
        return dropped

    async def _shutdown_servers(self) -> None:
        if self._traffic is not None:
            await self._traffic.close()
        await self._wait_started()
        await asyncio.gather(*(i.stop() for i in self._instances.values()), return_exceptions=True)
        self._instances.clear()
        loop = asyncio.get_running_loop()
        await loop.shutdown_asyncgens()
        await loop.shutdown_default_executor()
