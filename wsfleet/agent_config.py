"""The CloudWatch agent configuration for a fleet's connection metric. Pure.

The agent's `netstat` plugin publishes `tcp_established` (every ESTABLISHED TCP socket on the
host), renamed to the fleet's metric name, in the fleet's ONE namespace, with the instance's
Auto Scaling group and id appended, and aggregated over the group so the alarms have the
group average. The seed's own file differed in two ways that broke it: its namespace
(`TPC_Connections`) was not the one its alarms watched (`ASG_Memory`), and `netstat` sat
directly under `metrics` instead of under `metrics_collected`.
"""

from __future__ import annotations

import json
from typing import Any

from wsfleet.model import FleetConfig, MetricSpec, ScaleInConfig, ScaleOutConfig

GROUP_DIMENSION = "AutoScalingGroupName"  # the only name the agent fills with ${aws:AutoScalingGroupName}


def collection_interval(scale_out: ScaleOutConfig, scale_in: ScaleInConfig) -> int:
    """Seconds between samples: 60, or the alarm period when an alarm is high-resolution (10 or 30 s).

    Alarm periods are 10, 30 or multiples of 60, so every period is a whole number of samples.
    """
    return min(60, scale_out.period, scale_in.period)


def agent_config(fleet: FleetConfig | None = None) -> dict[str, Any]:
    """The agent JSON document for `fleet` (None: the seed's defaults)."""
    metric = fleet.metric if fleet is not None else MetricSpec()
    interval = collection_interval(
        fleet.scale_out if fleet is not None else ScaleOutConfig(),
        fleet.scale_in if fleet is not None else ScaleInConfig(),
    )
    return {
        "agent": {"metrics_collection_interval": interval},
        "metrics": {
            "namespace": metric.namespace,
            "append_dimensions": {
                "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
                "InstanceId": "${aws:InstanceId}",
            },
            "aggregation_dimensions": [[GROUP_DIMENSION]],
            "metrics_collected": {
                "netstat": {
                    "measurement": [{"name": "tcp_established", "rename": metric.name, "unit": metric.unit}],
                    "metrics_collection_interval": interval,
                }
            },
        },
    }


def render(fleet: FleetConfig | None = None) -> str:
    """The agent JSON as the file `amazon-cloudwatch-agent.json` holds it (2-space indent, final newline)."""
    return json.dumps(agent_config(fleet), indent=2) + "\n"
