"""`wsfleet check --wait` as a subprocess against moto's server and real asyncssh hosts: it returns
0 once a held imbalance evens out, 1 when DURATION passes first, 3 when nothing can be measured;
it keeps one SSH login per host for the whole wait, waits for an instance refresh, drops
instances that left, and ends on Ctrl-C with its connections closed.

No test relies on timing luck: the evening-out is triggered by a progress line the test has
read, DURATION is generous where success is expected, and every wait on the process is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest

from tests.helpers.asyncssh_hosts import closed_port
from tests.helpers.moto_refresh import moto_refresh  # noqa: F401  (fixture)

DEADLINE = 90  # seconds any one step of a test may take, on a busy machine

# run wsfleet with Python's own SIGINT handler even when this test runs with SIGINT ignored
# (a background job without job control inherits SIG_IGN, and Python keeps it)
_MAIN = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
         "sys.argv[0] = 'wsfleet'; runpy.run_module('wsfleet', run_name='__main__')")


class Running:
    """A wsfleet subprocess whose stderr is read line by line as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._more = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *args: str) -> "Running":
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _MAIN, *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "200"},
        )
        return cls(proc)

    async def _read(self) -> None:
        try:
            while line := await self.proc.stderr.readline():
                self.lines.append(line.decode())
                self._more.set()
        finally:
            self._more.set()

    def sweeps(self) -> list[str]:
        return [line for line in self.lines if "] sweep " in line]

    async def until(self, predicate, what: str) -> str:
        async with asyncio.timeout(DEADLINE):
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                if self._reader.done():
                    raise AssertionError(f"wsfleet ended before {what}: {''.join(self.lines)}")
                self._more.clear()
                await self._more.wait()

    async def sweep_lines(self, n: int) -> list[str]:
        await self.until(lambda _line: len(self.sweeps()) >= n, f"{n} progress lines")
        return self.sweeps()

    async def finish(self) -> tuple[int, str, str]:
        async with asyncio.timeout(DEADLINE):
            out = await self.proc.stdout.read()
            await self.proc.wait()
            await self._reader
        return self.proc.returncode, out.decode(), "".join(self.lines)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()


@pytest.fixture
async def running():
    started: list[Running] = []

    async def start(*args: str) -> Running:
        r = await Running.start(*args)
        started.append(r)
        return r

    yield start
    for r in started:
        await r.kill()


async def test_wait_passes_once_a_held_imbalance_evens_out_with_one_login_per_host(world, running):
    w = world((300, 100, 100))  # the old instance kept its clients after a deploy
    run = await running("--config", w.config(), "check", "--wait", "10m", "--interval", "1", "--format", "json")
    first, second = (await run.sweep_lines(2))[:2]
    assert "sweep 1: skew 1.80 > 1.25 (3 of 3 measured)" in first
    assert f"hottest {w.ids[0]} 300" in first and "coldest i-" in first and " 100;" in first
    assert "not enough sweeps yet (1 of 4)" in first and "(2 of 4)" in second
    for holder in w.held:
        holder.set_count(150)  # the clients have spread out
    code, out, err = await run.finish()
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["verdict"], doc["max_skew"], doc["summary"]["skew"]) == ("balanced", 1.25, 1.0)
    assert doc["sweeps"] == len(run.sweeps()) >= 3 and doc["waited_s"] > 0
    assert [r["connections"] for r in doc["instances"]] == [150, 150, 150]
    assert [h.accepted for h in w.hosts] == [1, 1, 1]  # one login per host for the whole wait
    assert err.count("refresh state is unavailable from") == 1  # stock moto: said once, then not asked again


async def test_wait_ends_with_exit_1_and_the_last_verdict_when_the_imbalance_stays(world, running):
    w = world((300, 100, 100))
    run = await running("--config", w.config(), "check", "--wait", "3", "--interval", "1")
    code, out, err = await run.finish()
    assert code == 1, err
    assert "verdict: imbalanced (skew 1.80 > max 1.25" in out and "LT" in out
    assert "not balanced after" in err and "skew 1.80 > 1.25" in err.splitlines()[-1]
    assert len(run.sweeps()) >= 1
    assert [h.accepted for h in w.hosts] == [1, 1, 1]


async def test_wait_drops_an_instance_that_left_the_group(world, running):
    w = world((300, 100, 100))
    run = await running("--config", w.config(), "check", "--wait", "10m", "--interval", "1", "--format", "json")
    await run.sweep_lines(1)
    w.moto.client("autoscaling").detach_instances(
        InstanceIds=[w.ids[0]], AutoScalingGroupName=w.fleet["asg"], ShouldDecrementDesiredCapacity=True)
    code, out, err = await run.finish()
    assert code == 0, err  # the hot one is gone: 100 and 100 are balanced
    doc = json.loads(out)
    assert [r["id"] for r in doc["instances"]] == w.ids[1:]
    assert doc["summary"]["instances"] == 2


async def test_wait_waits_for_a_running_instance_refresh_to_end(world, running, moto_refresh):  # noqa: F811
    w = world((100, 100, 100))  # balanced, but half of it may still be replaced
    moto_refresh.set("InProgress", 40)
    run = await running("--config", w.config(), "check", "--wait", "10m", "--interval", "1", "--format", "json")
    lines = await run.sweep_lines(2)
    assert all("(instance refresh InProgress 40%: not judged until it ends)" in line for line in lines[:2])
    moto_refresh.set("Successful", 100)
    code, out, err = await run.finish()
    assert code == 0, err
    assert err.count("is InProgress: waiting for it to end") == 1 and "ended (Successful)" in err
    assert json.loads(out)["verdict"] == "balanced"


async def test_no_refresh_wait_judges_at_once_and_never_reads_the_refresh(world, running, moto_refresh):  # noqa: F811
    w = world((100, 100, 100))
    moto_refresh.set("InProgress", 40)
    run = await running("--config", w.config(), "check", "--wait", "10m", "--interval", "1", "--no-refresh-wait")
    code, out, err = await run.finish()
    assert code == 0, err
    assert "verdict: balanced" in out and len(run.sweeps()) == 1
    assert moto_refresh.calls == 0


async def test_wait_exits_3_when_the_sweeps_measure_nothing(world, running):
    w = world()
    w.ssh_ports[:] = [closed_port() for _ in w.ssh_ports]
    run = await running("--config", w.config(), "check", "--wait", "10m", "--interval", "1", "--format", "json")
    code, out, err = await run.finish()
    assert code == 3, err
    assert json.loads(out)["verdict"] is None
    assert len(run.sweeps()) == 3 and "none of the 3 in-service instances could be measured" in run.sweeps()[0]
    assert "could not measure any of the 3 in-service instances" in err


async def test_ctrl_c_exits_130_with_the_connections_closed(world, running):
    w = world((300, 100, 100))
    run = await running("--config", w.config(), "check", "--wait", "10m", "--interval", "1")
    await run.sweep_lines(1)
    run.proc.send_signal(signal.SIGINT)
    code, out, err = await run.finish()
    assert code == 130, err
    assert err.splitlines()[-1] == "wsfleet: interrupted." and "Traceback" not in err
    async with asyncio.timeout(DEADLINE):
        while [h.closed_cleanly for h in w.hosts] != [1, 1, 1]:  # SSH disconnects, not dropped sockets
            await asyncio.sleep(0.05)


async def test_an_unreachable_endpoint_is_retried_then_exit_3(tmp_path, running):
    from tests.helpers.moto_fleet import write_config

    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}", "prod-chat-asg")
    run = await running("--config", str(config), "check", "--wait", "10m", "--interval", "1")
    code, out, err = await run.finish()
    assert (code, out) == (3, "")
    lines = err.splitlines()
    assert len(lines) == 3 and "Traceback" not in err
    assert "sweep 1 failed (1 of 3 in a row): could not connect to the AWS endpoint" in lines[0]
    assert "sweep 2 failed (2 of 3 in a row)" in lines[1]
    assert lines[2].startswith("wsfleet: could not connect to the AWS endpoint")


async def test_an_error_that_retrying_cannot_mend_ends_the_wait_at_once(world, running, tmp_path):
    from tests.helpers.moto_fleet import write_config

    w = world()
    config = write_config(tmp_path, w.moto.endpoint_url, "no-such-asg")
    run = await running("--config", str(config), "check", "--wait", "10m", "--interval", "1")
    code, out, err = await run.finish()
    assert (code, out) == (3, "")
    assert err.count("\n") == 1 and "no-such-asg" in err and run.sweeps() == []
