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
- a jump host is one bastion connection that tunnels every instance connection;
- keys are loaded once; `~/.ssh/config` (or `ssh.config_file`), the SSH agent, `ssh.user` apply;
  a login starts with `publickey` and signs a key file's key at once (`ssh_auth`: two round trips
  fewer per new connection);
- host keys are always verified (`host_keys.HostKeys`);
- every failure is a row (`timeout`, `refused`, `auth`, `host-key`, `command`, `parse`,
  `not-found`), never an exception (an AssertionError -- a bug, or the tests' loopback guard --
  does reach the caller).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import AsyncIterator, Sequence

import asyncssh

from wsfleet.counts import ssh_auth
from wsfleet.counts.base import address_of, failed, measured
from wsfleet.counts.command import BEGIN, END, FIRST_SEQ, CountParseError, parse_count, reader_command, sh_reader_command
from wsfleet.counts.host_keys import HostKeys
from wsfleet.errors import ConfigError
from wsfleet.model import CountsConfig, CountTarget, InstanceCount, SshConfig

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0
_MAX_LINES = 64


class _Failure(Exception):
    """A classified failure: the row's error kind and a sentence for its detail."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class _ReaderGone(Exception):
    """The count loop's channel closed before it answered."""


class _CountReader(asyncssh.SSHClientSession):
    """Client side of the reader loop: send a sequence number, collect lines between its markers."""

    def __init__(self) -> None:
        self._buffer = b""
        self._stderr: deque[bytes] = deque(maxlen=16)
        # the loop's unasked first answer (FIRST_SEQ): awaited by first_answer()
        self._waiter: asyncio.Future | None = asyncio.get_running_loop().create_future()
        self._waiter.add_done_callback(_retrieved)
        self._seq = FIRST_SEQ
        self._collecting = False
        self._lines: list[str] = []
        self.closed = False
        self.exit_status: int | None = None
        self._channel: asyncssh.SSHClientChannel | None = None

    def connection_made(self, chan) -> None:
        self._channel = chan

    def data_received(self, data, datatype) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self._stderr.append(data[-512:])
            return
        self._buffer += data
        while True:
            cut = self._buffer.find(b"\n")
            if cut < 0:
                if len(self._buffer) > 65536:  # a runaway line: keep the tail only
                    self._buffer = self._buffer[-4096:]
                return
            line, self._buffer = self._buffer[:cut], self._buffer[cut + 1:]
            self._line(line.decode("utf-8", "replace").rstrip("\r"))

    def _line(self, line: str) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if line == f"{BEGIN} {self._seq}":
            self._collecting, self._lines = True, []
        elif not self._collecting:
            return  # start-up noise, or an answer to an earlier request
        elif line.startswith(f"{END} {self._seq} "):
            status = line.rsplit(" ", 1)[-1]
            waiter.set_result(("\n".join(self._lines), int(status) if status.isdigit() else 255, self.stderr()))
        elif len(self._lines) < _MAX_LINES:
            self._lines.append(line)

    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace").strip()[-300:]

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(_ReaderGone(str(exc) if exc else "channel closed"))

    async def first_answer(self) -> tuple[str, int, str]:
        """The count the loop sends by itself as it starts."""
        assert self._waiter is not None and self._seq == FIRST_SEQ
        try:
            return await self._waiter
        finally:
            self._waiter = None

    async def ask(self, seq: int) -> tuple[str, int, str]:
        assert self._channel is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._seq, self._collecting, self._lines = seq, False, []
        self._stderr.clear()
        self._channel.write(f"{seq}\n".encode())
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


def _retrieved(future: asyncio.Future) -> None:
    """Mark a reader's outcome as seen: a first answer nobody waits for any more (its sweep timed
    out) must not log 'exception was never retrieved' when its channel closes."""
    if not future.cancelled():
        future.exception()


class _HostClient(ssh_auth.SignFirstClient):  # publickey first, a key file's key signed at once: two round trips fewer
    def __init__(self, host_keys: HostKeys) -> None:
        self._host_keys = host_keys
        self.lost = False
        self.refusal: str | None = None  # why this connection's host key was refused

    def validate_host_public_key(self, host, addr, port, key) -> bool:
        self.refusal = self._host_keys.check_new(host, addr, port, key)
        return self.refusal is None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


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
class _Backoff:
    failures: int = 0
    retry_at: float = 0.0
    last: _Failure | None = None

    def failed(self, failure: _Failure, now: float) -> None:
        self.failures += 1
        self.last = failure
        self.retry_at = now + min(BACKOFF_BASE_S * 2 ** (self.failures - 1), BACKOFF_MAX_S)

    def succeeded(self) -> None:
        self.failures, self.retry_at, self.last = 0, 0.0, None

    def waiting(self, now: float) -> float:
        return self.retry_at - now if self.last is not None and self.retry_at > now else 0.0


@dataclass
class _Link:
    """What wsfleet keeps for one host between sweeps."""

    conn: asyncssh.SSHClientConnection | None = None
    client: _HostClient | None = None
    reader: _CountReader | None = None
    reader_port: int | None = None
    reader_is_perl: bool = False
    no_perl: bool = False  # this host's shell could not start perl: open the sh loop (kept across reconnects)
    backoff: _Backoff = field(default_factory=_Backoff)

    @property
    def dropped(self) -> bool:
        return self.client is not None and self.client.lost

    def connected(self) -> bool:
        return self.conn is not None and not self.dropped

    def ready_for(self, port: int) -> bool:
        return self.connected() and self.reader is not None and not self.reader.closed and self.reader_port == port

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.conn is not None:
            self.conn.close()
        self.conn, self.client, self.reader, self.reader_port = None, None, None, None


def parse_jump_host(spec: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` (IPv6 as `[addr]:port`) -> (user, host, port)."""
    text = spec.strip()
    user = None
    if "@" in text:
        user, text = text.rsplit("@", 1)
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = int(p)
    else:
        host = text
    if not host or (port is not None and not 1 <= port <= 65535):
        raise ValueError(spec)
    return user or None, host, port


def _config_keywords(ssh: SshConfig) -> frozenset[str]:
    """The keywords (lower case) the ssh config file sets: `ssh.config_file`, else ~/.ssh/config.
    Read once per source; asyncssh applies the file itself, this only tells wsfleet what not to override."""
    config = os.path.expanduser(ssh.config_file) if ssh.config_file else os.path.expanduser("~/.ssh/config")
    try:
        with open(config, encoding="utf-8", errors="replace") as f:
            words = (re.split(r"[\s=]", line.strip(), maxsplit=1)[0].lower() for line in f)
            return frozenset(w for w in words if w and not w.startswith("#"))
    except OSError:
        return frozenset()


def _cipher_preference(config_keywords: frozenset[str]) -> list[str] | None:
    """AES-GCM first, then the rest of asyncssh's defaults; None (asyncssh's own order) when the ssh
    config names Ciphers, which then wins.

    A count is a few small packets, and asyncssh's chacha20-poly1305 builds three cipher contexts
    for each one where AES-GCM makes one call: on a 200-host first sweep the client's CPU went from
    0.39 s to 0.31 s, and each warm request's two packets (asyncssh sends an SSH_MSG_IGNORE before
    every data packet) cost a quarter less."""
    if "ciphers" in config_keywords:
        return None
    try:
        from asyncssh.encryption import get_default_encryption_algs
        defaults = [alg.decode("ascii") for alg in get_default_encryption_algs()]
    except (ImportError, AttributeError):  # an asyncssh without it: keep its own order
        return None
    first = [alg for alg in _PREFERRED_CIPHERS if alg in defaults]
    return first + [alg for alg in defaults if alg not in first] if first else None


_PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


def _load_client_keys(ssh: SshConfig, config_keywords: frozenset[str]):
    """Load keys once for all connections.

    `ssh.key` -> that key (plus its -cert.pub), always. Without it, the default identities are
    loaded once too, unless an ssh config file names IdentityFile (then asyncssh resolves the key
    per host, as OpenSSH does). The agent is used in every case when SSH_AUTH_SOCK is set.
    """
    if ssh.key:
        path = os.path.expanduser(ssh.key)
        try:
            return asyncssh.load_keypairs([path])
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(
                f"ssh.key {ssh.key}: cannot load it ({reason}); give an unencrypted private key, "
                "or leave ssh.key out and use the SSH agent."
            ) from None
    if "identityfile" in config_keywords:
        return ()
    try:
        from asyncssh.public_key import load_default_keypairs
    except ImportError:  # an asyncssh without it: let it load the default keys per connection
        return ()
    return load_default_keypairs() or ()


def _classify(exc: BaseException, target: CountTarget, timeout: float) -> _Failure:
    where = address_of(target)
    if isinstance(exc, _Failure):
        return exc
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return _Failure("timeout", f"no answer from {where} within {timeout:g} s (counts.timeout)")
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return _Failure("host-key", f"host key of {where} refused: {exc}")
    if isinstance(exc, asyncssh.PermissionDenied):
        return _Failure("auth", f"{where} refused every key offered (check ssh.user, ssh.key or the agent): {exc.reason}")
    if isinstance(exc, ConnectionRefusedError):
        return _Failure("refused", f"{where} refused the TCP connection (is sshd running on that port?)")
    if isinstance(exc, socket.gaierror):
        return _Failure("not-found", f"cannot resolve {target.host}: {exc.strerror}")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return _Failure("refused", f"the jump host could not reach {where}: {exc.reason}")
    if isinstance(exc, asyncssh.DisconnectError):
        return _Failure("refused", f"{where} closed the SSH connection: {exc.reason}")
    if isinstance(exc, (OSError, EOFError)):
        return _Failure("refused", f"cannot connect to {where}: {getattr(exc, 'strerror', None) or exc}")
    return _Failure("refused", f"cannot connect to {where}: {type(exc).__name__}: {exc}")


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
        for attempt in (1, 2):
            reused = link.ready_for(target.service_port)
            try:
                if not reused:
                    async with self._slots:
                        if attempt == 1:
                            started = loop.time()
                            deadline = started + self._timeout
                        async with asyncio.timeout_at(deadline):
                            await self._open(link, target)
                async with asyncio.timeout_at(deadline):
                    if reused:
                        output, status, stderr = await link.reader.ask(seq)
                    else:
                        output, status, stderr = await self._first_answer(link, target)
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
