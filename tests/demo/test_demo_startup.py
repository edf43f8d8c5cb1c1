"""The demo's start-up order: its instances serve the story's first sessions before anything is
provisioned, the dashboard opens then, and provisioning waits (bounded) for the dashboard's first
counts, so they do not queue behind it. Everything real: moto, the instances' SSH and WebSocket
servers, wsfleet's count over SSH, on loopback."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import asyncssh
import botocore.session
import pytest
from botocore.config import Config

from wsfleet.commands.demo import _DemoBoot
from wsfleet.config import load_config, select_fleet
from wsfleet.counts.command import count_command, parse_count
from wsfleet.demo import DemoFleet
from wsfleet.demo.traffic import LoadGenerator

pytestmark = pytest.mark.timeout(120)

BOOT_TIMEOUT = 60  # seconds: a busy machine, moto's first calls


def _alarms(demo: DemoFleet) -> list[str]:
    session = botocore.session.Session()
    session.set_credentials("demo", "demo")
    cw = session.create_client("cloudwatch", region_name="us-east-1", endpoint_url=demo.endpoint_url,
                               config=Config(retries={"max_attempts": 1}))
    return sorted(a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"])


def _provisioned_alarms(demo: DemoFleet) -> list[str]:
    """The alarms a provisioned demo has: its config's two scaling alarms."""
    fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)
    return sorted([fleet.high_alarm_name, fleet.low_alarm_name])


def _count_over_ssh(config_path: Path) -> dict[str, int]:
    """Each instance's count, by wsfleet's count command over SSH, as the dashboard asks."""
    fleet = select_fleet(load_config(str(config_path)), "demo")

    async def one(iid, host):
        async with asyncssh.connect(host.host, host.port, username=fleet.ssh.user, client_keys=[fleet.ssh.key],
                                    known_hosts=fleet.ssh.known_hosts, config=None, agent_path=None) as conn:
            result = await conn.run(count_command(host.service_port), check=True, timeout=30)
        out = result.stdout.decode() if isinstance(result.stdout, bytes) else result.stdout
        return iid, parse_count(out)

    async def every():
        return dict(await asyncio.gather(*(one(iid, h) for iid, h in fleet.ssh.hosts.items())))

    return asyncio.run(every())


class _Starting:
    """A DemoFleet starting on a thread, as the dashboard's boot starts it."""

    def __init__(self, demo: DemoFleet) -> None:
        self.demo, self.serving, self.error = demo, threading.Event(), None
        demo.on_serving = self.serving.set
        self.thread = threading.Thread(target=self._start, daemon=True)
        self.thread.start()

    def _start(self) -> None:
        try:
            self.demo.start()
        except BaseException as exc:
            self.error = exc
            self.serving.set()

    def finished(self) -> bool:
        self.thread.join(BOOT_TIMEOUT)
        return not self.thread.is_alive() and self.error is None


def test_the_first_sessions_serve_before_provisioning_which_waits_for_the_first_counts():
    demo = DemoFleet(scenario="spike")
    demo.first_counts_wait = BOOT_TIMEOUT  # only the counts (or the bound) let it go on
    try:
        starting = _Starting(demo)
        assert starting.serving.wait(BOOT_TIMEOUT) and starting.error is None
        assert _alarms(demo) == []  # nothing provisioned yet
        counts = _count_over_ssh(demo.config_path)  # the dashboard's first sweep
        assert set(counts) == set(demo.hosts()) and len(counts) == demo.start_instances
        assert sum(counts.values()) == demo.scenario.sessions_at(0.0)  # the story's first sessions, already open
        assert starting.finished(), starting.error
        assert _alarms(demo) == _provisioned_alarms(demo)
        frame = demo.next_frame(timeout=BOOT_TIMEOUT)
        assert frame is not None and frame.t < demo.timing.tick  # the engine's first step: the story's clock starts with it
        assert frame.total_connections >= sum(counts.values()) - 1  # it kept the sessions open (none churned at t=0)
    finally:
        demo.stop()


def test_a_quit_before_the_first_counts_provisions_at_once():
    demo = DemoFleet(scenario="spike", instances=1)
    demo.first_counts_wait = 600  # far longer than this test may take
    try:
        starting = _Starting(demo)
        assert starting.serving.wait(BOOT_TIMEOUT) and starting.error is None
        demo.stop_waiting_for_counts()
        assert starting.finished(), starting.error
        assert _alarms(demo) == _provisioned_alarms(demo)
    finally:
        demo.stop()


class _FakeDemo:
    fleet_name = "demo"
    host_wide = None
    scenario = SimpleNamespace(summary="A morning ramp.")

    def __init__(self, config_path: Path, gate: threading.Event) -> None:
        self.config_path, self._gate = config_path, gate
        self.on_progress = self.on_serving = None
        self.first_counts_wait = None
        self.warnings: tuple[str, ...] = ()
        self.errors: list[str] = []
        self.released = threading.Event()

    def start(self):
        self.on_serving()
        self._gate.wait(10)
        self.warnings = ("the low threshold flaps",)  # known once provisioned
        return self

    def stop_waiting_for_counts(self) -> None:
        self.released.set()

    def try_line(self) -> str:
        return f"wsfleet --config {self.config_path} counts"


def test_the_dashboard_opens_when_the_fleet_serves_and_hears_provisioning_warnings_later(tmp_path):
    config = tmp_path / "wsfleet.toml"
    config.write_text('[fleets.demo]\nasg = "demo-chat-asg"\nregion = "us-east-1"\nendpoint_url = "http://127.0.0.1:9"\n')
    gate, told = threading.Event(), []
    demo = _FakeDemo(config, gate)
    boot = _DemoBoot(demo, SimpleNamespace(read_only=False, verbose=False))
    boot.on_later = lambda text, severity: told.append((text, severity))
    directory = boot.wait()  # returns while the boot goes on
    assert directory.default_name(None) == "demo" and not boot.done
    assert demo.first_counts_wait and boot.announce()[0] == "A morning ramp."
    gate.set()
    boot.join()
    assert boot.started and told == [("provision warned: the low threshold flaps", "warning")]
    boot.cancel()
    assert demo.released.is_set()  # a quit lets a boot waiting for counts go on at once


def test_the_demos_users_connect_to_loopback_whatever_proxy_the_environment_names(monkeypatch):
    with socket.socket() as closed:  # a loopback port nobody listens on, as the "proxy"
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)

    async def run():
        from websockets.asyncio.server import serve

        async def echo(ws):
            async for message in ws:
                await ws.send(message)

        async with serve(echo, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            traffic = LoadGenerator(max_connections=10, capacity=10)
            result = await traffic.step(sessions=3, leak_fraction=0.0, churn=0.0, targets={"i-a": port})
            await traffic.close()
            return result

    result = asyncio.run(run())
    assert (result.opened, result.failed) == (3, 0)


class _GatedDemo:
    """A demo for `_DemoBoot`: it serves at once, then provisions until `gate` is set, then ends
    (raising `fails` when given)."""

    warnings = ()

    def __init__(self, fails: str | None = None) -> None:
        import threading

        self.gate, self.fails, self.errors = threading.Event(), fails, []

    def start(self) -> None:
        self.on_serving()
        self.gate.wait(10)
        if self.fails:
            raise RuntimeError(self.fails)


def test_a_boot_that_fails_after_serving_is_provisioning_then_failed():
    """The dashboard is open once the fleet serves; a provisioning failure after that must still end
    `wsfleet demo` with exit 3 (`boot.failed`), and the panels must stop saying "being provisioned"."""
    from datetime import datetime, timedelta, timezone

    from wsfleet.commands.demo import _DemoBoot

    demo = _GatedDemo(fails="moto went away")
    boot = _DemoBoot(demo, ctx=None)
    told: list = []
    boot.on_later = lambda text, severity: told.append((severity, text))
    try:
        assert boot._ready.wait(10)
        assert boot.provisioning_at(datetime.now(timezone.utc)) and not boot.failed and not boot.done
    finally:
        demo.gate.set()
        boot.join()
    assert boot.failed and not boot.provisioning_at(boot.finished_at + timedelta(seconds=1)) and not boot.started
    assert demo.errors == ["the demo fleet stopped while it was being provisioned: moto went away"]
    assert told == [("error", demo.errors[0])]


def test_a_status_read_that_began_while_provisioning_still_counts_as_during_it():
    from datetime import datetime, timedelta, timezone

    from wsfleet.commands.demo import _DemoBoot

    demo = _GatedDemo()
    boot = _DemoBoot(demo, ctx=None)
    try:
        assert boot._ready.wait(10)
        began = datetime.now(timezone.utc)
        assert boot.provisioning_at(began)
    finally:
        demo.gate.set()
        boot.join()
    assert not boot.failed and boot.done
    assert boot.provisioning_at(began)  # that read began before provisioning ended
    assert not boot.provisioning_at(boot.finished_at + timedelta(seconds=1))  # a later one did not


def test_moto_data_files_come_through_the_parsed_cache_unchanged(tmp_path, monkeypatch):
    """The demo's moto reads its data files (load_resource) through wsfleet.parsed_json: the same
    data as moto's own reader, from the cache on the second read; with either of moto's ways to
    name a file ((package, resource) up to 5.2.1, (resource,) relative to moto since)."""
    import gzip
    import inspect
    import json
    import os

    import moto
    from moto.utilities import utils

    import wsfleet.demo  # noqa: F401 - installs the reader
    from wsfleet import parsed_json

    assert getattr(utils.load_resource, "wsfleet_kept", False)
    monkeypatch.setattr(parsed_json, "cache_dir", lambda: tmp_path)
    relative = "ec2/resources/instance_type_offerings/region/us-east-1.json"
    if len(inspect.signature(utils.load_resource.wsfleet_original).parameters) == 2:
        args = ("moto.ec2.models.instance_types", "../resources/instance_type_offerings/region/us-east-1.json")
    else:
        args = (relative,)
    raw = json.loads(gzip.decompress(open(os.path.join(os.path.dirname(moto.__file__), relative + ".gz"), "rb").read()))
    assert utils.load_resource(*args) == raw
    assert len(list(tmp_path.iterdir())) == 1
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed again"))
    assert utils.load_resource(*args) == raw


def test_the_set_up_ec2_client_has_the_operations_it_calls_and_no_more(tmp_path, monkeypatch):
    """The demo's own EC2 client is made from a model trimmed to DEMO_EC2_OPERATIONS (its set-up
    calls, which the boot tests run for real); made, not connected: no request is sent."""
    from wsfleet.aws import models
    from wsfleet.demo import bootstrap

    monkeypatch.setattr(models, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(models, "_in_memory", {})  # as a new process
    monkeypatch.setattr(bootstrap, "_clients", {})
    ec2 = bootstrap.clients("http://127.0.0.1:9", "us-east-1")["ec2"]
    assert {ec2.meta.method_to_api_mapping[m] for m in ("create_vpc", "create_subnet", "create_launch_template")} \
        == bootstrap.DEMO_EC2_OPERATIONS
    assert not hasattr(ec2, "run_instances")
    assert len(list(tmp_path.glob("ec2-*-service-2-*.json"))) == 1


def test_with_a_dashboard_that_reports_its_counts_provisioning_waits_for_them_on_screen():
    """Asked is not shown: with counts_shown_reported (the dashboard's boot), the counts being
    asked do not start provisioning; the dashboard's counts_shown() (stop_waiting_for_counts) does."""
    demo = DemoFleet(scenario="spike", instances=1)
    demo.first_counts_wait = 600
    demo.counts_shown_reported = True
    try:
        starting = _Starting(demo)
        assert starting.serving.wait(BOOT_TIMEOUT) and starting.error is None
        assert len(_count_over_ssh(demo.config_path)) == 1  # asked and answered
        starting.thread.join(1.0)
        assert starting.thread.is_alive() and _alarms(demo) == []  # still waiting
        demo.stop_waiting_for_counts()
        assert starting.finished(), starting.error
        assert _alarms(demo) == _provisioned_alarms(demo)
    finally:
        demo.stop()


def test_the_boot_lets_provisioning_go_when_the_dashboard_shows_its_counts(tmp_path):
    gate = threading.Event()
    demo = _FakeDemo(tmp_path / "wsfleet.toml", gate)
    boot = _DemoBoot(demo, ctx=None)
    try:
        assert demo.counts_shown_reported and not demo.released.is_set()
        boot.counts_shown()
        assert demo.released.is_set()
        demo.released.clear()
        boot.counts_shown()  # every later sweep's: nothing more to release
        assert not demo.released.is_set()
    finally:
        gate.set()
        boot.join()


def test_moto_counts_unchecked_requests_without_importing_iam_access_control():
    """The demo's moto counts requests as moto does while none is checked, without importing IAM's
    access control (and S3) for it; once checking is on, moto's own check runs (and refuses the
    demo's dummy keys). In a process of its own: which modules are imported is the point."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import sys
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from wsfleet.demo import bootstrap
        server = bootstrap.MotoServer()
        url = server.start()
        try:
            ec2 = bootstrap.clients(url, "us-east-1")["ec2"]
            ec2.create_vpc(CidrBlock="127.0.0.0/16")
            print(ActionAuthenticatorMixin.request_count, "moto.iam.access_control" in sys.modules)
            settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
            try:
                ec2.create_vpc(CidrBlock="127.0.0.0/16")
            except Exception as exc:
                print(type(exc).__name__, exc.response["Error"]["Code"])
            print("moto.iam.access_control" in sys.modules)
        finally:
            server.stop()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False", "ClientError", "AuthFailure", "True"]


def test_the_demo_imports_asyncssh_after_its_quick_liboqs_lookup():
    """asyncssh looks for liboqs as it is imported (find_library: ldconfig, then gcc, 40-60 ms);
    wsfleet.counts makes that lookup quick, and the demo's instances import asyncssh after it: the
    slow lookup is never asked for liboqs (on a machine without it, as here)."""
    import subprocess
    import sys

    try:
        with open("/etc/ld.so.cache", "rb") as f:
            if b"liboqs.so" in f.read():
                pytest.skip("liboqs is installed here: the quick lookup rightly asks find_library")
    except OSError:
        pytest.skip("no dynamic linker cache: the quick lookup is not used")
    code = ("import ctypes.util\n"
            "seen, real = [], ctypes.util.find_library\n"
            "ctypes.util.find_library = lambda name: (seen.append(name), real(name))[1]\n"
            "import wsfleet.demo.instances, sys\n"
            "print('asyncssh' in sys.modules, [n for n in seen if 'oqs' in n])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True []"


_OFFERINGS_DUMP = """
import json, sys
if sys.argv[1] == "demo":
    import wsfleet.demo  # noqa: F401 - moto's data as the demo's process reads it
import moto.ec2.models.instance_types as it
from moto.ec2.models import ec2_backends
offerings = it.INSTANCE_TYPE_OFFERINGS
pending = {lt: len(getattr(regions, "_reads", ())) for lt, regions in offerings.items()}
asked = {lt: regions.get("us-east-1") for lt, regions in offerings.items()}
after_one = {lt: len(getattr(regions, "_reads", ())) for lt, regions in offerings.items()}
backend = ec2_backends["123456789012"]["eu-west-1"]
described = backend.describe_instance_type_offerings("availability-zone", {"instance-type": ["t3.micro"]})
print(json.dumps({"keys": {lt: sorted(r) for lt, r in offerings.items()}, "asked": asked, "described": described,
                  "whole": {lt: dict(regions) for lt, regions in offerings.items()},
                  "pending": pending, "after_one": after_one}, sort_keys=True))
"""


def test_moto_instance_type_offerings_read_on_demand_are_moto_s_own(tmp_path):
    """In the demo's process the offerings' files are read when a region is first asked for, and
    give exactly what moto's own import gives: keys, a region's list, a describe call, whole copies."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}

    def dump(mode: str) -> dict:
        done = subprocess.run([sys.executable, "-c", _OFFERINGS_DUMP, mode], capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    moto_own, demo = dump("plain"), dump("demo")
    assert set(moto_own["pending"].values()) == {0}  # moto's own: read at import
    assert all(n >= 25 for n in demo["pending"].values())  # the demo's: nothing read at import
    assert {lt: demo["pending"][lt] - demo["after_one"][lt] for lt in demo["pending"]} == {lt: 1 for lt in demo["pending"]}
    for key in ("keys", "asked", "described", "whole"):
        assert demo[key] == moto_own[key], key
    assert demo["described"] and all(o["LocationType"] == "availability-zone" for o in demo["described"])
