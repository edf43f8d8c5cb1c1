"""Build a fleet in moto, and a wsfleet config that points at it.

    with mock_aws():                                    # in-process
        fleet = make_fleet(None, instances=5)
        ...

    def test_x(moto_server, tmp_path):                  # moto's server on loopback
        fleet = make_fleet(moto_server.session(), instances=3, endpoint_url=moto_server.endpoint_url)
        config = write_config(tmp_path, moto_server.endpoint_url, fleet["asg"])
        subprocess.run([sys.executable, "-m", "wsfleet", "--config", str(config), "status"], ...)

`make_fleet` creates a VPC, one subnet in each of two availability zones, a launch template and the
Auto Scaling group with `instances` instances (moto starts them InService/Healthy at once), and
with `target_group=True` an ALB, a target group (round robin, LB-cookie stickiness, as the seed
configured it) and a listener, attached to the group. It returns a dict:

    {"asg", "region", "vpc_id", "subnet_ids", "azs", "launch_template_id", "launch_template_name",
     "instance_ids", "target_group_arn" (or None), "load_balancer_arn" (or None)}

moto hands out 10.x addresses: never connect to them (map instances to loopback endpoints
with the config's [fleets.NAME.ssh.hosts] table instead; `write_config` takes it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import boto3

from wsfleet.aws.models import TRIMMED

AMI_ID = "ami-12c6146b"  # one of the AMIs moto ships
DEFAULT_FLEET = "test"


def clients_for(
    session_or_clients: Any, region: str = "us-east-1", endpoint_url: str | None = None
) -> "_Clients":
    """Accepts an AwsSession (anything with .client(service)), a boto3.Session, a mapping of
    service name -> client, or None (plain boto3 clients for `region` and `endpoint_url`)."""
    return _Clients(session_or_clients, region, endpoint_url)


class _Clients:
    def __init__(self, source: Any, region: str, endpoint_url: str | None) -> None:
        self._source = source
        self._region = region
        self._endpoint_url = endpoint_url
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service in self._made:
            return self._made[service]
        source = self._source
        if isinstance(source, Mapping):
            client = source[service]
        elif isinstance(source, boto3.Session):
            client = source.client(service, region_name=self._region, endpoint_url=self._endpoint_url)
        elif source is not None and hasattr(source, "client") and service in TRIMMED:
            # the AwsSession's EC2 client knows only the operations wsfleet calls (wsfleet.aws.models):
            # set-up calls (create_vpc, ...) go through a full client on the same region and endpoint
            client = boto3.client(service, region_name=source.region, endpoint_url=source.endpoint_url)
        elif source is not None and hasattr(source, "client"):
            client = source.client(service)  # AwsSession: its own region and endpoint
        else:
            client = boto3.client(service, region_name=self._region, endpoint_url=self._endpoint_url)
        self._made[service] = client
        return client


def make_fleet(
    session_or_clients: Any = None,
    asg: str = "prod-chat-asg",
    instances: int = 2,
    min_size: int = 1,
    max_size: int = 12,
    region: str = "us-east-1",
    *,
    endpoint_url: str | None = None,
    target_group: bool = False,
    instance_type: str = "c5.large",
    service_port: int = 443,
) -> dict[str, Any]:
    """Create the group (and its network) in moto; see the module docstring for what it returns."""
    client = clients_for(session_or_clients, region, endpoint_url)
    ec2, autoscaling = client("ec2"), client("autoscaling")
    azs = [f"{region}a", f"{region}b"]
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{n + 1}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
        for n, az in enumerate(azs)
    ]
    template_name = _name(f"{asg}-lt")
    template = ec2.create_launch_template(
        LaunchTemplateName=template_name,
        LaunchTemplateData={"ImageId": AMI_ID, "InstanceType": instance_type},
    )["LaunchTemplate"]

    target_group_arn = load_balancer_arn = None
    if target_group:
        elbv2 = client("elbv2")
        load_balancer_arn = elbv2.create_load_balancer(
            Name=_name(f"{asg}-alb", 32), Subnets=subnet_ids, Type="application", Scheme="internal"
        )["LoadBalancers"][0]["LoadBalancerArn"]
        target_group_arn = elbv2.create_target_group(
            Name=_name(f"{asg}-tg", 32),
            Protocol="HTTP",
            Port=service_port,
            VpcId=vpc_id,
            TargetType="instance",
            HealthCheckPath="/health",
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=target_group_arn,
            Attributes=[
                {"Key": "load_balancing.algorithm.type", "Value": "round_robin"},
                {"Key": "stickiness.enabled", "Value": "true"},
                {"Key": "stickiness.type", "Value": "lb_cookie"},
                {"Key": "deregistration_delay.timeout_seconds", "Value": "300"},
            ],
        )
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=load_balancer_arn, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "60"}]
        )
        elbv2.create_listener(
            LoadBalancerArn=load_balancer_arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group_arn}],
        )

    params: dict[str, Any] = {
        "AutoScalingGroupName": asg,
        "MinSize": min(min_size, instances),
        "MaxSize": max(max_size, instances),
        "DesiredCapacity": instances,
        "LaunchTemplate": {"LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Latest"},
        "VPCZoneIdentifier": ",".join(subnet_ids),
    }
    if target_group_arn:
        params["TargetGroupARNs"] = [target_group_arn]
    # moto launches every instance in the first subnet; launch the second half after rotating
    # the subnet list, so the group spans both AZs as a real one would.
    first_half = (instances + 1) // 2
    autoscaling.create_auto_scaling_group(
        **{**params, "DesiredCapacity": first_half, "MinSize": min(params["MinSize"], first_half)}
    )
    if instances > first_half:
        autoscaling.update_auto_scaling_group(
            AutoScalingGroupName=asg,
            VPCZoneIdentifier=",".join(subnet_ids[1:] + subnet_ids[:1]),
            MinSize=params["MinSize"],
            DesiredCapacity=instances,
        )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[asg])["AutoScalingGroups"][0]
    return {
        "asg": asg,
        "region": region,
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "azs": azs,
        "launch_template_id": template["LaunchTemplateId"],
        "launch_template_name": template_name,
        "instance_ids": [i["InstanceId"] for i in group.get("Instances", ())],
        "target_group_arn": target_group_arn,
        "load_balancer_arn": load_balancer_arn,
    }


def write_config(
    tmp_path: Path | str,
    endpoint_url: str | None,
    asg: str = "prod-chat-asg",
    *,
    fleet: str = DEFAULT_FLEET,
    region: str = "us-east-1",
    filename: str = "wsfleet.toml",
    **fleet_keys: Any,
) -> Path:
    """Write a wsfleet config with one fleet `fleet` for `asg` at `endpoint_url`; returns its path.

    Extra keys go into [fleets.NAME] as given, using the config schema (DESIGN.md), e.g.
    `env="prod", app="chat", port=9000, metric={"namespace": "TCP_Connections"},
    ssh={"user": "demo", "hosts": {"i-0abc": "127.0.0.1:2201"}},
    scale_out={"threshold": 200, "steps": [{"from": 200, "to": 250, "add": 2}, {"from": 250, "add": 3}]}`.
    """
    table: dict[str, Any] = {"asg": asg, "region": region}
    if endpoint_url:
        table["endpoint_url"] = endpoint_url
    table.update(fleet_keys)
    path = Path(tmp_path) / filename
    path.write_text(dumps_toml({"fleets": {fleet: table}}))
    return path


def dumps_toml(document: Mapping[str, Any]) -> str:
    """A small TOML writer for config documents: tables, scalars, lists, lists of inline tables."""
    lines: list[str] = []
    _write_table(lines, [], document)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(lines: list[str], path: list[str], table: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping) and v is not None}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if path and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables.items():
        _write_table(lines, [*path, key], value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _name(text: str, limit: int = 128) -> str:
    """AWS names: letters, digits and hyphens, not too long."""
    return re.sub(r"[^A-Za-z0-9-]", "-", text)[:limit].strip("-")
