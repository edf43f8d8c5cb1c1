"""The demo's instances: each one a real WebSocket server and a real SSH server on loopback.

An instance's WebSocket server listens on its own port (its "service port"), so the count command
`ss ... sport = :PORT` counts exactly that instance's connections even though every instance lives
in this one process. Its SSH server accepts only the demo's client key and runs only wsfleet's
count command for that port, through `sh -c` on this machine, as sshd would on a real instance.

Listening sockets are bound synchronously (`InstanceSockets.bind`), so the demo can publish an
instance's endpoints in the config before the request that launched it returns; the servers start
on the demo's event loop a moment later (a client connecting in between waits in the backlog).
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

import wsfleet.counts  # noqa: F401 - first: it makes asyncssh's liboqs lookup quick (37 ms of the demo's start-up)
import asyncssh  # noqa: E402, I001
from websockets.asyncio.server import Server, ServerConnection, serve

LOOPBACK = "127.0.0.1"
BACKLOG = 1024  # a scale-in sends hundreds of clients to reconnect at once


@dataclass(frozen=True)
class DemoKeys:
    """The demo's SSH host key (one for every instance) and its client key, as files."""

    host_key_path: Path
    client_key_path: Path
    known_hosts_path: Path
    host_public: str  # "ssh-ed25519 AAAA..."
    client_public: str

    @classmethod
    def create(cls, directory: Path) -> "DemoKeys":
        host = asyncssh.generate_private_key("ssh-ed25519", comment="wsfleet-demo-host")
        client = asyncssh.generate_private_key("ssh-ed25519", comment="wsfleet-demo-client")
        host_path, client_path = directory / "host_ed25519", directory / "demo_ed25519"
        host.write_private_key(str(host_path))
        client.write_private_key(str(client_path))
        client.write_public_key(str(client_path) + ".pub")
        for path in (host_path, client_path):
            path.chmod(0o600)
        known = directory / "known_hosts"
        known.write_text("")
        return cls(
            host_key_path=host_path,
            client_key_path=client_path,
            known_hosts_path=known,
            host_public=host.export_public_key().decode().strip(),
            client_public=client.export_public_key().decode().strip(),
        )

    def known_hosts_text(self, ssh_ports: list[int]) -> str:
        """One line per instance endpoint, in OpenSSH's `[host]:port` form."""
        key = " ".join(self.host_public.split()[:2])
        return "".join(f"[{LOOPBACK}]:{port} {key}\n" for port in sorted(ssh_ports))


@dataclass
class InstanceSockets:
    """The two listening sockets of an instance, bound before its servers run."""

    service: socket.socket
    ssh: socket.socket

    @classmethod
    def bind(cls) -> "InstanceSockets":
        socks = []
        try:
            for _ in range(2):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((LOOPBACK, 0))
                s.listen(BACKLOG)
                s.setblocking(False)
        except OSError:
            for s in socks:
                s.close()
            raise
        return cls(service=socks[0], ssh=socks[1])

    @property
    def service_port(self) -> int:
        return self.service.getsockname()[1]

    @property
    def ssh_port(self) -> int:
        return self.ssh.getsockname()[1]

    def close(self) -> None:
        self.service.close()
        self.ssh.close()


class DemoInstance:
    """One running instance: serves WebSocket clients and answers the count command over SSH."""

    def __init__(self, instance_id: str, sockets: InstanceSockets, keys: DemoKeys, *, silent_after: float | None = None) -> None:
        self.instance_id = instance_id
        self.silent_after = silent_after  # the demo config's doctor.silent_after: doctor's facts script carries it
        self._allowed: frozenset[str] | None = None
        self.sockets = sockets
        self.service_port = sockets.service_port
        self.ssh_port = sockets.ssh_port
        self._keys = keys
        self._ws: Server | None = None
        self._ssh: asyncssh.SSHAcceptor | None = None
        self._ssh_conns: set[asyncssh.SSHServerConnection] = set()
        self._commands: set[asyncio.Task] = set()
        self.commands_run = 0
        self.count_asked = asyncio.Event()  # set by the first of wsfleet's commands it is asked to run
        self.stopped = False

    @property
    def connections(self) -> int:
        """WebSocket connections this instance holds open right now (server side)."""
        return len(self._ws.connections) if self._ws is not None else 0

    async def start(self) -> None:
        self._ws = await serve(
            self._serve_client,
            sock=self.sockets.service,
            ping_interval=None,  # thousands of idle sockets in one process: no keepalive traffic
            compression=None,
            close_timeout=1,
        )
        self._ssh = await asyncssh.listen(
            sock=self.sockets.ssh,
            server_host_keys=[str(self._keys.host_key_path)],
            authorized_client_keys=asyncssh.import_authorized_keys(self._keys.client_public + "\n"),
            process_factory=self._run_command,
            acceptor=self._ssh_conns.add,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=10,
            encoding=None,  # bytes: stdin and stdout are piped to `sh` as they are
        )

    async def stop(self) -> None:
        """Close both servers and every connection they hold (the clients see a drop)."""
        if self.stopped:
            return
        self.stopped = True
        if self._ws is not None:
            self._ws.close()  # close code 1001 "going away" to every client
            await self._ws.wait_closed()
        if self._ssh is not None:
            self._ssh.close()  # no new logins
        # the open connections first: since Python 3.12 a server's wait_closed() waits for them
        for conn in list(self._ssh_conns):
            conn.close()
        for conn in list(self._ssh_conns):
            await conn.wait_closed()
        if self._ssh is not None:
            await self._ssh.wait_closed()
        if self._commands:  # a closed channel ends its command (stdin EOF); give them a moment
            _, late = await asyncio.wait(list(self._commands), timeout=2.0)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        self.sockets.close()

    async def _serve_client(self, ws: ServerConnection) -> None:
        # echo; the demo's clients hold the connection and ping it (websockets answers the pings
        # itself). Like the seed's service, it never pings its clients: a client that vanished
        # without closing stays ESTABLISHED here, silent, for good (what doctor looks for).
        async for message in ws:
            await ws.send(message)

    def allowed_commands(self) -> frozenset[str]:
        """The fixed texts wsfleet sends for this instance's port: the count (one-shot, or the
        loops the SSH source keeps open) and doctor's read-only facts script. Built once: the port
        and `silent_after` are fixed for the instance's life."""
        if self._allowed is None:
            from wsfleet.counts import command
            from wsfleet.instance_facts import remote_command

            port = self.service_port
            texts = {command.count_command(port), command.oneshot_command(port), command.reader_command(port),
                     command.sh_reader_command(port), remote_command(port)}
            if self.silent_after is not None:
                texts.add(remote_command(port, self.silent_after))
            self._allowed = frozenset(texts)
        return self._allowed

    async def _run_command(self, process: asyncssh.SSHServerProcess) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._commands.add(task)
        proc = None
        try:
            if process.command not in self.allowed_commands():
                process.stderr.write(
                    f"wsfleet demo instance {self.instance_id}: this instance runs only wsfleet's fixed commands "
                    f"for its service port {self.service_port}.\n".encode()
                )
                process.exit(126)
                return
            self.count_asked.set()
            proc = await asyncio.create_subprocess_exec(
                "sh", "-c", process.command,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            # stdin too: the SSH source keeps one session open and asks for a count per line
            await process.redirect(stdin=proc.stdin, stdout=proc.stdout, stderr=proc.stderr)
            status = await proc.wait()
            for _ in range(100):  # let the redirect forward the last output before the exit status
                if proc.stdout.at_eof() and proc.stderr.at_eof():
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0)
            self.commands_run += 1
            process.exit(status)
            await process.wait_closed()  # runs asyncssh's clean-up of the redirect
        except (OSError, asyncssh.Error):
            process.exit(255)
        finally:
            if proc is not None and proc.returncode is None:
                proc.kill()
                await asyncio.shield(proc.wait())
            if task is not None:
                self._commands.discard(task)
