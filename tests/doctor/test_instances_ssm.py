"""The instance side over SSM: the facts script really runs on this machine (tests/counts/fake_ssm.py
plays SSM and its agents), against a real service socket with CLOSE_WAIT connections."""

from __future__ import annotations

import dataclasses
import os
import socket
import time

import pytest
from moto import mock_aws

from tests.counts.fake_ssm import FakeSsm
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws.session import AwsSession
from wsfleet.counts.ssm import SsmSource
from wsfleet.instance_facts import gather_facts, gather_facts_sync, remote_command
from wsfleet.model import CountsConfig, CountTarget, FleetConfig

FLEET = FleetConfig(name="prod-chat", asg="prod-chat-asg", region="us-east-1", counts=CountsConfig(source="ssm"))


@pytest.fixture
def service():
    """A listening socket with 1 ESTABLISHED and 2 CLOSE_WAIT connections on it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    pairs = []
    for _ in range(3):
        c = socket.create_connection(("127.0.0.1", port))
        pairs.append((c, server.accept()[0]))
    for c, _ in pairs[:2]:
        c.close()
    time.sleep(0.05)
    yield port
    for c, a in pairs:
        c.close()
        a.close()
    server.close()


def target(n: int, service_port: int) -> CountTarget:
    return CountTarget(f"i-{n:017x}", f"10.0.0.{n + 1}", 22, service_port, lifecycle="InService")


def ssm(fleet: FleetConfig = FLEET, **fake):
    session = AwsSession(fleet)
    return SsmSource(session, fleet, poll_interval=0.01), FakeSsm(session.client("ssm"), **fake)


async def test_facts_are_read_through_ssm(service):
    source, fake = ssm()
    facts = await gather_facts(source, [target(0, service), target(1, service)], timeout=5)
    assert [f.error for f in facts] == [None, None]
    assert all(f.listening and f.service_pids == (os.getpid(),) and f.close_wait == 2 for f in facts)
    assert [s["Parameters"]["commands"] for s in fake.sends] == [[remote_command(service)]] * 2
    assert {s["Comment"] for s in fake.sends} == {"wsfleet doctor"}


async def test_ssm_failures_are_values(service):
    t = [target(n, service) for n in range(5)]
    source, _ = ssm(unmanaged={t[1].instance_id}, timed_out={t[2].instance_id}, undeliverable={t[3].instance_id},
                    failing={t[4].instance_id: (127, "sh: ss: not found")})
    facts = await gather_facts(source, t, timeout=5)
    assert [f.error for f in facts] == [None, "not-found", "timeout", "not-found", "command"]
    assert "127" in facts[4].detail


async def test_ssm_access_denied_is_an_auth_finding(service):
    source, _ = ssm(access_denied=True)
    (f,) = await gather_facts(source, [target(0, service)], timeout=5)
    assert f.error == "auth" and "ssm:SendCommand" in f.detail


async def test_an_instance_that_never_answers_times_out():
    source, _ = ssm(never_finish={target(0, 443).instance_id})
    source._timeout = 0.3  # the overall budget, shortened for the test
    started = time.monotonic()
    (f,) = await gather_facts(source, [target(0, 443)], timeout=0.3)
    assert f.error == "timeout" and time.monotonic() - started < 3


def test_doctor_gathers_the_groups_instances_through_the_configured_ssm_source(service, monkeypatch):
    from wsfleet.aws.fleet import read_group
    from wsfleet.counts import ssm as ssm_module

    with mock_aws():
        built = make_fleet(None, asg=FLEET.asg, instances=2)
        fleet = dataclasses.replace(FLEET, port=service)
        session = AwsSession(fleet)
        FakeSsm(session.client("ssm"))
        real_init = ssm_module.SsmSource.__init__

        def fast_polls(self, *args, **kwargs):  # the product polls once a second
            real_init(self, *args, **{**kwargs, "poll_interval": 0.01})

        monkeypatch.setattr(ssm_module.SsmSource, "__init__", fast_polls)
        facts = gather_facts_sync(fleet, session, read_group(session, fleet.asg))
    assert sorted(f.instance_id for f in facts) == sorted(built["instance_ids"])
    assert all(f.error is None and f.close_wait == 2 for f in facts)
