"""config/iam-policy.json allows every action the AWS layer calls: reads in WsfleetRead, writes in WsfleetWrite."""

from __future__ import annotations

import json
from pathlib import Path

from tests.aws.conftest import ASG
from tests.aws.test_reader import provision_seed
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws import fleet as aws_fleet, schedule, warm_pool
from wsfleet.aws.errors import iam_action
from wsfleet.aws.reader import read_status
from wsfleet.model import ScheduledActionConfig, WarmPoolConfig

POLICY = Path(__file__).resolve().parents[2] / "config" / "iam-policy.json"


def statement(sid: str) -> set[str]:
    (found,) = [s for s in json.loads(POLICY.read_text())["Statement"] if s.get("Sid") == sid]
    return set(found["Action"])


class Recorder:
    def __init__(self, session) -> None:
        self.actions: set[str] = set()
        for service in ("autoscaling", "cloudwatch", "ec2", "elbv2", "sts"):
            session.client(service).meta.events.register("before-call", self)

    def __call__(self, model=None, **_) -> None:
        self.actions.add(iam_action(model.service_model.service_name, model.name))


def test_every_read_is_in_the_read_statement(session, fleet, group):
    provision_seed(session, fleet)
    recorder = Recorder(session)
    read_status(session, fleet)
    assert recorder.actions - statement("WsfleetRead") == set()
    assert "ec2:DescribeInstances" in recorder.actions and "elasticloadbalancing:DescribeLoadBalancerAttributes" in recorder.actions


def test_every_write_adapter_is_in_the_write_statement(session, fleet):
    make_fleet(session, instances=2)
    provision_seed(session, fleet)  # PutScalingPolicy, PutMetricAlarm, PutWarmPool, PutScheduledUpdateGroupAction
    recorder = Recorder(session)
    provision_seed(session, fleet)
    aws_fleet.set_desired_capacity(session, ASG, 3)
    aws_fleet.update_group(session, ASG, max_size=13)
    warm_pool.put_warm_pool(session, ASG, WarmPoolConfig(min_size=1))
    schedule.put_scheduled_action(session, ASG, ScheduledActionConfig(name="x", recurrence="0 7 * * *", desired_capacity=2))
    schedule.delete_scheduled_action(session, ASG, "x")
    writes = {a for a in recorder.actions if not a.split(":")[1].startswith("Describe")}
    assert len(writes) >= 7
    assert writes - statement("WsfleetWrite") == set()
