"""The metric-ratio check over constructed data: per-instance datapoints next to exact counts."""

from __future__ import annotations

from datetime import timedelta

from tests.doctor.fleets import FLEET, NOW, facts, healthy
from wsfleet import doctor
from wsfleet.doctor.metric_ratio import InstanceMetric, check_metric_ratio, pair

IDS = ["i-0000", "i-0001", "i-0002", "i-0003"]
COUNTED = NOW + timedelta(seconds=20)  # counts taken at 12:00:20: their minute is 12:00


def metric(values, minute=NOW, ids=IDS) -> InstanceMetric:
    return InstanceMetric(COUNTED, 60, {i: ((minute, float(v)),) for i, v in zip(ids, values)})


def fleet_facts(counts, ids=IDS):
    return [facts(i, established=c) for i, c in zip(ids, counts)]


def one(findings):
    (f,) = [f for f in findings if f.check == "metric-ratio"]
    return f


def test_an_exact_metric_is_ok():
    f = one(check_metric_ratio(FLEET, fleet_facts([12000, 11000, 13000, 12500]), metric([12000, 11005, 12990, 12500])))
    assert f.severity == "ok" and "= 1.00 over 4 of 4 instances" in f.found


def test_a_host_wide_metric_names_the_ratio_and_what_the_thresholds_mean():
    counts = [3000, 3200, 2800, 3000]
    f = one(check_metric_ratio(FLEET, fleet_facts(counts), metric([c * 2.9 for c in counts])))
    assert f.severity == "warning"
    assert "= 2.90" in f.found and "2.9 sockets per client" in f.found
    # 20,000 / 2.9 and 9,500 / 2.9, from the fleet's own thresholds
    assert "scale-out at 20,000 fires at about 6,897 clients" in f.found and "scale-in at 9,500 at about 3,276" in f.found
    assert "below the 9,500 clients you meant for scale-in" in f.why
    assert "exact per-port count" in f.fix and "wsfleet thresholds set --high 58000 --low 27550" in f.fix
    assert f.fix.startswith("publish the exact per-port count instead: wsfleet agent-config >") and "wsfleet agent-config --sender" in f.fix


def test_the_spread_across_instances_is_shown():
    f = one(check_metric_ratio(FLEET, fleet_facts([1000, 1000]), metric([2000, 3000])))
    assert "= 2.50" in f.found and "per instance 2.00–3.00" in f.found


def test_an_undercounting_metric_that_passes_the_ceiling_first_is_an_error():
    f = one(check_metric_ratio(FLEET, fleet_facts([10000, 10000]), metric([6000, 6000])))
    assert f.severity == "error" and "fires at about 33,333 clients" in f.found and "28,000" in f.why


def test_few_connections_are_not_compared():
    f = one(check_metric_ratio(FLEET, fleet_facts([3, 4, 2, 5]), metric([5, 7, 6, 8])))
    assert f.severity == "info" and f.found.startswith("too few connections to compare")


def test_no_per_instance_datapoints_cannot_compare():
    f = one(check_metric_ratio(FLEET, fleet_facts([12000] * 4), InstanceMetric(COUNTED, 60, {})))
    assert f.severity == "info" and "no per-instance datapoints" in f.found


def test_datapoints_from_other_minutes_are_not_paired():
    stale = metric([24000] * 4, minute=NOW - timedelta(minutes=3))
    f = one(check_metric_ratio(FLEET, fleet_facts([12000] * 4), stale))
    assert f.severity == "info" and "11:57" in f.found and "12:00" in f.found


def test_pairing_takes_the_count_minute_else_the_nearest_within_a_period():
    points = ((NOW - timedelta(minutes=2), 1.0), (NOW - timedelta(minutes=1), 2.0), (NOW, 3.0))
    assert pair(points, COUNTED, 60) == (NOW, 3.0)
    assert pair(points[:2], COUNTED, 60) == (NOW - timedelta(minutes=1), 2.0)
    assert pair(points[:1], COUNTED, 60) is None


def test_unreachable_instances_are_skipped_and_counted():
    f_list = fleet_facts([3000, 3000, 3000]) + [facts("i-0003", error="timeout", established=None)]
    f = one(check_metric_ratio(FLEET, f_list, metric([6000, 6000, 6000, 9999])))
    assert "over 3 of 4 instances (1 unreachable" in f.found and "= 2.00" in f.found


def test_a_failed_read_and_skipped_instances():
    f = one(check_metric_ratio(FLEET, fleet_facts([12000]), InstanceMetric(COUNTED, error="access denied")))
    assert f.severity == "info" and "access denied" in f.found
    assert check_metric_ratio(FLEET, None, metric([1])) == []
    assert one(check_metric_ratio(FLEET, fleet_facts([12000]), None)).found.startswith("the per-instance metric")


def test_diagnose_runs_it_with_the_instance_checks():
    counts = [3000] * 4
    findings = doctor.diagnose(FLEET, healthy(), fleet_facts(counts), instance_metric=metric([c * 3 for c in counts]))
    assert one(findings).severity == "warning"
    assert "metric-ratio" in doctor.CHECKS
    assert not [f for f in doctor.diagnose(FLEET, healthy(), None) if f.check == "metric-ratio"]
