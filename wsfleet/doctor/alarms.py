"""The alarms and their policies: AWS let us read them, both exist, each alarm runs this group's
right policy, watches the metric the agent publishes (and datapoints arrive), matches the config,
stays out of ALARM when the agent is silent, and the scale-out steps cover every breach."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from wsfleet import scaling
from wsfleet.doctor._text import _n, _ok, _provision_fix, _section, _snippet
from wsfleet.model import Alarm, FleetConfig, FleetStatus, Finding, ScalingPolicy, StepRange

HIGH_COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold")
LOW_COMPARISONS = ("LessThanOrEqualToThreshold", "LessThanThreshold")
# what `provision` writes (the seed's Terraform)
HIGH_COMPARISON = scaling.SCALE_OUT_COMPARISON
LOW_COMPARISON = scaling.SCALE_IN_COMPARISON

_POLICY_ARN = re.compile(r":autoScalingGroupName/(?P<group>[^:]+):policyName/(?P<policy>.+)$")


def _steps_toml(steps: Sequence[StepRange]) -> str:
    items = []
    for s in steps:
        to = "" if s.upper is None else f", to = {_n(s.upper).replace(',', '')}"
        items.append(f"{{ from = {_n(s.lower).replace(',', '')}{to}, add = {s.add} }}")
    return "steps = [ " + ",\n          ".join(items) + " ]"


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


# --------------------------------------------------------------------------- suspended scaling


def check_suspended_scaling(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    """AlarmNotification suspended: the alarms still change state but never run a policy. Right
    for the length of a deploy (`refresh start --suspend-scaling`), wrong once it is over."""
    from wsfleet.aws.refresh import ALARM_NOTIFICATION, RESUME_TAG

    group = status.group
    if ALARM_NOTIFICATION not in group.suspended_processes:
        return [_ok("suspended-scaling", f"{ALARM_NOTIFICATION} is not suspended on {fleet.asg}: the alarms can scale it", fleet.asg)]
    refresh = status.instance_refresh
    resume = f"aws autoscaling resume-processes --auto-scaling-group-name {fleet.asg} --scaling-processes {ALARM_NOTIFICATION}"
    if refresh is not None and refresh.active:
        ours = group.tag(RESUME_TAG) is not None
        return [Finding(
            "suspended-scaling", "info",
            f"{ALARM_NOTIFICATION} is suspended on {fleet.asg} while instance refresh {refresh.id} runs "
            f"({refresh.percentage_complete or 0}% done)" + ("; wsfleet resumes it when the refresh ends" if ours else ""),
            "" if ours else "nothing resumes it by itself when the refresh ends: whoever suspended it must",
            "" if ours else resume,
            subject=fleet.asg,
        )]
    known = "no instance refresh is running" if status.refresh_unavailable is None else "no running instance refresh could be seen (the endpoint lacks the refresh calls)"
    return [Finding(
        "suspended-scaling", "error",
        f"{ALARM_NOTIFICATION} is suspended on {fleet.asg} and {known}",
        "the scaling alarms still go into ALARM but run no policy: the group will not scale out at the next spike "
        "(a deploy that paused scaling and never resumed it)",
        resume + (" (or `wsfleet refresh status`, which resumes what wsfleet suspended)" if group.tag(RESUME_TAG) else ""),
        subject=fleet.asg,
    )]
