"""`rebalance`: the plan, the refusals, and the drain loop on moto's real EnterStandby/ExitStandby.

The counts come from a stand-in load balancer: while an instance is in Standby (read from moto) its
connections reconnect to the serving ones by the target group's algorithm, as `wsfleet.drain`
projects; the demo (tests/demo) checks the same against real sockets.
"""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from tests.actions.conftest import seed_fleet
from tests.helpers.moto_fleet import make_fleet
from wsfleet import actions, drain
from wsfleet.audit import AuditLog
from wsfleet.aws.reader import read_status
from wsfleet.aws.session import AwsSession
from wsfleet.errors import ReadOnlyError, UsageError

ASG = "prod-chat-asg"


@pytest.fixture
def world(tmp_path):
    with mock_aws():
        fleet = seed_fleet(capacity=280, scale_out=replace(seed_fleet().scale_out, threshold=200.0), warm_pool=None, schedule=())
        session = AwsSession(fleet)
        info = make_fleet(session, ASG, instances=4, target_group=True)
        ids = sorted(info["instance_ids"])
        yield fleet, session, ids, AuditLog(tmp_path / "audit.jsonl"), info


class Balancer:
    """Holds per-instance counts; moves a Standby instance's clients as the algorithm would."""

    def __init__(self, session, counts, algorithm=drain.LEAST_OUTSTANDING, stuck=0):
        self.session, self.counts, self.algorithm, self.stuck = session, dict(counts), algorithm, stuck
        self.sweeps = 0

    def __call__(self):
        self.sweeps += 1
        group = boto3.client("autoscaling", region_name="us-east-1").describe_auto_scaling_groups(AutoScalingGroupNames=[ASG])
        states = {i["InstanceId"]: i["LifecycleState"] for i in group["AutoScalingGroups"][0]["Instances"]}
        for iid, state in states.items():
            if state == "Standby" and self.counts.get(iid, 0) > self.stuck:
                others = {k: v for k, v in self.counts.items() if states.get(k) == "InService"}
                moved = self.counts[iid] - self.stuck
                self.counts.update(drain.spread(self.algorithm, others, moved))
                self.counts[iid] = self.stuck
        return dict(self.counts)


def _status(session, fleet, algorithm=None):
    status = read_status(session, fleet, window_minutes=5)
    if algorithm:  # moto stores the attribute; set it as a user would
        status = replace(status, target_groups=tuple(replace(t, algorithm=algorithm) for t in status.target_groups))
    return status


def _lifecycles():
    g = boto3.client("autoscaling", region_name="us-east-1").describe_auto_scaling_groups(AutoScalingGroupNames=[ASG])
    return {i["InstanceId"]: i["LifecycleState"] for i in g["AutoScalingGroups"][0]["Instances"]}


def test_rebalance_drains_the_old_instances_and_the_projection_matches(world):
    fleet, session, ids, audit, _ = world
    lb = Balancer(session, dict(zip(ids, (280, 270, 20, 10))))
    plan = actions.plan_rebalance(session, fleet, _status(session, fleet, drain.LEAST_OUTSTANDING), lb(), target_skew=1.25)
    assert [s.instance for s in plan.steps] == ids[:2]
    lines = []
    run = actions.run_rebalance(plan, fleet, read_only=False, audit=audit, count=lb, progress=lines.append,
                                sleep=lambda s: None, poll=0)
    assert not run.failed and run.stopped is None, run.stopped
    assert set(_lifecycles().values()) == {"InService"}
    assert run.results[0].measured == dict(plan.steps[0].during)  # projection == what the balancer did
    entries = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert [e["action"] for e in entries] == ["rebalance drain", "rebalance return"] * 2
    assert all(e["result"] == "applied" for e in entries)
    assert any("drain 1/2 done" in line for line in lines)


def test_an_abort_mid_drain_brings_the_instance_back(world):
    fleet, session, ids, audit, _ = world
    lb = Balancer(session, dict(zip(ids, (280, 270, 20, 10))), stuck=100)  # clients that never leave
    plan = actions.plan_rebalance(session, fleet, _status(session, fleet, drain.LEAST_OUTSTANDING), lb(), target_skew=1.25)
    asked = iter([False, False, True])  # before drain 1, then during its wait
    run = actions.run_rebalance(plan, fleet, read_only=False, audit=audit, count=lb, progress=lambda _: None,
                                should_stop=lambda: next(asked, True), sleep=lambda s: None, poll=0)
    assert run.stopped and "request" in run.stopped
    assert set(_lifecycles().values()) == {"InService"} and run.states == {ids[0]: "InService"}


def test_a_failure_half_way_brings_every_instance_back_and_says_so(world, monkeypatch):
    fleet, session, ids, audit, _ = world
    lb = Balancer(session, dict(zip(ids, (280, 270, 20, 10))))
    plan = actions.plan_rebalance(session, fleet, _status(session, fleet, drain.LEAST_OUTSTANDING), lb(), target_skew=1.25)
    calls = {"n": 0}

    def counting_then_failing():
        calls["n"] += 1
        if calls["n"] == 3:  # during the first drain's wait
            from wsfleet.errors import RemoteError

            raise RemoteError("the SSH sweep failed: every host timed out.")
        return lb()

    run = actions.run_rebalance(plan, fleet, read_only=False, audit=audit, count=counting_then_failing, progress=lambda _: None,
                                sleep=lambda s: None, poll=0)
    assert run.failed and "every host timed out" in run.stopped
    assert set(_lifecycles().values()) == {"InService"} and run.states[ids[0]] == "InService"


def test_read_only_refuses_the_first_drain_and_nothing_changes(world):
    fleet, session, ids, audit, _ = world
    lb = Balancer(session, dict(zip(ids, (280, 270, 20, 10))))
    plan = actions.plan_rebalance(session, fleet, _status(session, fleet, drain.LEAST_OUTSTANDING), lb(), target_skew=1.25)
    with pytest.raises(ReadOnlyError):
        actions.run_rebalance(plan, fleet, read_only=True, audit=audit, count=lb, progress=lambda _: None, sleep=lambda s: None, poll=0)
    assert set(_lifecycles().values()) == {"InService"}


def test_a_step_made_unsafe_by_fresh_counts_is_refused_before_it(world):
    fleet, session, ids, audit, _ = world
    lb = Balancer(session, dict(zip(ids, (280, 270, 20, 10))))
    plan = actions.plan_rebalance(session, fleet, _status(session, fleet, drain.LEAST_OUTSTANDING), lb(), target_skew=1.25)
    lb.counts = dict(zip(ids, (280, 270, 270, 260)))  # the load grew since the plan: 3 serving would average > 200
    run = actions.run_rebalance(plan, fleet, read_only=False, audit=audit, count=lb, progress=lambda _: None, sleep=lambda s: None, poll=0)
    assert run.results == [] and "is not safe" in run.stopped and "Stopped before it" in run.stopped
    assert not audit.path.exists() or audit.path.read_text() == ""


@pytest.mark.parametrize("counts, words", [
    ((100, 100, 101, 99), "already balanced"),
    ((280, 270, 20, 10), "o2 would reach"),  # round robin: the second old one over the ceiling
])
def test_refusals_are_one_sentence(world, counts, words):
    fleet, session, ids, _, _ = world
    status = _status(session, fleet)  # the seed's target group: round robin
    with pytest.raises(UsageError) as e:
        actions.plan_rebalance(session, fleet, status, dict(zip(ids, counts)))
    expected = words.replace("o2", ids[1])
    assert expected in e.value.message


def test_round_robin_refusal_offers_least_outstanding_requests(world):
    fleet, session, ids, _, _ = world
    with pytest.raises(UsageError) as e:
        actions.plan_rebalance(session, fleet, _status(session, fleet), dict(zip(ids, (280, 270, 20, 10))))
    assert "--switch-algorithm" in e.value.message


def test_an_instance_already_in_standby_or_a_fleet_of_one_is_refused(world):
    fleet, session, ids, _, _ = world
    boto3.client("autoscaling", region_name="us-east-1").enter_standby(AutoScalingGroupName=ASG, InstanceIds=[ids[0]],
                                                                        ShouldDecrementDesiredCapacity=True)
    with pytest.raises(UsageError, match="already in Standby"):
        actions.plan_rebalance(session, fleet, _status(session, fleet), dict(zip(ids, (280, 270, 20, 10))))


def test_switching_the_algorithm_is_previewed_read_back_and_audited(world):
    fleet, session, ids, audit, _ = world
    plan = actions.plan_algorithm(session, fleet, _status(session, fleet))
    assert plan.changes[0].before == {"algorithm": "round_robin"} and plan.changes[0].after == {"algorithm": "least_outstanding_requests"}
    outcome = actions.execute(plan, confirm=lambda p: True, read_only=False, audit=audit)
    assert outcome.ok and outcome.results[0].read_back == {"algorithm": "least_outstanding_requests"}
    assert read_status(session, fleet).target_groups[0].algorithm == "least_outstanding_requests"


@pytest.mark.parametrize("value, words", [("0.9", "never below 1.0"), ("abc", "is not a number"), ("nan", "never below 1.0")])
def test_a_bad_target_skew_is_one_sentence(value, words):
    with pytest.raises(UsageError, match=words):
        actions.parse_target_skew(value)
