"""`wsfleet demo --host-wide`: the agent stand-in publishes what netstat's tcp_established would
(3 sockets a client on an nginx + app server host, plus 4 fixed), not the exact count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from wsfleet.aws.metrics import read_instance_metric
from wsfleet.aws.session import AwsSession
from wsfleet.config import load_config, select_fleet
from wsfleet.demo import DemoFleet
from wsfleet.demo.aws_stand_in import HostWideModel, published_counts
from wsfleet.demo.scenarios import DemoTiming


def test_host_wide_counts_each_client_on_the_proxy_and_both_ends_of_its_upstream():
    model = HostWideModel()
    assert model.value(0) == 4  # the agent's HTTPS, the SSM agent's two, one sshd session
    assert model.value(100) == 304
    assert model.value(20_000) / 20_000 == pytest.approx(3.0, abs=0.001)


def test_the_exact_path_publishes_the_counts_themselves():
    assert published_counts({"i-a": 247, "i-b": 0}, None) == {"i-a": 247.0, "i-b": 0.0}
    assert published_counts({"i-a": 247, "i-b": 0}, HostWideModel()) == {"i-a": 745.0, "i-b": 4.0}


@pytest.mark.timeout(90)
def test_a_host_wide_demo_publishes_three_times_each_count_plus_the_fixed_sockets():
    demo = DemoFleet(scenario="spike", instances=2, timing=DemoTiming(tick=1.0), host_wide=True)
    demo.start()
    try:
        for _ in range(30):  # a step with clients on every instance (bounded: 30 frames)
            frame = demo.next_frame(timeout=10)
            if frame is not None and len(frame.connections) >= 2 and min(frame.connections.values()) > 0:
                break
        fleet = select_fleet(load_config(str(demo.config_path)), demo.fleet_name)
        with demo.held() as frame:
            now = datetime.now(timezone.utc)
            published = read_instance_metric(AwsSession(fleet), fleet, list(frame.connections), now - timedelta(seconds=30),
                                             now + timedelta(seconds=1), 1)
        measured = {i: int(v[1]) for i, v in published.items() if v is not None}
        assert measured and all(frame.connections[i] > 0 for i in measured)
        assert measured == {i: 3 * frame.connections[i] + 4 for i in measured}
    finally:
        demo.stop()
