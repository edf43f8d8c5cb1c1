"""Real SSH servers (asyncssh) on loopback ports, each standing in for one fleet instance.

Every server has its own generated host key and accepts one client key. An exec request runs
the way OpenSSH runs it: `/bin/sh -c <command>` in a real process, stdin/stdout/stderr wired to the
channel, so wsfleet's real count command counts real sockets on this machine. Faults a test can
turn on per host: a fake `ss` on PATH (garbage output, failing command), noise printed before the
command (a chatty `.bashrc`), dropping every connection, a new host key; plus helpers for a port
that refuses and a port that accepts TCP and never speaks.

Use inside a running event loop (async tests); `await hosts.close()` (or `async with`) stops
servers, connections and child processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import socket
import tempfile
from pathlib import Path

import asyncssh


def new_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


def write_client_key(directory: str | os.PathLike) -> tuple[Path, asyncssh.SSHKey]:
    key = new_key()
    path = Path(directory) / "id_ed25519"
    key.write_private_key(str(path))
    os.chmod(path, 0o600)
    key.write_public_key(str(path) + ".pub")
    return path, key


def closed_port() -> int:
    """A loopback port with nothing listening (connects are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SilentPort:
    """Accepts TCP connections and never sends a byte (an SSH client waits for the banner forever)."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.accepted = 0

    async def start(self) -> "SilentPort":
        async def hold(reader, writer):
            self.accepted += 1
            self._writers.append(writer)
            with contextlib.suppress(Exception):
                await reader.read()  # until the client gives up

        self._server = await asyncio.start_server(hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        for w in self._writers:
            w.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class _Server(asyncssh.SSHServer):
    def __init__(self, host: "SshTestHost") -> None:
        self._host = host
        self._conn = None

    def connection_made(self, conn) -> None:
        self._conn = conn
        self._host.connections.add(conn)
        self._host.accepted += 1

    def connection_lost(self, exc) -> None:
        self._host.connections.discard(self._conn)
        if exc is None:  # the client said goodbye (SSH disconnect), not a dropped socket
            self._host.closed_cleanly += 1

    async def begin_auth(self, username: str) -> bool:
        if self._host.auth_delay:  # a slow but alive host (a loaded sshd, a slow PAM or directory lookup)
            await asyncio.sleep(self._host.auth_delay)
        return True

    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        # a bastion forwards to loopback only (the tests' network rule)
        if self._host.forwarding and dest_host in ("127.0.0.1", "::1", "localhost"):
            self._host.forwarded += 1
            return True
        return False


class SshTestHost:
    """One asyncssh server on 127.0.0.1:`port` (see module doc)."""

    def __init__(self, authorized: list[asyncssh.SSHKey], *, forwarding: bool = False) -> None:
        self.authorized = authorized
        self.forwarding = forwarding
        self.host_key = new_key()
        self.port = 0
        self.accepted = 0  # SSH connections accepted
        self.closed_cleanly = 0  # connections the client closed with an SSH disconnect
        self.sessions = 0  # exec requests run
        self.forwarded = 0  # direct-tcpip channels opened (as a bastion)
        self.connections: set = set()
        self.noise = ""  # printed to stdout before the command runs, like a chatty .bashrc
        self.auth_delay = 0.0  # seconds each login waits before authentication starts
        self._path_dir: tempfile.TemporaryDirectory | None = None
        self._bare_path: tempfile.TemporaryDirectory | None = None  # PATH without perl (without_perl)
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._procs: set[asyncio.subprocess.Process] = set()
        self._tasks: set[asyncio.Task] = set()

    async def start(self, port: int = 0) -> "SshTestHost":
        keys = "".join(k.export_public_key("openssh").decode() for k in self.authorized)
        self._acceptor = await asyncssh.listen(
            "127.0.0.1", port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(keys),
            server_factory=lambda: _Server(self),
            process_factory=self._run,
            encoding=None,
            allow_scp=False,
            keepalive_interval=0,
        )
        self.port = self._acceptor.get_port()
        return self

    @property
    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key('openssh').decode().strip()}\n"

    def fake_tool(self, name: str, script: str) -> None:
        """Put a `name` that runs `script` (sh) first on PATH for sessions started from now on."""
        if self._path_dir is None:
            self._path_dir = tempfile.TemporaryDirectory(prefix="wsfleet-fake-tools-")
        path = Path(self._path_dir.name) / name
        path.write_text("#!/bin/sh\n" + script + "\n")
        path.chmod(0o755)

    def no_netlink(self) -> None:
        """A perl whose netlink query fails (a sandbox without sock_diag): wsfleet's perl count loop
        then execs its sh loop (its 5th argument), so `ss`, /proc and `fake_tool`s do the counting."""
        self.fake_tool("perl", 'exec /bin/sh -c "$5"')

    def without_perl(self) -> None:
        """Sessions started from now on find no perl: PATH holds only sh's counting tools."""
        if self._bare_path is None:
            self._bare_path = tempfile.TemporaryDirectory(prefix="wsfleet-no-perl-")
            for tool in ("sh", "ss", "cat", "awk", "sleep", "printf"):
                found = shutil.which(tool)
                if found:
                    os.symlink(found, Path(self._bare_path.name) / tool)

    def drop_connections(self) -> None:
        for conn in list(self.connections):
            conn.abort()

    async def restart_with_new_key(self) -> None:
        """Same port, new host key (a rebuilt instance, or a man in the middle)."""
        port = self.port
        await self.stop()
        self.host_key = new_key()
        await self.start(port)

    async def _run(self, process: asyncssh.SSHServerProcess) -> None:
        self.sessions += 1
        env = dict(os.environ)
        if self._bare_path is not None:
            env["PATH"] = self._bare_path.name
        if self._path_dir is not None:
            env["PATH"] = self._path_dir.name + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        command = process.command or "exit 0"
        if self.noise:
            command = f"printf '%s\\n' {shlex.quote(self.noise)}; {command}"
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", command, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        self._procs.add(proc)

        async def feed() -> None:
            try:
                while True:
                    data = await process.stdin.read(65536)
                    if not data:
                        break
                    proc.stdin.write(data)
                    await proc.stdin.drain()
            except Exception:
                pass
            finally:
                with contextlib.suppress(Exception):
                    proc.stdin.close()

        async def pump(source, sink) -> None:
            with contextlib.suppress(Exception):
                while chunk := await source.read(65536):
                    sink.write(chunk)

        feeder = asyncio.create_task(feed())
        try:
            await asyncio.gather(pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr))
            status = await proc.wait()
            with contextlib.suppress(Exception):
                process.exit(status)
        finally:
            feeder.cancel()
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            self._procs.discard(proc)

    async def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        self.drop_connections()
        for proc in list(self._procs):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        for proc in list(self._procs):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
        self._procs.clear()

    async def close(self) -> None:
        await self.stop()
        if self._path_dir is not None:
            self._path_dir.cleanup()
            self._path_dir = None
        if self._bare_path is not None:
            self._bare_path.cleanup()
            self._bare_path = None


class SshTestHosts:
    """`async with SshTestHosts(n, client_key) as hosts:` n servers on distinct loopback ports."""

    def __init__(self, n: int, client_key: asyncssh.SSHKey, **kwargs) -> None:
        self.hosts = [SshTestHost([client_key], **kwargs) for _ in range(n)]

    async def __aenter__(self) -> "SshTestHosts":
        await asyncio.gather(*(h.start() for h in self.hosts))
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        await asyncio.gather(*(h.close() for h in self.hosts), return_exceptions=True)

    def __iter__(self):
        return iter(self.hosts)

    def __getitem__(self, i: int) -> SshTestHost:
        return self.hosts[i]

    def __len__(self) -> int:
        return len(self.hosts)

    def known_hosts_text(self) -> str:
        return "".join(h.known_hosts_line for h in self.hosts)
