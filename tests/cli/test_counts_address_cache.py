"""`wsfleet counts`/`check` with the address cache: the last run's instances are connected to while
the group is read again, and the rows are those of the fresh read, exactly as without the cache."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from tests.counts.conftest import wsfleet, world  # noqa: F401  (fixture)
from tests.helpers.moto_server import moto_server  # noqa: F401  (fixture)
from tests.helpers.asyncssh_hosts import SshTestHost
from tests.helpers.conn_holder import ConnHolder
from tests.helpers.moto_fleet import write_config


def _cache_files() -> list[Path]:
    root = Path(os.environ["XDG_CACHE_HOME"]) / "wsfleet" / "addresses"
    return sorted(root.glob("*.json")) if root.is_dir() else []


def _write_cache(ids: list[str], text: str | None = None) -> Path:
    """A cache file for the world's fleet: the one a run wrote (so the name is the product's own)."""
    [path] = _cache_files()
    path.write_text(text if text is not None else json.dumps({
        "version": 1, "fleet": "test", "asg": "prod-chat-asg", "region": "us-east-1",
        "instances": {i: {"private_ip": "10.0.1.4", "public_ip": None, "public_dns": None} for i in ids}}))
    return path


def _rows(out: str) -> tuple[list[dict], dict]:
    """The rows and summary, less what is measured anew each run (latency, time taken)."""
    doc = json.loads(out)
    return [{k: v for k, v in r.items() if k != "latency_ms"} for r in doc["instances"]], doc["summary"]


async def test_a_second_run_connects_ahead_from_the_cache_and_reports_the_same_rows(world):  # noqa: F811
    w = world((30, 20, 25))
    code, out, err = await wsfleet("--config", w.config(), "counts", "--format", "json", "--no-cache")
    assert code == 0, err
    assert _cache_files() == []  # --no-cache writes none either
    without = _rows(out)

    code, out, err = await wsfleet("-v", "--config", w.config(), "counts", "--format", "json")
    assert code == 0, err
    assert "from the address cache" not in err  # nothing cached yet
    [path] = _cache_files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(json.loads(path.read_text())["instances"]) == sorted(w.ids)
    assert _rows(out) == without

    code, out, err = await wsfleet("-v", "--config", w.config(), "counts", "--format", "json")
    assert code == 0, err
    assert "connecting to 3 instances from the address cache" in err
    assert _rows(out) == without
    assert [h.accepted for h in w.hosts] == [3, 3, 3]  # one connection a run: the warm-up's was the sweep's


async def test_check_gives_the_same_verdict_with_the_cache(world):  # noqa: F811
    w = world((100, 100, 300))
    runs = [await wsfleet("--config", w.config(), "check", "--format", "json") for _ in range(2)]
    assert [code for code, _, _ in runs] == [1, 1], runs
    docs = [json.loads(out) for _, out, _ in runs]
    assert [d["verdict"] for d in docs] == ["imbalanced", "imbalanced"]
    assert _rows(runs[0][1]) == _rows(runs[1][1])


async def _aws_after(ready, endpoint_url: str, limit: float = 20.0):
    """A loopback proxy in front of moto that holds each request until `ready()` (at most `limit`
    seconds): the fresh read cannot end before it. Returns (server, its endpoint URL)."""
    from urllib.parse import urlsplit

    target = urlsplit(endpoint_url)

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(reader, writer):
        deadline = asyncio.get_running_loop().time() + limit
        while not ready() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_a_cached_instance_that_left_the_group_is_never_reported(world, tmp_path):  # noqa: F811
    w = world((5, 6, 7))
    gone_id = "i-0123456789abcdef0"
    # the left instance's host is still up and answers: only the fresh read may keep it out; the
    # second run's read is held until the cached connection has reached that host (a fast read
    # could otherwise end before it starts, and this test would not see a connection made ahead)
    gone = await SshTestHost([w.hosts[0].authorized[0]]).start()
    hold = {"on": False}
    proxy, endpoint = await _aws_after(lambda: not hold["on"] or gone.accepted > 0, w.moto.endpoint_url)
    try:
        with ConnHolder(count=99) as gone_held:
            with open(w.known_hosts, "a") as f:
                f.write(gone.known_hosts_line)
            ssh = {"user": "oncall", "key": str(w.key_path), "known_hosts": str(w.known_hosts), "hosts": {
                **{i: {"address": f"127.0.0.1:{p}", "service_port": c.port} for i, p, c in zip(w.ids, w.ssh_ports, w.held)},
                gone_id: {"address": f"127.0.0.1:{gone.port}", "service_port": gone_held.port}}}
            config = write_config(tmp_path, endpoint, w.fleet["asg"], ssh=ssh, counts={"timeout": 5.0})
            code, _, err = await wsfleet("--config", str(config), "counts")  # writes the cache (its name has the endpoint)
            assert code == 0, err
            _write_cache([*w.ids, gone_id])
            hold["on"] = True
            code, out, err = await wsfleet("-v", "--config", str(config), "counts", "--format", "json")
    finally:
        proxy.close()
        await gone.close()
    assert code == 0, err
    assert "connecting to 4 instances from the address cache" in err
    assert gone.accepted == 1  # it was connected to ahead of the read ...
    doc = json.loads(out)
    assert [r["id"] for r in doc["instances"]] == w.ids  # ... and is not in the rows
    assert [r["connections"] for r in doc["instances"]] == [5, 6, 7]
    assert doc["summary"]["instances"] == 3 and doc["summary"]["total"] == 18
    assert gone_id not in json.loads(_cache_files()[0].read_text())["instances"]  # the cache follows the read


async def test_an_instance_the_cache_did_not_know_is_counted(world):  # noqa: F811
    w = world((1, 2, 3))
    code, _, err = await wsfleet("--config", w.config(), "counts")
    assert code == 0, err
    _write_cache(w.ids[:1])
    code, out, err = await wsfleet("-v", "--config", w.config(), "counts", "--format", "json")
    assert code == 0, err
    assert "connecting to 1 instances from the address cache" in err
    assert [(r["id"], r["connections"]) for r in json.loads(out)["instances"]] == list(zip(w.ids, [1, 2, 3]))


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"version": 1, "asg": "prod-chat-asg", "instances": [1]}',
                                     '{"version": 1, "asg": "prod-chat-asg", "instances": {"i-1": {"private_ip": 7}}}'])
async def test_a_corrupt_cache_is_ignored_and_said_only_with_verbose(world, garbage):  # noqa: F811
    w = world((4, 4, 4))
    code, clean, err = await wsfleet("--config", w.config(), "counts", "--format", "json")
    assert code == 0, err
    path = _write_cache([], garbage)

    code, out, err = await wsfleet("--config", w.config(), "counts", "--format", "json")
    assert code == 0 and err == "", err
    assert _rows(out) == _rows(clean)
    assert sorted(json.loads(path.read_text())["instances"]) == sorted(w.ids)  # rewritten from the read

    path.write_text(garbage)
    code, out, err = await wsfleet("-v", "--config", w.config(), "counts", "--format", "json")
    assert code == 0, err
    assert sum("address cache" in line and "ignored" in line for line in err.splitlines()) == 1
    assert _rows(out) == _rows(clean)


async def test_connections_start_before_the_group_read_returns(world, monkeypatch):  # noqa: F811
    """In process: the group read waits until every cached host has been connected to, which only
    a run that connects ahead lets happen (without the cache it would wait its whole bound)."""
    from wsfleet.aws import fleet as aws_fleet
    from wsfleet.commands.counts import sweep_over_ssh
    from wsfleet.context import Context

    w = world((3, 3, 3))
    ctx = Context(config_path=w.config())
    first = await asyncio.to_thread(sweep_over_ssh, ctx, ctx.fleet)  # fills the cache
    assert [r.connections for r in first.instances] == [3, 3, 3], first.instances

    real_read, seen = aws_fleet.read_group, threading.Event()

    def read_after_the_hosts_were_reached(session, asg):
        for _ in range(500):  # bounded: 10 s
            if all(h.accepted == 2 for h in w.hosts):
                seen.set()
                break
            threading.Event().wait(0.02)
        return real_read(session, asg)

    monkeypatch.setattr(aws_fleet, "read_group", read_after_the_hosts_were_reached)
    ctx = Context(config_path=w.config())
    second = await asyncio.to_thread(sweep_over_ssh, ctx, ctx.fleet)
    assert seen.is_set()
    assert [r.error for r in second.instances] == [None, None, None], second.instances
    assert [(r.instance_id, r.connections, r.current) for r in second.instances] == \
        [(r.instance_id, r.connections, r.current) for r in first.instances]
