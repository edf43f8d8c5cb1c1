"""`wsfleet doctor`'s checks: the seed's hard-won checklist as pure functions.

Inputs are data only — the FleetConfig (what `provision` would write), one FleetStatus read (what
AWS holds now), every scaling policy of the group, and the facts read on the instances — and the
output is a list of `Finding`s. No I/O, no clock (`now` defaults to the status's `taken_at`).

Alarm semantics, step bounds and the flap projection come from `wsfleet.scaling` (one evaluator
for the chart, the demo and this file).

Rules where a number had to be chosen (documented here, named below):

- **ceiling**: the high threshold must leave room for the instances launched at the threshold to
  warm up. Error when it is at or above the per-instance ceiling; warning above
  `HEADROOM_FRACTION` (80 %) of it; warning too when, at the fastest rise of the average seen in
  the metric window (sustained over the alarm's datapoints), the average would reach the ceiling
  before the alarm fires and the new instances are warm (`datapoints_to_alarm * period + warmup`).
- **warmup**: warning when the policy's warm-up is shorter than the median launch-to-InService
  time of recent launches (the policy adds again before the first instances carry load); info when
  it is more than `WARMUP_SLACK` (2×) that time plus a minute (a growing spike waits for nothing).
- **open-files**: error when the service process's soft limit is below the per-instance ceiling
  (it cannot hold the connections it is sized for); warning below twice the ceiling (a proxy such
  as nginx holds two descriptors per client: client side and upstream side).
- **port-range**: warning when `ip_local_port_range` holds fewer ports than the ceiling (a proxy
  needs one local port per upstream connection).
- **close-wait**: warning when more than `CLOSE_WAIT_FRACTION` (1 %) of the ceiling, and at least
  one socket, sits in CLOSE_WAIT on the service port (the peer closed, the service never did).
- **silent-connections**: the same limit for ESTABLISHED connections that carried no data either
  way for twice the ALB idle timeout (rounded up to 5 min or 1 h; the ALB would have closed a live
  client's connection by then), or for 1 h when no load balancer is known — or for the fleet's
  `doctor.silent_after` seconds when the config sets it: the client vanished without a FIN and the
  service, with no heartbeat, keeps the socket.
- **nginx-keepalive**: warning when any `keepalive_timeout` is at or below the ALB idle timeout
  (nginx must close after the ALB, or the ALB reuses a connection nginx is closing: 502s).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from wsfleet import balance, scaling
from wsfleet.model import (
    SEVERITIES,
    Alarm,
    FleetConfig,
    FleetStatus,
    Finding,
    InstanceFacts,
    ScalingPolicy,
    StepRange,
)

HEADROOM_FRACTION = 0.8
WARMUP_SLACK = 2.0
CLOSE_WAIT_FRACTION = 0.01
ALB_DEFAULT_IDLE_TIMEOUT = 60
NGINX_DEFAULT_KEEPALIVE = 75.0
SEED_OPEN_FILES = 1_048_576

HIGH_COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold")
LOW_COMPARISONS = ("LessThanOrEqualToThreshold", "LessThanThreshold")
# what `provision` writes (the seed's Terraform)
HIGH_COMPARISON = scaling.SCALE_OUT_COMPARISON
LOW_COMPARISON = scaling.SCALE_IN_COMPARISON

CHECKS = (
    "aws-read",
    "alarms-exist",
    "policies-exist",
    "alarm-actions",
    "alarm-metric",
    "alarm-config",
    "metric-data",
    "missing-data",
    "steps",
    "flap",
    "ceiling",
    "warmup",
    "warm-pool",
    "schedule",
    "target-group",
    "idle-timeout",
    "instance-reach",
    "service-listening",
    "open-files",
    "port-range",
    "nginx-keepalive",
    "close-wait",
    "silent-connections",
    "balance",
)

_POLICY_ARN = re.compile(r":autoScalingGroupName/(?P<group>[^:]+):policyName/(?P<policy>.+)$")


# --------------------------------------------------------------------------- entry point


def diagnose(
    fleet: FleetConfig,
    status: FleetStatus,
    facts: Sequence[InstanceFacts] | None = None,
    *,
    policies: Mapping[str, ScalingPolicy] | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """Every check, most severe first. `facts` None = the instance checks were skipped."""
    now = now or status.taken_at
    if policies is None:
        policies = {p.name: p for p in (status.scale_out_policy, status.scale_in_policy) if p is not None}
    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("aws-read", lambda: check_aws_read(fleet, status)),
        ("alarms-exist", lambda: check_alarms_exist(fleet, status)),
        ("policies-exist", lambda: check_policies_exist(fleet, status)),
        ("alarm-actions", lambda: check_alarm_actions(fleet, status, policies)),
        ("alarm-metric", lambda: check_alarm_metric(fleet, status)),
        ("alarm-config", lambda: check_alarm_config(fleet, status)),
        ("metric-data", lambda: check_metric_data(fleet, status)),
        ("missing-data", lambda: check_missing_data(fleet, status)),
        ("steps", lambda: check_steps(fleet, status)),
        ("flap", lambda: check_flap(fleet, status)),
        ("ceiling", lambda: check_ceiling(fleet, status)),
        ("warmup", lambda: check_warmup(fleet, status)),
        ("warm-pool", lambda: check_warm_pool(fleet, status)),
        ("schedule", lambda: check_schedule(fleet, status, now)),
        ("target-group", lambda: check_target_groups(fleet, status)),
        ("idle-timeout", lambda: check_idle_timeout(fleet, status)),
    ]
    if facts is not None:
        checks.append(("instance-reach", lambda: check_instances(fleet, status, facts)))
    findings: list[Finding] = []
    for name, check in checks:
        try:
            findings += check()
        except Exception as exc:  # a resource AWS holds in a shape no check expected: say so, go on
            findings.append(Finding(
                name, "warning", f"the {name} check could not run: {type(exc).__name__}: {exc}",
                "this part of the setup is unchecked", "rerun with -v and report the resource's shape",
            ))
    return sort_findings(findings)


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Most severe first; within a severity, in check order (stable)."""
    order = {c: i for i, c in enumerate(CHECKS)}
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), order.get(f.check, len(order))))


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    return {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}


# --------------------------------------------------------------------------- small helpers


def _n(x: float | int | None) -> str:
    """A count as a person reads it: 20,000 — decimals only when there are any."""
    if x is None:
        return "none"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.1f}"
    return f"{int(x):,}"


def _ids(ids: Sequence[str], limit: int = 5) -> str:
    ids = list(ids)
    if len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join(ids[:limit]) + f" and {len(ids) - limit} more"


def _section(fleet: FleetConfig, part: str = "") -> str:
    return f"[fleets.{fleet.name}{'.' + part if part else ''}]"


def _snippet(fleet: FleetConfig, part: str, *lines: str) -> str:
    return "\n".join((_section(fleet, part), *lines))


def _provision_fix(extra: str = "") -> str:
    return (extra + "\n" if extra else "") + "wsfleet provision --dry-run   # see the change, then: wsfleet provision"


def _steps_toml(steps: Sequence[StepRange]) -> str:
    items = []
    for s in steps:
        to = "" if s.upper is None else f", to = {_n(s.upper).replace(',', '')}"
        items.append(f"{{ from = {_n(s.lower).replace(',', '')}{to}, add = {s.add} }}")
    return "steps = [ " + ",\n          ".join(items) + " ]"


def _remove_of(fleet: FleetConfig, status: FleetStatus) -> int:
    p = status.scale_in_policy
    if p is not None and p.scaling_adjustment is not None and p.scaling_adjustment < 0:
        return -p.scaling_adjustment
    return fleet.scale_in.remove


def _ok(check: str, found: str, subject: str = "") -> Finding:
    return Finding(check, "ok", found, subject=subject)


# --------------------------------------------------------------------------- existence


def check_aws_read(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """Parts of the status read that failed: the checks built on them may report a false absence."""
    return [
        Finding(
            "aws-read", "warning",
            f"part of the AWS read failed: {problem}",
            "a check that needs this part may report as missing what it only could not read",
            "grant the read actions listed in config/iam-policy.json to the profile, then rerun `wsfleet doctor`",
            subject=fleet.asg,
        )
        for problem in status.problems
    ]


def check_alarms_exist(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    out = []
    for alarm, name, role in (
        (status.high_alarm, fleet.high_alarm_name, "scale-out"),
        (status.low_alarm, fleet.low_alarm_name, "scale-in"),
    ):
        if alarm is None:
            out.append(Finding(
                "alarms-exist", "error",
                f"the {role} alarm {name} does not exist",
                f"nothing {'adds instances when connections climb' if role == 'scale-out' else 'removes idle instances'}: the seed's whole scaling rests on these two alarms",
                _provision_fix(),
                subject=name,
            ))
    if not out:
        out.append(_ok("alarms-exist", f"both alarms exist ({fleet.high_alarm_name}, {fleet.low_alarm_name})"))
    return out


def check_policies_exist(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    out = []
    so, si = status.scale_out_policy, status.scale_in_policy
    if so is None:
        out.append(Finding(
            "policies-exist", "error",
            f"the scale-out step policy {fleet.scale_out.policy_name} does not exist in {fleet.asg}",
            f"the high alarm has no policy to run: a spike reaches the {_n(fleet.capacity)}-connection ceiling with no new instance",
            _provision_fix(), subject=fleet.scale_out.policy_name,
        ))
    elif so.policy_type != "StepScaling":
        out.append(Finding(
            "policies-exist", "warning",
            f"the scale-out policy {so.name} is {so.policy_type}, not StepScaling",
            "the seed chose step scaling so a bigger breach adds more instances (+2/+2/+3) and keeps up with spikes",
            _provision_fix(), subject=so.name,
        ))
    if si is None:
        out.append(Finding(
            "policies-exist", "error",
            f"the scale-in policy {fleet.scale_in.policy_name} does not exist in {fleet.asg}",
            "the low alarm has no policy to run: the group never shrinks after a peak and pays for idle instances",
            _provision_fix(), subject=fleet.scale_in.policy_name,
        ))
    if not out:
        out.append(_ok("policies-exist", f"both policies exist ({so.name}, {si.name})"))
    return out


# --------------------------------------------------------------------------- alarm wiring


def check_alarm_actions(fleet: FleetConfig, status: FleetStatus, policies: Mapping[str, ScalingPolicy]) -> list[Finding]:
    """Each alarm's actions point to an existing policy of this group — the right one."""
    out = []
    by_arn = {p.arn: p for p in policies.values() if p.arn}
    for alarm, role, expected in (
        (status.high_alarm, "scale-out", fleet.scale_out.policy_name),
        (status.low_alarm, "scale-in", fleet.scale_in.policy_name),
    ):
        if alarm is None:
            continue
        other = fleet.scale_in.policy_name if role == "scale-out" else fleet.scale_out.policy_name
        scaling_arns = [a for a in alarm.alarm_actions if ":autoscaling:" in a]
        problems: list[tuple[str, str]] = []  # (severity, sentence)
        if not scaling_arns:
            problems.append(("error", f"alarm {alarm.name} runs no scaling policy (its actions: {', '.join(alarm.alarm_actions) or 'none'})"))
        for arn in scaling_arns:
            m = _POLICY_ARN.search(arn)
            if m is None:
                problems.append(("error", f"alarm {alarm.name} has an action that is not a scaling policy ARN: {arn}"))
                continue
            group, name = m.group("group"), m.group("policy")
            exists = arn in by_arn or (name in policies and policies[name].arn is None)
            if group != fleet.asg:
                problems.append(("error", f"alarm {alarm.name} runs policy {name} of group {group}, not of {fleet.asg}"))
            elif not exists:
                problems.append(("error", f"alarm {alarm.name} runs policy {name}, which no longer exists in {fleet.asg} (a re-created policy gets a new ARN)"))
            elif name == other:
                problems.append(("error", f"the {role} alarm {alarm.name} runs the {'scale-in' if role == 'scale-out' else 'scale-out'} policy {name}"))
            elif name != expected:
                problems.append(("warning", f"alarm {alarm.name} runs policy {name}, not the configured {role} policy {expected}"))
        for severity, sentence in problems:
            out.append(Finding(
                "alarm-actions", severity, sentence,
                "an alarm whose action points nowhere goes to ALARM and nothing scales — the group silently stops following its connections",
                _provision_fix(), subject=alarm.name,
            ))
        if not problems:
            out.append(_ok("alarm-actions", f"alarm {alarm.name} runs policy {expected} of {fleet.asg}", alarm.name))
    return out


def check_alarm_metric(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """The alarms watch the metric the agent publishes: the seed's TPC_Connections vs ASG_Memory slip."""
    out = []
    m = fleet.metric
    want_dims = ((m.dimension, fleet.asg),)
    for alarm in (status.high_alarm, status.low_alarm):
        if alarm is None:
            continue
        diffs = []
        if alarm.namespace != m.namespace:
            diffs.append(f"namespace {alarm.namespace or '(none)'} (the agent publishes to {m.namespace})")
        if alarm.metric_name != m.name:
            diffs.append(f"metric {alarm.metric_name or '(none)'} (the agent's is {m.name})")
        if tuple(sorted(alarm.dimensions)) != want_dims:
            got = ", ".join(f"{k}={v}" for k, v in alarm.dimensions) or "none"
            diffs.append(f"dimensions {got} (want {m.dimension}={fleet.asg})")
        if diffs:
            out.append(Finding(
                "alarm-metric", "error",
                f"alarm {alarm.name} watches " + "; ".join(diffs),
                "an alarm on a metric nobody publishes only ever sees missing data — the seed's agent wrote TPC_Connections while its alarms read ASG_Memory",
                _provision_fix(f"# the config's [fleets.{fleet.name}.metric] is what provision writes and `wsfleet agent-config` prints"),
                subject=alarm.name,
            ))
        elif alarm.statistic and alarm.statistic != m.statistic:
            out.append(Finding(
                "alarm-metric", "warning",
                f"alarm {alarm.name} uses the {alarm.statistic} statistic, not {m.statistic}",
                "the thresholds are per-instance averages of connections (the seed: 20,000 of a 28,000 ceiling); another statistic moves them",
                _provision_fix(), subject=alarm.name,
            ))
        else:
            out.append(_ok("alarm-metric", f"alarm {alarm.name} watches {m.namespace}/{m.name} for {m.dimension}={fleet.asg}", alarm.name))
    return out


def _drift(alarm: Alarm, threshold: float, comparison: str, period: int, evaluation_periods: int, datapoints: int) -> list[str]:
    diffs = []
    if alarm.threshold != threshold:
        diffs.append(f"threshold {_n(alarm.threshold)} (config {_n(threshold)})")
    if alarm.comparison != comparison:
        diffs.append(f"comparison {alarm.comparison} (config {comparison})")
    if alarm.period != period:
        diffs.append(f"period {alarm.period} s (config {period} s)")
    if alarm.evaluation_periods != evaluation_periods:
        diffs.append(f"evaluation periods {alarm.evaluation_periods} (config {evaluation_periods})")
    got_dp = alarm.datapoints_to_alarm if alarm.datapoints_to_alarm is not None else alarm.evaluation_periods
    if got_dp != datapoints:
        diffs.append(f"datapoints to alarm {got_dp} (config {datapoints})")
    return diffs


def check_alarm_config(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """The alarms compare in the right direction, and match what the config would write."""
    out = []
    so, si = fleet.scale_out, fleet.scale_in
    for alarm, role, allowed, cfg in (
        (status.high_alarm, "scale-out", HIGH_COMPARISONS, (so.threshold, HIGH_COMPARISON, so.period, so.evaluation_periods, so.datapoints_to_alarm)),
        (status.low_alarm, "scale-in", LOW_COMPARISONS, (si.threshold, LOW_COMPARISON, si.period, si.evaluation_periods, si.datapoints_to_alarm)),
    ):
        if alarm is None:
            continue
        if alarm.comparison not in allowed:
            out.append(Finding(
                "alarm-config", "error",
                f"the {role} alarm {alarm.name} compares with {alarm.comparison or '(none)'}",
                f"a {role} alarm must fire when connections are {'high' if role == 'scale-out' else 'low'}; this one fires on the opposite",
                _provision_fix(), subject=alarm.name,
            ))
            continue
        diffs = _drift(alarm, *cfg)
        if diffs:
            out.append(Finding(
                "alarm-config", "warning",
                f"alarm {alarm.name} differs from the config: " + "; ".join(diffs),
                "someone changed it outside wsfleet (console, Terraform): the next `wsfleet provision` puts the config's values back",
                _provision_fix(f"# or, if AWS is right, update {_section(fleet, 'scale_out' if role == 'scale-out' else 'scale_in')} in the config"),
                subject=alarm.name,
            ))
        else:
            out.append(_ok("alarm-config", f"alarm {alarm.name} matches the config", alarm.name))
    return out


def check_metric_data(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    m = fleet.metric
    series = status.metric
    if series is None:
        return [Finding("metric-data", "info", f"the metric {m.namespace}/{m.name} was not read", subject=f"{m.namespace}/{m.name}")]
    points = [(t, v) for t, v in zip(series.timestamps, series.values) if v is not None]
    if not points:
        span = (series.timestamps[-1] - series.timestamps[0]).total_seconds() if len(series.timestamps) > 1 else 0
        minutes = round(span / 60)
        window = f"the last {minutes} minutes" if minutes else "the window read"
        return [Finding(
            "metric-data", "warning",
            f"no datapoints for {m.namespace}/{m.name} ({m.dimension}={fleet.asg}) in {window}",
            "the CloudWatch agent is not publishing where the config says (seed: TPC_Connections vs ASG_Memory), so both alarms see only missing data",
            "wsfleet agent-config > amazon-cloudwatch-agent.json   # install it on the instances, then restart the agent",
            subject=f"{m.namespace}/{m.name}",
        )]
    t, v = points[-1]
    return [_ok("metric-data", f"{len(points)} datapoint{'s' if len(points) != 1 else ''} of {m.namespace}/{m.name}; latest {_n(v)} at {t:%H:%M}", f"{m.namespace}/{m.name}")]


# --------------------------------------------------------------------------- alarm semantics


def _fires_when_silent(threshold: float, comparison: str, evaluation_periods: int, datapoints: int | None, treat: str) -> bool:
    """Would the alarm go to ALARM if the agent stopped publishing? Asked of the shared evaluator."""
    periods = max(1, evaluation_periods)
    states = scaling.evaluate_alarm(
        [None] * (periods * 2),
        threshold=threshold,
        comparison=comparison,
        evaluation_periods=periods,
        datapoints_to_alarm=datapoints or periods,
        treat_missing_data=treat,
        initial="OK",
    )
    return bool(states) and states[-1] == "ALARM"


def check_missing_data(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """TreatMissingData: a silent agent must not scale in — nor in and out at once (the seed's alarms)."""
    so, si = fleet.scale_out, fleet.scale_in
    sides = []
    for role, alarm, cfg, comparison, part in (
        ("scale-in", status.low_alarm, si, LOW_COMPARISON, "scale_in"),
        ("scale-out", status.high_alarm, so, HIGH_COMPARISON, "scale_out"),
    ):
        cfg_fires = _fires_when_silent(cfg.threshold, comparison, cfg.evaluation_periods, cfg.datapoints_to_alarm, cfg.treat_missing_data)
        if alarm is not None:
            live_fires = _fires_when_silent(alarm.threshold, alarm.comparison if alarm.comparison in scaling.COMPARISONS else comparison, alarm.evaluation_periods, alarm.datapoints_to_alarm, alarm.treat_missing_data)
            sides.append((role, alarm.name, alarm.treat_missing_data, live_fires, cfg_fires, part, cfg.treat_missing_data))
        else:
            sides.append((role, f"config {_section(fleet, part)}", cfg.treat_missing_data, cfg_fires, cfg_fires, part, cfg.treat_missing_data))
    both = all(s[3] for s in sides)
    out = []
    for role, subject, treat, fires, cfg_fires, part, cfg_treat in sides:
        safe = "notBreaching" if role == "scale-in" else "missing"
        fix = _snippet(fleet, part, f'treat_missing_data = "{safe}"') + "\n" + _provision_fix() if cfg_fires else _provision_fix()
        if fires and both:
            out.append(Finding(
                "missing-data", "error",
                f"{subject} treats missing data as {treat}, and so does the other alarm: a silent agent puts both in ALARM",
                "a silent CloudWatch agent then scales in and out at once — both seed alarms treat missing data as breaching",
                fix, subject=subject,
            ))
        elif fires and role == "scale-in":
            out.append(Finding(
                "missing-data", "error",
                f"the scale-in alarm {subject} treats missing data as {treat}: it goes to ALARM when the agent is silent",
                "a silent CloudWatch agent removes an instance every cooldown down to min size, and the others take its connections",
                fix, subject=subject,
            ))
        elif fires:
            out.append(Finding(
                "missing-data", "warning",
                f"the scale-out alarm {subject} treats missing data as {treat}: it goes to ALARM when the agent is silent",
                "a silent CloudWatch agent adds instances step after step up to max size while nobody sees why",
                fix, subject=subject,
            ))
        elif cfg_fires:
            out.append(Finding(
                "missing-data", "warning",
                f"{_section(fleet, part)} treats missing data as {cfg_treat}; the next `wsfleet provision` writes it to {subject}",
                "a silent CloudWatch agent would then put the alarm in ALARM (the seed's breaching alarms)",
                _snippet(fleet, part, f'treat_missing_data = "{safe}"'), subject=subject,
            ))
        else:
            out.append(_ok("missing-data", f"{subject} stays out of ALARM when the agent is silent (treat missing data: {treat})", subject))
    return out


def check_steps(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """Steps contiguous, non-overlapping, starting at the threshold, open-ended (rule 1)."""
    so = fleet.scale_out
    out = []
    cfg_problems = scaling.validate_steps(so.threshold, so.steps)
    policy = status.scale_out_policy
    if policy is not None and status.high_alarm is not None:
        if not policy.steps:
            out.append(Finding(
                "steps", "error",
                f"the scale-out policy {policy.name} has no step adjustments",
                "the seed steps +2/+2/+3 so a bigger breach adds more instances; with no steps a breach adds nothing",
                _provision_fix(), subject=policy.name,
            ))
        else:
            try:
                threshold, absolute, _ = scaling.live_steps(fleet, status)  # alarm and policy with steps: AWS's
                problems = scaling.validate_steps(threshold, absolute)
            except Exception as exc:  # bounds AWS holds but no absolute reading fits
                threshold, absolute, problems = status.high_alarm.threshold, (), [str(exc)]
            if problems:
                # the config's steps are what provision writes; when they are wrong too, they come first
                fix = _provision_fix() if not cfg_problems else _provision_fix(
                    f"# first fix the configured steps ({_section(fleet, 'scale_out')}), then:")
                out.append(Finding(
                    "steps", "error",
                    f"the steps of {policy.name} against threshold {_n(threshold)}: " + "; ".join(problems),
                    "step bounds are relative to the alarm threshold; a gap or a first step above it means a breach that runs no step",
                    fix, subject=policy.name,
                ))
            else:
                out.append(_ok("steps", f"{policy.name}: {scaling.format_steps_spec(absolute)} from the threshold {_n(threshold)}", policy.name))
    if cfg_problems:
        out.append(Finding(
            "steps", "error",
            "the configured steps: " + "; ".join(cfg_problems),
            "the first step must start at the threshold and the steps must be contiguous, or provision writes a policy AWS rejects",
            _snippet(fleet, "scale_out", f"threshold = {int(so.threshold)}", _steps_toml(so.steps)),
            subject=_section(fleet, "scale_out"),
        ))
    return out


def _largest_safe_low(high: float, min_size: int, max_size: int, remove: int) -> int | None:
    """The highest whole low threshold that is flap-safe for every size (strictly below the bound)."""
    bound = scaling.max_flap_safe_low(high, min_size, max_size, remove)
    if bound is None or bound <= 0:
        return None
    return math.ceil(bound) - 1


def check_flap(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """Rule 5: removing `remove` of n at the low threshold must not reach the high one, for every n."""
    g = status.group
    remove = _remove_of(fleet, status)
    sources = []
    if status.low_alarm is not None and status.high_alarm is not None:
        sources.append((f"alarms {status.low_alarm.name} / {status.high_alarm.name}", status.low_alarm.threshold, status.high_alarm.threshold, False))
    cfg = (fleet.scale_in.threshold, fleet.scale_out.threshold)
    if not sources or (sources[0][1], sources[0][2]) != cfg:
        sources.append((f"config {_section(fleet)}", cfg[0], cfg[1], True))
    out = []
    for subject, low, high, from_config in sources:
        unsafe = scaling.flap_unsafe_sizes(low, high, g.min_size, g.max_size, remove)
        if not unsafe:
            out.append(_ok("flap", f"{subject}: removing {remove} at {_n(low)} stays below {_n(high)} for every size {g.min_size}..{g.max_size}", subject))
            continue
        n = min(unsafe)
        p = scaling.project_scale_in(low, n, remove, high, fleet.capacity)
        left = f"{_n(p.per_instance)} on each of the {p.remaining} left" if p.per_instance is not None else "nothing left"
        safe = _largest_safe_low(high, g.min_size, g.max_size, remove)
        fix = f"wsfleet thresholds set --low {safe}" if safe is not None else f"raise the minimum size above {max(unsafe)}"
        if from_config and safe is not None:
            fix = _snippet(fleet, "scale_in", f"threshold = {safe}")
        out.append(Finding(
            "flap", "error",
            f"{subject}: at {_n(low)} connections, removing {remove} of {n} leaves {left}, at or above the high threshold {_n(high)} "
            f"(flaps at n = {', '.join(map(str, unsafe))})",
            "the seed's churn: scale in, the others take the drained connections, they breach the high alarm, scale out again — and hit their limit meanwhile",
            fix, subject=subject,
        ))
    return out


# --------------------------------------------------------------------------- room to react


def _fastest_rise(status: FleetStatus, window: int) -> float | None:
    """Connections per second: the steepest rise of the average sustained over `window` periods."""
    s = status.metric
    if s is None:
        return None
    pts = [(t, v) for t, v in zip(s.timestamps, s.values) if v is not None]
    window = max(1, min(window, len(pts) - 1))
    best = None
    for i in range(len(pts) - window):
        (t0, v0), (t1, v1) = pts[i], pts[i + window]
        dt = (t1 - t0).total_seconds()
        if dt > 0 and v1 > v0:
            rate = (v1 - v0) / dt
            best = rate if best is None else max(best, rate)
    return best


def check_ceiling(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """The high threshold leaves room under the per-instance ceiling for new instances to warm up."""
    so = fleet.scale_out
    alarm, policy = status.high_alarm, status.scale_out_policy
    high = alarm.threshold if alarm is not None else so.threshold
    period = alarm.period if alarm is not None else so.period
    datapoints = (alarm.datapoints_to_alarm or alarm.evaluation_periods) if alarm is not None else so.datapoints_to_alarm
    warmup = policy.warmup if policy is not None and policy.warmup is not None else so.warmup
    cap = fleet.capacity
    subject = alarm.name if alarm is not None else _section(fleet, "scale_out")
    suggested = int(cap * HEADROOM_FRACTION * 0.9)
    ratio = high / cap if cap else math.inf
    why_fill = "the instances already running take every new connection until the new ones are InService and warm; past the ceiling (28,000 in the seed) they are marked unhealthy and latency follows"
    if ratio >= 1:
        return [Finding(
            "ceiling", "error",
            f"the high threshold {_n(high)} is at or above the per-instance ceiling {_n(cap)}",
            "scale-out starts only after instances are already past what they can hold",
            f"wsfleet thresholds set --high {suggested}", subject=subject,
        )]
    if ratio > HEADROOM_FRACTION:
        return [Finding(
            "ceiling", "warning",
            f"the high threshold {_n(high)} is {ratio:.0%} of the per-instance ceiling {_n(cap)} (more than {HEADROOM_FRACTION:.0%})",
            why_fill,
            f"wsfleet thresholds set --high {suggested}", subject=subject,
        )]
    reaction = datapoints * period + warmup
    rate = _fastest_rise(status, datapoints)
    if rate is not None:
        to_ceiling = (cap - high) / rate
        if to_ceiling < reaction:
            return [Finding(
                "ceiling", "warning",
                f"at the fastest rise in the metric window (+{_n(rate * 60)}/min) the average goes from {_n(high)} to the ceiling {_n(cap)} "
                f"in {to_ceiling:.0f} s, but the alarm plus warm-up take {reaction} s ({datapoints}×{period} s + {warmup} s)",
                why_fill,
                _react_sooner_fix(fleet, status, round(cap - rate * reaction)),
                subject=subject,
            )]
        tail = f"; at the fastest rise seen (+{_n(rate * 60)}/min) the ceiling is {to_ceiling:.0f} s away, reaction takes {reaction} s"
    else:
        tail = ""
    return [_ok("ceiling", f"the high threshold {_n(high)} is {ratio:.0%} of the ceiling {_n(cap)}{tail}", subject)]


def _react_sooner_fix(fleet: FleetConfig, status: FleetStatus, high: int) -> str:
    """A high threshold low enough to react in time, if one fits above the low threshold."""
    low = status.low_alarm.threshold if status.low_alarm is not None else fleet.scale_in.threshold
    schedule = 'wsfleet schedule put before-peak --cron "0 7 * * MON-FRI" --min 4 --desired 4   # capacity before the known peak'
    if high > low:
        return f"wsfleet thresholds set --high {high}\n# or: {schedule}"
    return schedule


_LAUNCH = re.compile(r"^Launching a new EC2 instance", re.IGNORECASE)


def launch_durations(status: FleetStatus) -> list[float]:
    """Seconds from launch to InService of the successful launches in the activity history."""
    out = []
    for a in status.activities:
        if _LAUNCH.match(a.description or "") and a.status == "Successful" and a.start_time and a.end_time:
            d = (a.end_time - a.start_time).total_seconds()
            if d > 0:  # a zero-length launch is a record without timing (moto), not a fast instance
                out.append(d)
    return out


def check_warmup(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    policy = status.scale_out_policy
    warmup = policy.warmup if policy is not None and policy.warmup is not None else fleet.scale_out.warmup
    subject = policy.name if policy is not None else _section(fleet, "scale_out")
    durations = launch_durations(status)
    if not durations:
        return [Finding(
            "warmup", "info",
            f"no successful launch in the recent activity history to compare the warm-up ({warmup} s) with",
            subject=subject,
        )]
    median = statistics.median(durations)
    launches = f"the last {len(durations)} launches" if len(durations) != 1 else "the last launch"
    seen = f"the median launch-to-InService time of {launches} is {median:.1f} s" if median < 10 else f"the median launch-to-InService time of {launches} is {median:.0f} s"
    fix = _snippet(fleet, "scale_out", f"warmup = {int(math.ceil(median / 10) * 10)}") + "\n" + _provision_fix()
    if warmup < median:
        return [Finding(
            "warmup", "warning",
            f"the scale-out warm-up is {warmup} s but {seen}",
            "the step policy stops counting new instances as warming before they carry connections, and adds more on the same breach",
            fix, subject=subject,
        )]
    if warmup > WARMUP_SLACK * median + 60:
        return [Finding(
            "warmup", "info",
            f"the scale-out warm-up is {warmup} s, well above what launches take ({seen})",
            "a growing spike waits out the warm-up before the next step adds anything: the seed's too-slow scale-out",
            fix, subject=subject,
        )]
    return [_ok("warmup", f"the warm-up {warmup} s covers launches ({seen})", subject)]


def check_warm_pool(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """A warm pool exists and holds at least what the first step adds."""
    g, wp, cfg = status.group, status.warm_pool, fleet.warm_pool
    policy, alarm = status.scale_out_policy, status.high_alarm
    first_add = fleet.scale_out.steps[0].add if fleet.scale_out.steps else 1
    if policy is not None and alarm is not None and policy.steps:
        try:
            first_add = scaling.to_absolute(alarm.threshold, policy.steps)[0].add
        except Exception:
            pass
    snippet = _snippet(fleet, "warm_pool", f"min_size = {max(first_add, 2)}", 'pool_state = "Stopped"', "reuse_on_scale_in = true")
    if wp is None:
        if cfg is not None:
            return [Finding(
                "warm-pool", "error",
                f"the config has a warm pool but {fleet.asg} has none",
                "every scale-out launches from cold — with one or two instances at the morning ramp the seed could not scale fast enough",
                _provision_fix(), subject=fleet.asg,
            )]
        return [Finding(
            "warm-pool", "warning",
            f"{fleet.asg} has no warm pool",
            "every scale-out launches from cold — with one or two instances at the morning ramp the seed could not scale fast enough; its fix was a warm pool of stopped instances",
            snippet + "\n" + _provision_fix(), subject=fleet.asg,
        )]
    prepared_max = wp.max_prepared_capacity if wp.max_prepared_capacity is not None else g.max_size
    size = scaling.warm_pool_size(min_size=wp.min_size, max_prepared=wp.max_prepared_capacity, desired=g.desired, max_size=g.max_size)
    warmed = [i for i in wp.instances if i.lifecycle.startswith("Warmed:")]
    seen = f"; {len(warmed)} warm now" if wp.instances else ""
    if size < first_add:
        return [Finding(
            "warm-pool", "warning",
            f"the warm pool holds {size} instance{'s' if size != 1 else ''} (min {wp.min_size}, max prepared {prepared_max if wp.max_prepared_capacity is not None else 'the group max'} − desired {g.desired}){seen}, "
            f"but the first step adds {first_add}",
            "the instances beyond the pool start cold, which is the slow scale-out the warm pool exists to avoid",
            snippet + "\n" + _provision_fix(), subject=fleet.asg,
        )]
    return [_ok("warm-pool", f"the warm pool holds {size} ({wp.pool_state}){seen}; the first step adds {first_add}", fleet.asg)]


# --------------------------------------------------------------------------- schedule


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def _put_action(a, **changes) -> str:
    """The `wsfleet schedule put` that rewrites action `a` with `changes` (every field resent)."""
    import shlex

    v = {"min_size": a.min_size, "max_size": a.max_size, "desired_capacity": a.desired_capacity, **changes}
    if not a.recurrence:
        return f"wsfleet schedule delete {a.name}   # then put it again with sizes min {v['min_size']}, max {v['max_size']}, desired {v['desired_capacity']}"
    parts = ["wsfleet schedule put", shlex.quote(a.name), "--cron", shlex.quote(a.recurrence)]
    if a.time_zone:
        parts += ["--time-zone", shlex.quote(a.time_zone)]
    for flag, key in (("--min", "min_size"), ("--max", "max_size"), ("--desired", "desired_capacity")):
        if v[key] is not None:
            parts += [flag, str(v[key])]
    if a.start_time:
        parts += ["--start", _aware(a.start_time).isoformat()]
    if a.end_time:
        parts += ["--end", _aware(a.end_time).isoformat()]
    return " ".join(parts)


def check_schedule(fleet: FleetConfig, status: FleetStatus, now: datetime) -> list[Finding]:
    """Scheduled actions that set impossible sizes, or will never run."""
    from wsfleet import cron  # pure; the actions engineer's module

    now = _aware(now)
    g = status.group
    out: list[Finding] = []
    why_size = "AWS refuses the change when the action runs, so the capacity the seed schedules before a known peak never arrives"
    configured = {s.name for s in fleet.schedule}
    for a in status.scheduled_actions:
        problems: list[tuple[str, str, str, str]] = []  # severity, found, why, fix
        lo = a.min_size if a.min_size is not None else g.min_size
        hi = a.max_size if a.max_size is not None else g.max_size
        if a.min_size is not None and a.max_size is not None and a.min_size > a.max_size:
            problems.append(("error", f"sets min {a.min_size} above max {a.max_size}", why_size,
                             _put_action(a, min_size=a.max_size, max_size=a.min_size)))
        elif a.min_size is not None and a.min_size > hi:
            problems.append(("error", f"sets min {a.min_size} above the group's max {hi}", why_size,
                             _put_action(a, max_size=a.min_size)))
        elif a.max_size is not None and a.max_size < lo:
            problems.append(("error", f"sets max {a.max_size} below the group's min {lo}", why_size,
                             _put_action(a, min_size=a.max_size)))
        elif a.desired_capacity is not None and not lo <= a.desired_capacity <= hi:
            problems.append(("error", f"sets desired {a.desired_capacity} outside {lo}..{hi}", why_size,
                             _put_action(a, desired_capacity=min(max(a.desired_capacity, lo), hi))))
        never = "it never runs: the capacity it should add before the peak never comes"
        delete = f"wsfleet schedule delete {a.name}"
        end = _aware(a.end_time) if a.end_time else None
        start = _aware(a.start_time) if a.start_time else None
        if start and end and start > end:
            problems.append(("error", f"starts ({start:%Y-%m-%d %H:%M}) after it ends ({end:%Y-%m-%d %H:%M})", never, delete))
        elif end and end <= now:
            problems.append(("warning", f"ended at {end:%Y-%m-%d %H:%M %Z}", never, delete))
        elif a.recurrence:
            try:
                nxt = cron.next_run(a.recurrence, a.time_zone, max(now, start) if start else now)
            except Exception as exc:  # ConfigError from the cron parser: one sentence
                problems.append(("error", f"has a recurrence that cannot run: {exc}", never, delete))
            else:
                if nxt is None:
                    problems.append(("error", f'recurrence "{a.recurrence}" never fires', never, delete))
                elif end and nxt > end:
                    problems.append(("warning", f'recurrence "{a.recurrence}" next fires {nxt:%Y-%m-%d %H:%M}, after it ends {end:%Y-%m-%d %H:%M}', never, delete))
        elif start and start <= now:
            problems.append(("info", f"was due once at {start:%Y-%m-%d %H:%M %Z} and is still listed",
                             "a one-time action that already ran is normally removed; check the activity history for a failure", delete))
        for severity, found, why, fix in problems:
            if a.name in configured:
                fix += f"\n# {a.name} is in the config: fix it in [[fleets.{fleet.name}.schedule]] too, or the next provision puts it back"
            out.append(Finding("schedule", severity, f"scheduled action {a.name} {found}", why, fix, subject=a.name))
        if not problems:
            out.append(_ok("schedule", f"scheduled action {a.name} ({a.recurrence or (a.start_time and f'{a.start_time:%Y-%m-%d %H:%M}') or 'once'}) is valid", a.name))
    live = {a.name for a in status.scheduled_actions}
    missing = [s.name for s in fleet.schedule if s.name not in live]
    if missing:
        out.append(Finding(
            "schedule", "warning",
            f"scheduled action{'s' if len(missing) > 1 else ''} {_ids(missing)} in the config but not in {fleet.asg}",
            "the seed scales out before its known peaks; without these the morning ramp starts from the night's size",
            _provision_fix(), subject=_ids(missing),
        ))
    if not status.scheduled_actions and not fleet.schedule:
        out.append(Finding(
            "schedule", "info",
            f"{fleet.asg} has no scheduled actions",
            "with predictable peaks the seed adds instances before the traffic arrives (its Lambda, later scheduled actions)",
            'wsfleet schedule put weekday-morning --cron "0 7 * * MON-FRI" --time-zone Europe/Berlin --min 4 --desired 4',
            subject=fleet.asg,
        ))
    return out


# --------------------------------------------------------------------------- load balancer


def check_target_groups(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    if not status.target_groups:
        return [Finding(
            "target-group", "info",
            f"{fleet.asg} has no target group attached; the load-balancer checks are skipped",
            subject=fleet.asg,
        )]
    out = []
    for tg in status.target_groups:
        attr = f"aws elbv2 modify-target-group-attributes --target-group-arn {tg.arn} --attributes"
        if tg.algorithm == "least_outstanding_requests":
            out.append(_ok("target-group", f"target group {tg.name} routes by least outstanding requests", tg.name))
        else:
            out.append(Finding(
                "target-group", "info",
                f"target group {tg.name} routes {'round robin' if tg.algorithm in (None, 'round_robin') else tg.algorithm}{'' if tg.algorithm else ' (the default)'}",
                "round robin (the seed's choice) gives a new, empty instance the same share of new connections as a full one; the seed suggests least outstanding requests for scaling events",
                f"{attr} Key=load_balancing.algorithm.type,Value=least_outstanding_requests",
                subject=tg.name,
            ))
        if tg.stickiness_enabled:
            out.append(_ok("target-group", f"target group {tg.name} is sticky ({tg.stickiness_type or 'lb_cookie'})", tg.name))
        else:
            out.append(Finding(
                "target-group", "info",
                f"target group {tg.name} has stickiness {'disabled' if tg.stickiness_enabled is False else 'unknown'}",
                "the seed enabled load-balancer cookie stickiness so a client's requests keep reaching the same instance",
                f"{attr} Key=stickiness.enabled,Value=true Key=stickiness.type,Value=lb_cookie",
                subject=tg.name,
            ))
    return out


def alb_idle_timeout(status: FleetStatus) -> int | None:
    for tg in status.target_groups:
        if tg.idle_timeout is not None:
            return tg.idle_timeout
    return None


def check_idle_timeout(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    lbs = [(tg, tg.idle_timeout) for tg in status.target_groups if tg.load_balancer_arns]
    if not lbs:
        return []
    out = []
    for tg, idle in lbs:
        lb = tg.load_balancer_arns[0].rsplit("/", 2)[-2] if "/" in tg.load_balancer_arns[0] else tg.load_balancer_arns[0]
        if idle is None:
            out.append(Finding("idle-timeout", "info", f"the idle timeout of load balancer {lb} could not be read", subject=lb))
        elif idle < ALB_DEFAULT_IDLE_TIMEOUT:
            out.append(Finding(
                "idle-timeout", "warning",
                f"load balancer {lb} closes connections idle for {idle} s (default {ALB_DEFAULT_IDLE_TIMEOUT} s)",
                "a WebSocket with no message in that time is cut by the ALB; the seed kept the default 60 s and set nginx's keep-alive above it",
                f"aws elbv2 modify-load-balancer-attributes --load-balancer-arn {tg.load_balancer_arns[0]} --attributes Key=idle_timeout.timeout_seconds,Value={ALB_DEFAULT_IDLE_TIMEOUT}",
                subject=lb,
            ))
        else:
            out.append(_ok("idle-timeout", f"load balancer {lb} idle timeout {idle} s (nginx keep-alive must stay above it)", lb))
    return out


# --------------------------------------------------------------------------- instances


_REACH_FIX = {
    "timeout": "the host did not answer in time: check the security group, the jump host, and `timeout` in {section}",
    "refused": "nothing accepts SSH there: check sshd and the `port` of the ssh address",
    "auth": "the login was refused: check `user` and `key` in {section} (or the SSH agent)",
    "host-key": "the host key is unknown or changed: verify it, then add it to known_hosts (or host_keys = \"accept-new\" in {section})",
    "not-found": "no address for the instance: check `address` in {section}",
    "command": "a command failed on the host; rerun with -v for its output",
    "parse": "the output was not understood; rerun with -v",
}


def _group(facts: Sequence[InstanceFacts], pred) -> list[InstanceFacts]:
    return [f for f in facts if pred(f)]


def check_instances(fleet: FleetConfig, status: FleetStatus, facts: Sequence[InstanceFacts]) -> list[Finding]:
    out: list[Finding] = []
    section = _section(fleet, "ssh")
    if not facts:
        return [Finding("instance-reach", "info", f"no InService instance in {fleet.asg} to check", subject=fleet.asg)]
    failed = [f for f in facts if f.error is not None]
    ok = [f for f in facts if f.error is None]
    if failed:
        by_error: dict[str, list[str]] = {}
        for f in failed:
            by_error.setdefault(f.error or "command", []).append(f.instance_id)
        for error, ids in by_error.items():
            out.append(Finding(
                "instance-reach", "warning",
                f"could not check {len(ids)} of {len(facts)} instance{'s' if len(facts) != 1 else ''} ({error}): {_ids(ids)}",
                "the instance-side checks (open files, ports, keep-alive, CLOSE_WAIT) say nothing about these hosts",
                _REACH_FIX.get(error, _REACH_FIX["command"]).format(section=section),
                subject=_ids(ids),
            ))
    else:
        out.append(_ok("instance-reach", f"checked {len(facts)} instance{'s' if len(facts) != 1 else ''}"))
    if not ok:
        return out
    ports = {f.service_port or fleet.port for f in ok}
    port = f"port {ports.pop()}" if len(ports) == 1 else "the service port"
    out += _check_listening(fleet, ok, port)
    listening = [f for f in ok if f.listening is not False]
    out += _check_open_files(fleet, listening, port)
    out += _check_port_range(fleet, ok)
    out += _check_nginx(fleet, status, ok)
    out += _check_close_wait(fleet, listening, port)
    out += _check_silent(fleet, status, listening, port)
    out += _check_balance(fleet, listening)
    return out


def _port_number(fleet: FleetConfig, facts: Sequence[InstanceFacts]) -> int:
    return next((f.service_port for f in facts if f.service_port), fleet.port)


SILENT_BUCKETS = (60, 300, 3600)  # seconds, as the facts script counts them


def silent_threshold(status: FleetStatus) -> int | None:
    """How long a connection may carry no data before it counts as left behind (see the module doc)."""
    idle = alb_idle_timeout(status)
    if idle is None:
        return SILENT_BUCKETS[-1]
    return next((b for b in SILENT_BUCKETS if b >= 2 * idle), None)


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{_n(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{_n(seconds // 60)} min"
    return f"{_n(seconds)} s"


def _check_silent(fleet: FleetConfig, status: FleetStatus, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    limit = max(1, math.ceil(fleet.capacity * CLOSE_WAIT_FRACTION))
    configured = fleet.doctor.silent_after
    if configured is not None:  # the fleet says how long a live client can stay silent
        known = [f for f in facts if f.silent_over is not None]
        if not known:
            return []
        count = lambda f: f.silent_over  # noqa: E731
        value = str(int(configured)) if float(configured).is_integer() else repr(float(configured))
        behind = f"{_section(fleet, 'doctor')} silent_after = {value}: a live client sends or receives something more often"
        span = _duration(configured)
    else:
        threshold = silent_threshold(status)
        known = [f for f in facts if f.silent is not None]
        if threshold is None or not known:
            return []
        index = SILENT_BUCKETS.index(threshold)
        count = lambda f: f.silent[index]  # noqa: E731
        behind = "the ALB closes connections idle longer than its idle timeout, so these have no client behind them" if alb_idle_timeout(status) is not None else "with no load balancer known, an hour without a byte either way"
        span = f"{threshold // 60} min" if threshold < 3600 else "1 h"
    stuck = sorted((f for f in known if count(f) >= limit), key=lambda f: -count(f))
    if stuck:
        shown = _ids([f"{f.instance_id} ({_n(count(f))} of {_n(f.established)})" for f in stuck])
        return [Finding(
            "silent-connections", "warning",
            f"established connections on {port} that carried no data either way for {span} or more: {shown} ({behind})",
            "the seed's \"TCP connections not being closed\": clients that vanished without closing leave sockets the service never notices — they count as connections, hold file descriptors and keep instances running that are not needed",
            "ping every WebSocket from the service (e.g. every 30 s) and close it when no pong comes back; or set TCP keepalive on the listening socket (net.ipv4.tcp_keepalive_time)",
            subject=_ids([f.instance_id for f in stuck]),
        )]
    worst = max(count(f) for f in known)
    return [_ok("silent-connections", f"at most {_n(worst)} connection{'s' if worst != 1 else ''} on {port} silent for {span} or more, across {len(known)} instance{'s' if len(known) != 1 else ''}")]


def _check_balance(fleet: FleetConfig, facts: Sequence[InstanceFacts]) -> list[Finding]:
    """Connections spread evenly (the seed's load test): the same statistics as `wsfleet check`."""
    measured = [f for f in facts if f.established is not None]
    if len(measured) < 2:
        return []
    stats = balance.balance_stats(f.established for f in measured)
    limit = fleet.counts.max_skew
    if balance.verdict(stats, limit) == "balanced":
        return [_ok("balance", f"connections are even across {stats.measured} instances: busiest {stats.skew:.2f}× the mean {_n(stats.mean)} (limit {limit:g}×)")]
    busiest = max(measured, key=lambda f: f.established or 0)
    emptiest = min(measured, key=lambda f: f.established or 0)
    return [Finding(
        "balance", "warning",
        f"connections are uneven: {busiest.instance_id} holds {_n(busiest.established)}, {stats.skew:.2f}× the mean {_n(stats.mean)} "
        f"(limit {limit:g}×), while {emptiest.instance_id} holds {_n(emptiest.established)}",
        "WebSocket connections stay where they landed: after a deploy or a scale-out the old instances keep theirs and near the ceiling while the new ones sit nearly empty",
        f"wsfleet check --max-skew {limit:g}   # in the deploy pipeline; least outstanding requests on the target group fills new instances first",
        subject=_ids([busiest.instance_id, emptiest.instance_id]),
    )]


def _check_listening(fleet: FleetConfig, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    down = [f.instance_id for f in facts if f.listening is False]
    if down:
        return [Finding(
            "service-listening", "error",
            f"nothing listens on {port} on {_ids(down)}",
            "the service is down there, or `port` in the config is wrong — every count on that port reads 0",
            f"ss -Htln   # on the instance: what listens; then set port = ... in {_section(fleet)}",
            subject=_ids(down),
        )]
    return [_ok("service-listening", f"{port} is listening on {len(facts)} instance{'s' if len(facts) != 1 else ''}")]


def _check_open_files(fleet: FleetConfig, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    cap = fleet.capacity
    unknown_facts = [f for f in facts if f.open_files is None and not f.open_files_unlimited]
    unknown = [f.instance_id for f in unknown_facts]
    low = [f for f in facts if f.open_files is not None and f.open_files < cap]
    tight = [f for f in facts if f.open_files is not None and cap <= f.open_files < 2 * cap]
    fine = [f for f in facts if f.open_files_unlimited or (f.open_files is not None and f.open_files >= 2 * cap)]
    fix = (
        f"# systemd service (limits.conf does not apply to it): LimitNOFILE={SEED_OPEN_FILES} in the unit, then restart\n"
        f"# login sessions, /etc/security/limits.d/nofile.conf:\n* soft nofile {SEED_OPEN_FILES}\n* hard nofile {SEED_OPEN_FILES}\n"
        f"# nginx workers: worker_rlimit_nofile {SEED_OPEN_FILES};"
    )

    def shown(fs: Sequence[InstanceFacts]) -> str:
        return _ids([f"{f.instance_id} ({_n(f.open_files)})" for f in fs])

    out = []
    if low:
        out.append(Finding(
            "open-files", "error",
            f"the service on {port} may open fewer files than the {_n(cap)}-connection ceiling: {shown(low)}",
            f"every connection is a file descriptor; the seed raised the limit from 1,024 to {_n(SEED_OPEN_FILES)} before its load tests",
            fix, subject=_ids([f.instance_id for f in low]),
        ))
    if tight:
        out.append(Finding(
            "open-files", "warning",
            f"the service on {port} may open fewer than twice the ceiling ({_n(2 * cap)}) files: {shown(tight)}",
            f"a proxy such as nginx holds two descriptors per client (client and upstream); the seed used {_n(SEED_OPEN_FILES)}",
            fix, subject=_ids([f.instance_id for f in tight]),
        ))
    if unknown:
        out.append(Finding(
            "open-files", "info",
            f"could not see which process listens on {port} (or read its limits) on {_ids(unknown)}",
            "ss shows the owning process only for the SSH user's own processes or to root",
            f"sudo ss -Htlnp 'sport = :{_port_number(fleet, unknown_facts)}'   # then: grep 'Max open files' /proc/PID/limits",
            subject=_ids(unknown),
        ))
    if fine and not low and not tight:
        lowest = min((f.open_files for f in fine if f.open_files is not None), default=None)
        out.append(_ok("open-files", f"the service may open {'unlimited' if lowest is None else _n(lowest)} files on {len(fine)} instance{'s' if len(fine) != 1 else ''}"))
    return out


def _check_port_range(fleet: FleetConfig, facts: Sequence[InstanceFacts]) -> list[Finding]:
    cap = fleet.capacity
    known = [f for f in facts if f.port_range is not None]
    narrow = [f for f in known if f.port_range[1] - f.port_range[0] + 1 < cap]  # type: ignore[index]
    out = []
    if narrow:
        shown = _ids([f"{f.instance_id} ({f.port_range[0]}-{f.port_range[1]})" for f in narrow])  # type: ignore[index]
        out.append(Finding(
            "port-range", "warning",
            f"net.ipv4.ip_local_port_range holds fewer ports than the {_n(cap)}-connection ceiling on {shown}",
            "a proxy opens one local port per upstream connection; the seed widened the range to 10000 65535",
            "echo 'net.ipv4.ip_local_port_range = 10000 65535' | sudo tee /etc/sysctl.d/net.ipv4.ip_local_port_range.conf && sudo sysctl --system",
            subject=_ids([f.instance_id for f in narrow]),
        ))
    elif known:
        widths = min(f.port_range[1] - f.port_range[0] + 1 for f in known)  # type: ignore[index]
        out.append(_ok("port-range", f"at least {_n(widths)} local ports on {len(known)} instance{'s' if len(known) != 1 else ''}"))
    unknown = [f.instance_id for f in facts if f.port_range is None]
    if unknown:
        out.append(Finding("port-range", "info", f"could not read net.ipv4.ip_local_port_range on {_ids(unknown)}", subject=_ids(unknown)))
    return out


def _check_nginx(fleet: FleetConfig, status: FleetStatus, facts: Sequence[InstanceFacts]) -> list[Finding]:
    with_nginx = [f for f in facts if f.nginx_present]
    if not with_nginx:
        return []
    idle = alb_idle_timeout(status)
    idle_text = f"the ALB idle timeout {idle} s" if idle is not None else f"the ALB's default idle timeout {ALB_DEFAULT_IDLE_TIMEOUT} s"
    idle = idle if idle is not None else ALB_DEFAULT_IDLE_TIMEOUT
    unreadable = [f.instance_id for f in with_nginx if not f.nginx_readable]
    readable = [f for f in with_nginx if f.nginx_readable]

    def keepalive(f: InstanceFacts) -> float:
        return min(f.nginx_keepalive) if f.nginx_keepalive else NGINX_DEFAULT_KEEPALIVE

    short = [f for f in readable if keepalive(f) <= idle]
    out = []
    if short:
        shown = _ids([f"{f.instance_id} ({_n(keepalive(f))} s{'' if f.nginx_keepalive else ', default'})" for f in short])
        out.append(Finding(
            "nginx-keepalive", "warning",
            f"nginx keepalive_timeout is not above {idle_text} on {shown}",
            "nginx must close idle connections after the ALB does, or the ALB reuses a connection nginx is closing (the seed: 65 s over the ALB's 60 s)",
            f"keepalive_timeout {idle + 5};   # in nginx's http block, then: sudo nginx -t && sudo systemctl reload nginx",
            subject=_ids([f.instance_id for f in short]),
        ))
    elif readable:
        lowest = min(keepalive(f) for f in readable)
        out.append(_ok("nginx-keepalive", f"nginx keepalive_timeout {_n(lowest)} s is above {idle_text} on {len(readable)} instance{'s' if len(readable) != 1 else ''}"))
    if unreadable:
        out.append(Finding(
            "nginx-keepalive", "info",
            f"nginx is installed but `nginx -T` could not be read on {_ids(unreadable)}",
            "reading nginx's whole configuration usually needs root",
            f"sudo nginx -T | grep keepalive_timeout   # keep it above {idle_text}",
            subject=_ids(unreadable),
        ))
    return out


def _check_close_wait(fleet: FleetConfig, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    limit = max(1, math.ceil(fleet.capacity * CLOSE_WAIT_FRACTION))
    stuck = [f for f in facts if f.close_wait is not None and f.close_wait >= limit]
    known = [f for f in facts if f.close_wait is not None]
    if stuck:
        shown = _ids([f"{f.instance_id} ({_n(f.close_wait)})" for f in sorted(stuck, key=lambda f: -(f.close_wait or 0))])
        return [Finding(
            "close-wait", "warning",
            f"connections stuck in CLOSE_WAIT on {port} (the limit is {_n(limit)}, 1% of the ceiling): {shown}",
            "the clients hung up but the service never closed its side — the seed's \"TCP connections not being closed\", which keeps instances running that are not needed",
            f"ss -Htnp state close-wait '( sport = :{_port_number(fleet, stuck)} )'   # on the instance: which process; fix its close handling (restart it as a stopgap)",
            subject=_ids([f.instance_id for f in stuck]),
        )]
    if known:
        worst = max(f.close_wait or 0 for f in known)
        return [_ok("close-wait", f"at most {_n(worst)} connection{'s' if worst != 1 else ''} in CLOSE_WAIT on {port} across {len(known)} instance{'s' if len(known) != 1 else ''}")]
    return []
