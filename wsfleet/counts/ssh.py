"""Connection counts over SSH (asyncssh): persistent connections, a count reader per host.

Per host, one SSH connection is opened on the first sweep and kept. On it, one session channel
runs `command.reader_command(port)`: a loop that answers each request line with a fresh count
(perl asking the kernel over netlink where perl is present, else sh running `ss`). It sends its
first count unasked as it starts, so a new connection costs no extra round trip for it, and a warm
sweep costs each host one round trip on an open channel: no channel open, no login shell, no
`.bashrc`, and with perl no process start. Answers are matched by sequence number, so a late answer
to an abandoned request is never taken for the current one.

- set-up (connect + channel open) is bounded by a semaphore (`counts.concurrency`); the per-host
  budget (`counts.timeout`) starts when a host gets its slot, so a dead host costs one timeout;
- a connection that drops is reopened on the next sweep at once (and a sweep that finds a reused
  connection gone retries once on a fresh one); a host that fails to connect is retried with
  exponential backoff (1 s, 2 s, 4 s ... 30 s), its row repeating the last error meanwhile;
- `warm_up` starts connections before the sweep that counts them (a one-shot command's address
  cache); the sweep takes over the ones it asks for and closes the rest unread;
- a jump host is one bastion connection that tunnels every instance connection;
- keys are loaded once; `~/.ssh/config` (or `ssh.config_file`), the SSH agent, `ssh.user` apply;
  a login starts with `publickey` and signs a key file's key at once (`ssh_auth`: two round trips
  fewer per new connection);
- host keys are always verified (`host_keys.HostKeys`);
- every failure is a row (`timeout`, `refused`, `auth`, `host-key`, `command`, `parse`,
  `not-found`), never an exception (an AssertionError -- a bug, or the tests' loopback guard --
  does reach the caller).

One host's connection, its count loop's channel, backoff, keys and ciphers are `ssh_link`'s; this
module is the source: concurrency, the sweep, the rows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import AsyncIterator, Sequence

import asyncssh

from wsfleet.counts.base import address_of, failed, measured
from wsfleet.counts.command import CountParseError, parse_count, reader_command, sh_reader_command
from wsfleet.counts.host_keys import HostKeys
from wsfleet.counts.ssh_link import (
    _CountReader,
    _Failure,
    _HostClient,
    _Link,
    _ReaderGone,
    _cipher_preference,
    _classify,
    _config_keywords,
    _load_client_keys,
    parse_jump_host,
)
from wsfleet.errors import ConfigError
from wsfleet.model import CountsConfig, CountTarget, InstanceCount, SshConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandOutput:
    """One fixed command's result on one host (`SshSource.run_command`); `error` is a CountError
    kind when it could not run at all."""

    stdout: str = ""
    exit_status: int | None = None
    stderr: str = ""
    error: str | None = None
    detail: str | None = None


@dataclass
class _WarmUp:
    """One connection attempt started ahead of a sweep (`SshSource.warm_up`)."""

    slotted: asyncio.Future  # done when it gets its slot
    task: asyncio.Task | None = None
    started: float | None = None  # loop time when it got its slot


def _warm_key(target: CountTarget) -> tuple[str, str | None, int, int]:
    return (target.instance_id, target.host, target.ssh_port, target.service_port)


def _retrieved_task(task: asyncio.Task) -> None:
    """An attempt no sweep took over (its instance left the group) must not log 'exception was never retrieved'."""
    if not task.cancelled():
        task.exception()


class SshSource:
    name = "ssh"

    def __init__(self, ssh: SshConfig, counts: CountsConfig, *, host_keys: HostKeys | None = None) -> None:
        if counts.timeout <= 0 or counts.concurrency < 1:
            raise ConfigError("counts.timeout must be > 0 and counts.concurrency >= 1.")
        self._ssh = ssh
        self._timeout = float(counts.timeout)
        self._slots = asyncio.Semaphore(counts.concurrency)
        self._host_keys = host_keys or HostKeys(ssh.host_keys, ssh.known_hosts)
        config_keywords = _config_keywords(ssh)
        self._client_keys = _load_client_keys(ssh, config_keywords)
        self._ciphers = _cipher_preference(config_keywords)
        self._jump = None
        if ssh.jump_host:
            try:
                self._jump = parse_jump_host(ssh.jump_host)
            except ValueError:
                raise ConfigError(f"ssh.jump_host {ssh.jump_host!r} is not [user@]host[:port]; fix it in the config.") from None
        self._links: dict[tuple[str, str, int], _Link] = {}
        self._warming: dict[tuple[str, str | None, int, int], _WarmUp] = {}  # by _warm_key
        self._bastion_task: asyncio.Task | None = None
        self._bastion_link = _Link()
        self._sweep_lock = asyncio.Lock()
        self._seq = 0
        self.connects = 0  # SSH connections attempted (instances + bastion), for tests and the bench

    # ------------------------------------------------------------------ connections

    def _options(self) -> dict:
        options: dict = {
            "known_hosts": self._host_keys.known_hosts(),
            "client_keys": self._client_keys,
            "agent_forwarding": False,
            "x11_forwarding": False,
        }
        if self._ciphers:
            options["encryption_algs"] = self._ciphers
        if self._ssh.config_file:
            options["config"] = [os.path.expanduser(self._ssh.config_file)]
        if self._ssh.user:
            options["username"] = self._ssh.user
        return options

    async def _connect(self, link: _Link, host: str, port: int | None, **extra) -> None:
        """Open one SSH connection into `link` (its client object tells us when it drops)."""
        clients: list[_HostClient] = []

        def client_factory() -> _HostClient:
            clients.append(_HostClient(self._host_keys))
            return clients[-1]

        options = self._options()
        options.update(extra)
        self.connects += 1
        try:
            conn = await asyncssh.connect(host, port if port and port != 22 else (), client_factory=client_factory, **options)
        except asyncssh.HostKeyNotVerifiable as exc:
            reason = clients[-1].refusal if clients else None
            raise _Failure("host-key", reason or f"host key of {host} refused: {exc}") from None
        link.conn, link.client = conn, clients[-1]

    async def _open_bastion(self) -> asyncssh.SSHClientConnection:
        assert self._jump is not None
        user, host, port = self._jump
        link = self._bastion_link
        link.close()
        try:
            await self._connect(link, host, port, **({"username": user} if user else {}))
        except AssertionError:
            raise
        except Exception as exc:
            failure = _classify(exc, CountTarget("jump-host", host, port or 22), self._timeout)
            failure = _Failure(failure.kind, f"jump host {self._ssh.jump_host}: {failure.detail}")
            link.backoff.failed(failure, time.monotonic())
            raise failure from None
        link.backoff.succeeded()
        return link.conn

    async def _tunnel(self) -> asyncssh.SSHClientConnection:
        """The one bastion connection, opened once and shared; reopened after it drops."""
        link = self._bastion_link
        task = self._bastion_task
        if task is not None and task.done() and not task.cancelled() and task.exception() is None and link.connected():
            return link.conn
        if task is None or task.done():
            if task is not None and link.backoff.waiting(time.monotonic()):
                raise link.backoff.last
            task = self._bastion_task = asyncio.create_task(self._open_bastion())
        return await asyncio.shield(task)

    async def _first_answer(self, link: _Link, target: CountTarget) -> tuple[str, int, str]:
        """A new count loop's unasked first answer. When the perl loop ends before answering (no
        perl on the host, or a shell that would not run it), open the sh loop on the same
        connection instead and remember that this host has no perl."""
        reader = link.reader
        try:
            return await reader.first_answer()
        except _ReaderGone:
            if not link.reader_is_perl or link.dropped or reader.exit_status is None:
                raise
        log.info("%s: the perl count loop exited with status %s (%s); using the sh loop",
                 address_of(target), reader.exit_status, reader.stderr() or "no message")
        link.no_perl = True
        await self._open(link, target)
        return await link.reader.first_answer()

    async def _ensure_connected(self, link: _Link, target: CountTarget) -> None:
        """The host's kept connection, (re)opened when missing or dropped, through the jump host if any."""
        if not link.connected():
            link.close()
            extra = {"tunnel": await self._tunnel()} if self._jump is not None else {}
            await self._connect(link, target.host, target.ssh_port, **extra)

    async def _open(self, link: _Link, target: CountTarget) -> None:
        await self._ensure_connected(link, target)
        if link.reader is not None:
            link.reader.close()
        link.reader = None
        try:
            command = (sh_reader_command if link.no_perl else reader_command)(target.service_port)
            _, reader = await link.conn.create_session(_CountReader, command, encoding=None)
        except asyncssh.ChannelOpenError as exc:
            raise _Failure("command", f"{address_of(target)} would not open a session: {exc.reason}") from None
        link.reader, link.reader_port, link.reader_is_perl = reader, target.service_port, not link.no_perl

    # ------------------------------------------------------------------ connecting ahead of a sweep

    def warm_up(self, targets: Sequence[CountTarget]) -> int:
        """Start connecting to `targets` now, before the sweep that will count them: a one-shot
        command connects to the addresses the last run saw (`address_cache`) while it reads the
        group again. Each attempt takes a slot as a sweep's would. The next sweep takes over every
        attempt whose (instance, host, ports) it asks for, and closes the others unread: an instance
        that left the group, or whose address changed, is never reported from here. A taken-over
        attempt gets the host's `counts.timeout` from when the sweep asked for it (or from its slot,
        if later), never less: time the client spent on other work first is not the host's.
        Returns how many attempts started; call it inside the loop that will run the sweep."""
        started = 0
        for target in targets:
            if target.host is None:
                continue
            key = _warm_key(target)
            link = self._links.setdefault(key[:3], _Link())
            if key in self._warming or link.connected() or link.backoff.waiting(time.monotonic()):
                continue
            warm = _WarmUp(slotted=asyncio.get_running_loop().create_future())
            warm.task = asyncio.create_task(self._warm(warm, link, target))
            warm.task.add_done_callback(_retrieved_task)
            self._warming[key] = warm
            started += 1
        return started

    async def _warm(self, warm: "_WarmUp", link: _Link, target: CountTarget) -> tuple[str, int, str]:
        """What `_measure` does first on a new connection: open it and the count loop (in a slot),
        then take the loop's first answer. The sweep that takes it over bounds it."""
        async with self._slots:
            warm.started = asyncio.get_running_loop().time()
            warm.slotted.set_result(None)
            await self._open(link, target)
        return await self._first_answer(link, target)

    async def _take_over(self, warm: "_WarmUp", asked: float) -> tuple[float, tuple[str, int, str]]:
        """(when the attempt got its slot, its first answer), within `counts.timeout` of `asked` or
        of the slot, whichever is later."""
        if warm.started is None:  # still queued behind the concurrency limit
            await asyncio.wait([warm.task, warm.slotted], return_when=asyncio.FIRST_COMPLETED)
        started = warm.started if warm.started is not None else asyncio.get_running_loop().time()
        async with asyncio.timeout_at(max(asked, started) + self._timeout):
            return started, await warm.task

    def _drop_warm_ups(self, keep: set[tuple[str, str | None, int, int]]) -> None:
        """Cancel the attempts no sweep asks for, and close their connections."""
        for key in [k for k in self._warming if k not in keep]:
            self._warming.pop(key).task.cancel()
            link = self._links.pop(key[:3], None)
            if link is not None:
                link.close()

    # ------------------------------------------------------------------ one host

    async def _measure(self, target: CountTarget, seq: int) -> InstanceCount:
        if target.host is None:
            return failed(target, "not-found", f"{target.instance_id} has no {self._ssh.address} address and no ssh.hosts entry")
        key = (target.instance_id, target.host, target.ssh_port)
        link = self._links.setdefault(key, _Link())
        loop = asyncio.get_running_loop()
        wait = link.backoff.waiting(time.monotonic())
        if wait and not link.connected():
            last = link.backoff.last
            return failed(target, last.kind, f"{last.detail} (next attempt in {wait:.0f} s)")
        started = loop.time()
        deadline = started + self._timeout
        warm = self._warming.pop(_warm_key(target), None)
        for attempt in (1, 2):
            reused = link.ready_for(target.service_port)
            try:
                if warm is not None:  # connected (or connecting) ahead of this sweep: its outcome
                    taking, warm, reused = warm, None, False
                    started, (output, status, stderr) = await self._take_over(taking, started)
                elif not reused:
                    async with self._slots:
                        if attempt == 1:
                            started = loop.time()
                            deadline = started + self._timeout
                        async with asyncio.timeout_at(deadline):
                            await self._open(link, target)
                    async with asyncio.timeout_at(deadline):
                        output, status, stderr = await self._first_answer(link, target)
                else:
                    async with asyncio.timeout_at(deadline):
                        output, status, stderr = await link.reader.ask(seq)
            except _ReaderGone:
                gone_conn = link.dropped
                exit_status = link.reader.exit_status if link.reader else None
                link.reader = None
                if reused and attempt == 1:
                    continue  # a kept connection or loop went away between sweeps: reopen once
                if gone_conn:
                    failure = _Failure("refused", f"{address_of(target)} dropped the connection before answering")
                else:
                    failure = _Failure("command", f"the count loop on {address_of(target)} exited"
                                       + (f" with status {exit_status}" if exit_status is not None else ""))
                link.close()
                link.backoff.failed(failure, time.monotonic())
                return failed(target, failure.kind, failure.detail, latency_ms=(loop.time() - started) * 1000)
            except AssertionError:
                raise  # a broken invariant, or the tests' loopback-only guard: never a row
            except Exception as exc:  # every failure becomes a row
                failure = _classify(exc, target, self._timeout)
                link.close()
                link.backoff.failed(failure, time.monotonic())
                return failed(target, failure.kind, failure.detail, latency_ms=(loop.time() - started) * 1000)
            latency_ms = (loop.time() - started) * 1000
            link.backoff.succeeded()
            if status != 0:
                detail = f"the count command failed on {address_of(target)} (status {status})"
                return failed(target, "command", detail + (f": {stderr}" if stderr else ""), latency_ms=latency_ms)
            try:
                return measured(target, parse_count(output), latency_ms=latency_ms)
            except CountParseError as exc:
                return failed(target, "parse", f"{address_of(target)}: {exc}", latency_ms=latency_ms)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ the interface

    async def sweep(self, targets: Sequence[CountTarget]) -> AsyncIterator[InstanceCount]:
        async with self._sweep_lock:
            self._seq += 1
            seq = self._seq
            answers: asyncio.Queue = asyncio.Queue()

            async def one(target: CountTarget) -> None:
                try:
                    row = await self._measure(target, seq)
                except asyncio.CancelledError:
                    raise
                except AssertionError as exc:  # handed to the caller, below
                    row = exc
                except Exception as exc:  # a bug here must still not lose the row
                    log.exception("measuring %s", target.instance_id)
                    row = failed(target, "command", f"internal error: {type(exc).__name__}: {exc}")
                answers.put_nowait(row)

            self._drop_warm_ups({_warm_key(t) for t in targets})
            tasks = [asyncio.create_task(one(t)) for t in targets]
            try:
                for _ in tasks:
                    row = await answers.get()
                    if isinstance(row, BaseException):
                        raise row
                    yield row
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            # forget hosts that left the group, and close their connections
            wanted = {(t.instance_id, t.host, t.ssh_port) for t in targets}
            for key in [k for k in self._links if k not in wanted]:
                self._links.pop(key).close()

    async def run_command(self, target: CountTarget, command: str, *, timeout: float | None = None,
                          max_bytes: int = 4_000_000) -> "CommandOutput":
        """Run one fixed command on the target's kept connection (opened like a count's: same keys,
        host-key policy, jump host, concurrency slot). Failures are values, never exceptions.
        Added for `wsfleet doctor`'s instance facts (wsfleet/instance_facts.py)."""
        if target.host is None:
            return CommandOutput(error="not-found", detail=f"{target.instance_id} has no {self._ssh.address} address and no ssh.hosts entry")
        link = self._links.setdefault((target.instance_id, target.host, target.ssh_port), _Link())
        try:
            async with self._slots:
                async with asyncio.timeout(timeout or self._timeout):
                    await self._ensure_connected(link, target)
                    result = await link.conn.run(command, check=False, encoding="utf-8", errors="replace")
        except AssertionError:
            raise
        except Exception as exc:  # every failure becomes a value
            failure = _classify(exc, target, timeout or self._timeout)
            link.close()
            return CommandOutput(error=failure.kind, detail=failure.detail)
        stdout = result.stdout if isinstance(result.stdout, str) else ""
        stderr = result.stderr if isinstance(result.stderr, str) else ""
        return CommandOutput(stdout=stdout[:max_bytes], exit_status=result.exit_status, stderr=stderr[-300:])

    async def aclose(self) -> None:
        self._drop_warm_ups(set())
        links = [*self._links.values(), self._bastion_link]
        self._links.clear()
        conns = [link.conn for link in links if link.conn is not None]
        for link in links:
            link.close()
        if self._bastion_task is not None and not self._bastion_task.done():
            self._bastion_task.cancel()
        self._bastion_task = None
        if conns:
            await asyncio.wait([asyncio.ensure_future(c.wait_closed()) for c in conns], timeout=2)
