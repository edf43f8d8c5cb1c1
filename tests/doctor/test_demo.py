"""`wsfleet doctor` on the demo fleet of each scenario finds what that scenario plants.

Each scenario runs as a demo of its own, all three at once (`flap` and `spike` as `wsfleet demo
--no-ui` processes; `deploy` in this process on a faster clock, see DEPLOY_TIMING), and `wsfleet
doctor --format json` runs against the config file it writes, over the demo's real SSH servers:

    flap    the low threshold 170 fails the flap projection under the high 200      -> flap (error, exit 1)
    deploy  a rolling replace leaves the new instance nearly empty                   -> balance (warning)
    spike   the morning ramp climbs faster than the alarm plus warm-up can react     -> ceiling (warning)
    leak    after the peak (60 s) leaving users leave their connections open         -> silent-connections (warning)

In `leak` the live sessions ping every few seconds and the leaked ones go silent, so the demo's
`doctor.silent_after` (the seed's 5 min, compressed) tells them apart: before the peak, with
connections older than silent_after, nothing is silent; silent_after after the first leaks, the
leaked ones are. It runs as its own test so that xdist can run it beside the others, on a demo in
its own process (`DemoFleet`) playing the story at twice its speed: the load curve's times and
silent_after (20 -> 10 s) halved, a live session pinging every step (about 45 s of demo time
instead of 90; the `--no-ui` demo subprocess itself is tests/demo/test_demo_e2e.py's).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import signal
import sys
from contextlib import asynccontextmanager

import pytest

from wsfleet.demo import DemoFleet
from wsfleet.demo.scenarios import SCENARIOS, DemoTiming

# about a minute of demos on one worker, handed out among the first (--dist loadgroup: bigger groups first)
pytestmark = pytest.mark.xdist_group("doctor-demos")

PLANTED = {  # scenario: (demo seconds before the first look, check, severity)
    "flap": (2.0, "flap", "error"),
    "deploy": (12.0, "balance", "warning"),
    "spike": (10.0, "ceiling", "warning"),
}
# `deploy` runs in this process (DemoFleet) on tests/demo/test_rebalance_e2e.py's clock: the release
# at 4 s (the story's: 14 s), replacements that serve in 4 s (16 s), and a 2 s deregistration delay
# (8 s), which keeps the story's order (a replaced instance's clients reconnect before its replacement
# serves); with the story's own clock its first nearly-empty instance comes at t=32, here at t=12
DEPLOY_TIMING = DemoTiming(cold_launch=4.0, deregistration_delay=2)
DEPLOY_AT = 4.0
GIVE_UP_AT = 75.0  # demo seconds: a loaded machine runs the demo late, not differently

ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "COLUMNS": "100"}


async def _wsfleet(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "wsfleet", *args, env=ENV,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


@asynccontextmanager
async def _demo(scenario: str, seconds: float, *extra: str):
    """`wsfleet demo --no-ui [extra…]` in its own process; yields (process, the config path it printed)."""
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wsfleet", "demo", "--no-ui", "--scenario", scenario, "--seconds", str(seconds), *extra,
        env=ENV, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        config = None
        while config is None:
            line = (await asyncio.wait_for(demo.stderr.readline(), 60)).decode()
            assert line, f"the {scenario} demo ended before printing its config"
            if "config: " in line:
                config = line.split("config: ", 1)[1].strip()
        yield demo, config
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGTERM)
        drain = asyncio.gather(demo.stdout.read(), demo.stderr.read())
        await asyncio.wait_for(drain, 30)
        await asyncio.wait_for(demo.wait(), 30)


async def _frame_at(demo, scenario: str, t_wanted: float) -> dict:
    """The demo's first frame at or after `t_wanted` demo seconds."""
    while True:
        line = await asyncio.wait_for(demo.stdout.readline(), 30)
        assert line, f"the {scenario} demo stopped printing frames"
        frame = json.loads(line)
        if frame["t"] >= t_wanted:
            return frame


async def _doctor(config: str) -> tuple[int, list[dict]]:
    code, out, err = await _wsfleet("--config", config, "doctor", "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)["findings"]


def _demo_frame_at(demo: DemoFleet, t_wanted: float):
    """An in-process demo's first frame at or after `t_wanted` demo seconds."""
    while True:
        frame = demo.next_frame(timeout=30)
        assert frame is not None, f"the {demo.scenario.name} demo published no frame in 30 s: {demo.errors}"
        if frame.t >= t_wanted:
            return frame


async def _look_until_planted(scenario: str, config: str, time_at) -> tuple[int, list[dict], str]:
    """doctor at the first look, then every 5 demo seconds until the planted finding or GIVE_UP_AT;
    `time_at(t)` waits for the demo's first frame at or after t and returns its t."""
    first_look, check, severity = PLANTED[scenario]
    look_at = first_look
    while True:
        t = await time_at(look_at)
        code, findings = await _doctor(config)
        if any(f["check"] == check and f["severity"] == severity for f in findings) or t >= GIVE_UP_AT:
            return code, findings, f"{scenario} at t={t:.0f} s"
        look_at = t + 5


async def _look_for(scenario: str) -> tuple[int, list[dict], str]:
    if scenario == "deploy":
        demo = DemoFleet(scenario="deploy", timing=DEPLOY_TIMING)
        demo.scenario = dataclasses.replace(demo.scenario, deploy=dataclasses.replace(demo.scenario.deploy, at=DEPLOY_AT))
        async with demo:
            async def time_at(t: float) -> float:
                return (await asyncio.to_thread(_demo_frame_at, demo, t)).t
            return await _look_until_planted(scenario, str(demo.config_path), time_at)
    async with _demo(scenario, GIVE_UP_AT + 10) as (demo, config):
        async def time_at(t: float) -> float:
            return (await _frame_at(demo, scenario, t))["t"]
        return await _look_until_planted(scenario, config, time_at)


@pytest.mark.timeout(180)
async def test_doctor_finds_what_each_demo_scenario_plants():
    results = await asyncio.gather(*(_look_for(s) for s in PLANTED))
    for scenario, (code, findings, when) in zip(PLANTED, results):
        _, check, severity = PLANTED[scenario]
        planted = [f for f in findings if f["check"] == check and f["severity"] == severity]
        assert planted, f"{when}: no {severity} {check} finding in {[(f['check'], f['severity']) for f in findings]}"
        # the demo's instances answer doctor's facts script over their real SSH servers (in `deploy`
        # one may be replaced between the group read and the login: that host is a finding)
        assert any(f["check"] == "service-listening" and f["severity"] == "ok" for f in findings), when
    flap_code, flap_findings, _ = results[0]
    assert flap_code == 1
    (flap,) = [f for f in flap_findings if f["check"] == "flap"]
    assert "170" in flap["found"] and "200" in flap["found"]


# The leak story at twice its speed, in this process (one demo, so xdist runs it beside the others):
# its load curve's times halved, and so doctor's `silent_after` (the demo writes it into its config);
# a live session pings every engine step, so the longest silence a live one shows stays far below it
LEAK_SPEEDUP = 2
LEAK_TIMING = DemoTiming(heartbeat=DemoTiming().tick, silent_after=DemoTiming().silent_after // LEAK_SPEEDUP)
LEAK_STORY = dataclasses.replace(SCENARIOS["leak"], load=tuple((t / LEAK_SPEEDUP, n) for t, n in SCENARIOS["leak"].load))
LEAK_PEAK_END = max(t for t, n in LEAK_STORY.load if n == max(n for _, n in LEAK_STORY.load))  # the first sessions end after it
LEAK_QUIET_LOOK = LEAK_PEAK_END / 2  # every session is live, the first ones connected well over silent_after ago
LEAK_FIRST_LOOK = LEAK_PEAK_END + LEAK_TIMING.silent_after + LEAK_TIMING.tick  # the first leaked ones are silent_after silent
LEAK_GIVE_UP_AT = LEAK_FIRST_LOOK + 15


def _silent_counts(finding: dict) -> list[int]:
    """The per-instance counts in "i-... (27 of 240), ..." (at most five instances are named)."""
    return [int(n.replace(",", "")) for n in re.findall(r"\(([\d,]+) of [\d,]+\)", finding["found"])]


@pytest.mark.timeout(180)
def test_doctor_finds_the_leak_scenarios_silent_connections():
    assert LEAK_QUIET_LOOK > LEAK_TIMING.silent_after + LEAK_TIMING.tick and LEAK_STORY.leak_fraction > 0
    demo = DemoFleet(scenario="leak", timing=LEAK_TIMING)
    demo.scenario = LEAK_STORY
    with demo:
        before = _demo_frame_at(demo, LEAK_QUIET_LOOK)
        _, findings = asyncio.run(_doctor(str(demo.config_path)))
        assert before.leaked == 0
        # live sessions connected more than silent_after ago are not silent: they ping
        quiet = [f for f in findings if f["check"] == "silent-connections"]
        assert [f["severity"] for f in quiet] == ["ok"], (before.t, quiet)

        look_at = LEAK_FIRST_LOOK
        while True:
            frame = _demo_frame_at(demo, look_at)
            _, findings = asyncio.run(_doctor(str(demo.config_path)))
            silent = [f for f in findings if f["check"] == "silent-connections" and f["severity"] == "warning"]
            if silent or frame.t >= LEAK_GIVE_UP_AT:
                break
            look_at = frame.t + 4
    when = f"leak at t={frame.t:.0f} s"
    assert silent, f"{when}: no silent-connections warning in {[(f['check'], f['severity']) for f in findings]}"
    (finding,) = silent
    after = LEAK_TIMING.silent_after
    assert f"for {after} s or more" in finding["found"] and f"silent_after = {after}" in finding["found"], finding["found"]
    counts = _silent_counts(finding)
    # only leaked connections are silent: never more than the demo had leaked when doctor looked
    assert counts and all(n >= 3 for n in counts) and sum(counts) <= frame.leaked, (when, counts, frame.leaked)
    assert any(f["check"] == "service-listening" and f["severity"] == "ok" for f in findings), when


@pytest.mark.timeout(180)
async def test_doctor_on_the_host_wide_demo_finds_the_metric_counting_sockets_not_clients():
    # the demo's stand-in publishes 3 sockets a client + 4 (nginx in front of a local app): doctor's
    # metric-ratio puts it next to the exact counts over SSH and words the thresholds in clients.
    # The stand-in publishes from the first step on (measured: the warning is there at t=2), so the
    # first look is the second step's frame; a look that finds no warning yet looks again 5 s later
    async with _demo("deploy", 100, "--host-wide") as (demo, config):
        look_at = 4.0
        while True:
            t = (await _frame_at(demo, "deploy", look_at))["t"]
            _, findings = await _doctor(config)
            ratio = [f for f in findings if f["check"] == "metric-ratio"]
            if (ratio and ratio[0]["severity"] == "warning") or t >= 80:
                break
            look_at = t + 5
    assert ratio and ratio[0]["severity"] == "warning", (t, ratio)
    found = ratio[0]["found"]
    value = float(re.search(r"= (\d+\.\d+) over", found).group(1))
    assert 2.0 <= value <= 3.6, found
    assert "fires at about" in found and "clients" in found
