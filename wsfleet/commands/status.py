"""`wsfleet status [--format table|json]`: one read of the group, alarms, policies, warm pool,
schedule, recent activities and target groups.

Exit 0 after a read (parts that could not be read are listed as problems, on stderr too);
3 when the group itself cannot be read (AWS error sentence, from cli.py); 2 for config errors.

JSON (`--format json`) is one object, stable (keys are added, never renamed or removed):

    {
      "fleet", "asg", "region", "account_id" (or null), "taken_at" (ISO 8601, UTC), "api_calls",
      "group": {"name", "min_size", "max_size", "desired", "default_cooldown",
                "target_group_arns": [...], "suspended_processes": [...],
                "instances": [INSTANCE, ...]},
      "high_alarm", "low_alarm": null or {"name", "state", "reason", "updated", "threshold",
                "comparison", "period", "evaluation_periods", "datapoints_to_alarm",
                "treat_missing_data", "namespace", "metric_name", "statistic",
                "dimensions": {NAME: VALUE}, "alarm_actions": [...], "ok_actions": [...]},
      "scale_out_policy", "scale_in_policy": null or {"name", "arn", "policy_type",
                "adjustment_type", "steps": [{"lower_bound", "upper_bound", "scaling_adjustment"}]
                (relative to the alarm threshold, as AWS holds them), "absolute_steps":
                [{"from", "to", "add"}] (in connections, as the config writes them; "to" null =
                open-ended), "steps_threshold" (the threshold they were converted with),
                "scaling_adjustment", "cooldown", "warmup", "metric_aggregation_type",
                "alarm_names": [...]},
      "warm_pool": null or {"min_size", "max_prepared_capacity" (null = the group's max),
                "pool_state", "reuse_on_scale_in", "status", "instances": [INSTANCE, ...]},
      "scheduled_actions": [{"name", "recurrence", "time_zone", "start_time", "end_time",
                "min_size", "max_size", "desired_capacity", "arn"}],
      "activities": [{"id", "description", "cause", "status", "start_time", "end_time", "progress"}],
      "target_groups": [{"arn", "name", "algorithm", "stickiness_enabled", "stickiness_type",
                "deregistration_delay", "load_balancer_arns", "idle_timeout"}],
      "metric": null or {"namespace", "name", "statistic", "period", "timestamps": [...],
                "values": [number or null, ...] (oldest first), "latest" (or null)},
      "problems": ["one sentence per part that could not be read", ...],
      "instance_refresh": null or the object `wsfleet refresh status --format json` prints,
      "instance_refresh_unavailable": null or the sentence saying the endpoint lacks refreshes
    }

    INSTANCE = {"id", "az", "lifecycle", "health", "protected", "launch_time", "instance_type",
                "private_ip", "public_ip", "public_dns", "launch_template_version"}
    "group" also holds "launch_template": null or {"id", "name", "version", "resolved_version",
    "is_launch_configuration"} and "tags": [[KEY, VALUE], ...].

Datetimes are ISO 8601 strings in UTC; absent values are null.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from datetime import datetime, timezone
from typing import Any

from wsfleet.commands.refresh import refresh_lines, refresh_to_json, version_lines
from wsfleet.errors import EXIT_OK
from wsfleet.model import Alarm, FleetConfig, FleetStatus, Instance, ScalingPolicy, StepRange

_COMPARISON = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
_STATE_STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "yellow"}


def run(args: Any, ctx: Any) -> int:
    from wsfleet.aws.reader import read_status

    fleet = ctx.fleet
    status = read_status(ctx.aws(fleet), fleet)
    if getattr(args, "format", "table") == "json":
        print(json.dumps(status_to_json(fleet, status), indent=2))
    else:
        print_status(fleet, status)
    for problem in status.problems:
        print(f"wsfleet: could not read everything: {problem}", file=sys.stderr)
    return EXIT_OK


# ----------------------------------------------------------------------------- JSON


def status_to_json(fleet: FleetConfig, status: FleetStatus) -> dict[str, Any]:
    """The documented JSON object (see the module docstring)."""
    metric = None
    if status.metric is not None:
        known = [v for v in status.metric.values if v is not None]
        metric = {
            "namespace": fleet.metric.namespace,
            "name": fleet.metric.name,
            "statistic": fleet.metric.statistic,
            "period": status.metric.period,
            "timestamps": [_json(t) for t in status.metric.timestamps],
            "values": [_json(v) for v in status.metric.values],
            "latest": _json(known[-1]) if known else None,
        }
    return {
        "fleet": status.fleet,
        "asg": fleet.asg,
        "region": status.region,
        "account_id": status.account_id,
        "taken_at": _json(status.taken_at),
        "api_calls": status.api_calls,
        "group": _json(status.group),
        "high_alarm": _alarm_json(status.high_alarm),
        "low_alarm": _alarm_json(status.low_alarm),
        "scale_out_policy": _policy_json(status.scale_out_policy, steps_threshold(fleet, status)),
        "scale_in_policy": _policy_json(status.scale_in_policy, steps_threshold(fleet, status)),
        "warm_pool": _json(status.warm_pool),
        "scheduled_actions": _json(status.scheduled_actions),
        "activities": _json(status.activities),
        "target_groups": _json(status.target_groups),
        "metric": metric,
        "problems": list(status.problems),
        "instance_refresh": refresh_to_json(status.instance_refresh),
        # the sentence saying why refreshes could not be read from this endpoint, else null
        "instance_refresh_unavailable": status.refresh_unavailable,
    }


def steps_threshold(fleet: FleetConfig, status: FleetStatus) -> float:
    """The threshold the policy's relative steps hang from: the live high alarm's, else the config's."""
    from wsfleet.scaling import live_steps

    return live_steps(fleet, status)[0]


def absolute_steps(policy: ScalingPolicy, threshold: float) -> tuple[StepRange, ...]:
    from wsfleet.scaling import to_absolute

    return to_absolute(threshold, policy.steps)


def _alarm_json(alarm: Alarm | None) -> dict[str, Any] | None:
    if alarm is None:
        return None
    out = _json(alarm)
    out["dimensions"] = {name: value for name, value in alarm.dimensions}
    return out


def _policy_json(policy: ScalingPolicy | None, threshold: float) -> dict[str, Any] | None:
    if policy is None:
        return None
    out = _json(policy)
    out["absolute_steps"] = [
        {"from": _json(s.lower), "to": _json(s.upper), "add": s.add} for s in absolute_steps(policy, threshold)
    ]
    out["steps_threshold"] = _json(threshold) if policy.steps else None
    return out


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # JSON has no infinity; an unbounded step bound is null
        return int(value) if value.is_integer() else value
    return value


# ----------------------------------------------------------------------------- tables


def print_status(fleet: FleetConfig, status: FleetStatus, console: Any = None) -> None:
    from rich.console import Console

    console = console or Console(file=sys.stdout, highlight=False, soft_wrap=False)
    for n, renderable in enumerate(status_renderables(fleet, status)):
        if n:
            console.print()
        console.print(renderable)


def status_renderables(fleet: FleetConfig, status: FleetStatus) -> list[Any]:
    """Rich renderables for the whole status, top to bottom."""
    from rich.text import Text

    out: list[Any] = [_header(fleet, status)]
    out.append(_instances_table(fleet, status.group.instances, f"instances ({len(status.group.instances)})", status.taken_at,
                                status.group.launch_template))
    out.append(_alarms_table(status))
    out.append(_policies_table(fleet, status))
    out.extend(_warm_pool(fleet, status))
    out.append(_schedule_table(status))
    out.append(_activities_table(status))
    out.append(_targets_table(status))
    for problem in status.problems:
        out.append(Text(f"could not read: {problem}", style="yellow"))
    return out


def _header(fleet: FleetConfig, status: FleetStatus) -> Any:
    from rich.text import Text

    g = status.group
    text = Text()
    text.append(f"{fleet.name}", style="bold")
    text.append(f" · {g.name} · {status.region or '?'}")
    if status.account_id:
        text.append(f" · account {status.account_id}")
    text.append(f"\nread {status.taken_at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC in {status.api_calls} API calls\n", style="dim")
    text.append("capacity ", style="bold")
    text.append(f"min {g.min_size} · desired {g.desired} · max {g.max_size}")
    in_service = sum(1 for i in g.instances if i.lifecycle == "InService")
    text.append(f" · {in_service} InService of {len(g.instances)}")
    if g.default_cooldown is not None:
        text.append(f" · cooldown {g.default_cooldown} s")
    if g.suspended_processes:
        text.append(f" · suspended: {', '.join(g.suspended_processes)}", style="yellow")
    if status.metric is not None:
        known = [(t, v) for t, v in zip(status.metric.timestamps, status.metric.values) if v is not None]
        text.append("\nmetric ", style="bold")
        text.append(f"{fleet.metric.namespace}/{fleet.metric.name} ({fleet.metric.statistic}, {status.metric.period} s): ")
        if known:
            at, value = known[-1]
            text.append(f"{_num(value)} at {at:%H:%M} UTC")
            text.append(f" · per-instance ceiling {_num(fleet.capacity)}")
        else:
            text.append("no datapoints in the window read", style="yellow")
    text.append("\nrefresh ", style="bold")
    if status.refresh_unavailable:
        text.append("unavailable from this endpoint", style="dim")
    else:
        lines = refresh_lines(status.instance_refresh, now=status.taken_at)
        r = status.instance_refresh
        text.append(lines[0], style="yellow" if r is not None and r.active else "")
        for line in lines[1:] + version_lines(g):
            text.append(f"\n  {line}")
    return text


def _table(title: str) -> Any:
    """Compact tables (no vertical rules): the instances table fits 80 columns (jump box, tmux)."""
    from rich import box
    from rich.table import Table

    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )


def _instances_table(fleet: FleetConfig, instances: tuple[Instance, ...], title: str, now: datetime, template: Any = None) -> Any:
    from rich.text import Text

    table = _table(title)
    versions = any(i.launch_template_version for i in instances)  # the column only when Auto Scaling reports them
    for name in ("instance", "az", "lifecycle", "health", "age", "prot") + (("ver",) if versions else ()) + ("address",):
        table.add_column(name, no_wrap=name != "address", overflow="fold")
    for i in sorted(instances, key=lambda i: (i.az, i.launch_time or now, i.id)):
        cells = [
            i.id,
            i.az,
            i.lifecycle,
            i.health if i.health == "Healthy" else Text(i.health, style="red"),
            _age(now, i.launch_time),
            "yes" if i.protected else "",
        ]
        table.add_row(*cells, *([_version(i, template)] if versions else []), _address(fleet, i))
    if not instances:
        table.add_row("(none)", *[""] * (6 + versions))
    return table


def _version(instance: Instance, template: Any) -> Any:
    """The launch template version, marked "old" when the group now launches another one."""
    from rich.text import Text

    v = instance.launch_template_version
    if v is None:
        return ""
    label = v if template is not None and template.is_launch_configuration else f"v{v}"
    if template is not None and template.is_current(v) is False:
        return Text(f"{label} old", style="yellow")
    return label


def _alarms_table(status: FleetStatus) -> Any:
    from rich.console import Group
    from rich.text import Text

    table = _table("alarms")
    table.add_column("alarm", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("rule", overflow="fold")
    reasons = Text()
    for label, alarm in (("high", status.high_alarm), ("low", status.low_alarm)):
        if alarm is None:
            table.add_row(f"({label}: not found)", "", "")
            continue
        m_of_n = f"{alarm.datapoints_to_alarm or alarm.evaluation_periods} of {alarm.evaluation_periods} × {alarm.period} s"
        table.add_row(
            alarm.name,
            Text(alarm.state, style=_STATE_STYLE.get(alarm.state, "")),
            f"{alarm.statistic} {_COMPARISON.get(alarm.comparison, alarm.comparison)} {_num(alarm.threshold)}, "
            f"{m_of_n}, missing data: {alarm.treat_missing_data}",
        )
        if alarm.reason:
            reasons.append(f" {label}: ", style="bold")
            reasons.append(f"{alarm.reason}\n", style="dim")
    reasons.rstrip()
    return Group(table, reasons) if reasons else table


def _policies_table(fleet: FleetConfig, status: FleetStatus) -> Any:
    table = _table("scaling policies")
    for name in ("policy", "type", "action", "timing"):
        table.add_column(name, overflow="fold", no_wrap=name != "timing")
    threshold = steps_threshold(fleet, status)
    for label, policy in (("scale-out", status.scale_out_policy), ("scale-in", status.scale_in_policy)):
        if policy is None:
            table.add_row(f"({label}: not found)", "", "", "")
            continue
        if policy.steps:
            action = "\n".join(_step_line(s) for s in absolute_steps(policy, threshold))
        elif policy.scaling_adjustment is not None:
            action = f"{policy.scaling_adjustment:+d} instance{'s' if abs(policy.scaling_adjustment) != 1 else ''}"
        else:
            action = ""
        timing = []
        if policy.warmup is not None:
            timing.append(f"warm-up {policy.warmup} s")
        if policy.cooldown is not None:
            timing.append(f"cooldown {policy.cooldown} s")
        table.add_row(policy.name, policy.policy_type, action, ", ".join(timing))
    return table


def _step_line(step: StepRange) -> str:
    lower = "below" if step.lower == -math.inf else _num(step.lower)
    upper = "∞" if step.upper is None else _num(step.upper)
    return f"{lower} – {upper}: {step.add:+d}"


def _warm_pool(fleet: FleetConfig, status: FleetStatus) -> list[Any]:
    from rich.text import Text

    pool = status.warm_pool
    if pool is None:
        return [Text("warm pool: none", style="dim")]
    text = Text()
    text.append("warm pool ", style="bold")
    text.append(
        f"min {pool.min_size} · max prepared {pool.max_prepared_capacity if pool.max_prepared_capacity is not None else 'group max'}"
        f" · {pool.pool_state} · reuse on scale-in {'yes' if pool.reuse_on_scale_in else 'no'}"
        f"{' · ' + pool.status if pool.status else ''}"
    )
    if not pool.instances:
        text.append(" · no warm instances", style="dim")
        return [text]
    return [text, _instances_table(fleet, pool.instances, f"warm instances ({len(pool.instances)})", status.taken_at)]


def _schedule_table(status: FleetStatus) -> Any:
    table = _table("scheduled actions")
    for name in ("action", "when", "time zone", "min", "max", "desired"):
        table.add_column(name, overflow="fold")
    for a in status.scheduled_actions:
        when = a.recurrence or (f"{a.start_time:%Y-%m-%d %H:%M} UTC" if a.start_time else "")
        if a.recurrence and a.end_time:
            when += f" until {a.end_time:%Y-%m-%d}"
        table.add_row(a.name, when, a.time_zone or "UTC", _opt(a.min_size), _opt(a.max_size), _opt(a.desired_capacity))
    if not status.scheduled_actions:
        table.add_row("(none)", "", "", "", "", "")
    return table


def _activities_table(status: FleetStatus) -> Any:
    table = _table("recent scaling activities")
    for name in ("started", "status", "description", "cause"):
        table.add_column(name, overflow="fold", no_wrap=name == "started")
    for a in status.activities[:10]:
        started = f"{a.start_time.astimezone(timezone.utc):%m-%d %H:%M}" if a.start_time else ""
        table.add_row(started, a.status, a.description, a.cause)
    if not status.activities:
        table.add_row("(none)", "", "", "")
    return table


def _targets_table(status: FleetStatus) -> Any:
    table = _table("target groups")
    for name in ("target group", "algorithm", "stickiness", "dereg. delay", "LB idle timeout"):
        table.add_column(name, overflow="fold")
    for t in status.target_groups:
        sticky = "off" if t.stickiness_enabled is False else (t.stickiness_type or "on") if t.stickiness_enabled else "?"
        table.add_row(
            t.name,
            t.algorithm or "?",
            sticky,
            f"{t.deregistration_delay} s" if t.deregistration_delay is not None else "?",
            f"{t.idle_timeout} s" if t.idle_timeout is not None else "?",
        )
    if not status.target_groups:
        table.add_row("(none)", "", "", "", "")
    return table


# ----------------------------------------------------------------------------- formatting


def _num(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def _age(now: datetime, since: datetime | None) -> str:
    if since is None:
        return "?"
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


def _address(fleet: FleetConfig, instance: Instance) -> str:
    """The address the counts connect to: the explicit host map first, else the configured kind."""
    host = fleet.ssh.hosts.get(instance.id)
    if host is not None:
        return f"{host.host}:{host.port}"
    kinds = {"private_ip": instance.private_ip, "public_ip": instance.public_ip, "public_dns": instance.public_dns}
    return kinds.get(fleet.ssh.address) or instance.private_ip or "-"
