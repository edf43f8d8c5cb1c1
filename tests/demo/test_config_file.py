"""The demo's config file is an ordinary wsfleet config, rewritten whole whenever instances change."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from wsfleet.actions import validate_fleet_writes
from wsfleet.config import load_config, parse_config, select_fleet
from wsfleet.demo.config_file import ASG_NAME, FLEET_NAME, DemoConfigFile, Endpoint, render
from wsfleet.demo.instances import DemoKeys
from wsfleet.demo.scenarios import SCENARIOS, DemoTiming
from wsfleet.model import SshHost


@pytest.fixture
def keys(tmp_path):
    return DemoKeys.create(tmp_path)


def _render(tmp_path, keys, hosts, scenario="spike"):
    return render(
        scenario=SCENARIOS[scenario], timing=DemoTiming(), endpoint_url="http://127.0.0.1:5000", keys=keys,
        workdir=tmp_path, hosts=hosts, schedule_at=datetime(2026, 11, 26, 7, 5, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_config_parses_and_provision_accepts_it(tmp_path, keys, scenario):
    fleet = select_fleet(parse_config(_render(tmp_path, keys, {}, scenario), "demo"), None)
    assert fleet.name == FLEET_NAME and fleet.asg == ASG_NAME
    assert validate_fleet_writes(fleet) == []
    assert fleet.scale_in.threshold == SCENARIOS[scenario].low
    assert fleet.schedule[0].recurrence == "5 7 * * *"
    # doctor's silence threshold in the demo's compressed time: well past a live session's longest
    # quiet spell (heartbeat plus one step), far below the seed's 5 min
    assert fleet.doctor.silent_after == DemoTiming().silent_after == 20
    assert DemoTiming().heartbeat + DemoTiming().tick < fleet.doctor.silent_after / 2


def test_hosts_map_each_instance_to_its_ssh_endpoint_and_service_port(tmp_path, keys):
    text = _render(tmp_path, keys, {"i-a": Endpoint(2201, 9001), "i-b": Endpoint(2202, 9002)})
    fleet = select_fleet(parse_config(text, "demo"), None)
    assert fleet.ssh.hosts == {
        "i-a": SshHost("127.0.0.1", 2201, 9001),
        "i-b": SshHost("127.0.0.1", 2202, 9002),
    }
    assert fleet.ssh.key == str(keys.client_key_path)
    assert fleet.ssh.known_hosts == str(keys.known_hosts_path)
    assert fleet.ssh.host_keys == "strict"
    assert fleet.ssh.config_file == str(tmp_path / "ssh_config")  # never the user's ~/.ssh/config


def test_update_rewrites_config_and_known_hosts_together(tmp_path, keys):
    path = tmp_path / "wsfleet.toml"
    cfg = DemoConfigFile(path, keys, lambda hosts: _render(tmp_path, keys, hosts))
    cfg.update(add={"i-a": Endpoint(2201, 9001), "i-b": Endpoint(2202, 9002)})
    cfg.update(remove=("i-a",), add={"i-c": Endpoint(2203, 9003)})
    fleet = select_fleet(load_config(str(path)), None)
    assert sorted(fleet.ssh.hosts) == ["i-b", "i-c"]
    lines = keys.known_hosts_path.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["[127.0.0.1]:2202", "[127.0.0.1]:2203"]
    assert all(line.split()[1] == "ssh-ed25519" for line in lines)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_reader_never_sees_a_half_written_config(tmp_path, keys):
    path = tmp_path / "wsfleet.toml"
    cfg = DemoConfigFile(path, keys, lambda hosts: _render(tmp_path, keys, hosts))
    cfg.update(add={"i-0": Endpoint(2000, 9000)})
    stop = threading.Event()
    problems: list[str] = []

    def read() -> None:
        while not stop.is_set():
            try:
                fleet = select_fleet(load_config(str(path)), None)
                assert fleet.ssh.hosts
            except Exception as exc:  # a torn file would fail to parse
                problems.append(repr(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(1, 150):
            cfg.update(add={f"i-{i}": Endpoint(2000 + i, 9000 + i)}, remove=(f"i-{i - 1}",))
    finally:
        stop.set()
        reader.join()
    assert problems == []
