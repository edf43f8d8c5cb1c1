"""Recent scaling activities of the group (what Auto Scaling did, and why)."""

from __future__ import annotations

from typing import Any

from wsfleet.aws._time import as_utc
from wsfleet.aws.errors import aws_errors
from wsfleet.aws.session import AwsSession
from wsfleet.model import ScalingActivity

MAX_ACTIVITIES_PER_CALL = 100  # DescribeScalingActivities' largest page


def read_activities(session: AwsSession, asg: str, limit: int = 20) -> tuple[ScalingActivity, ...]:
    """The latest `limit` activities, newest first (AWS's order). One call for up to 100."""
    limit = max(1, int(limit))
    client = session.client("autoscaling")
    params: dict[str, Any] = {"AutoScalingGroupName": asg, "MaxRecords": min(limit, MAX_ACTIVITIES_PER_CALL)}
    activities: list[ScalingActivity] = []
    with aws_errors(f"reading the scaling activities of {asg}"):
        while len(activities) < limit:
            page = client.describe_scaling_activities(**params)
            activities.extend(activity_from_aws(raw) for raw in page.get("Activities", ()))
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
    return tuple(activities[:limit])


def activity_from_aws(raw: dict[str, Any]) -> ScalingActivity:
    return ScalingActivity(
        id=raw.get("ActivityId", ""),
        description=raw.get("Description", ""),
        cause=raw.get("Cause", ""),
        status=raw.get("StatusCode", ""),
        start_time=as_utc(raw.get("StartTime")),
        end_time=as_utc(raw.get("EndTime")),
        progress=raw.get("Progress"),
    )
