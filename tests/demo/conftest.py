"""Fixtures for the instance-refresh tests: moto's server with the demo backend enabled for one
region per test module, a fresh 4-instance group per test, a synthetic clock for the engine, and a
fleet config pointing at that group (for the engine's AWS reads)."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config

from tests.helpers.moto_server import _shared_server
from wsfleet.demo import bootstrap, moto_extensions
from wsfleet.demo.moto_extensions import DemoGroup, InstanceView, RefreshView


_serial = itertools.count(1)


@pytest.fixture(scope="module")
def refresh_network(request):
    """(server, subnet id) in the module's REGION; one per module (moto's first EC2 call costs ~1 s)."""
    server = _shared_server(request.config)
    server.reset()
    _, subnet = bootstrap.create_network(server.endpoint_url, request.module.REGION)
    return server, subnet


@dataclass
class World:
    server: object
    region: str
    subnet: str
    name: str
    template: str  # the group's own launch template (each test's versions are its own)
    group: DemoGroup
    changes: list = field(default_factory=list)

    def client(self, service: str, **config):
        return boto3.client(service, region_name=self.region, endpoint_url=self.server.endpoint_url,
                            config=Config(retries={"max_attempts": 1}, **config))

    @property
    def asg(self):
        return self.client("autoscaling")

    def describe(self) -> dict:
        return self.asg.describe_instance_refreshes(AutoScalingGroupName=self.name)["InstanceRefreshes"]

    def versions(self) -> dict[str, str]:
        group = self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[self.name])["AutoScalingGroups"][0]
        return {i["InstanceId"]: i["LaunchTemplate"]["Version"] for i in group["Instances"]}

    def new_version(self) -> str:
        """A second version of the demo's launch template (another image), as a release makes one."""
        created = self.client("ec2").create_launch_template_version(
            LaunchTemplateName=self.template, SourceVersion="1",
            LaunchTemplateData={"ImageId": bootstrap.RELEASE_IMAGE_ID},
        )
        return str(created["LaunchTemplateVersion"]["VersionNumber"])

    def start(self, version: str | None = None, **preferences) -> str:
        """StartInstanceRefresh to `version` of the launch template (None: the group's own)."""
        kwargs = {"AutoScalingGroupName": self.name, "Preferences": preferences}
        if version is not None:
            kwargs["DesiredConfiguration"] = {"LaunchTemplate": {"LaunchTemplateName": self.template, "Version": version}}
        return self.asg.start_instance_refresh(**kwargs)["InstanceRefreshId"]

    def use_version(self, version: str) -> None:
        """Point the group at another version of its template ("$Latest", "$Default", "3")."""
        self.asg.update_auto_scaling_group(
            AutoScalingGroupName=self.name, LaunchTemplate={"LaunchTemplateName": self.template, "Version": version}
        )


@pytest.fixture
def world(refresh_network, request):
    """A demo-enabled group of `desired` (default 4) instances on version 1 of its own launch template."""
    server, subnet = refresh_network
    region = request.module.REGION
    marker = request.node.get_closest_marker("desired")
    desired = marker.args[0] if marker else 4
    name = f"r{next(_serial)}-" + re.sub(r"[^A-Za-z0-9-]", "-", request.node.name[5:45])
    template = f"lt-{name}"
    clients = bootstrap.clients(server.endpoint_url, region)
    clients["ec2"].create_launch_template(
        LaunchTemplateName=template, LaunchTemplateData={"ImageId": bootstrap.IMAGE_ID, "InstanceType": bootstrap.INSTANCE_TYPE}
    )
    clients["autoscaling"].create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=1, MaxSize=12, DesiredCapacity=desired, VPCZoneIdentifier=subnet,
        LaunchTemplate={"LaunchTemplateName": template, "Version": "1"},  # pinned, as the demo's own group
    )
    moto_extensions.enable(bootstrap.ACCOUNT_ID, region)
    changes: list = []
    group = DemoGroup(bootstrap.ACCOUNT_ID, region, name, changes.append)
    yield World(server, region, subnet, name, template, group, changes)
    group.close()
    moto_extensions.disable(bootstrap.ACCOUNT_ID, region)


def pytest_configure(config):
    config.addinivalue_line("markers", "desired(n): the size of the refresh tests' group")


# ----------------------------------------------------------------------------------- engine


class Clock:
    """The engine's `now`, moved by hand. It runs well ahead of the real clock, which moto's side
    uses for its boot timers, so those are always due (the tests set no boot delay)."""

    def __init__(self) -> None:
        self.t = time.time() + 1000.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, tz=timezone.utc)


@dataclass
class Step:
    t: float
    instances: list[InstanceView]
    refresh: RefreshView | None
    events: list[str]

    def in_service(self) -> list[InstanceView]:
        return [v for v in self.instances if v.lifecycle == "InService"]


def fleet_config(world: World, tmp_path):
    """A wsfleet fleet for the world's group (its alarm names are the group's own)."""
    from wsfleet.config import load_config, select_fleet

    path = tmp_path / "fleet.toml"
    path.write_text(
        f'[fleets.t]\nasg = "{world.name}"\nregion = "{world.region}"\nendpoint_url = "{world.server.endpoint_url}"\n'
        f'env = "t"\napp = "{world.name}"\nport = 8080\ncapacity = 280\n'
        "[fleets.t.scale_out]\nthreshold = 200\nperiod = 10\nevaluation_periods = 2\ndatapoints_to_alarm = 2\n"
        "warmup = 20\nsteps = [ { from = 200, to = 250, add = 2 }, { from = 250, to = 300, add = 2 }, { from = 300, add = 3 } ]\n"
        "[fleets.t.scale_in]\nthreshold = 95\nperiod = 10\nevaluation_periods = 3\ndatapoints_to_alarm = 3\n"
        'treat_missing_data = "notBreaching"\nremove = 1\ncooldown = 20\n'
    )
    return select_fleet(load_config(str(path)), "t")


@dataclass
class Driver:
    """The demo's ScalingEngine on a world's group, stepped by hand on a synthetic clock."""

    engine: object
    clock: Clock
    fleet: object
    world: World

    def run(self, until, *, step: float = 2.0, limit: int = 300) -> list[Step]:
        """Engine steps every `step` seconds until `until(steps)` holds (at most `limit` steps). The
        first Step is the group as it was before them."""
        group = self.world.group
        steps = [Step(self.clock.t, group.instances(), group.latest_refresh(), [])]
        for _ in range(limit):
            self.clock.t += step
            events = self.engine.advance(self.clock.now())
            steps.append(Step(self.clock.t, group.instances(), group.latest_refresh(), events))
            if until(steps):
                return steps
        raise AssertionError(f"not reached in {limit} engine steps; last: {steps[-1]}")


@pytest.fixture
def engine(world, tmp_path) -> Driver:
    """The engine with no boot delay (instances are InService one step after their launch)."""
    from wsfleet.aws.session import AwsSession
    from wsfleet.demo.engine import ScalingEngine
    from wsfleet.demo.scenarios import DemoTiming

    fleet = fleet_config(world, tmp_path)
    clock = Clock()
    eng = ScalingEngine(AwsSession(fleet, max_attempts=1), fleet, world.group, DemoTiming(cold_launch=0.0), started=clock.now())
    return Driver(eng, clock, fleet, world)


def ended(steps: list[Step]) -> bool:
    return steps[-1].refresh is not None and not steps[-1].refresh.active
