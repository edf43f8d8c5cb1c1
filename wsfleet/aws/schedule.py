"""Scheduled actions of the group (e.g. scale out before the known morning peak)."""

from __future__ import annotations

from typing import Any

from wsfleet.aws._time import as_utc
from wsfleet.aws.errors import aws_errors
from wsfleet.aws.session import AwsSession
from wsfleet.model import ScheduledAction, ScheduledActionConfig

ACTIONS_PER_PAGE = 100  # DescribeScheduledActions' largest page


def read_scheduled_actions(session: AwsSession, asg: str) -> tuple[ScheduledAction, ...]:
    """Every scheduled action of the group, by name."""
    client = session.client("autoscaling")
    params: dict[str, Any] = {"AutoScalingGroupName": asg, "MaxRecords": ACTIONS_PER_PAGE}
    actions: list[ScheduledAction] = []
    with aws_errors(f"reading the scheduled actions of {asg}"):
        while True:
            page = client.describe_scheduled_actions(**params)
            actions.extend(action_from_aws(raw) for raw in page.get("ScheduledUpdateGroupActions", ()))
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
    return tuple(sorted(actions, key=lambda a: a.name))


def action_from_aws(raw: dict[str, Any]) -> ScheduledAction:
    return ScheduledAction(
        name=raw["ScheduledActionName"],
        recurrence=raw.get("Recurrence"),
        time_zone=raw.get("TimeZone"),
        start_time=as_utc(raw.get("StartTime")),
        end_time=as_utc(raw.get("EndTime")),
        min_size=raw.get("MinSize"),
        max_size=raw.get("MaxSize"),
        desired_capacity=raw.get("DesiredCapacity"),
        arn=raw.get("ScheduledActionARN"),
    )


def action_to_aws(asg: str, action: ScheduledActionConfig) -> dict[str, Any]:
    params: dict[str, Any] = {"AutoScalingGroupName": asg, "ScheduledActionName": action.name}
    for key, value in (
        ("Recurrence", action.recurrence),
        ("TimeZone", action.time_zone),
        ("StartTime", action.start_time),
        ("EndTime", action.end_time),
        ("MinSize", action.min_size),
        ("MaxSize", action.max_size),
        ("DesiredCapacity", action.desired_capacity),
    ):
        if value is not None:
            params[key] = value
    return params


def put_scheduled_action(session: AwsSession, asg: str, action: ScheduledActionConfig) -> None:
    """Create or update one scheduled action with the fields that are set.

    AWS keeps the old value of a field left out of an update: to drop a field, delete the
    action and put it again (the actions layer does that).
    """
    with aws_errors(f"writing scheduled action {action.name} of {asg}"):
        session.client("autoscaling").put_scheduled_update_group_action(**action_to_aws(asg, action))


def delete_scheduled_action(session: AwsSession, asg: str, name: str) -> None:
    with aws_errors(f"deleting scheduled action {name} of {asg}"):
        session.client("autoscaling").delete_scheduled_action(AutoScalingGroupName=asg, ScheduledActionName=name)
