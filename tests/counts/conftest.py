"""The CLI tests' world: moto's server for AWS, real asyncssh hosts mapped to the group's instances
through ssh.hosts, real held connections on per-instance service ports; and `wsfleet` run as a
subprocess (this worktree's code: run with PYTHONPATH set to it)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from tests.helpers.asyncssh_hosts import SshTestHosts, write_client_key
from tests.helpers.conn_holder import ConnHolder
from tests.helpers.moto_fleet import make_fleet, write_config
from tests.helpers.moto_server import moto_server  # noqa: F401  (fixture)


async def wsfleet(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wsfleet", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode, out.decode(), err.decode()


class World:
    """A moto fleet of n instances, each mapped to its own asyncssh host and service port."""

    def __init__(self, moto, tmp_path, hosts, fleet, counts):
        self.moto, self.tmp, self.hosts, self.fleet = moto, tmp_path, hosts, fleet
        self.ids = fleet["instance_ids"]
        self.held = [ConnHolder(count=k) for k in counts]
        self.key_path = tmp_path / "id_ed25519"
        self.known_hosts = tmp_path / "known_hosts"
        self.known_hosts.write_text(hosts.known_hosts_text())
        self.ssh_ports = [h.port for h in hosts]

    def config(self, counts_max_skew=None, **fleet_keys):
        ssh = {
            "user": "oncall", "key": str(self.key_path), "known_hosts": str(self.known_hosts), "host_keys": "strict",
            "hosts": {i: {"address": f"127.0.0.1:{p}", "service_port": c.port} for i, p, c in zip(self.ids, self.ssh_ports, self.held)},
        }
        return str(write_config(self.tmp, self.moto.endpoint_url, self.fleet["asg"], ssh=ssh,
                                counts={"timeout": 2.0, "max_skew": counts_max_skew}, **fleet_keys))

    def close(self):
        for c in self.held:
            c.close()


@pytest.fixture
async def world(moto_server, tmp_path):  # noqa: F811
    key_path, key = write_client_key(tmp_path)
    fleet = make_fleet(moto_server.session(), instances=3, endpoint_url=moto_server.endpoint_url)
    async with SshTestHosts(3, key) as hosts:
        made = []

        def build(counts=(100, 100, 100)):
            w = World(moto_server, tmp_path, hosts, fleet, counts)
            made.append(w)
            return w

        yield build
        for w in made:
            w.close()


