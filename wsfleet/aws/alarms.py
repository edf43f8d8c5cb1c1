"""CloudWatch alarms: read them, write one whole, set a state (the demo and tests do)."""

from __future__ import annotations

from typing import Any, Sequence

from wsfleet.aws._time import as_utc
from wsfleet.aws.errors import aws_errors
from wsfleet.aws.session import AwsSession
from wsfleet.model import Alarm

ALARM_NAMES_PER_CALL = 100  # DescribeAlarms' limit


def read_alarms(session: AwsSession, names: Sequence[str]) -> dict[str, Alarm]:
    """The named metric alarms that exist, by name (absent names are simply not in the result)."""
    names = [n for n in dict.fromkeys(names) if n]
    alarms: dict[str, Alarm] = {}
    cw = session.client("cloudwatch")
    for start in range(0, len(names), ALARM_NAMES_PER_CALL):
        batch = names[start : start + ALARM_NAMES_PER_CALL]
        params: dict[str, Any] = {"AlarmNames": batch, "AlarmTypes": ["MetricAlarm"]}
        with aws_errors(f"reading alarm{'s' if len(batch) > 1 else ''} {', '.join(batch)}"):
            while True:
                page = cw.describe_alarms(**params)
                for raw in page.get("MetricAlarms", ()):
                    alarms[raw["AlarmName"]] = alarm_from_aws(raw)
                if not page.get("NextToken"):
                    break
                params["NextToken"] = page["NextToken"]
    return alarms


def alarm_from_aws(raw: dict[str, Any]) -> Alarm:
    return Alarm(
        name=raw["AlarmName"],
        state=raw.get("StateValue", "INSUFFICIENT_DATA"),
        reason=raw.get("StateReason", ""),
        updated=as_utc(raw.get("StateUpdatedTimestamp")),
        threshold=float(raw.get("Threshold", 0.0)),
        comparison=raw.get("ComparisonOperator", ""),
        period=int(raw.get("Period", 60)),
        evaluation_periods=int(raw.get("EvaluationPeriods", 1)),
        datapoints_to_alarm=raw.get("DatapointsToAlarm"),
        treat_missing_data=raw.get("TreatMissingData", "missing"),
        namespace=raw.get("Namespace", ""),
        metric_name=raw.get("MetricName", ""),
        statistic=raw.get("Statistic") or raw.get("ExtendedStatistic") or "",
        dimensions=tuple((d["Name"], d["Value"]) for d in raw.get("Dimensions", ())),
        alarm_actions=tuple(raw.get("AlarmActions", ())),
        ok_actions=tuple(raw.get("OKActions", ())),
    )


def alarm_to_aws(alarm: Alarm) -> dict[str, Any]:
    """PutMetricAlarm's parameters for the whole alarm (PutMetricAlarm replaces every field)."""
    params: dict[str, Any] = {
        "AlarmName": alarm.name,
        "Namespace": alarm.namespace,
        "MetricName": alarm.metric_name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in alarm.dimensions],
        "Period": int(alarm.period),
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "Threshold": float(alarm.threshold),
        "ComparisonOperator": alarm.comparison,
        "TreatMissingData": alarm.treat_missing_data,
        "AlarmActions": list(alarm.alarm_actions),
        "OKActions": list(alarm.ok_actions),
        "ActionsEnabled": True,
    }
    # percentiles ("p99", "tm90") go in ExtendedStatistic; Average/Sum/... in Statistic
    if alarm.statistic and alarm.statistic[0].islower():
        params["ExtendedStatistic"] = alarm.statistic
    else:
        params["Statistic"] = alarm.statistic or "Average"
    if alarm.datapoints_to_alarm is not None:
        params["DatapointsToAlarm"] = int(alarm.datapoints_to_alarm)
    return params


def put_alarm(session: AwsSession, alarm: Alarm) -> None:
    """Create or replace the alarm with exactly the fields of `alarm` (state fields are ignored)."""
    with aws_errors(f"writing alarm {alarm.name}"):
        session.client("cloudwatch").put_metric_alarm(**alarm_to_aws(alarm))
