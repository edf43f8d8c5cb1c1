"""The deploy story end to end, then `wsfleet rebalance` after it, on real sockets.

The demo runs in this process (`DemoFleet`, headless) and plays `deploy` until its instance
refresh is Successful: the old instances' clients moved onto the others, the newest instance is
nearly empty. wsfleet then runs as a subprocess against the demo's config, as from a second
terminal; the AWS CLI (a subprocess too) reads the group and the target group back. What the
connections did is always the demo's own count: each instance's server's open connections, in the
frames the demo publishes.

- Round robin: draining the hottest instance would hand its clients in equal shares to the
  others and push the next hottest above it, so rebalance refuses (exit 2, one sentence, nothing
  written) and offers the switch. The story's churn decides whether its counts make that case, so
  the expectation is projected from the counts themselves (the demo held still): where round robin
  would lower the skew after all, rebalance offers that drain (--dry-run, nothing written). (The ceiling refusal does not arise from this story's numbers:
  the hottest instance's share never lifts another above 280; `tests/unit` covers it.)
- `--read-only` refuses the switch and, with least outstanding requests set through the API, the
  first drain: exit 2, nothing changed, each attempt on record as refused.
- Ctrl-C (SIGINT) once a drain started: the instance comes back, nothing is left in Standby, exit
  130; it was back before its deregistration delay ended, so it kept its connections.
- `--switch-algorithm --yes`: each drain's clients land as projected (least outstanding requests:
  water-filling), the skew comes down, every instance ends InService, one audit line per write.

Timing: cold launches take 4 s and the deregistration delay is 2 s while the story runs (the
story's order: a replaced instance's clients reconnect before its replacement serves), the release
comes at 4 s instead of 14 (the 520 clients are connected, evenly, from the first step) and the
warm pool refills in a step, so the refresh ends about 45 s in (61 s with the story's own
release time and warm-pool timing, measured); the drains then run with a delay of 4 s (two steps),
set on the target group through the API as an operator would (the demo re-reads it every step). The config's
per-host SSH timeout is 20 s: on a loaded machine a count is slow, never a timeout. Between tests
the demo holds still (`DemoFleet.held`) and each test puts the routing back to round robin, so
every test finds the story's imbalance however long the others took (the story's churn, routed by
least outstanding requests, would even it out within minutes). Every wait is a condition with a
deadline; none is a sleep that hopes.

Tolerance: after each drain, every other instance's count is within max(5, 10 %) of its projection.
The drained connections land exactly as projected (the balancer routes them one by one, as the
projection does); what differs is churn: 0.5 % of the sessions end each 2 s step and reconnect
through the balancer during the ~6 s between the projection (counted when the drain starts) and
the step in which the load balancer closes the drained instance's connections.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest

from wsfleet import drain
from wsfleet.demo import DemoFleet
from wsfleet.demo.config_file import ASG_NAME, REGION
from wsfleet.demo.scenarios import DemoTiming

pytestmark = [
    pytest.mark.timeout(480),
    pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed"),
    # one worker runs the whole module, so `deployed` (a ~45 s story) is set up once; with
    # --dist loadgroup the bigger groups are handed out first, so it starts at once
    pytest.mark.xdist_group("rebalance-demo"),
]

REFRESH_DEADLINE = 240.0  # seconds: about 60 on an idle machine
STEADY_DEADLINE = 90.0
DRAIN_DELAY = 4  # the drains' deregistration delay: two steps, unlike the story's 2 s (the demo re-reads it)
# the story's clock while it runs (see Timing above): the warm pool refills in a step, not 8 s
STORY_TIMING = DemoTiming(cold_launch=4.0, deregistration_delay=2, warm_prepare=1.0)
DEPLOY_AT = 4.0  # the release two steps in (the story's own: 14 s); the clients are all connected from the first step
ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": REGION}
ENV.pop("AWS_SESSION_TOKEN", None)


def tolerance(projected: int) -> int:
    return max(5, round(0.10 * projected))


@dataclass
class FrameLog:
    """Every frame the demo publishes, as it publishes it (its `on_frame`, on the demo's thread)."""

    frames: list = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, frame) -> None:
        with self.cond:
            self.frames.append(frame)
            self.cond.notify_all()

    def wait(self, predicate, timeout: float, after: int = 0):
        """The first frame from index `after` on that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for frame in self.frames[after:]:
                    if predicate(frame):
                        return frame
                after = len(self.frames)
                left = deadline - time.monotonic()
                assert left > 0, f"no such frame within {timeout} s; last: {self.frames[-1:]}"
                self.cond.wait(left)

    def __len__(self) -> int:
        with self.cond:
            return len(self.frames)


@dataclass
class Deployed:
    demo: DemoFleet
    log: FrameLog
    target_group: str
    _hold: ExitStack = field(default_factory=ExitStack)
    refresh_ended: object = None  # the first frame after the story's refresh ended
    check_after_refresh: object = None  # `wsfleet check` run right then

    def hold(self) -> None:
        self._hold.enter_context(self.demo.held())

    def release(self) -> None:
        self._hold.close()

    def aws(self, service: str, *args: str) -> dict:
        out = subprocess.run(
            ["aws", service, *args, "--endpoint-url", self.demo.endpoint_url, "--region", REGION, "--output", "json"],
            capture_output=True, text=True, timeout=90, env=ENV,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else {}

    def group(self) -> dict:
        (group,) = self.aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", ASG_NAME)["AutoScalingGroups"]
        return group

    def lifecycles(self) -> dict[str, str]:
        return {i["InstanceId"]: i["LifecycleState"] for i in self.group()["Instances"]}

    def algorithm(self) -> str:
        attributes = self.aws("elbv2", "describe-target-group-attributes", "--target-group-arn", self.target_group)["Attributes"]
        return {a["Key"]: a["Value"] for a in attributes}["load_balancing.algorithm.type"]

    def set_attribute(self, key: str, value: str) -> None:
        self.aws("elbv2", "modify-target-group-attributes", "--target-group-arn", self.target_group,
                 "--attributes", f"Key={key},Value={value}")

    def wait_steady(self) -> dict[str, str]:
        """Until the group is as rebalance wants it: 4 instances InService, no activity in progress."""
        deadline = time.monotonic() + STEADY_DEADLINE
        while True:
            states = self.lifecycles()
            activities = self.aws("autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", ASG_NAME)["Activities"]
            busy = [a["Description"] for a in activities if a["StatusCode"] not in ("Successful", "Failed", "Cancelled")]
            if set(states.values()) == {"InService"} and len(states) == 4 and not busy:
                return states
            assert time.monotonic() < deadline, f"the group never settled: {states}, in progress: {busy}"
            time.sleep(0.5)

    def audit(self) -> list[dict]:
        path = self.demo.workdir / "audit.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wsfleet(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "wsfleet", "--config", str(self.demo.config_path), *args],
                              capture_output=True, text=True, timeout=timeout, env=ENV)

    def serving_counts(self, frame) -> dict[str, int]:
        states = self.lifecycles()
        return {iid: n for iid, n in frame.connections.items() if states.get(iid) == "InService"}


@pytest.fixture(scope="module")
def deployed():
    log = FrameLog()
    demo = DemoFleet(scenario="deploy", timing=STORY_TIMING, count_timeout=20, on_frame=log.add)
    demo.scenario = dataclasses.replace(demo.scenario, deploy=dataclasses.replace(demo.scenario.deploy, at=DEPLOY_AT))
    with demo:
        ended = log.wait(lambda f: f.refresh is not None and f.refresh["status"] not in ("Pending", "InProgress", "Cancelling", "Baking"),
                         REFRESH_DEADLINE)
        assert ended.refresh["status"] == "Successful", demo.errors
        world = Deployed(demo, log, "")
        world.refresh_ended = ended
        world.check_after_refresh = world.wsfleet("check", "--format", "json", timeout=90)  # before any test moves a connection
        (tg,) = world.aws("elbv2", "describe-target-groups")["TargetGroups"]
        world.target_group = tg["TargetGroupArn"]
        assert world.group()["TargetGroupARNs"] == [world.target_group]
        world.set_attribute("deregistration_delay.timeout_seconds", str(DRAIN_DELAY))
        world.wait_steady()
        world.hold()
        yield world
        world.release()
        assert not [e for e in demo.errors if "engine step failed" in e], demo.errors


@pytest.fixture
def live(deployed):
    """The deployed demo, running for the test and held still (round robin) before and after it."""
    deployed.release()
    try:
        yield deployed
    finally:
        deployed.set_attribute("load_balancing.algorithm.type", "round_robin")
        deployed.set_attribute("deregistration_delay.timeout_seconds", str(DRAIN_DELAY))
        deployed.wait_steady()
        deployed.hold()


def test_the_deploy_story_completes_a_refresh_that_the_aws_cli_reads_back_as_successful(deployed):
    """The story's release (a new launch template version, StartInstanceRefresh) replaced one
    instance at a time, read back from outside by the AWS CLI and by wsfleet's own reader and
    `check`: Successful at 100 %, every instance on the new version, and the imbalance the story is
    about still there (the replaced instances' clients moved to the others)."""
    from wsfleet.aws.reader import read_status
    from wsfleet.aws.session import AwsSession
    from wsfleet.config import load_config, select_fleet

    demo, ended = deployed.demo, deployed.refresh_ended
    with deployed.log.cond:
        frames = deployed.log.frames[: deployed.log.frames.index(ended) + 1]
    during = [f for f in frames if f.refresh is not None]
    story = [(f.t, f.in_service, f.refresh and f.refresh["percentage_complete"], f.event) for f in frames]
    assert any(f.event and "deploy: launch template version 2" in f.event for f in frames), story
    percentages = [f.refresh["percentage_complete"] for f in during]
    assert percentages == sorted(percentages) and percentages[-1] == 100, story
    assert min(f.in_service for f in during) == 3, story  # MinHealthyPercentage 75 of 4: one at a time

    (refresh, *_older) = deployed.aws("autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", ASG_NAME)["InstanceRefreshes"]
    assert refresh["InstanceRefreshId"] == ended.refresh["id"]
    assert (refresh["Status"], refresh["PercentageComplete"], refresh["InstancesToUpdate"]) == ("Successful", 100, 0)
    assert refresh["Preferences"]["MinHealthyPercentage"] == 75 and "EndTime" in refresh
    group = deployed.group()
    assert group["LaunchTemplate"]["Version"] == "2"
    assert len(group["Instances"]) == 4 and {i["LaunchTemplate"]["Version"] for i in group["Instances"]} == {"2"}

    # wsfleet's own reading: the latest refresh, and every instance on the group's current version
    fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)
    status = read_status(AwsSession(fleet), fleet)
    assert status.instance_refresh.status == "Successful" and status.refresh_unavailable is None
    assert status.group.launch_template.current_version == "2"
    assert all(status.group.launch_template.is_current(i.launch_template_version) for i in status.group.instances)

    # the story: the deploy moved no connections back, the last new instance is nearly empty
    counts = ended.connections
    assert max(counts.values()) > 3 * max(1, min(counts.values())), counts
    check = deployed.check_after_refresh
    assert check.returncode == 1, (counts, check.stdout, check.stderr)
    assert json.loads(check.stdout)["verdict"] == "imbalanced"


def _stderr_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_round_robin_is_refused_when_the_drained_clients_would_pile_onto_the_next_hottest(live):
    """What the story leaves is usually such a case (the refreshed instances share the moved clients,
    the newest is nearly empty), but churn decides: the expected outcome is projected from the very
    counts rebalance reads (the demo held still), with the product defaults. Where round robin would
    lower the skew after all, rebalance must offer that drain (checked with --dry-run, nothing written)."""
    from wsfleet.actions.rebalance import DEFAULT_MAX_DRAINS
    from wsfleet.config import load_config, select_fleet

    states = live.wait_steady()
    fleet = select_fleet(load_config(str(live.demo.config_path)), live.demo.fleet_name)
    audit_before = len(live.audit())
    assert live.algorithm() == "round_robin"
    with live.demo.held() as frame:
        counts = live.serving_counts(frame)
        assert len(counts) == 4, counts
        choice = drain.choose_drains(counts, "round_robin", target_skew=fleet.counts.max_skew, max_drains=DEFAULT_MAX_DRAINS,
                                     threshold=fleet.scale_out.threshold, capacity=fleet.capacity)
        piles_on = not choice.steps and "would not lower the skew" in choice.stop_reason
        out = live.wsfleet("rebalance", "--yes" if piles_on else "--dry-run")
    assert "Traceback" not in out.stderr
    if piles_on:
        assert out.returncode == 2, (counts, out.stdout, out.stderr)
        (line,) = _stderr_lines(out.stderr)
        assert "would not lower the skew" in line and "under round robin" in line and "--switch-algorithm" in line, line
    else:
        assert choice.steps, (counts, choice.stop_reason)  # the story's counts are skewed: something is drained
        assert out.returncode == 0, (counts, out.stdout, out.stderr)
        assert "Drain " in out.stdout and choice.steps[0].instance in out.stdout, (counts, out.stdout)
    # nothing written: no audit line, the group and the routing as they were
    assert len(live.audit()) == audit_before
    assert live.lifecycles() == states and live.group()["DesiredCapacity"] == 4
    assert live.algorithm() == "round_robin"


def test_read_only_refuses_the_switch_and_the_first_drain_and_changes_nothing(live):
    states = live.wait_steady()
    audit_before = len(live.audit())
    out = live.wsfleet("--read-only", "rebalance", "--yes", "--switch-algorithm")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "--read-only is set" in out.stderr and "Nothing was changed" in out.stderr
    assert live.algorithm() == "round_robin"

    # with least outstanding requests already set (through the API), the first drain is refused
    live.set_attribute("load_balancing.algorithm.type", "least_outstanding_requests")
    out = live.wsfleet("--read-only", "rebalance", "--yes")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Drain " in out.stdout  # the plan was shown
    assert "--read-only is set" in out.stderr and "Standby" in out.stderr
    assert live.lifecycles() == states and live.group()["DesiredCapacity"] == 4
    new = live.audit()[audit_before:]
    assert [(e["action"], e["result"]) for e in new] == [("rebalance algorithm", "refused"), ("rebalance drain", "refused")]


def test_ctrl_c_in_a_drain_brings_the_instance_back_with_its_connections(live):
    live.wait_steady()
    # a long delay: Ctrl-C surely lands while the instance drains (the CLI stops within a poll)
    live.set_attribute("deregistration_delay.timeout_seconds", "90")
    try:
        audit_before = len(live.audit())
        proc = subprocess.Popen([sys.executable, "-m", "wsfleet", "--config", str(live.demo.config_path), "rebalance", "--yes",
                                 "--switch-algorithm"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        started, lines = None, []
        try:
            for line in proc.stderr:
                lines.append(line)
                started = started or re.match(r"wsfleet: drain 1/\d+: (i-[0-9a-f]+) holds (\d+);", line)
                if started:
                    proc.send_signal(signal.SIGINT)
                    break
            assert started, "".join(lines)
            rest_out, rest_err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 130, "".join(lines) + rest_err
        assert "stopped on request" in rest_err
        drained, held = started.group(1), int(started.group(2))

        group = live.group()
        assert {i["LifecycleState"] for i in group["Instances"]} == {"InService"} and group["DesiredCapacity"] == 4
        new = live.audit()[audit_before:]
        writes = [(e["action"], e["result"]) for e in new if e["action"] != "rebalance algorithm"]
        assert writes == [("rebalance drain", "applied"), ("rebalance return", "applied")], new
        assert all(drained in json.dumps(e["after"]) for e in new if e["action"] != "rebalance algorithm")

        # registered again while draining: the load balancer kept its connections (churn aside)
        frame = live.log.wait(lambda f: True, 30, after=len(live.log))
        assert abs(frame.connections[drained] - held) <= tolerance(held), (drained, held, frame.connections)
    finally:
        live.set_attribute("deregistration_delay.timeout_seconds", str(DRAIN_DELAY))


def test_rebalance_with_least_outstanding_requests_brings_the_skew_down_as_projected(live):
    live.wait_steady()
    audit_before = len(live.audit())
    switch = live.algorithm() != "least_outstanding_requests"
    first = len(live.log)
    before = live.serving_counts(live.log.wait(lambda f: True, 30, after=first))

    out = live.wsfleet("rebalance", "--yes", "--switch-algorithm", timeout=300)
    assert out.returncode == 0, (out.stdout, out.stderr)
    projected_skew = float(re.search(r"skew [\d.]+ → ([\d.]+) projected", out.stdout).group(1))
    drains = [(m.group(1), int(m.group(2)), dict((i, int(n)) for i, n in re.findall(r"(i-[0-9a-f]+) (\d+)", m.group(3))))
              for m in re.finditer(r"wsfleet: drain \d+/\d+: (i-[0-9a-f]+) holds (\d+); projected after: (.*)", out.stderr)]
    assert drains, out.stderr

    # after each drain, the demo's own counts in the step where the load balancer closed the
    # drained instance's connections (its clients reconnected in that same step)
    report = []
    for instance, held, projected in drains:
        cut = live.log.wait(lambda f, i=instance: f"deregistration delay over for {i}" in (f.event or ""), 5, after=first)
        measured = {iid: cut.connections[iid] for iid in projected}
        report.append((instance, held, projected, measured))
        off = {iid: measured[iid] - projected[iid] for iid in projected if abs(measured[iid] - projected[iid]) > tolerance(projected[iid])}
        assert not off, f"drain of {instance} ({held}): projected {projected}, measured {measured}"
        assert cut.connections[instance] <= tolerance(0)  # it holds only what churn brought since
    print("projection vs measured:", *report, sep="\n  ")

    # the skew came down, to what the plan projected (the last drained instance is back, nearly empty)
    final = live.serving_counts(live.log.wait(lambda f: True, 30, after=len(live.log)))
    assert set(final) == set(before)
    # how far it comes down depends on how uneven the deploy left the fleet (it varies with the
    # machine's speed); what it comes down to is the plan's projection
    assert drain.skew(final) < drain.skew(before), (before, final)
    assert drain.skew(final) <= projected_skew + 0.1, (projected_skew, final)

    group = live.group()
    assert {i["LifecycleState"] for i in group["Instances"]} == {"InService"} and group["DesiredCapacity"] == 4
    assert live.algorithm() == "least_outstanding_requests"
    new = live.audit()[audit_before:]
    expected = [("rebalance algorithm", "applied")] if switch else []
    for _ in drains:
        expected += [("rebalance drain", "applied"), ("rebalance return", "applied")]
    assert [(e["action"], e["result"]) for e in new] == expected
