"""DemoFleet in this process (the API the dashboard uses): real SSH endpoints, the config it
writes, and a stop() that leaves no thread, port, temporary directory or changed environment."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

import asyncssh
import pytest

from wsfleet.config import load_config, select_fleet
from wsfleet.counts.command import count_command, parse_count
from wsfleet.demo import DemoFleet
from wsfleet.demo.scenarios import DemoTiming

pytestmark = pytest.mark.timeout(90)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def demo():
    threads_before = {t.ident for t in threading.enumerate()}
    env_before = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    # one engine step a second (the default is 2 s) and a warm pool ready 2 s after the start (8 s):
    # the tests here wait for frames, for a step that does not come while held and for the pool
    fleet = DemoFleet(scenario="deploy", instances=3, timing=DemoTiming(tick=1.0, warm_prepare=2.0))
    fleet.start()
    ports = [p for e in fleet.hosts().values() for p in (e.ssh_port, e.service_port)]
    workdir = fleet.workdir
    yield fleet
    fleet.stop()
    leftover = [t.name for t in threading.enumerate() if t.ident not in threads_before]
    assert leftover == [], leftover
    assert not workdir.exists()
    assert not [p for p in ports if _listening(p)]
    assert {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"} == env_before


def _ssh(demo, iid, command, key=None):
    endpoint = demo.hosts()[iid]
    fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)

    async def run():
        async with asyncssh.connect(
            "127.0.0.1", endpoint.ssh_port, username=fleet.ssh.user, client_keys=[key or fleet.ssh.key],
            known_hosts=fleet.ssh.known_hosts, config=None, agent_path=None,
        ) as conn:
            return await conn.run(command, check=False)

    return asyncio.run(run())


def test_config_maps_every_instance_to_its_own_endpoints(demo):
    frame = demo.next_frame(timeout=10)
    fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)
    assert set(fleet.ssh.hosts) == set(demo.hosts()) == set(frame.connections)
    ports = [h.port for h in fleet.ssh.hosts.values()] + [h.service_port for h in fleet.ssh.hosts.values()]
    assert len(set(ports)) == len(ports) == 6
    assert all(h.host == "127.0.0.1" for h in fleet.ssh.hosts.values())
    assert fleet.endpoint_url == demo.endpoint_url


def test_an_instance_answers_the_real_count_command_over_ssh(demo):
    frame = demo.next_frame(timeout=10)
    iid = sorted(frame.connections)[0]
    result = _ssh(demo, iid, count_command(demo.hosts()[iid].service_port))
    assert result.exit_status == 0, result.stderr
    assert parse_count(result.stdout.decode() if isinstance(result.stdout, bytes) else result.stdout) >= 0


def test_an_instance_runs_no_other_command(demo):
    iid = sorted(demo.hosts())[0]
    other = sorted(demo.hosts())[1]
    for command in ("id", count_command(demo.hosts()[other].service_port)):
        result = _ssh(demo, iid, command)
        assert result.exit_status == 126
        assert "runs only wsfleet's fixed commands" in str(result.stderr)


def test_an_instance_refuses_another_key(demo, tmp_path):
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "stranger"
    stranger.write_private_key(str(path))
    with pytest.raises(asyncssh.PermissionDenied):
        _ssh(demo, sorted(demo.hosts())[0], "true", key=str(path))


def test_frames_follow_the_engine(demo):
    a = demo.next_frame(timeout=10)
    b = demo.next_frame(timeout=10)
    assert b.t > a.t and b.scenario == "deploy"
    assert b.desired == 3 and b.total_connections == sum(b.connections.values()) > 0


def test_a_second_demo_in_the_same_process_is_refused(demo):
    from wsfleet.errors import UsageError

    with pytest.raises(UsageError, match="already running in this process"):
        DemoFleet(scenario="spike").start()
    assert demo.next_frame(timeout=10) is not None  # the first one goes on



def test_a_scale_out_through_wsfleet_gets_warm_instances_with_endpoints_and_an_activity(demo, tmp_path):
    from wsfleet.actions import execute, plan_scale
    from wsfleet.audit import AuditLog
    from wsfleet.aws.activities import read_activities
    from wsfleet.aws.fleet import read_group
    from wsfleet.aws.session import AwsSession

    fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)
    session = AwsSession(fleet)
    # the pool's instances start Warmed:Pending; the engine readies them a few seconds after start
    from wsfleet.aws.warm_pool import read_warm_pool

    deadline = time.monotonic() + 20
    while sum(i.lifecycle.startswith("Warmed:") and i.lifecycle != "Warmed:Pending"
              for i in read_warm_pool(session, fleet.asg).instances) < 2:
        assert time.monotonic() < deadline, "the demo's warm pool never had 2 ready instances"
        time.sleep(0.25)
    before = read_group(session, fleet.asg)
    outcome = execute(plan_scale(session, fleet, "out", 2), confirm=lambda p: True, read_only=False, audit=AuditLog(tmp_path / "a.jsonl"))
    assert outcome.ok, outcome.error
    after = read_group(session, fleet.asg)
    new = {i.id for i in after.instances} - {i.id for i in before.instances}
    assert after.desired == before.desired + 2 and len(new) == 2
    hosts = select_fleet(load_config(str(demo.config_path)), demo.fleet_name).ssh.hosts  # re-read: already there
    assert new <= set(hosts)
    launches = [a for a in read_activities(session, fleet.asg, limit=50) if any(a.description.endswith(i) for i in new)]
    launches = [a for a in launches if "into warm pool" not in a.description]  # each was launched into the pool before
    assert len(launches) == 2 and all("from warm pool" in a.description for a in launches)
    assert all("user request explicitly set group desired capacity" in a.cause for a in launches)


def _state(demo) -> dict:
    import json

    return json.loads(demo.state_path.read_text())


def test_a_held_demo_runs_no_step_and_its_servers_keep_the_last_steps_counts(demo):
    assert demo.next_frame(timeout=10) is not None
    with demo.held() as last:
        state = _state(demo)
        assert state["state"] == "held" and state["t"] == last.t
        assert {i: s["connections"] for i, s in state["instances"].items()} == last.connections
        while (queued := demo.next_frame(timeout=0)) is not None:  # published before the hold began
            assert queued.t <= last.t
        assert demo.next_frame(timeout=demo.timing.tick * 1.5) is None  # no step while held
        now = {iid: inst.connections for iid, inst in demo._instances.items() if not inst.stopped}
        # (an instance launched through the API since that step serves too, still empty)
        assert {iid: now[iid] for iid in last.connections} == last.connections and sum(now.values()) == sum(last.connections.values())
        assert _state(demo)["generation"] == state["generation"]
    after = demo.next_frame(timeout=10)
    assert after is not None and after.t > last.t
    assert _state(demo)["generation"] > state["generation"]


def test_a_hold_file_next_to_the_config_holds_the_demo_until_it_is_removed(demo):
    from wsfleet.demo.fleet import HOLD_FILE

    hold = demo.config_path.parent / HOLD_FILE
    hold.touch()
    try:
        deadline = time.monotonic() + 10
        while _state(demo)["state"] != "held":
            assert time.monotonic() < deadline, "the demo did not hold still"
            time.sleep(0.02)
        generation = _state(demo)["generation"]
    finally:
        hold.unlink()
    deadline = time.monotonic() + 10
    while _state(demo)["generation"] == generation:
        assert time.monotonic() < deadline, "the demo did not go on once the file was removed"
        time.sleep(0.02)
