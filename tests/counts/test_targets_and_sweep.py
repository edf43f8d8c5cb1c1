"""Which address and port each instance is counted on, and one whole sweep with its statistics."""

from __future__ import annotations

import pytest

from wsfleet.counts import collect_sweep, open_source, targets_for
from wsfleet.counts.base import failed, measured
from wsfleet.errors import ConfigError
from wsfleet.model import FleetConfig, GroupState, Instance, SshConfig, SshHost


def instance(n: int, **kw) -> Instance:
    defaults = dict(private_ip=f"10.0.1.{n}", public_ip=f"54.0.0.{n}", public_dns=f"ec2-54-0-0-{n}.compute-1.amazonaws.com")
    defaults.update(kw)
    return Instance(f"i-{n:017x}", "us-east-1a", "InService", "Healthy", **defaults)


GROUP = GroupState("prod-chat-asg", 1, 12, 3, instances=(instance(1), instance(2), instance(3, private_ip=None)))


def test_targets_use_the_configured_address_kind_and_ports():
    fleet = FleetConfig(name="f", asg="prod-chat-asg", port=8443, ssh=SshConfig(port=2222))
    targets = targets_for(fleet, GROUP)
    assert [(t.host, t.ssh_port, t.service_port) for t in targets] == [("10.0.1.1", 2222, 8443), ("10.0.1.2", 2222, 8443), (None, 2222, 8443)]
    assert targets[0].az == "us-east-1a" and targets[0].lifecycle == "InService" and targets[0].health == "Healthy"
    public = targets_for(FleetConfig(name="f", asg="a", ssh=SshConfig(address="public_dns")), GROUP)
    assert public[2].host == "ec2-54-0-0-3.compute-1.amazonaws.com"
    assert targets_for(FleetConfig(name="f", asg="a", ssh=SshConfig(address="public_ip")), GROUP)[0].host == "54.0.0.1"


def test_the_ssh_hosts_map_comes_first_with_its_own_service_port():
    hosts = {instance(1).id: SshHost("127.0.0.1", 2201), instance(3).id: SshHost("127.0.0.1", 2203, service_port=9003)}
    fleet = FleetConfig(name="f", asg="a", port=9000, ssh=SshConfig(hosts=hosts))
    targets = targets_for(fleet, GROUP)
    assert [(t.host, t.ssh_port, t.service_port) for t in targets] == [
        ("127.0.0.1", 2201, 9000), ("10.0.1.2", 22, 9000), ("127.0.0.1", 2203, 9003)]


def test_an_unknown_source_is_one_config_sentence():
    with pytest.raises(ConfigError, match="unknown: use one of ssh, ssm, cloudwatch"):
        open_source(FleetConfig(name="f", asg="a"), None, "telnet")


class ScriptedSource:
    name = "scripted"

    def __init__(self, answers):
        self.answers = answers

    async def sweep(self, targets):
        for t in reversed(targets):  # answers arrive in another order than asked
            yield self.answers[t.instance_id](t)

    async def aclose(self):
        pass


async def test_a_sweep_keeps_the_groups_order_and_never_counts_a_failed_host_as_zero():
    fleet = FleetConfig(name="f", asg="prod-chat-asg", ssh=SshConfig(hosts={i.id: SshHost("127.0.0.1", 2200 + n) for n, i in enumerate(GROUP.instances)}))
    targets = targets_for(fleet, GROUP)
    answers = {
        targets[0].instance_id: lambda t: measured(t, 300),
        targets[1].instance_id: lambda t: failed(t, "timeout", "no answer"),
        targets[2].instance_id: lambda t: measured(t, 100),
    }
    sweep = await collect_sweep(fleet, ScriptedSource(answers), targets)
    assert [r.instance_id for r in sweep.instances] == [t.instance_id for t in targets]
    assert [r.connections for r in sweep.instances] == [300, None, 100]
    assert (sweep.fleet, sweep.asg, sweep.source) == ("f", "prod-chat-asg", "scripted")
    s = sweep.summary
    assert (s.instances, s.measured, s.total, s.mean, s.min, s.max, s.skew) == (3, 2, 400, 200.0, 100, 300, 1.5)
    assert sweep.instances[0].address == "127.0.0.1:2200"
