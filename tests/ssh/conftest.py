"""Fixtures for the SSH source tests: a client key, real asyncssh hosts, sources built from config."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.helpers.asyncssh_hosts import SshTestHosts, write_client_key
from wsfleet.counts.host_keys import HostKeys
from wsfleet.counts.ssh import SshSource
from wsfleet.model import CountsConfig, CountTarget, SshConfig


@pytest.fixture
def client_key(tmp_path):
    """(path, key) of a fresh ed25519 client key written in OpenSSH format."""
    return write_client_key(tmp_path)


@pytest.fixture
async def hosts(client_key):
    async with SshTestHosts(4, client_key[1]) as servers:
        yield servers


class Fleet:
    """Builds sources and targets the way the product does, against test hosts."""

    def __init__(self, tmp_path, key_path):
        self.tmp = tmp_path
        self.key_path = key_path
        self.known_hosts = tmp_path / "known_hosts"
        self.own_known_hosts = tmp_path / "wsfleet_known_hosts"
        self.known_hosts.write_text("")

    def trust(self, *hosts) -> None:
        with open(self.known_hosts, "a") as f:
            for h in hosts:
                f.write(h.known_hosts_line if hasattr(h, "known_hosts_line") else h.known_hosts_lines())

    def source(self, *, policy="strict", timeout=3.0, concurrency=100, **ssh) -> SshSource:
        ssh.setdefault("user", "tester")
        ssh.setdefault("key", str(self.key_path))
        config = SshConfig(known_hosts=str(self.known_hosts), host_keys=policy, **ssh)
        keys = HostKeys(policy, self.known_hosts, self.own_known_hosts)
        return SshSource(config, CountsConfig(timeout=timeout, concurrency=concurrency), host_keys=keys)


@pytest.fixture
def fleet(tmp_path, client_key):
    return Fleet(tmp_path, client_key[0])


def target(n: int, port: int, service_port: int, host: str | None = "127.0.0.1") -> CountTarget:
    return CountTarget(f"i-{n:017x}", host, port, service_port, az="us-east-1a", lifecycle="InService", health="Healthy")


async def sweep(source, targets) -> dict:
    return {row.instance_id: row async for row in source.sweep(targets)}


@pytest.fixture
def ssh_agent(tmp_path, client_key, monkeypatch):
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.02)
        subprocess.run(["ssh-add", str(client_key[0])], env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
                       check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield sock
    finally:
        agent.terminate()
        agent.wait(5)


from tests.helpers.sshd import sshd  # noqa: E402,F401  (fixture)
