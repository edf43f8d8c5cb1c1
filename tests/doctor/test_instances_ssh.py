"""The instance side over real SSH: asyncssh servers on loopback that run the real facts script on
this machine, against a real listening service socket with real CLOSE_WAIT connections."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import resource
import socket
import time

import pytest

from tests.doctor.fleets import FLEET, healthy
from tests.helpers.asyncssh_hosts import SilentPort, SshTestHosts, closed_port, write_client_key
from wsfleet import doctor
from wsfleet.counts.ssh import SshSource
from wsfleet.instance_facts import gather_facts
from wsfleet.model import CountsConfig, CountTarget, SshConfig


@pytest.fixture
def service():
    """A listening socket with 4 ESTABLISHED and 3 CLOSE_WAIT connections on it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    clients, accepted = [], []
    for _ in range(7):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = server.accept()
        clients.append(c)
        accepted.append(a)
    for c in clients[:3]:
        c.close()
    time.sleep(0.05)
    yield port
    for s in clients[3:] + accepted + [server]:
        s.close()


@pytest.fixture
def client_key(tmp_path):
    return write_client_key(tmp_path)


def ssh_source(tmp_path, key_path, known_hosts_text: str, timeout: float = 3.0) -> SshSource:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_text)
    config = tmp_path / "ssh_config"
    config.write_text("")
    ssh = SshConfig(user="tester", key=str(key_path), known_hosts=str(known), host_keys="strict", config_file=str(config))
    return SshSource(ssh, CountsConfig(timeout=timeout, concurrency=10))


def target(instance_id: str, ssh_port: int, service_port: int) -> CountTarget:
    return CountTarget(instance_id=instance_id, host="127.0.0.1", ssh_port=ssh_port, service_port=service_port,
                       az="us-east-1a", lifecycle="InService", health="Healthy")


async def test_facts_are_read_over_ssh_from_every_host_at_once(tmp_path, client_key, service):
    key_path, key = client_key
    async with SshTestHosts(2, key) as hosts:
        source = ssh_source(tmp_path, key_path, hosts.known_hosts_text())
        try:
            # with the fleet's doctor.silent_after: the script carries it and counts past it
            facts = await gather_facts(source, [target(f"i-{n}", h.port, service) for n, h in enumerate(hosts)], timeout=5, silent_after=30)
        finally:
            await source.aclose()
    assert [f.instance_id for f in facts] == ["i-0", "i-1"]
    assert [f.silent_over for f in facts] == [0, 0]  # the test's connections are seconds old
    for f in facts:
        assert f.error is None, f.detail
        assert f.listening and f.service_pids == (os.getpid(),)
        assert f.open_files == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert (f.established, f.close_wait) == (4, 3)
        assert f.address.startswith("127.0.0.1:")


async def test_dead_hosts_are_findings_not_tracebacks(tmp_path, client_key, service):
    key_path, key = client_key
    silent = await SilentPort().start()
    async with SshTestHosts(1, key) as hosts:
        source = ssh_source(tmp_path, key_path, hosts.known_hosts_text(), timeout=1.0)
        targets = [
            target("i-good", hosts[0].port, service),
            target("i-refused", closed_port(), service),
            target("i-silent", silent.port, service),
            CountTarget(instance_id="i-noaddr", host=None, service_port=service),
        ]
        try:
            started = time.monotonic()
            facts = await gather_facts(source, targets, timeout=1.0)
            elapsed = time.monotonic() - started
        finally:
            await source.aclose()
            await silent.close()
    errors = {f.instance_id: f.error for f in facts}
    assert errors == {"i-good": None, "i-refused": "refused", "i-silent": "timeout", "i-noaddr": "not-found"}
    assert elapsed < 3.0  # one timeout for the dead host, in parallel with the rest
    findings = doctor.diagnose(FLEET, healthy(), facts)
    reach = [f for f in findings if f.check == "instance-reach"]
    assert {f.severity for f in reach} == {"warning"}
    assert any("i-silent" in f.found and "timeout" in f.found for f in reach)


async def test_an_unknown_host_key_is_refused(tmp_path, client_key, service):
    key_path, key = client_key
    async with SshTestHosts(1, key) as hosts:
        source = ssh_source(tmp_path, key_path, "")  # strict, and nobody knows this host
        try:
            (f,) = await gather_facts(source, [target("i-0", hosts[0].port, service)], timeout=3)
        finally:
            await source.aclose()
    assert f.error == "host-key"


async def test_a_port_nobody_listens_on_is_an_error_finding(tmp_path, client_key):
    key_path, key = client_key
    async with SshTestHosts(1, key) as hosts:
        source = ssh_source(tmp_path, key_path, hosts.known_hosts_text())
        try:
            facts = await gather_facts(source, [target("i-0", hosts[0].port, closed_port())], timeout=5)
        finally:
            await source.aclose()
    assert facts[0].listening is False
    findings = doctor.diagnose(FLEET, healthy(), facts)
    assert [f.severity for f in findings if f.check == "service-listening"] == ["error"]


async def test_close_wait_leak_is_found_over_ssh(tmp_path, client_key, service):
    """With a ceiling of 200 (the demo's scale), 3 CLOSE_WAIT sockets pass the 1% limit (2)."""
    key_path, key = client_key
    async with SshTestHosts(1, key) as hosts:
        source = ssh_source(tmp_path, key_path, hosts.known_hosts_text())
        try:
            facts = await gather_facts(source, [target("i-0", hosts[0].port, service)], timeout=5)
        finally:
            await source.aclose()
    small = dataclasses.replace(FLEET, capacity=200)
    (f,) = [f for f in doctor.diagnose(small, healthy(), facts) if f.check == "close-wait"]
    assert f.severity == "warning" and "i-0 (3)" in f.found
    (g,) = [f for f in doctor.diagnose(FLEET, healthy(), facts) if f.check == "close-wait"]
    assert g.severity == "ok"
