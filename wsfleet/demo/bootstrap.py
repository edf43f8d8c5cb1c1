"""The demo's AWS account: moto's server in this process, and the group a customer's Terraform
would have made (VPC, subnets, launch template, an internal ALB with its target group, the Auto
Scaling group attached to that target group).

wsfleet never creates groups, so this is plain botocore; everything wsfleet *does* manage (alarms,
policies, warm pool, schedule) is then provisioned by wsfleet's own `provision` code (`provision`).
The VPC is 127.0.0.0/16, so moto hands the instances loopback addresses: even an instance missing
from the config's host map would be looked for on loopback, never on a real network.
"""

from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import botocore.session
from botocore.config import Config

from wsfleet.errors import WsfleetError

ACCOUNT_ID = "123456789012"  # moto's default account
VPC_CIDR = "127.0.0.0/16"
SUBNET_CIDR = "127.0.1.0/24"
SECOND_SUBNET_CIDR = "127.0.2.0/24"  # AWS wants an ALB in two zones; only the group's subnet has instances
IMAGE_ID = "ami-12c6146b"  # one of moto's bundled AMIs
RELEASE_IMAGE_ID = "ami-1e749f67"  # another: the image the deploy story's new launch template version names
LAUNCH_TEMPLATE_VERSION = "1"  # the group names a version, as a careful Terraform does: a refresh can roll back to it
INSTANCE_TYPE = "t3.micro"
LAUNCH_TEMPLATE = "demo-chat"
LOAD_BALANCER = "demo-chat-alb"
TARGET_GROUP = "demo-chat-tg"
TARGET_PORT = 8080  # the target group's port; each demo instance really listens on its own (the config's map)


class MotoServer:
    """moto's HTTP server on a loopback port chosen by the kernel, in a thread of this process."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        _list_moto_once()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def reset(self) -> None:
        """Drop every resource (moto's state is per process, not per server)."""
        if self.url:
            request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
            with urllib.request.urlopen(request, timeout=5):
                pass

    def stop(self) -> None:
        self._server.stop()


def _list_moto_once() -> None:
    """moto's server redoes, per request, work whose answer never changes in a process: it lists
    its package's ~180 directories to match the request's host against module names (a miss every
    time: the host is `ec2.us-east-1.amazonaws.com`), and it makes a new model loader for each
    service's first request, which lists botocore's ~400 service directories again (~10 ms each).
    In the demo's process, one listing and one loader (with moto's extras) serve every request, and
    the loader reads its JSON through wsfleet.parsed_json (the EC2 model: 8 ms instead of 45).
    Idempotent."""
    from moto import backends
    from moto.core import utils as moto_utils

    if getattr(backends.list_of_moto_modules, "wsfleet_listed", False):
        return
    from wsfleet.parsed_json import BotocoreFiles

    modules = tuple(backends.list_of_moto_modules())
    loader = moto_utils.create_loader()
    loader.file_loader = BotocoreFiles()  # its models (moto's extras merged in) parsed once, then marshal

    def list_of_moto_modules() -> Iterator[str]:
        return iter(modules)

    list_of_moto_modules.wsfleet_listed = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules
    moto_utils.create_loader = lambda: loader
    _count_unauthenticated_requests_without_iam()


def _count_unauthenticated_requests_without_iam() -> None:
    """moto checks a request's IAM permissions only after INITIAL_NO_AUTH_ACTION_COUNT requests
    (never, by default, and in the demo); until then it only counts the request. But it imports
    IAM's access control first, for every request, and that imports moto's S3 backend: 18 ms of
    the demo's first EC2 request. The same count, without the import while nothing is checked."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def _authenticate_and_authorize_normal_action(self: Any, resource: str = "*") -> None:
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1  # moto's own branch for an unchecked request
            return
        original(self, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authenticate_and_authorize_normal_action  # type: ignore[method-assign]


_clients: dict[tuple[str, str], dict[str, Any]] = {}
# What the set-up's EC2 client calls (here and in the tests' fixtures): its model is trimmed to
# these, as the product's is (wsfleet.aws.models): creating it took 90 ms of the demo's start-up
# from the whole model (700 operations' methods), 7 ms now.
DEMO_EC2_OPERATIONS = frozenset({"CreateVpc", "CreateSubnet", "CreateLaunchTemplate"})


def clients(endpoint_url: str, region: str) -> dict[str, Any]:
    """EC2, Auto Scaling and ELBv2 clients for moto (one botocore session, as AwsSession: creating one costs ~0.15 s)."""
    key = (endpoint_url, region)
    if key not in _clients:
        from wsfleet.aws.models import TRIMMED, TrimmingLoader
        from wsfleet.aws.session import _shared_loader

        session = botocore.session.Session()
        session.register_component("data_loader", TrimmingLoader(_shared_loader(), {**TRIMMED, "ec2": DEMO_EC2_OPERATIONS}))
        session.set_credentials("demo", "demo")
        config = Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=20)
        _clients.clear()  # an old demo's endpoint is gone
        _clients[key] = {name: session.create_client(name, region_name=region, endpoint_url=endpoint_url, config=config)
                         for name in ("ec2", "autoscaling", "elbv2")}
    return _clients[key]


@dataclass(frozen=True)
class GroupSetup:
    vpc_id: str
    subnet_id: str
    launch_template: str
    asg: str
    target_group_arn: str


def create_group(
    endpoint_url: str, region: str, asg: str, *, desired: int, min_size: int, max_size: int, deregistration_delay: int = 300
) -> GroupSetup:
    """The VPC, subnet, launch template, load balancer and Auto Scaling group the demo fleet lives in."""
    vpc, subnet = create_network(endpoint_url, region)
    target_group = create_load_balancer(endpoint_url, region, vpc, subnet, deregistration_delay=deregistration_delay)
    create_asg(endpoint_url, region, asg, subnet, desired=desired, min_size=min_size, max_size=max_size, target_groups=[target_group])
    return GroupSetup(vpc, subnet, LAUNCH_TEMPLATE, asg, target_group)


def create_load_balancer(endpoint_url: str, region: str, vpc: str, subnet: str, *, deregistration_delay: int) -> str:
    """An internal ALB with an HTTP listener forwarding to one target group; returns the target
    group's ARN. The target group keeps the ALB defaults (round robin, no stickiness, no slow start)
    but a deregistration delay in the demo's compressed time (AWS's default is 300 s)."""
    try:
        ec2, elbv2 = clients(endpoint_url, region)["ec2"], clients(endpoint_url, region)["elbv2"]
        second = ec2.create_subnet(VpcId=vpc, CidrBlock=SECOND_SUBNET_CIDR, AvailabilityZone=f"{region}b")["Subnet"]["SubnetId"]
        lb = elbv2.create_load_balancer(Name=LOAD_BALANCER, Subnets=[subnet, second], Type="application", Scheme="internal")
        lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        tg_arn = elbv2.create_target_group(
            Name=TARGET_GROUP, Protocol="HTTP", Port=TARGET_PORT, VpcId=vpc, TargetType="instance", HealthCheckPath="/"
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=tg_arn,
            Attributes=[
                {"Key": "load_balancing.algorithm.type", "Value": "round_robin"},
                {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)},
            ],
        )
        elbv2.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
    except Exception as exc:
        raise WsfleetError(f"the demo could not create its load balancer in moto ({type(exc).__name__}: {exc}).") from exc
    return tg_arn


def create_network(endpoint_url: str, region: str) -> tuple[str, str]:
    """(VPC id, subnet id) of a loopback VPC, and the launch template the group uses."""
    try:
        ec2 = clients(endpoint_url, region)["ec2"]
        vpc = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=SUBNET_CIDR, AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
        ec2.create_launch_template(
            LaunchTemplateName=LAUNCH_TEMPLATE,
            LaunchTemplateData={"ImageId": IMAGE_ID, "InstanceType": INSTANCE_TYPE},
        )
    except Exception as exc:
        raise WsfleetError(f"the demo could not create its VPC in moto ({type(exc).__name__}: {exc}).") from exc
    return vpc, subnet


def create_asg(
    endpoint_url: str, region: str, asg: str, subnet: str, *, desired: int, min_size: int, max_size: int, target_groups: list[str] | None = None
) -> None:
    extra = {"TargetGroupARNs": list(target_groups)} if target_groups else {}
    try:
        clients(endpoint_url, region)["autoscaling"].create_auto_scaling_group(
            **extra,
            AutoScalingGroupName=asg,
            MinSize=min_size,
            MaxSize=max_size,
            DesiredCapacity=desired,
            LaunchTemplate={"LaunchTemplateName": LAUNCH_TEMPLATE, "Version": LAUNCH_TEMPLATE_VERSION},
            VPCZoneIdentifier=subnet,
            DefaultCooldown=20,
            Tags=[{"Key": "app", "Value": "chat", "PropagateAtLaunch": True}],
        )
    except Exception as exc:
        raise WsfleetError(f"the demo could not create its Auto Scaling group in moto ({type(exc).__name__}: {exc}).") from exc


def provision(session: Any, fleet: Any, audit_path: Path) -> Any:
    """Alarms, policies, warm pool and scheduled action from the demo's config, by `wsfleet provision`'s
    own code path (plan, then execute), audited to the demo's own log. Returns the Outcome."""
    from wsfleet.actions import execute, plan_provision
    from wsfleet.audit import AuditLog

    plan = plan_provision(session, fleet)
    outcome = execute(plan, confirm=lambda _plan: True, read_only=False, audit=AuditLog(audit_path))
    if not outcome.ok:
        raise WsfleetError(f"the demo could not provision its fleet: {outcome.error}")
    return outcome
