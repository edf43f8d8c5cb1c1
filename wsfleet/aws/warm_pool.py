"""The group's warm pool: its configuration and the instances waiting in it."""

from __future__ import annotations

from typing import Any

from wsfleet.aws.errors import aws_errors
from wsfleet.aws.fleet import describe_instances, instance_from_aws
from wsfleet.aws.session import AwsSession
from wsfleet.model import WarmPool, WarmPoolConfig

WARM_INSTANCES_PER_PAGE = 50  # DescribeWarmPool's largest page


def read_warm_pool(session: AwsSession, asg: str, *, with_addresses: bool = True) -> WarmPool | None:
    """The warm pool with its instances; None when the group has none.

    With `with_addresses`, EC2 is asked for the warm instances' addresses and launch times
    (one more call, only when the pool holds instances).
    """
    raw = describe_warm_pool(session, asg)
    if raw is None:
        return None
    described = {}
    if with_addresses and raw["Instances"]:
        described = describe_instances(session, [i["InstanceId"] for i in raw["Instances"]])
    return warm_pool_from_aws(raw, described)


def describe_warm_pool(session: AwsSession, asg: str) -> dict[str, Any] | None:
    """{"WarmPoolConfiguration": ..., "Instances": [every page]}, or None without a warm pool."""
    client = session.client("autoscaling")
    params: dict[str, Any] = {"AutoScalingGroupName": asg, "MaxRecords": WARM_INSTANCES_PER_PAGE}
    configuration = None
    instances: list[dict[str, Any]] = []
    with aws_errors(f"reading the warm pool of {asg}"):
        while True:
            page = client.describe_warm_pool(**params)
            configuration = page.get("WarmPoolConfiguration") or configuration
            instances.extend(page.get("Instances", ()))
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
    if not configuration:
        return None
    return {"WarmPoolConfiguration": configuration, "Instances": instances}


def warm_pool_from_aws(raw: dict[str, Any], described: dict[str, dict[str, Any]] | None = None) -> WarmPool:
    cfg = raw["WarmPoolConfiguration"]
    max_prepared = cfg.get("MaxGroupPreparedCapacity")
    described = described or {}
    return WarmPool(
        min_size=int(cfg.get("MinSize", 0)),
        # AWS reports "not set" (= the group's max size) as -1 or leaves the field out
        max_prepared_capacity=None if max_prepared is None or int(max_prepared) < 0 else int(max_prepared),
        pool_state=cfg.get("PoolState", "Stopped"),
        reuse_on_scale_in=bool(cfg.get("InstanceReusePolicy", {}).get("ReuseOnScaleIn", False)),
        status=cfg.get("Status"),
        instances=tuple(instance_from_aws(i, described.get(i["InstanceId"])) for i in raw.get("Instances", ())),
    )


def put_warm_pool(session: AwsSession, asg: str, cfg: WarmPoolConfig) -> None:
    """Create or replace the warm pool; max_prepared_capacity None means "up to the group's max"."""
    params: dict[str, Any] = {
        "AutoScalingGroupName": asg,
        "MinSize": int(cfg.min_size),
        "PoolState": cfg.pool_state,
        "InstanceReusePolicy": {"ReuseOnScaleIn": bool(cfg.reuse_on_scale_in)},
        # -1 clears a value set earlier (leaving the field out would keep it)
        "MaxGroupPreparedCapacity": -1 if cfg.max_prepared_capacity is None else int(cfg.max_prepared_capacity),
    }
    with aws_errors(f"writing the warm pool of {asg}"):
        session.client("autoscaling").put_warm_pool(**params)
