"""The ssm count source: batching, polling and per-instance outcomes, with real command output."""

from __future__ import annotations

import time

import pytest
from moto import mock_aws

from tests.counts.fake_ssm import FakeSsm
from tests.helpers.conn_holder import ConnHolder
from wsfleet.aws.session import AwsSession
from wsfleet.counts.command import count_command
from wsfleet.counts.ssm import SsmSource
from wsfleet.errors import AwsError
from wsfleet.model import CountTarget, FleetConfig


def fleet() -> FleetConfig:
    return FleetConfig(name="test", asg="prod-chat-asg", region="us-east-1")


def target(n: int, service_port: int) -> CountTarget:
    return CountTarget(f"i-{n:017x}", f"10.0.0.{n % 250 + 1}", 22, service_port, az="us-east-1a", lifecycle="InService", health="Healthy")


def source_with(fake_kwargs=None, **source_kwargs):
    session = AwsSession(fleet())
    fake = FakeSsm(session.client("ssm"), **(fake_kwargs or {}))
    source_kwargs.setdefault("poll_interval", 0.01)
    return SsmSource(session, fleet(), **source_kwargs), fake


async def sweep(source, targets) -> dict:
    return {row.instance_id: row async for row in source.sweep(targets)}


async def test_ssm_counts_are_exactly_the_held_connections_through_the_parser():
    with ConnHolder(count=14) as a, ConnHolder(count=3) as b:
        targets = [target(0, a.port), target(1, a.port), target(2, b.port)]
        source, fake = source_with()
        rows = await sweep(source, targets)
    assert [rows[t.instance_id].connections for t in targets] == [14, 14, 3]
    assert all(r.error is None for r in rows.values())
    sent = {s["Parameters"]["commands"][0] for s in fake.sends}
    assert sent == {count_command(a.port), count_command(b.port)}
    assert {s["DocumentName"] for s in fake.sends} == {"AWS-RunShellScript"}


async def test_ssm_sends_at_most_fifty_instance_ids_a_call():
    with ConnHolder(count=2) as held:
        targets = [target(n, held.port) for n in range(120)]
        source, fake = source_with()
        rows = await sweep(source, targets)
    assert sorted(len(s["InstanceIds"]) for s in fake.sends) == [20, 50, 50]
    assert {r.connections for r in rows.values()} == {2} and len(rows) == 120


async def test_unmanaged_instances_get_their_own_error_and_the_rest_are_counted():
    with ConnHolder(count=6) as held:
        targets = [target(n, held.port) for n in range(4)]
        source, fake = source_with({"unmanaged": {targets[1].instance_id}})
        rows = await sweep(source, targets)
    assert rows[targets[1].instance_id].error == "not-found"
    assert "not managed by SSM" in rows[targets[1].instance_id].detail
    assert [rows[targets[i].instance_id].connections for i in (0, 2, 3)] == [6, 6, 6]
    assert targets[1].instance_id not in fake.sends[-1]["InstanceIds"]


async def test_each_kind_of_failed_invocation_is_its_own_error():
    with ConnHolder(count=1) as held:
        t = [target(n, held.port) for n in range(5)]
        source, _ = source_with({
            "failing": {t[0].instance_id: (127, "sh: ss: not found")},
            "timed_out": {t[1].instance_id},
            "undeliverable": {t[2].instance_id},
            "garbage": {t[3].instance_id: "Active Internet connections\n1\n"},
        })
        rows = await sweep(source, t)
    got = [(rows[x.instance_id].error, rows[x.instance_id].connections) for x in t]
    assert got == [("command", None), ("timeout", None), ("not-found", None), ("parse", None), (None, 1)]
    assert "exit 127" in rows[t[0].instance_id].detail and "not found" in rows[t[0].instance_id].detail


async def test_invocations_still_running_are_polled_until_done():
    with ConnHolder(count=5) as held:
        source, fake = source_with({"running_polls": 3})
        rows = await sweep(source, [target(0, held.port)])
    assert rows[target(0, 0).instance_id].connections == 5
    assert fake.polls == 4


async def test_invocations_that_never_finish_time_out_at_the_overall_timeout():
    with ConnHolder(count=5) as held:
        t = [target(0, held.port), target(1, held.port)]
        source, _ = source_with({"never_finish": {t[0].instance_id}}, overall_timeout=0.4, poll_interval=0.05)
        started = time.monotonic()
        arrivals = []
        async for row in source.sweep(t):
            arrivals.append((row.instance_id, row.error, time.monotonic() - started))
    assert arrivals[0][:2] == (t[1].instance_id, None) and arrivals[0][2] < 0.3  # streamed before the slow one
    assert arrivals[1][:2] == (t[0].instance_id, "timeout")
    assert 0.4 <= arrivals[1][2] < 1.0


async def test_access_denied_to_send_command_stops_the_sweep_with_one_sentence():
    source, _ = source_with({"access_denied": True})
    with pytest.raises(AwsError, match="ssm:SendCommand"):
        await sweep(source, [target(0, 443)])


async def test_send_command_against_moto_records_batched_calls_of_the_count_command():
    """moto answers SendCommand (and records it); it lacks ListCommandInvocations, which the fake plays."""
    with mock_aws(), ConnHolder(count=4) as held:
        targets = [target(n, held.port) for n in range(55)]
        source, fake = source_with({"moto_sends": True})
        rows = await sweep(source, targets)
        commands = AwsSession(fleet()).client("ssm").list_commands()["Commands"]
    assert sorted(len(c["InstanceIds"]) for c in commands) == [5, 50]
    assert {c["DocumentName"] for c in commands} == {"AWS-RunShellScript"}
    assert {c["Parameters"]["commands"][0] for c in commands} == {count_command(held.port)}
    assert {r.connections for r in rows.values()} == {4}
