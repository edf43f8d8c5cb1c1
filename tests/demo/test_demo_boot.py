"""`wsfleet demo`'s fleet booting on a thread while the dashboard opens (commands.demo._DemoBoot,
the dashboard's Boot): its progress, the directory it opens once the fleet serves, a boot that
fails as one sentence, a cancel that ends the wait at once."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from wsfleet.commands.demo import _DemoBoot
from wsfleet.errors import UsageError, WsfleetError

CTX = SimpleNamespace(read_only=False, verbose=False)


class FakeDemo:
    fleet_name = "demo"
    host_wide = None
    warnings = ("the warm pool is small",)
    scenario = SimpleNamespace(summary="A morning ramp.")

    def __init__(self, config_path=None, error: Exception | None = None, gate: threading.Event | None = None) -> None:
        self.config_path, self._error, self._gate = config_path, error, gate
        self.on_progress = None

    def start(self):
        self.on_progress("moto on 127.0.0.1")
        if self._gate is not None:
            self._gate.wait(10)
        if self._error:
            raise self._error
        return self

    def try_line(self) -> str:
        return f"wsfleet --config {self.config_path} counts"


def test_it_boots_on_its_own_thread_and_opens_the_demos_fleet(tmp_path):
    config = tmp_path / "wsfleet.toml"
    config.write_text('[fleets.demo]\nasg = "demo-chat-asg"\nregion = "us-east-1"\nendpoint_url = "http://127.0.0.1:9"\n')
    gate = threading.Event()
    boot = _DemoBoot(FakeDemo(config, gate=gate), CTX)
    deadline = time.monotonic() + 5
    while not boot.progress() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert boot.progress() == ["moto on 127.0.0.1"] and not boot.started  # the caller goes on while it boots
    gate.set()
    directory = boot.wait()
    assert directory.default_name(None) == "demo" and boot.started
    assert boot.announce() == ["A morning ramp.", "provision warned: the warm pool is small",
                               f"try from another terminal: wsfleet --config {config} counts"]


def test_a_boot_that_fails_is_one_sentence():
    boot = _DemoBoot(FakeDemo(error=UsageError("a demo fleet is already running in this process; stop it before starting another.")), CTX)
    with pytest.raises(WsfleetError) as err:
        boot.wait()
    assert err.value.message == "the demo fleet did not start: a demo fleet is already running in this process; stop it before starting another."
    assert not boot.started


def test_cancel_ends_the_wait_at_once():
    gate = threading.Event()
    boot = _DemoBoot(FakeDemo(gate=gate), CTX)
    threading.Timer(0.2, boot.cancel).start()
    started = time.monotonic()
    with pytest.raises(WsfleetError, match="stopped before its fleet started"):
        boot.wait()
    assert time.monotonic() - started < 5
    gate.set()
    boot.join()
