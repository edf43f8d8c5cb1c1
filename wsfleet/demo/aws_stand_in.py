"""What the demo does in the place of AWS itself and of the CloudWatch agent: never wsfleet's job.

The CloudWatch agent on each instance publishes the metric; CloudWatch evaluates alarms and sets
their state. moto does neither, so the demo's engine does both through these calls. They live
here, not in `wsfleet/aws/`, so that the product's IAM policy (config/iam-policy.json) needs
neither PutMetricData nor SetAlarmState: an on-call role that can set an alarm to ALARM can fire
a scaling policy by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from wsfleet.aws.errors import aws_errors
from wsfleet.aws.metrics import group_dimensions, instance_dimensions
from wsfleet.aws.session import AwsSession
from wsfleet.model import FleetConfig

METRICS_PER_PUT = 1000  # PutMetricData's limit


@dataclass(frozen=True)
class HostWideModel:
    """What the CloudWatch agent's `netstat` -> `tcp_established` would publish for an instance
    holding `clients` WebSocket connections (`wsfleet demo --host-wide`): telegraf's netstat input
    counts every ESTABLISHED TCP socket on the host, all ports, both ends of loopback connections.

    The instance modelled is the common one: nginx on the service port in front of the app server
    on 127.0.0.1 (the demo's servers have no proxy; this is arithmetic on their exact counts).
    Each client is then the load balancer's connection to nginx (nginx's end: 1 socket) plus
    nginx's upstream connection to the app (a WebSocket cannot share one), both of whose ends are
    on the host (2 sockets): 3 per client. Fixed ones: the agent's own HTTPS to CloudWatch, the
    SSM agent's two (ec2messages, ssmmessages) and one sshd session (wsfleet's warm SSH source)."""

    sockets_per_client: int = 3
    fixed: int = 4  # agent HTTPS 1 + SSM agent 2 + sshd 1

    def value(self, clients: int) -> int:
        return self.sockets_per_client * clients + self.fixed


def published_counts(counts: Mapping[str, int], host_wide: HostWideModel | None) -> dict[str, float]:
    """Each instance's datapoint: its exact count (the exact metric path), or what a host-wide
    netstat count would be under `host_wide`."""
    if host_wide is None:
        return {k: float(v) for k, v in counts.items()}
    return {k: float(host_wide.value(v)) for k, v in counts.items()}


def put_group_metric(session: AwsSession, fleet: FleetConfig, value: float, at: datetime) -> None:
    """One datapoint of the group metric, as the CloudWatch agent's aggregation would publish it."""
    datum = _datum(fleet, group_dimensions(fleet), value, at)
    with aws_errors(f"writing metric {fleet.metric.namespace}/{fleet.metric.name} of {fleet.asg}"):
        session.client("cloudwatch").put_metric_data(Namespace=fleet.metric.namespace, MetricData=[datum])


def put_instance_metric(session: AwsSession, fleet: FleetConfig, values: Mapping[str, float], at: datetime) -> None:
    """One datapoint per instance (instance id -> value), as each instance's agent would publish it."""
    data = [_datum(fleet, instance_dimensions(fleet, i), v, at) for i, v in values.items()]
    cw = session.client("cloudwatch")
    for offset in range(0, len(data), METRICS_PER_PUT):
        with aws_errors(f"writing metric {fleet.metric.namespace}/{fleet.metric.name} of {len(values)} instances"):
            cw.put_metric_data(Namespace=fleet.metric.namespace, MetricData=data[offset : offset + METRICS_PER_PUT])


def set_alarm_state(session: AwsSession, name: str, state: str, reason: str) -> None:
    """SetAlarmState, as CloudWatch's own evaluation would (moto never evaluates alarms)."""
    with aws_errors(f"setting alarm {name} to {state}"):
        session.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason or state)


def _datum(fleet: FleetConfig, dimensions: list[dict[str, str]], value: float, at: datetime) -> dict[str, Any]:
    return {
        "MetricName": fleet.metric.name,
        "Dimensions": dimensions,
        "Timestamp": at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc),
        "Value": float(value),
        "Unit": fleet.metric.unit,
    }
