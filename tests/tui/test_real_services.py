"""The dashboard over the real services: `wsfleet.service.FleetDirectory` on the embedded demo
fleet (moto's server on loopback, real SSH count endpoints), and the directory's config re-read."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.tui.conftest import wait_for
from wsfleet.context import Context
from wsfleet.model import AppConfig, FleetConfig
from wsfleet.service import FleetDirectory
from wsfleet.tui.app import WsfleetApp
from wsfleet.tui.widgets.header import FleetHeader
from wsfleet.tui.widgets.instances import InstanceTable


LOADED_TIMEOUT = 20  # seconds


@pytest.fixture
def demo():
    from wsfleet.demo.fleet import DemoFleet

    # the config's per-host SSH timeout (the demo's own is 2 s): the demo's servers, the dashboard
    # and its SSH client share this process, so on a loaded machine an answer can take seconds
    fleet = DemoFleet(scenario="deploy", count_timeout=LOADED_TIMEOUT)
    fleet.start()
    try:
        yield fleet
    finally:
        fleet.stop()


def ctx_audit_path(demo) -> str:
    return Context(config_path=str(demo.config_path)).app_config.audit_log


def app_on(demo, *, read_only: bool = False) -> tuple[WsfleetApp, FleetDirectory]:
    ctx = Context(config_path=str(demo.config_path), fleet_name=demo.fleet_name, read_only=read_only)
    directory = FleetDirectory.from_context(ctx)
    return WsfleetApp(directory, fleet=demo.fleet_name, ui=ctx.app_config.ui, min_interval=0.2), directory


def all_counted(app) -> bool:
    table = app.dashboard.query_one(InstanceTable) if app.dashboard else None
    return bool(table and table.rows_by_id) and all(r.counted for r in table.rows_by_id.values())


async def test_the_demo_fleet_fills_the_table_with_real_counts_and_scales_out(demo, tmp_path):
    app, _ = app_on(demo)
    app.export_dir = tmp_path
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: all_counted(app), timeout=60, what="every demo instance counted over SSH")
        table = app.dashboard.query_one(InstanceTable)
        measured = [r for r in table.rows_by_id.values() if r.connections is not None]
        assert measured, [(r.id, r.error, r.detail) for r in table.rows_by_id.values()]
        header = app.dashboard.query_one(FleetHeader).render().plain
        assert "demo" in header and "123456789012" in header  # moto's account, read through STS
        await pilot.press("plus")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScaleScreen", what="the scale-out dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "review", timeout=30, what="the plan from AWS")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, timeout=30, what="the write and its read-back")
        applied = next((n.message for n in app._notifications if n.title == "Applied"), None)
        assert applied, [(n.title, n.message) for n in app._notifications]
        old, new = map(int, re.search(r"from (\d+) to (\d+)", applied).groups())
        assert new == old + 1
        # the write landed and was read back (the audit line says so); what the desired capacity is
        # now is the demo engine's business: its alarms may have scaled the group either way since
        from wsfleet.audit import AuditLog

        scaled = [e for e in AuditLog(ctx_audit_path(demo)).recent(20) if e["action"].startswith("scale")]
        assert scaled and scaled[-1]["result"] == "applied", scaled[-1:]
        assert new in [a.get("desired") for a in scaled[-1]["after"].values() if isinstance(a, dict)], scaled[-1]


async def test_read_only_on_the_demo_writes_nothing(demo):
    app, _ = app_on(demo, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.dashboard is not None and app.dashboard.status is not None, timeout=60, what="the first read")
        await pilot.press("plus")
        await pilot.pause()
        assert app.screen is app.dashboard
        assert any("Read-only" in n.message for n in app._notifications)
        assert "READ-ONLY" in app.dashboard.query_one(FleetHeader).render().plain
        # even a plan forced through the service is refused by actions.execute's gate
        svc = app.dashboard.service
        from wsfleet.errors import ReadOnlyError

        plan = svc.plan_scale("out", 1)
        with pytest.raises(ReadOnlyError):
            svc.execute(plan)
        from wsfleet.audit import AuditLog

        last = AuditLog(ctx_audit_path(demo)).recent(1)[-1]
        assert last["result"] == "refused"  # the attempt is on record, and nothing was written


# ------------------------------------------------------------------------------- config re-read


def _config(tmp_path, *, region: str = "us-east-1", hosts: str = "", broken: bool = False):
    path = tmp_path / "wsfleet.toml"
    text = textwrap.dedent(f"""
        [fleets.prod]
        asg = "prod-asg"
        region = "{region}"
        endpoint_url = "http://127.0.0.1:9"

        [fleets.prod.ssh.hosts]
        {hosts}
    """)
    path.write_text(text + ("\n[[[" if broken else ""))
    return path


def _bump(path) -> None:
    import os

    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_a_changed_host_map_reaches_the_open_fleet(tmp_path):
    path = _config(tmp_path)
    ctx = Context(config_path=str(path))
    directory = FleetDirectory.from_context(ctx)
    service = directory.service("prod")
    assert directory.reload_if_changed() is None  # unchanged: nothing read
    _config(tmp_path, hosts='"i-1" = "127.0.0.1:2201"')
    _bump(path)
    assert directory.reload_if_changed() is None
    assert service.fleet.ssh.hosts["i-1"].port == 2201
    assert service._source_stale  # the SSH source reopens before the next sweep


def test_a_fleet_first_opened_after_a_re_read_gets_the_re_read_settings(tmp_path):
    path = _config(tmp_path)
    ctx = Context(config_path=str(path), endpoint_url="http://127.0.0.1:5999")
    directory = FleetDirectory.from_context(ctx)  # no fleet opened yet
    _config(tmp_path, hosts='"i-1" = "127.0.0.1:2201"')
    _bump(path)
    assert directory.reload_if_changed() is None
    service = directory.service("prod")  # opened only now: from the re-read file, not the start-up one
    assert service.fleet.ssh.hosts["i-1"].port == 2201
    assert service.fleet.endpoint_url == "http://127.0.0.1:5999"  # the command line still wins


def test_a_changed_region_needs_a_restart_and_says_so(tmp_path):
    path = _config(tmp_path)
    directory = FleetDirectory.from_context(Context(config_path=str(path)))
    service = directory.service("prod")
    _config(tmp_path, region="eu-west-1")
    _bump(path)
    note = directory.reload_if_changed()
    assert note == "The config file changed the AWS settings of (or removed) prod; restart wsfleet to use them."
    assert service.fleet.region == "us-east-1"


def test_a_broken_config_file_keeps_the_previous_settings(tmp_path):
    path = _config(tmp_path, hosts='"i-1" = "127.0.0.1:2201"')
    directory = FleetDirectory.from_context(Context(config_path=str(path)))
    service = directory.service("prod")
    _config(tmp_path, broken=True)
    _bump(path)
    note = directory.reload_if_changed()
    assert note.startswith("The config file changed but cannot be used (") and note.endswith("still using the previous settings.")
    assert service.fleet.ssh.hosts["i-1"].port == 2201


def test_command_line_overrides_survive_a_re_read(tmp_path):
    path = _config(tmp_path)
    ctx = Context(config_path=str(path), endpoint_url="http://127.0.0.1:5999")
    directory = FleetDirectory.from_context(ctx)
    service = directory.service("prod")
    assert service.fleet.endpoint_url == "http://127.0.0.1:5999"
    _config(tmp_path, hosts='"i-2" = "127.0.0.1:2202"')
    _bump(path)
    assert directory.reload_if_changed() is None
    assert service.fleet.endpoint_url == "http://127.0.0.1:5999" and "i-2" in service.fleet.ssh.hosts


def test_each_fleet_has_its_own_service_and_session():
    app_config = AppConfig(fleets={"a": FleetConfig(name="a", asg="a-asg", region="us-east-1"), "b": FleetConfig(name="b", asg="b-asg", region="eu-west-1")})
    directory = FleetDirectory(app_config)
    a, b = directory.service("a"), directory.service("b")
    assert a is directory.service("a") and a is not b
    assert a.session is not b.session
    assert (a.session.region, b.session.region) == ("us-east-1", "eu-west-1")
