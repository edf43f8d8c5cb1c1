"""The forked dashboard's two sides (wsfleet.commands.demo_forked), without a terminal: what the
dashboard's boot makes of the fleet's messages, what it tells the fleet, and when the demo forks.
The whole thing in a real terminal: tests/tui/test_terminal.py."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from wsfleet.commands import demo_forked
from wsfleet.commands.demo_forked import PipedBoot
from wsfleet.errors import UsageError, WsfleetError


class FakeFleet:
    """The fleet's side of the two pipes."""

    def __init__(self, monkeypatch) -> None:
        monkeypatch.setattr(demo_forked, "make_clients_early", lambda: None)  # no botocore here
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, to_parent_w = os.pipe()
        self.boot = PipedBoot(to_child_r, to_parent_w, SimpleNamespace(read_only=False, verbose=False))
        self.told: list[tuple[str, str]] = []
        self.gone = threading.Event()
        self.boot.on_later = lambda text, severity: self.told.append((text, severity))
        self.boot.on_gone = self.gone.set
        self._out = os.fdopen(self._to_child_w, "w")

    def say(self, **message) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()

    def close(self) -> None:
        self._out.close()

    def heard(self) -> list[dict]:
        with os.fdopen(self._from_child_r) as pipe:
            return [json.loads(line) for line in pipe]


def _config(tmp_path):
    config = tmp_path / "wsfleet.toml"
    config.write_text('[fleets.demo]\nasg = "demo-chat-asg"\nregion = "us-east-1"\nendpoint_url = "http://127.0.0.1:9"\n')
    return config


def test_the_dashboard_opens_the_config_the_fleet_serves_and_hears_its_notes(tmp_path, monkeypatch):
    fleet = FakeFleet(monkeypatch)
    fleet.say(kind="progress", text="moto on 127.0.0.1")
    fleet.say(kind="serving", config=str(_config(tmp_path)), announce=["A morning ramp.", "try: wsfleet counts"])
    directory = fleet.boot.wait()
    assert directory.default_name(None) == "demo"
    assert fleet.boot.progress() == ["moto on 127.0.0.1"]
    assert fleet.boot.announce() == ["A morning ramp.", "try: wsfleet counts"]
    fleet.say(kind="later", text="provision warned: the low threshold flaps", severity="warning")
    fleet.close()
    assert fleet.gone.wait(10)  # the fleet stops: nothing left to show
    assert fleet.told == [("provision warned: the low threshold flaps", "warning")]


def test_a_read_that_began_before_provisioning_ended_is_during_it(tmp_path, monkeypatch):
    fleet = FakeFleet(monkeypatch)
    before = datetime.now(timezone.utc)
    assert not fleet.boot.provisioning_at(before)  # not serving yet: nothing is on its way
    fleet.say(kind="serving", config=str(_config(tmp_path)), announce=[])
    fleet.boot.wait()
    assert fleet.boot.provisioning_at(before)
    ended = before + timedelta(seconds=2)
    fleet.say(kind="provisioned", at=ended.isoformat())
    fleet.close()
    assert fleet.gone.wait(10)
    assert fleet.boot.provisioning_at(ended - timedelta(seconds=1))
    assert not fleet.boot.provisioning_at(ended + timedelta(seconds=1))


def test_the_fleet_hears_the_first_counts_once_and_why_the_dashboard_could_not_open(tmp_path, monkeypatch):
    fleet = FakeFleet(monkeypatch)
    for _ in range(3):  # the dashboard calls it after every sweep
        fleet.boot.counts_shown()
    fleet.boot.tell_exit("the demo fleet did not start: moto did not start")
    assert fleet.heard() == [{"kind": "counts"}, {"kind": "exit", "boot_error": "the demo fleet did not start: moto did not start"}]
    fleet.close()


def test_a_fleet_that_did_not_start_is_one_sentence_and_so_is_one_that_died(monkeypatch):
    fleet = FakeFleet(monkeypatch)
    fleet.say(kind="error", text="moto did not start")
    with pytest.raises(WsfleetError) as err:
        fleet.boot.wait()
    assert err.value.message == "the demo fleet did not start: moto did not start"
    fleet.close()
    died = FakeFleet(monkeypatch)
    died.close()  # its process ended before it served
    with pytest.raises(WsfleetError, match="did not start: its process ended"):
        died.boot.wait()
    assert not died.gone.wait(0.2)  # never served: the boot's error says it, not an exit


def test_a_quit_while_the_fleet_boots_ends_the_wait(monkeypatch):
    fleet = FakeFleet(monkeypatch)
    fleet.boot.cancel()
    with pytest.raises(WsfleetError, match="stopped before its fleet started"):
        fleet.boot.wait()
    fleet.close()


@pytest.mark.parametrize(("load", "cores", "forks"), [
    (0.2, 2, True), (1.5, 2, True), (1.6, 2, False), (3.0, 2, False), (0.0, 1, False), (3.4, 4, True), (3.6, 4, False),
])
def test_it_forks_only_with_a_core_to_spare(monkeypatch, load, cores, forks):
    monkeypatch.delenv(demo_forked.SPLIT_ENV, raising=False)
    monkeypatch.setattr(demo_forked.sys, "platform", "linux")
    monkeypatch.setattr(demo_forked.threading, "active_count", lambda: 1)
    monkeypatch.setattr(demo_forked.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(demo_forked.os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert demo_forked.wanted() is forks
    monkeypatch.setenv(demo_forked.SPLIT_ENV, "thread")
    assert demo_forked.wanted() is False
    monkeypatch.setenv(demo_forked.SPLIT_ENV, "fork")
    assert demo_forked.wanted() is True
    monkeypatch.setattr(demo_forked.threading, "active_count", lambda: 2)  # a fork keeps one thread
    assert demo_forked.wanted() is False
    monkeypatch.setattr(demo_forked.threading, "active_count", lambda: 1)
    monkeypatch.setattr(demo_forked.sys, "platform", "darwin")
    assert demo_forked.wanted() is False


def test_an_unknown_split_is_one_sentence(monkeypatch):
    monkeypatch.setenv(demo_forked.SPLIT_ENV, "frok")
    with pytest.raises(UsageError) as err:
        demo_forked.wanted()
    assert err.value.message == ("WSFLEET_DEMO_SPLIT='frok' is neither `fork` nor `thread`; "
                                 "set one of those, or unset it to let the demo choose by the load.")


def test_clients_made_early_load_the_dashboards_models_through_its_sessions_loader(monkeypatch):
    from wsfleet.aws import session

    loaded: list[str] = []
    loader = session._session_loader()
    real = type(loader).load_service_model

    def spy(self, service, type_name, api_version=None):
        loaded.append(service)
        return real(self, service, type_name, api_version)

    monkeypatch.setattr(type(loader), "load_service_model", spy)
    demo_forked.make_clients_early()
    assert set(demo_forked.DASHBOARD_SERVICES) <= set(loaded)
