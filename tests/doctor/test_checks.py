"""Each doctor check against a fleet that passes it and one that fails it (pure, no I/O)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from wsfleet import doctor
from wsfleet.model import DoctorConfig, FleetStatus, ScheduledAction, ScaleInConfig, ScaleOutConfig, StepRange, WarmPool

from tests.doctor.fleets import (
    ASG,
    FLEET,
    HIGH,
    LOW,
    NOW,
    facts,
    group,
    healthy,
    high_alarm,
    launches,
    low_alarm,
    policy_arn,
    scale_in_policy,
    scale_out_policy,
    series,
    target_group,
)


def of(check, findings):
    return [f for f in findings if f.check == check]


def severities(check, findings):
    return sorted(f.severity for f in of(check, findings))


def run(status: FleetStatus | None = None, fleet=FLEET, instance_facts=None, **kw):
    return doctor.diagnose(fleet, status or healthy(), instance_facts, **kw)


# --------------------------------------------------------------------------- the whole


def test_the_seed_setup_done_right_has_no_error_or_warning():
    findings = run(instance_facts=[facts("i-0000"), facts("i-0001")])
    bad = [f for f in findings if f.severity in ("error", "warning")]
    assert bad == []
    assert not doctor.has_errors(findings)
    assert {f.check for f in findings} == set(doctor.CHECKS) - {"aws-read"}  # every other check spoke


def test_findings_come_most_severe_first():
    findings = run(healthy(low_alarm=low_alarm(treat_missing_data="breaching"), warm_pool=None))
    ranks = [doctor.SEVERITIES.index(f.severity) for f in findings]
    assert ranks == sorted(ranks)
    assert findings[0].severity == "error"


def test_every_problem_says_why_and_how_to_fix():
    broken = healthy(
        high_alarm=high_alarm(namespace="ASG_Memory", treat_missing_data="breaching", threshold=27000),
        low_alarm=low_alarm(namespace="ASG_Memory", treat_missing_data="breaching", threshold=14000),
        warm_pool=None,
    )
    findings = run(broken, instance_facts=[facts(open_files=1024, port_range=(32768, 33000), close_wait=900, nginx_keepalive=(60.0,))])
    for f in findings:
        if f.severity in ("error", "warning"):
            assert f.found and f.why and f.fix, f


def test_the_seeds_own_terraform_is_flagged():
    """ASG_Memory alarms over a TPC_Connections agent, both treating missing data as breaching."""
    seed = healthy(
        high_alarm=high_alarm(namespace="ASG_Memory", treat_missing_data="breaching"),
        low_alarm=low_alarm(namespace="ASG_Memory", treat_missing_data="breaching"),
    )
    fleet = dataclasses.replace(FLEET, metric=dataclasses.replace(FLEET.metric, namespace="TPC_Connections"))
    findings = run(seed, fleet=fleet)
    assert severities("alarm-metric", findings) == ["error", "error"]
    assert severities("missing-data", findings) == ["error", "error"]
    assert any("scales in and out at once" in f.why for f in of("missing-data", findings))
    assert doctor.has_errors(findings)


# --------------------------------------------------------------------------- existence


def test_alarms_exist_passes_when_both_exist():
    assert severities("alarms-exist", run()) == ["ok"]


def test_a_missing_alarm_is_an_error_fixed_by_provision():
    findings = run(healthy(low_alarm=None))
    (f,) = of("alarms-exist", findings)
    assert f.severity == "error" and LOW in f.found and "wsfleet provision" in f.fix


def test_policies_exist_passes_when_both_exist():
    assert severities("policies-exist", run()) == ["ok"]


def test_a_missing_policy_is_an_error_fixed_by_provision():
    findings = run(healthy(scale_out_policy=None))
    (f,) = of("policies-exist", findings)
    assert f.severity == "error" and "high_tcp_connections_policy" in f.found and "wsfleet provision" in f.fix


def test_a_simple_scale_out_policy_is_a_warning():
    findings = run(healthy(scale_out_policy=scale_out_policy(policy_type="SimpleScaling", steps=())))
    assert "warning" in severities("policies-exist", findings)


# --------------------------------------------------------------------------- alarm actions


def test_alarm_actions_pass_when_each_points_to_its_policy():
    assert severities("alarm-actions", run()) == ["ok", "ok"]


def test_an_alarm_pointing_to_a_deleted_policy_is_an_error():
    stale = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:9999-old:autoScalingGroupName/prod-chat-asg:policyName/high_tcp_connections_policy"
    findings = run(healthy(high_alarm=high_alarm(alarm_actions=(stale,))))
    (f,) = [f for f in of("alarm-actions", findings) if f.severity != "ok"]
    assert f.severity == "error" and "no longer exists" in f.found


def test_an_alarm_pointing_to_another_groups_policy_is_an_error():
    findings = run(healthy(low_alarm=low_alarm(alarm_actions=(policy_arn("low_tcp_connections_policy", asg="staging-chat-asg"),))))
    (f,) = [f for f in of("alarm-actions", findings) if f.severity != "ok"]
    assert f.severity == "error" and "staging-chat-asg" in f.found


def test_an_alarm_with_only_an_sns_action_scales_nothing():
    findings = run(healthy(high_alarm=high_alarm(alarm_actions=("arn:aws:sns:us-east-1:123456789012:internal",))))
    (f,) = [f for f in of("alarm-actions", findings) if f.severity != "ok"]
    assert f.severity == "error" and "runs no scaling policy" in f.found


def test_the_high_alarm_running_the_scale_in_policy_is_an_error():
    findings = run(healthy(high_alarm=high_alarm(alarm_actions=(policy_arn("low_tcp_connections_policy"),))))
    (f,) = [f for f in of("alarm-actions", findings) if f.severity != "ok"]
    assert f.severity == "error" and "scale-in policy" in f.found


def test_a_policy_moto_returned_without_arn_is_matched_by_name():
    findings = run(healthy(scale_out_policy=scale_out_policy(arn=None)))
    assert severities("alarm-actions", findings) == ["ok", "ok"]


def test_an_alarm_running_another_existing_policy_of_the_group_is_a_warning():
    extra = scale_out_policy(name="manual_bump", arn=policy_arn("manual_bump"))
    status = healthy(high_alarm=high_alarm(alarm_actions=(policy_arn("manual_bump"),)))
    policies = {p.name: p for p in (status.scale_out_policy, status.scale_in_policy, extra)}
    findings = run(status, policies=policies)
    assert severities("alarm-actions", findings) == ["ok", "warning"]


# --------------------------------------------------------------------------- alarm metric and config


def test_alarm_metric_passes_when_alarms_watch_the_agents_metric():
    assert severities("alarm-metric", run()) == ["ok", "ok"]


def test_the_seeds_namespace_slip_is_an_error():
    findings = run(healthy(high_alarm=high_alarm(namespace="ASG_Memory")))
    (f,) = [f for f in of("alarm-metric", findings) if f.severity != "ok"]
    assert f.severity == "error" and "ASG_Memory" in f.found and "TCP_Connections" in f.found


def test_an_alarm_on_another_groups_dimension_is_an_error():
    findings = run(healthy(low_alarm=low_alarm(dimensions=(("AutoScalingGroupName", "old-asg"),))))
    assert "error" in severities("alarm-metric", findings)


def test_an_alarm_on_a_maximum_statistic_is_a_warning():
    findings = run(healthy(low_alarm=low_alarm(statistic="Maximum")))
    assert severities("alarm-metric", findings) == ["ok", "warning"]


def test_alarm_config_passes_when_alarms_match_the_config():
    assert severities("alarm-config", run()) == ["ok", "ok"]


def test_an_alarm_changed_in_the_console_is_a_warning_naming_the_difference():
    findings = run(healthy(high_alarm=high_alarm(threshold=21000, evaluation_periods=3, datapoints_to_alarm=3)))
    (f,) = [f for f in of("alarm-config", findings) if f.severity != "ok"]
    assert f.severity == "warning" and "threshold 21,000 (config 20,000)" in f.found and "evaluation periods 3" in f.found


def test_a_scale_in_alarm_comparing_upwards_is_an_error():
    findings = run(healthy(low_alarm=low_alarm(comparison="GreaterThanOrEqualToThreshold")))
    assert "error" in severities("alarm-config", findings)


def test_metric_data_passes_with_datapoints():
    assert severities("metric-data", run()) == ["ok"]


def test_a_silent_metric_is_a_warning_fixed_with_the_agent_config():
    findings = run(healthy(metric=series([None] * 61)))
    (f,) = of("metric-data", findings)
    assert f.severity == "warning" and "wsfleet agent-config" in f.fix and "last 60 minutes" in f.found


# --------------------------------------------------------------------------- missing data


def test_missing_data_passes_when_a_silent_agent_alarms_nothing():
    assert severities("missing-data", run()) == ["ok", "ok"]


def test_a_breaching_scale_in_alarm_is_an_error():
    findings = run(healthy(low_alarm=low_alarm(treat_missing_data="breaching")))
    (f,) = [f for f in of("missing-data", findings) if f.severity != "ok"]
    assert f.severity == "error" and f.subject == LOW
    assert "wsfleet provision" in f.fix and "treat_missing_data" not in f.fix  # the config is right already


def test_a_breaching_scale_out_alarm_alone_is_a_warning():
    findings = run(healthy(high_alarm=high_alarm(treat_missing_data="breaching")))
    assert severities("missing-data", findings) == ["ok", "warning"]


def test_a_breaching_config_is_fixed_in_the_config():
    fleet = dataclasses.replace(FLEET, scale_in=dataclasses.replace(FLEET.scale_in, treat_missing_data="breaching"))
    findings = run(healthy(low_alarm=low_alarm(treat_missing_data="breaching")), fleet=fleet)
    (f,) = [f for f in of("missing-data", findings) if f.severity == "error"]
    assert '[fleets.prod-chat.scale_in]\ntreat_missing_data = "notBreaching"' in f.fix


def test_a_breaching_config_is_flagged_before_provision_writes_it():
    fleet = dataclasses.replace(FLEET, scale_in=dataclasses.replace(FLEET.scale_in, treat_missing_data="breaching"))
    findings = run(fleet=fleet)
    assert severities("missing-data", findings) == ["ok", "warning"]


def test_ignore_on_scale_in_keeps_the_state_and_passes():
    findings = run(healthy(low_alarm=low_alarm(treat_missing_data="ignore")))
    assert severities("missing-data", findings) == ["ok", "ok"]


# --------------------------------------------------------------------------- steps


def test_steps_pass_when_contiguous_from_the_threshold():
    (f,) = of("steps", run())
    assert f.severity == "ok" and "20000:25000:+2,25000:30000:+2,30000::+3" in f.found


def test_steps_with_a_gap_are_an_error():
    from wsfleet.model import StepAdjustment

    gap = (StepAdjustment(0, 5000, 2), StepAdjustment(6000, None, 3))
    findings = run(healthy(scale_out_policy=scale_out_policy(steps=gap)))
    (f,) = of("steps", findings)
    assert f.severity == "error" and "gap" in f.found and "wsfleet provision" in f.fix


def test_steps_left_behind_by_a_console_threshold_change_are_an_error():
    """The alarm moved to 22,000 but the policy's first step was written as if it started at 2,000 above."""
    from wsfleet.model import StepAdjustment

    shifted = (StepAdjustment(2000, 5000, 2), StepAdjustment(5000, None, 3))
    findings = run(healthy(scale_out_policy=scale_out_policy(steps=shifted)))
    (f,) = of("steps", findings)
    assert f.severity == "error" and "not at the alarm threshold" in f.found


def test_a_policy_without_steps_is_an_error():
    findings = run(healthy(scale_out_policy=scale_out_policy(steps=())))
    assert "error" in severities("steps", findings)


def test_configured_steps_that_do_not_start_at_the_threshold_are_an_error():
    fleet = dataclasses.replace(FLEET, scale_out=ScaleOutConfig(threshold=22000))  # steps still start at 20,000
    findings = run(fleet=fleet)
    assert any(f.severity == "error" and f.subject == "[fleets.prod-chat.scale_out]" for f in of("steps", findings))


# --------------------------------------------------------------------------- flap


def test_the_seeds_thresholds_do_not_flap_from_2_to_12():
    (f,) = of("flap", run())
    assert f.severity == "ok"


def test_a_low_threshold_of_10500_flaps_at_two_instances():
    findings = run(healthy(low_alarm=low_alarm(threshold=10500), group=group(min_size=1)))
    bad = [f for f in of("flap", findings) if f.severity == "error"]
    assert len(bad) == 1
    f = bad[0]
    assert "removing 1 of 2 leaves 21,000" in f.found and "n = 2" in f.found
    # 20,000 * 1/2 = 10,000 is the bound; a low threshold must stay strictly below it
    assert f.fix == "wsfleet thresholds set --low 9999"


def test_a_flapping_config_is_fixed_in_the_config():
    fleet = dataclasses.replace(FLEET, scale_in=ScaleInConfig(threshold=16000))
    findings = run(fleet=fleet)
    (f,) = [f for f in of("flap", findings) if f.severity == "error"]
    assert f.fix.startswith("[fleets.prod-chat.scale_in]\nthreshold = ")


def test_flap_uses_the_groups_size_range():
    # 12,000 of 20,000: removing 1 of 2 gives 24,000 (flaps), but with min 2 a group of 2 never
    # scales in, and 3 -> 2 gives 18,000 (fine)
    fleet = dataclasses.replace(FLEET, scale_in=ScaleInConfig(threshold=12000))
    status = healthy(low_alarm=low_alarm(threshold=12000), group=group(min_size=2, max_size=12, desired=4))
    assert severities("flap", run(status, fleet=fleet)) == ["ok"]
    status2 = healthy(low_alarm=low_alarm(threshold=12000), group=group(min_size=1, max_size=12, desired=4))
    assert severities("flap", run(status2, fleet=fleet)) == ["error"]


# --------------------------------------------------------------------------- ceiling


def test_a_threshold_at_71_percent_of_the_ceiling_with_slow_growth_passes():
    (f,) = of("ceiling", run())
    assert f.severity == "ok" and "71%" in f.found


def test_a_threshold_above_80_percent_of_the_ceiling_is_a_warning():
    findings = run(healthy(high_alarm=high_alarm(threshold=25000)))
    (f,) = of("ceiling", findings)
    assert f.severity == "warning" and "89%" in f.found


def test_a_threshold_at_the_ceiling_is_an_error():
    (f,) = of("ceiling", run(healthy(high_alarm=high_alarm(threshold=28000))))
    assert f.severity == "error"


def test_growth_faster_than_the_alarm_plus_warmup_is_a_warning():
    # +2,000 a minute: 20,000 -> 28,000 in 240 s; the alarm (5 x 60 s) + warm-up 150 s take 450 s
    rising = series([10000.0 + 2000 * i for i in range(10)] + [30000.0] * 5)
    (f,) = of("ceiling", run(healthy(metric=rising)))
    assert f.severity == "warning" and "240 s" in f.found and "450 s" in f.found
    # reacting in time means scaling out at 28,000 - 2,000/min x 450 s = 13,000, above the low 9,500
    assert f.fix.startswith("wsfleet thresholds set --high 13000\n")


def test_growth_too_fast_for_any_threshold_suggests_a_schedule():
    rising = series([10000.0 + 4000 * i for i in range(6)] + [30000.0] * 5)  # 28,000 - 30,000 < 9,500
    (f,) = of("ceiling", run(healthy(metric=rising)))
    assert f.severity == "warning" and f.fix.startswith("wsfleet schedule put before-peak")


def test_growth_slower_than_the_alarm_plus_warmup_passes():
    # +1,000 a minute: the ceiling is 480 s away, reaction takes 450 s
    rising = series([10000.0 + 1000 * i for i in range(20)])
    (f,) = of("ceiling", run(healthy(metric=rising)))
    assert f.severity == "ok" and "480 s away" in f.found


# --------------------------------------------------------------------------- warm-up


def test_a_warmup_covering_launch_time_passes():
    (f,) = of("warmup", run())
    assert f.severity == "ok" and "120 s" in f.found


def test_a_warmup_shorter_than_launches_is_a_warning():
    (f,) = of("warmup", run(healthy(activities=launches(200, 240, 210))))
    assert f.severity == "warning" and "210 s" in f.found and "warmup = 210" in f.fix


def test_a_warmup_far_longer_than_launches_is_info():
    (f,) = of("warmup", run(healthy(activities=launches(30, 35, 40))))
    assert f.severity == "info"


def test_no_launch_history_is_info():
    (f,) = of("warmup", run(healthy(activities=())))
    assert f.severity == "info"


# --------------------------------------------------------------------------- warm pool


def test_a_warm_pool_sized_for_the_first_step_passes():
    (f,) = of("warm-pool", run())
    assert f.severity == "ok"


def test_no_warm_pool_is_a_warning_with_a_config_snippet():
    fleet = dataclasses.replace(FLEET, warm_pool=None)
    (f,) = of("warm-pool", run(healthy(warm_pool=None), fleet=fleet))
    assert f.severity == "warning" and "[fleets.prod-chat.warm_pool]" in f.fix


def test_a_configured_warm_pool_missing_in_aws_is_an_error():
    (f,) = of("warm-pool", run(healthy(warm_pool=None)))
    assert f.severity == "error" and "wsfleet provision" in f.fix


def test_a_warm_pool_smaller_than_the_first_step_is_a_warning():
    # max prepared 5 - desired 4 = 1 warm instance, min 0; the first step adds 2
    small = WarmPool(min_size=0, max_prepared_capacity=5, pool_state="Stopped", reuse_on_scale_in=False)
    (f,) = of("warm-pool", run(healthy(warm_pool=small)))
    assert f.severity == "warning" and "holds 1 instance" in f.found and "first step adds 2" in f.found


# --------------------------------------------------------------------------- schedule


def test_a_valid_schedule_passes():
    assert severities("schedule", run()) == ["ok"]


def test_a_scheduled_min_above_max_is_an_error():
    bad = ScheduledAction(name="peak", recurrence="0 7 * * *", min_size=8, max_size=6)
    (f,) = [f for f in of("schedule", run(healthy(scheduled_actions=healthy().scheduled_actions + (bad,)))) if f.severity != "ok"]
    assert f.severity == "error" and "min 8 above max 6" in f.found


def test_a_scheduled_min_above_the_groups_max_is_an_error():
    bad = ScheduledAction(name="peak", recurrence="0 7 * * *", min_size=20)
    findings = run(healthy(scheduled_actions=healthy().scheduled_actions + (bad,)))
    assert "error" in severities("schedule", findings)


def test_a_schedule_that_ended_is_a_warning():
    ended = ScheduledAction(name="black-friday", recurrence="0 6 * * *", end_time=NOW - timedelta(days=3), min_size=6)
    findings = run(healthy(scheduled_actions=healthy().scheduled_actions + (ended,)))
    (f,) = [f for f in of("schedule", findings) if f.severity != "ok"]
    assert f.severity == "warning" and "ended" in f.found and f.fix == "wsfleet schedule delete black-friday"


def test_a_cron_that_cannot_fire_is_an_error():
    never = ScheduledAction(name="feb-30", recurrence="0 7 30 FEB *", min_size=4)
    findings = run(healthy(scheduled_actions=(never,)))
    (f,) = [f for f in of("schedule", findings) if f.severity != "ok" and f.subject == "feb-30"]
    assert f.severity == "error" and "cannot run" in f.found


def test_a_cron_whose_next_run_is_after_the_end_is_a_warning():
    # fires on 1 December; the action ends at the end of November
    late = ScheduledAction(name="late", recurrence="0 7 1 DEC *", end_time=NOW + timedelta(days=20), min_size=4)
    findings = run(healthy(scheduled_actions=healthy().scheduled_actions + (late,)))
    (f,) = [f for f in of("schedule", findings) if f.subject == "late"]
    assert f.severity == "warning"


def test_a_configured_action_missing_in_aws_is_a_warning():
    findings = run(healthy(scheduled_actions=()))
    (f,) = of("schedule", findings)
    assert f.severity == "warning" and "weekday-morning" in f.found


# --------------------------------------------------------------------------- load balancer


def test_lor_and_sticky_target_group_passes():
    assert severities("target-group", run()) == ["ok", "ok"]


def test_round_robin_and_no_stickiness_are_info_with_the_cli_fix():
    findings = run(healthy(target_groups=(target_group(algorithm="round_robin", stickiness_enabled=False),)))
    assert severities("target-group", findings) == ["info", "info"]
    fixes = " ".join(f.fix for f in of("target-group", findings))
    assert "least_outstanding_requests" in fixes and "stickiness.enabled,Value=true" in fixes


def test_idle_timeout_of_60_passes():
    assert severities("idle-timeout", run()) == ["ok"]


def test_a_short_idle_timeout_is_a_warning():
    (f,) = of("idle-timeout", run(healthy(target_groups=(target_group(idle_timeout=20),))))
    assert f.severity == "warning" and "20 s" in f.found and "idle_timeout.timeout_seconds,Value=60" in f.fix


# --------------------------------------------------------------------------- instances


def test_instance_checks_are_skipped_without_facts():
    assert of("open-files", run(instance_facts=None)) == []


def test_an_unreachable_host_is_a_finding_not_an_exception():
    from wsfleet.model import InstanceFacts

    down = InstanceFacts(instance_id="i-dead", error="timeout", detail="timed out after 3 s")
    findings = run(instance_facts=[facts("i-0000"), down])
    (f,) = of("instance-reach", findings)
    assert f.severity == "warning" and "i-dead" in f.found and "1 of 2" in f.found


def test_nothing_listening_on_the_port_is_an_error():
    findings = run(instance_facts=[facts("i-0000"), facts("i-0001", listening=False, service_pids=(), open_files=None)])
    (f,) = of("service-listening", findings)
    assert f.severity == "error" and "i-0001" in f.found


def test_open_files_at_the_seeds_limit_passes():
    assert severities("open-files", run(instance_facts=[facts()])) == ["ok"]


def test_the_default_1024_open_files_is_an_error():
    (f,) = of("open-files", run(instance_facts=[facts(open_files=1024)]))
    assert f.severity == "error" and "1,024" in f.found and "LimitNOFILE=1048576" in f.fix


def test_open_files_below_twice_the_ceiling_is_a_warning():
    (f,) = of("open-files", run(instance_facts=[facts(open_files=40000)]))
    assert f.severity == "warning"


def test_an_invisible_service_process_is_info():
    (f,) = of("open-files", run(instance_facts=[facts(service_pids=(), open_files=None)]))
    assert f.severity == "info" and "sudo ss -Htlnp 'sport = :443'" in f.fix


def test_the_seeds_port_range_passes():
    assert severities("port-range", run(instance_facts=[facts()])) == ["ok"]


def test_a_port_range_narrower_than_the_ceiling_is_a_warning():
    (f,) = of("port-range", run(instance_facts=[facts(port_range=(40000, 60999))]))
    assert f.severity == "warning" and "10000 65535" in f.fix


def test_nginx_keepalive_above_the_alb_idle_timeout_passes():
    assert severities("nginx-keepalive", run(instance_facts=[facts()])) == ["ok"]


def test_nginx_keepalive_at_the_alb_idle_timeout_is_a_warning():
    (f,) = of("nginx-keepalive", run(instance_facts=[facts(nginx_keepalive=(60.0,))]))
    assert f.severity == "warning" and "keepalive_timeout 65;" in f.fix


def test_nginx_default_keepalive_is_compared_with_a_longer_idle_timeout():
    # no keepalive_timeout in the config: nginx's 75 s, under an ALB idle timeout of 120 s
    status = healthy(target_groups=(target_group(idle_timeout=120),))
    (f,) = of("nginx-keepalive", run(status, instance_facts=[facts(nginx_keepalive=())]))
    assert f.severity == "warning" and "default" in f.found


def test_no_nginx_means_no_keepalive_finding():
    assert of("nginx-keepalive", run(instance_facts=[facts(nginx_present=False, nginx_readable=False, nginx_keepalive=())])) == []


def test_a_few_close_wait_sockets_pass():
    assert severities("close-wait", run(instance_facts=[facts(close_wait=3)])) == ["ok"]


def test_many_close_wait_sockets_are_a_warning():
    (f,) = of("close-wait", run(instance_facts=[facts("i-0000", close_wait=900), facts("i-0001", close_wait=2)]))
    assert f.severity == "warning" and "i-0000 (900)" in f.found and "i-0001" not in f.found


def test_many_instances_are_summarised_not_listed():
    many = [facts(f"i-{i:04x}", open_files=1024) for i in range(40)]
    (f,) = of("open-files", run(instance_facts=many))
    assert "and 35 more" in f.found


def test_a_status_read_without_problems_says_nothing_about_it():
    assert of("aws-read", run()) == []


def test_a_part_of_the_read_that_failed_is_a_warning():
    status = dataclasses.replace(healthy(warm_pool=None), problems=("reading the warm pool of prod-chat-asg failed: AccessDenied (autoscaling:DescribeWarmPool).",))
    (f,) = of("aws-read", run(status))
    assert f.severity == "warning" and "DescribeWarmPool" in f.found


def test_an_inverted_scheduled_action_is_fixed_by_swapping_min_and_max():
    bad = ScheduledAction(name="peak", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=8, max_size=6, desired_capacity=7)
    (f,) = [f for f in of("schedule", run(healthy(scheduled_actions=healthy().scheduled_actions + (bad,)))) if f.subject == "peak"]
    assert f.fix == "wsfleet schedule put peak --cron '0 7 * * MON-FRI' --time-zone Europe/Berlin --min 6 --max 8 --desired 7"


def test_a_broken_action_from_the_config_says_to_fix_the_config_too():
    bad = ScheduledAction(name="weekday-morning", recurrence="0 7 * * MON-FRI", min_size=20)
    (f,) = of("schedule", run(healthy(scheduled_actions=(bad,))))
    assert f.fix.startswith("wsfleet schedule put weekday-morning --cron '0 7 * * MON-FRI' --min 20 --max 20")
    assert "[[fleets.prod-chat.schedule]]" in f.fix


def test_an_alarm_in_a_shape_no_check_expects_is_a_warning_not_a_crash():
    odd = high_alarm(evaluation_periods=5, datapoints_to_alarm=7)  # AWS refuses it; the evaluator too
    findings = run(healthy(high_alarm=odd))
    assert any(f.check == "missing-data" and f.severity == "warning" and "could not run" in f.found for f in findings)
    assert of("flap", findings)  # the other checks still ran


def test_an_anomaly_band_comparison_is_an_error_and_missing_data_still_checked():
    odd = high_alarm(comparison="LessThanLowerOrGreaterThanUpperThreshold", treat_missing_data="breaching")
    findings = run(healthy(high_alarm=odd))
    assert "error" in severities("alarm-config", findings)
    assert severities("missing-data", findings) == ["ok", "warning"]


def test_even_connections_pass_the_balance_check():
    fs = [facts("i-0000", established=12000), facts("i-0001", established=11000), facts("i-0002", established=13000)]
    assert severities("balance", run(instance_facts=fs)) == ["ok"]


def test_a_rolling_deploy_leaving_new_instances_empty_is_a_warning():
    fs = [facts("i-old1", established=19000), facts("i-old2", established=18500), facts("i-new", established=400)]
    (f,) = of("balance", run(instance_facts=fs))
    assert f.severity == "warning" and "i-old1 holds 19,000" in f.found and "i-new holds 400" in f.found
    assert "1.50×" in f.found and "wsfleet check --max-skew 1.25" in f.fix


def test_the_balance_limit_is_the_fleets_max_skew():
    fs = [facts("i-0000", established=14000), facts("i-0001", established=10000)]  # skew 1.17
    strict = dataclasses.replace(FLEET, counts=dataclasses.replace(FLEET.counts, max_skew=1.1))
    assert severities("balance", run(instance_facts=fs)) == ["ok"]
    assert severities("balance", run(fleet=strict, instance_facts=fs)) == ["warning"]


def test_per_instance_service_ports_are_named_as_the_service_port():
    fs = [facts("i-0000", listening=False, service_port=9001), facts("i-0001", service_port=9002)]
    (f,) = of("service-listening", run(instance_facts=fs))
    assert "nothing listens on the service port on i-0000" in f.found


def test_no_silent_connections_pass():
    assert severities("silent-connections", run(instance_facts=[facts(silent=(40, 0, 0))])) == ["ok"]


def test_connections_silent_beyond_the_alb_idle_timeout_are_a_warning():
    # ALB idle timeout 60 s: silent for 5 min means nobody is behind them
    (f,) = of("silent-connections", run(instance_facts=[facts("i-0000", silent=(900, 600, 10)), facts("i-0001", silent=(5, 0, 0))]))
    assert f.severity == "warning" and "i-0000 (600 of 12,000)" in f.found and "5 min" in f.found and "i-0001" not in f.found


def test_without_a_load_balancer_only_an_hour_of_silence_counts():
    status = healthy(target_groups=())
    assert severities("silent-connections", run(status, instance_facts=[facts(silent=(900, 600, 10))])) == ["ok"]
    (f,) = of("silent-connections", run(status, instance_facts=[facts(silent=(900, 600, 400))]))
    assert f.severity == "warning" and "1 h" in f.found


SILENT_20S = dataclasses.replace(FLEET, doctor=DoctorConfig(silent_after=20))


def test_a_configured_silence_threshold_passes_when_few_connections_pass_it():
    # 280 = 1 % of the 28,000 ceiling; the 60 s / 5 min / 1 h buckets no longer decide
    fs = [facts("i-0000", silent=(900, 600, 400), silent_over=279), facts("i-0001", silent_over=0)]
    (f,) = of("silent-connections", run(fleet=SILENT_20S, instance_facts=fs))
    assert f.severity == "ok" and "at most 279 connections on port 443 silent for 20 s or more, across 2 instances" in f.found


def test_connections_silent_past_the_configured_threshold_are_a_warning():
    fs = [facts("i-0000", silent=(0, 0, 0), silent_over=280), facts("i-0001", silent_over=3)]
    (f,) = of("silent-connections", run(fleet=SILENT_20S, instance_facts=fs))
    assert f.severity == "warning" and "i-0000 (280 of 12,000)" in f.found and "i-0001" not in f.found
    assert "no data either way for 20 s or more" in f.found and "[fleets.prod-chat.doctor] silent_after = 20" in f.found


def test_a_configured_threshold_in_minutes_reads_as_minutes():
    fleet = dataclasses.replace(FLEET, doctor=DoctorConfig(silent_after=120))
    (f,) = of("silent-connections", run(fleet=fleet, instance_facts=[facts(silent_over=500)]))
    assert f.severity == "warning" and "for 2 min or more" in f.found and "silent_after = 120:" in f.found


def test_a_configured_threshold_with_facts_that_lack_its_count_says_nothing():
    # facts read without the threshold (or from /proc, no timers): nothing to judge, not a pass
    assert of("silent-connections", run(fleet=SILENT_20S, instance_facts=[facts(silent=(900, 600, 400))])) == []


def test_a_very_long_idle_timeout_leaves_silence_unjudged():
    status = healthy(target_groups=(target_group(idle_timeout=4000),))
    assert of("silent-connections", run(status, instance_facts=[facts(silent=(900, 600, 400))])) == []


# --------------------------------------------------------------------------- suspended scaling


def test_alarm_notification_suspended_with_no_refresh_running_is_an_error():
    status = healthy(group=dataclasses.replace(group(), suspended_processes=("AlarmNotification",)))
    (f,) = of("suspended-scaling", run(status))
    assert f.severity == "error" and "no instance refresh is running" in f.found
    assert f.fix.startswith(f"aws autoscaling resume-processes --auto-scaling-group-name {ASG} --scaling-processes AlarmNotification")


def test_alarm_notification_suspended_for_a_running_wsfleet_refresh_is_info():
    from wsfleet.aws.refresh import RESUME_TAG
    from wsfleet.model import InstanceRefresh

    g = dataclasses.replace(group(), suspended_processes=("AlarmNotification",), tags=((RESUME_TAG, "2026-12-02T10:00:00+00:00"),))
    status = healthy(group=g, instance_refresh=InstanceRefresh("r-1", "InProgress", percentage_complete=40))
    (f,) = of("suspended-scaling", run(status))
    assert f.severity == "info" and "wsfleet resumes it when the refresh ends" in f.found and f.fix == ""


def test_slow_start_is_named_when_least_outstanding_requests_is_suggested():
    findings = run(healthy(target_groups=(target_group(algorithm="round_robin", slow_start=30),)))
    (f,) = [x for x in of("target-group", findings) if "routes round robin" in x.found]
    assert "slow start is on (30 s)" in f.why and "wsfleet rebalance --switch-algorithm" in f.fix
