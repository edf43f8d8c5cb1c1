"""A fleet's [counts] and [ssh] tables: where per-instance connection counts come from and how ssh reaches them."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from wsfleet.config.reader import Reader, _show, _toml_type
from wsfleet.model import ADDRESS_KINDS, COUNT_SOURCES, HOST_KEY_POLICIES, CountsConfig, SshConfig, SshHost


class CountsSection(Reader):
    def counts(self, data: Any, path: tuple[str, ...]) -> CountsConfig:
        d = CountsConfig()
        t = self.table(data, path, tuple(f.name for f in fields(CountsConfig)))
        return CountsConfig(
            source=self.choice(t, path, "source", COUNT_SOURCES, d.source),
            interval=self.number(t, path, "interval", d.interval, positive=True, allowed="a number of seconds above 0"),
            timeout=self.number(t, path, "timeout", d.timeout, positive=True, allowed="a number of seconds above 0"),
            concurrency=self.integer(t, path, "concurrency", d.concurrency, low=1, allowed="a whole number of hosts of at least 1"),
            max_skew=self.number(t, path, "max_skew", d.max_skew, low=1.0, allowed="a number of at least 1.0 (the largest acceptable max/mean)"),
        )

    def ssh(self, data: Any, path: tuple[str, ...]) -> SshConfig:
        d = SshConfig()
        t = self.table(data, path, tuple(f.name for f in fields(SshConfig)))
        port = self.integer(t, path, "port", d.port, low=1, high=65535, allowed="a TCP port from 1 to 65535")
        return SshConfig(
            user=self.string(t, path, "user", d.user),
            key=self.file_path(t, path, "key", d.key),
            address=self.choice(t, path, "address", ADDRESS_KINDS, d.address),
            port=port,
            jump_host=self.string(t, path, "jump_host", d.jump_host, allowed='write a host in quotes, e.g. "bastion.example.com" or "user@bastion:2222"'),
            known_hosts=self.file_path(t, path, "known_hosts", d.known_hosts),
            host_keys=self.choice(t, path, "host_keys", HOST_KEY_POLICIES, d.host_keys),
            config_file=self.file_path(t, path, "config_file", d.config_file),
            hosts=self.ssh_hosts(t.get("hosts", {}), path + ("hosts",), port),
        )

    def ssh_hosts(self, data: Any, path: tuple[str, ...], default_port: int) -> dict[str, SshHost]:
        if not isinstance(data, dict):
            raise self.fail(path, f"is {_toml_type(data)}", 'it must be a table of instance id = "host:port"')
        hosts: dict[str, SshHost] = {}
        for instance_id, value in data.items():
            where = path + (instance_id,)
            if not re.match(r"^i-[0-9a-zA-Z]+$", instance_id):
                raise self.fail(where, f'"{instance_id}" is not an EC2 instance id', 'keys are instance ids such as "i-0abc1234"')
            if isinstance(value, str):
                host, port = self.host_port(where, value, default_port)
                hosts[instance_id] = SshHost(host=host, port=port)
            elif isinstance(value, dict):
                entry = self.table(value, where, ("address", "service_port"))
                address = self.string(entry, where, "address", allowed='write "host:port" in quotes, e.g. "127.0.0.1:2202"')
                host, port = self.host_port(where + ("address",), address, default_port)
                service_port = self.integer(entry, where, "service_port", None, low=1, high=65535, allowed="a TCP port from 1 to 65535")
                hosts[instance_id] = SshHost(host=host, port=port, service_port=service_port)
            else:
                raise self.fail(where, f"is {_toml_type(value)} ({_show(value)})", 'write "host:port", or a table { address = "host:port", service_port = N }')
        return hosts
