"""`wsfleet doctor` on the demo fleet of each scenario finds what that scenario plants.

Each scenario runs as `wsfleet demo --no-ui` (its own process, all three at once), and `wsfleet
doctor --format json` runs against the config file it prints, over the demo's real SSH servers:

    flap    the low threshold 170 fails the flap projection under the high 200      -> flap (error, exit 1)
    deploy  a rolling replace leaves the new instance nearly empty                   -> balance (warning)
    spike   the morning ramp climbs faster than the alarm plus warm-up can react     -> ceiling (warning)

`leak` is left out: its leaked sessions are idle ESTABLISHED sockets exactly like its live ones
(no client of the demo sends anything), so nothing on an instance tells them apart.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest

PLANTED = {  # scenario: (demo seconds before the first look, check, severity)
    "flap": (2.0, "flap", "error"),
    "deploy": (20.0, "balance", "warning"),
    "spike": (18.0, "ceiling", "warning"),
}
GIVE_UP_AT = 75.0  # demo seconds: a loaded machine runs the demo late, not differently

ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "COLUMNS": "100"}


async def _wsfleet(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "wsfleet", *args, env=ENV,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def _look_for(scenario: str) -> tuple[int, list[dict], str]:
    first_look, check, severity = PLANTED[scenario]
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wsfleet", "demo", "--no-ui", "--scenario", scenario, "--seconds", str(GIVE_UP_AT + 10),
        env=ENV, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        config = None
        while config is None:
            line = (await asyncio.wait_for(demo.stderr.readline(), 60)).decode()
            assert line, f"the {scenario} demo ended before printing its config"
            if "config: " in line:
                config = line.split("config: ", 1)[1].strip()
        look_at = first_look
        while True:
            t = 0.0
            while t < look_at:
                line = await asyncio.wait_for(demo.stdout.readline(), 30)
                assert line, f"the {scenario} demo stopped printing frames"
                t = json.loads(line)["t"]
            code, out, err = await _wsfleet("--config", config, "doctor", "--format", "json")
            assert code in (0, 1), err
            findings = json.loads(out)["findings"]
            if any(f["check"] == check and f["severity"] == severity for f in findings) or t >= GIVE_UP_AT:
                return code, findings, f"{scenario} at t={t:.0f} s"
            look_at = t + 5
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGTERM)
        drain = asyncio.gather(demo.stdout.read(), demo.stderr.read())
        await asyncio.wait_for(drain, 30)
        await asyncio.wait_for(demo.wait(), 30)


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
