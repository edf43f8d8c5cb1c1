"""A real OpenSSH `sshd` on loopback ports, started and stopped by a test or a benchmark.

Temp directory with a generated ed25519 host key, a config that listens on 127.0.0.1 only
(one `ListenAddress` per port; OpenSSH allows 16 listen sockets a daemon, so `SshdGroup` starts
as many daemons as needed), `UsePAM no`, `StrictModes no`, an `AuthorizedKeysFile` in the temp
directory, and the current user (root here) as the login user. `MaxStartups` is raised because
one daemon stands in for many hosts, each of which would see one connection.

`clean_shell=True` adds `SetEnv SHLVL=1`: bash then counts as nested and skips `~/.bashrc` for
ssh commands (Debian's bash sources it otherwise), i.e. a host without costly start-up files.

pytest fixture `sshd`: one daemon, two ports, the test's client key authorized. It skips only
when sshd is absent *and* env CI is unset; under CI a missing sshd fails.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
MAX_LISTEN = 16


def sshd_path() -> str | None:
    if os.access(SSHD, os.X_OK):
        return SSHD
    return shutil.which("sshd")


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


class Sshd:
    def __init__(self, authorized_keys: list[str], ports: int | list[int] = 1, *, clean_shell: bool = False,
                 workdir: str | os.PathLike | None = None, log_level: str = "ERROR") -> None:
        chosen = list(ports) if isinstance(ports, (list, tuple)) else None
        ports = len(chosen) if chosen is not None else ports
        if not 1 <= ports <= MAX_LISTEN:
            raise ValueError(f"one sshd listens on at most {MAX_LISTEN} ports")
        self.binary = sshd_path()
        if self.binary is None:
            raise FileNotFoundError("sshd not found")
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="wsfleet-sshd-")
        self.dir = Path(workdir or self._tmp.name)
        self.user = getpass.getuser()
        self.ports = chosen if chosen is not None else _free_ports(ports)
        self.host_key_path = self.dir / "ssh_host_ed25519_key"
        self.authorized_keys = self.dir / "authorized_keys"
        self.authorized_keys.write_text("".join(k.strip() + "\n" for k in authorized_keys))
        self.config = self.dir / "sshd_config"
        self.clean_shell = clean_shell
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.new_host_key()

    def new_host_key(self) -> None:
        for suffix in ("", ".pub"):
            Path(str(self.host_key_path) + suffix).unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wsfleet-test-sshd", "-f", str(self.host_key_path)],
                       check=True, capture_output=True)

    @property
    def host_public_key(self) -> str:
        """`ssh-ed25519 AAAA...` of the daemon's host key."""
        return " ".join(Path(str(self.host_key_path) + ".pub").read_text().split()[:2])

    def known_hosts_lines(self) -> str:
        return "".join(f"[127.0.0.1]:{p} {self.host_public_key}\n" for p in self.ports)

    def _write_config(self) -> None:
        lines = [f"ListenAddress 127.0.0.1:{p}" for p in self.ports] + [
            f"HostKey {self.host_key_path}",
            f"PidFile {self.dir / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AllowTcpForwarding yes",
            "MaxStartups 2000",
            "MaxSessions 100",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            f"LogLevel {self.log_level}",
        ]
        if self.clean_shell:
            lines.append("SetEnv SHLVL=1")
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> "Sshd":
        self._write_config()
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir (the service makes it)
        self.log = self.dir / "sshd.log"
        with open(self.log, "ab") as log:  # a file, not a pipe: nobody drains a pipe and sshd would block
            self.proc = subprocess.Popen([self.binary, "-D", "-e", "-f", str(self.config)],
                                         stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        pending = set(self.ports)
        while pending:
            if self.proc.poll() is not None:
                err = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"sshd exited with {self.proc.returncode}: {err.strip()}")
            for port in list(pending):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                        if s.recv(8).startswith(b"SSH-"):
                            pending.discard(port)
                except OSError:
                    pass
            if pending:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"sshd did not listen on {sorted(pending)} within 10 s")
                time.sleep(0.05)
        return self

    def auth_requests(self) -> list[str]:
        """The user-auth requests sshd saw, in order, from its log (LogLevel DEBUG2 or more):
        "none", "query" (a public key without a signature) or "signed" (a public key, signed)."""
        seen = []
        for line in self.log.read_text(errors="replace").splitlines():
            if "userauth-request for user" in line and line.split(" method ")[-1].startswith("none"):
                seen.append("none")
            elif "querying public key" in line:
                seen.append("query")
            elif "attempting public key" in line:
                seen.append("signed")
        return seen

    def _descendants(self) -> list[int]:
        """PIDs of the per-connection sshd processes under our daemon."""
        if self.proc is None:
            return []
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
        found, todo = [], [self.proc.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def drop_connections(self) -> int:
        """Kill every per-connection process (the daemon keeps listening): clients see a drop."""
        pids = self._descendants()
        for pid in pids:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        return len(pids)

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.drop_connections()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> "Sshd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class SshdGroup:
    """n loopback ports served by ceil(n / 16) sshd daemons sharing one host key and one authorized key."""

    def __init__(self, authorized_keys: list[str], n: int, *, clean_shell: bool = False) -> None:
        self.daemons: list[Sshd] = []
        ports = _free_ports(n)  # all at once, so no two daemons are handed the same port
        while ports:
            mine, ports = ports[:MAX_LISTEN], ports[MAX_LISTEN:]
            d = Sshd(authorized_keys, mine, clean_shell=clean_shell)
            if self.daemons:  # same host key for all, like one image
                for suffix in ("", ".pub"):
                    shutil.copy(str(self.daemons[0].host_key_path) + suffix, str(d.host_key_path) + suffix)
            self.daemons.append(d)

    @property
    def ports(self) -> list[int]:
        return [p for d in self.daemons for p in d.ports]

    def known_hosts_lines(self) -> str:
        return "".join(d.known_hosts_lines() for d in self.daemons)

    def __enter__(self) -> "SshdGroup":
        try:
            for d in self.daemons:
                d.start()
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for d in self.daemons:
            d.close()


@pytest.fixture
def sshd(client_key):
    """One real sshd on two loopback ports, authorizing the test's `client_key` fixture."""
    if sshd_path() is None:
        if os.environ.get("CI"):
            pytest.fail("sshd is required under CI (install openssh-server)")
        pytest.skip("OpenSSH sshd is not installed")
    _, key = client_key
    daemon = Sshd([key.export_public_key("openssh").decode()], ports=2, log_level="DEBUG2")  # DEBUG2: auth_requests()
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.close()
