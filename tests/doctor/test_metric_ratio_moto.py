"""metric-ratio through the doctor command: moto (in-process) holds the per-instance metric, put
as 2 × count + 3 (a host-wide count: a proxy's second socket and three of the host's own), and the
exact counts come over SSM (tests/counts/fake_ssm.py runs the facts script on this machine, so
every "instance" counts the real connections held on one local service port)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from moto import mock_aws

from tests.counts.fake_ssm import FakeSsm
from tests.helpers.conn_holder import ConnHolder
from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws.metrics import instance_dimensions
from wsfleet.aws.session import AwsSession
from wsfleet.commands import doctor as doctor_command
from wsfleet.model import CountsConfig, FleetConfig

HELD = 60  # ESTABLISHED connections on the service port: above the check's floor of 50 an instance
FLEET = FleetConfig(name="prod-chat", asg="prod-chat-asg", region="us-east-1", env="prod", app="chat", counts=CountsConfig(source="ssm"))


@pytest.fixture
def service():
    with ConnHolder(count=HELD) as held:
        yield held.port


def test_doctor_reports_the_ratio_of_a_host_wide_metric(service, monkeypatch, capsys):
    from wsfleet.counts import ssm as ssm_module

    real_init = ssm_module.SsmSource.__init__

    def fast_polls(self, *args, **kwargs):  # the product polls SSM once a second
        real_init(self, *args, **{**kwargs, "poll_interval": 0.01})

    monkeypatch.setattr(ssm_module.SsmSource, "__init__", fast_polls)
    with mock_aws():
        built = make_fleet(None, asg=FLEET.asg, instances=2)
        fleet = dataclasses.replace(FLEET, port=service)
        session = AwsSession(fleet)
        FakeSsm(session.client("ssm"))
        cw = session.client("cloudwatch")
        minute = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        for instance_id in built["instance_ids"]:
            # this minute and the one before: the count pairs with one of them whichever minute it lands in
            cw.put_metric_data(Namespace=fleet.metric.namespace, MetricData=[
                {"MetricName": fleet.metric.name, "Dimensions": instance_dimensions(fleet, instance_id),
                 "Timestamp": at, "Value": 2 * HELD + 3}
                for at in (minute - timedelta(minutes=1), minute)
            ])
        ctx = SimpleNamespace(fleet=fleet, aws=lambda f: session, verbose=False)
        doctor_command.run(SimpleNamespace(format="json", no_instances=False), ctx)
    out = json.loads(capsys.readouterr().out)
    (f,) = [f for f in out["findings"] if f["check"] == "metric-ratio"]
    assert f["severity"] == "warning", f
    # (2 × 60 + 3) / 60 = 2.05 on both instances
    assert "= 2.05 over 2 of 2 instances" in f["found"] and "per instance 2.05–2.05" in f["found"]
    assert "scale-out at 20,000 fires at about 9,756 clients" in f["found"]
    assert "wsfleet thresholds set --high 41000" in f["fix"]
    assert out["summary"]["warning"] >= 1
