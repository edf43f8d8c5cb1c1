"""The CloudWatch agent configuration for a fleet's connection metric. Pure.

Two ways to publish the metric both alarms watch, in the fleet's ONE namespace, per instance
({AutoScalingGroupName, InstanceId}) and aggregated over the group ({AutoScalingGroupName}):

- **exact** (the default): the agent's StatsD listener, fed by the instance-side sender
  (`wsfleet.agent_sender`, `agent-config --sender`) with the count the ssh source makes:
  ESTABLISHED connections on the service port. Read in the agent's source
  (aws/amazon-cloudwatch-agent at ab55b8da): StatsD metrics go through the `hostCustomMetrics`
  pipeline, which gets the ec2tagger (`append_dimensions`, and it removes `host`) and the exporter's
  rollups (`aggregation_dimensions`). The StatsD input tags every gauge `metric_type=gauge`, and
  nothing removes that tag, so the per-instance series is published as a rollup of its own
  ({AutoScalingGroupName, InstanceId} is smaller than the raw set, so the exporter emits it) and
  `drop_original_metrics` drops the raw one that carries `metric_type`. The gauge keeps the last
  value received and is cleared at each of the listener's collections; with the collection and
  the aggregation interval both the alarm period, each instance gives ONE sample a period, so the
  group's Sum and SampleCount mean what they say (a 10 s collection under a 60 s aggregation would
  give six). The sender sends several times a period, so one lost datagram loses nothing.
- **host-wide** (`--host-wide`, the seed's way): the `netstat` plugin's `tcp_established`, every
  ESTABLISHED TCP socket on the host (all ports, both ends of a loopback hop, the agent's own
  HTTPS, SSH, SSM), renamed to the fleet's metric name.

`${aws:AutoScalingGroupName}` costs the instance role `ec2:DescribeTags`: without it the ec2tagger
publishes nothing at all (it passes no metric through until its first DescribeTags succeeds) --
`wsfleet iam-policy --instance-role` has it. The seed's own file differed in two ways that broke
it: its namespace (`TPC_Connections`) was not the one its alarms watched (`ASG_Memory`), and
`netstat` sat directly under `metrics` instead of under `metrics_collected`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from wsfleet.model import FleetConfig, ScaleInConfig, ScaleOutConfig

GROUP_DIMENSION = "AutoScalingGroupName"  # the only name the agent fills with ${aws:AutoScalingGroupName}
STATSD_HOST = "127.0.0.1"  # the listener binds loopback only: the sender is on the same host
STATSD_PORT = 8125
# StatsD line protocol: ":" "|" "@" "#" "," "=" are syntax, and the agent's statsd input turns "."
# into its metric separator "_" -- a name with any of them would arrive under another name.
_STATSD_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")

HOST_WIDE_CAVEAT = (
    "the netstat plugin's tcp_established counts every established TCP socket on the host (all ports, "
    "both ends of a loopback hop such as a local proxy, the agent's own HTTPS, SSH and SSM), not the clients "
    "on the service port: thresholds written in client connections then fire early (`wsfleet doctor` "
    "measures the ratio); the default agent-config publishes the exact count instead."
)


def collection_interval(scale_out: ScaleOutConfig, scale_in: ScaleInConfig) -> int:
    """Seconds between samples: 60, or the alarm period when an alarm is high-resolution (10 or 30 s).

    Alarm periods are 10, 30 or multiples of 60, so every period is a whole number of samples.
    """
    return min(60, scale_out.period, scale_in.period)


def sender_every(interval: int) -> int:
    """Seconds between the sender's datagrams: six a collection interval (60 → 10, 30 → 5), at
    least 2 s apart. The listener keeps only the latest, so the extra ones are insurance against
    a lost datagram or a late timer, never extra samples."""
    return max(2, interval // 6)


def statsd_name_problem(name: str) -> str | None:
    """Why `name` cannot travel as a StatsD metric name unchanged (None: it can)."""
    if _STATSD_NAME.fullmatch(name):
        return None
    return (f"the metric name {name!r} cannot be sent over StatsD unchanged: use letters, digits, '_' and '-' "
            f"(the agent turns '.' into '_', and ':', '|', '@', '#', ',' and '=' are StatsD syntax)")


def or_defaults(fleet: FleetConfig | None) -> FleetConfig:
    """`fleet`, or a fleet of the defaults (agent-config without any config file)."""
    return fleet if fleet is not None else FleetConfig(name="(defaults)", asg="")


def agent_config(fleet: FleetConfig | None = None, *, host_wide: bool = False) -> dict[str, Any]:
    """The agent JSON document for `fleet` (None: the seed's defaults); raises ValueError when the
    metric name cannot be sent over StatsD (the exact path)."""
    fleet = or_defaults(fleet)
    metric, interval = fleet.metric, collection_interval(fleet.scale_out, fleet.scale_in)
    if host_wide:
        collected: dict[str, Any] = {
            "netstat": {
                "measurement": [{"name": "tcp_established", "rename": metric.name, "unit": metric.unit}],
                "metrics_collection_interval": interval,
            }
        }
        rollups = [[GROUP_DIMENSION]]  # the raw netstat series already is {group, instance}
    else:
        problem = statsd_name_problem(metric.name)
        if problem:
            raise ValueError(problem)
        collected = {
            "statsd": {
                "service_address": f"{STATSD_HOST}:{STATSD_PORT}",
                "metrics_collection_interval": interval,
                "metrics_aggregation_interval": interval,
                "drop_original_metrics": [metric.name],
            }
        }
        rollups = [[GROUP_DIMENSION], [GROUP_DIMENSION, "InstanceId"]]
    return {
        "agent": {"metrics_collection_interval": interval},
        "metrics": {
            "namespace": metric.namespace,
            "append_dimensions": {
                "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
                "InstanceId": "${aws:InstanceId}",
            },
            "aggregation_dimensions": rollups,
            "metrics_collected": collected,
        },
    }


def render(fleet: FleetConfig | None = None, *, host_wide: bool = False) -> str:
    """The agent JSON as the file `amazon-cloudwatch-agent.json` holds it (2-space indent, final newline)."""
    return json.dumps(agent_config(fleet, host_wide=host_wide), indent=2) + "\n"
