"""What-if replay of a metric history through current and proposed scaling settings (issue 7).

The expected events below are worked out by hand from the module's load model: total load =
history average x history instances, spread over the simulated instances; the high alarm is the
seed's 5 of 5 one-minute periods, the low alarm 3 of 3 five-minute periods aligned to the start.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone

import pytest

from wsfleet.errors import ConfigError
from wsfleet.model import MetricSeries, ScaleInConfig, ScaleOutConfig, StepRange
from wsfleet.scaling import ALARM
from wsfleet.whatif import (
    MetricHistory,
    WhatIfConfig,
    compare,
    load_history_csv,
    parse_history_csv,
    propose,
    simulate,
)

SEED = WhatIfConfig()  # 20000 / 9500, +2/+2/+3, remove 1, cooldown 300, warm-up 150, ceiling 28000


def history(averages, instances=None, period=60):
    return MetricHistory(period=period, averages=tuple(averages), instances=None if instances is None else tuple(instances))


def summary(report):
    return [(e.kind, e.offset_s, e.before, e.after) for e in report.events]


# --------------------------------------------------------------------------- a morning spike


def spike():
    # 10 min at 15,000 per instance on 2 instances, 30 min at 45,000, 20 min back at 15,000
    return history([15000] * 10 + [45000] * 30 + [15000] * 20, instances=[2] * 60)


def test_spike_scales_out_three_at_once_after_five_breaching_minutes():
    report = simulate(spike(), replace_sizes(SEED, 2, 12))
    out = report.events[0]
    # minutes 10-14 breach (45,000 >= 20,000); the 5th evaluation fires the >= 30,000 step (+3)
    assert (out.kind, out.offset_s, out.before, out.after, out.value) == ("out", 900, 2, 5, 45000)
    assert report.high_states[14] == ALARM and report.high_states[15] != ALARM  # 90,000 / 5 = 18,000


def test_spike_scales_in_one_at_a_time_after_fifteen_quiet_minutes():
    report = simulate(spike(), replace_sizes(SEED, 2, 12))
    # back to 30,000 in all: 6,000 on 5 instances; buckets 40-44, 45-49, 50-54 breach <= 9,500
    assert summary(report) == [("out", 900, 2, 5), ("in", 3300, 5, 4), ("in", 3600, 4, 3)]
    assert [e.value for e in report.events[1:]] == [6000, 7500]  # 30,000 / 4 after the first


def test_spike_peak_time_over_ceiling_and_instance_hours():
    report = simulate(spike(), replace_sizes(SEED, 2, 12))
    assert report.peak_per_instance == 45000 and report.peak_period_index == 10
    assert report.seconds_over_capacity == 300  # minutes 10-14 above 28,000
    assert report.instance_hours == pytest.approx((2 * 15 + 5 * 40 + 4 * 5) / 60)
    assert (report.min_instances, report.max_instances, report.final_instances) == (2, 5, 3)
    assert report.flaps == ()


# --------------------------------------------------------------------------- a flapping sawtooth


def sawtooth(minutes=100):
    # per-instance average on 2 instances climbing 10,100 -> 10,400 in 5-minute teeth, repeating
    return history([10100 + 100 * ((t // 5) % 4) for t in range(minutes)], instances=[2] * minutes)


def test_seed_thresholds_leave_the_sawtooth_alone():
    report = simulate(sawtooth(), replace_sizes(SEED, 1, 12))
    assert report.events == () and report.flaps == ()
    assert report.peak_per_instance == 10400
    assert report.instance_hours == pytest.approx(200 / 60)


def test_a_low_threshold_of_10500_flaps_at_two_instances():
    proposed = propose(replace_sizes(SEED, 1, 12), low=10500)
    report = simulate(sawtooth(), proposed)
    # 2 -> 1 leaves 2 x ~10,300 >= 20,000 on one instance: scale-out 5 minutes later, +2 -> 3;
    # at 3 the average (~6,800) is below 10,500 again: two scale-ins (cooldown 300 s), and round.
    assert summary(report) == [
        ("in", 900, 2, 1), ("out", 1200, 1, 3),
        ("in", 2100, 3, 2), ("in", 2400, 2, 1), ("out", 2700, 1, 3),
        ("in", 3600, 3, 2), ("in", 3900, 2, 1), ("out", 4200, 1, 3),
        ("in", 5100, 3, 2), ("in", 5400, 2, 1), ("out", 5700, 1, 3),
    ]
    assert [(f.scale_in.offset_s, f.scale_out.offset_s, f.gap_s) for f in report.flaps] == [
        (900, 1200, 300), (2400, 2700, 300), (3900, 4200, 300), (5400, 5700, 300)
    ]
    assert report.peak_per_instance == 20800  # one instance holding both instances' load
    # instance-minutes: 15 at 2, three 25-minute rounds of (5 at 1, 15 at 3, 5 at 2), 5 at 1, 5 at 3
    assert report.instance_hours == pytest.approx((15 * 2 + 3 * (5 * 1 + 15 * 3 + 5 * 2) + 5 * 1 + 5 * 3) / 60)


def test_compare_puts_current_and_proposed_side_by_side():
    current = replace_sizes(SEED, 1, 12)
    result = compare(sawtooth(), current, propose(current, low=10500))
    rows = {what: (c, p) for what, c, p in result.rows()}
    assert rows["flaps"] == (0, 4)
    assert rows["scale-ins"] == (0, 7) and rows["scale-outs"] == (0, 4)
    assert rows["peak per instance"] == (10400, 20800)
    assert result.to_dict()["proposed"]["config"]["low"] == 10500


def test_a_short_flap_window_does_not_call_a_slow_return_a_flap():
    report = simulate(sawtooth(), propose(replace_sizes(SEED, 1, 12), low=10500), flap_periods=4)
    assert report.flaps == ()  # every return took 5 minutes


# --------------------------------------------------------------------------- a quiet night


def test_quiet_night_scales_in_to_min_size_and_stops():
    night = history([3000] * 120, instances=[4] * 120)  # 12,000 connections on 4 instances
    report = simulate(night, replace_sizes(SEED, 2, 12))
    assert summary(report) == [("in", 900, 4, 3), ("in", 1200, 3, 2)]
    assert [e.value for e in report.events] == [3000, 4000]
    assert report.final_instances == 2 and report.flaps == ()
    assert report.peak_per_instance == 6000
    assert report.instance_hours == pytest.approx((4 * 15 + 3 * 5 + 2 * 100) / 60)


# --------------------------------------------------------------------------- policy details


def test_warming_instances_count_against_the_next_step():
    fast = WhatIfConfig(scale_out=ScaleOutConfig(evaluation_periods=1, datapoints_to_alarm=1), min_size=2, max_size=20)
    # total 42,000 then 124,000 connections (history recorded on 2 instances)
    report = simulate(history([21000, 62000, 62000, 62000], instances=[2] * 4), fast)
    # t0: 21,000 -> +2 (4). t1: 31,000 -> +3, 2 still warming -> +1 (5). t2: 24,800 -> +2, 3 warming -> 0.
    # t3: the first two are warm (180 s >= 150), 1 still warming -> +1 (6)
    assert summary(report) == [("out", 60, 2, 4), ("out", 120, 4, 5), ("out", 240, 5, 6)]


def test_a_group_at_max_counts_the_scale_outs_it_could_not_make():
    report = simulate(spike(), replace_sizes(SEED, 2, 2))
    assert report.events == ()
    assert report.blocked_at_max == 30 - 4  # every minute of the spike from the 5th on
    assert report.seconds_over_capacity == 30 * 60


def test_the_seeds_breaching_low_alarm_scales_in_when_the_agent_goes_silent():
    silent = history([None] * 30, instances=[4] * 30)
    seed_slip = WhatIfConfig(scale_in=ScaleInConfig(treat_missing_data="breaching"), min_size=1, max_size=12)
    assert summary(simulate(silent, seed_slip)) == [("in", 300, 4, 3), ("in", 600, 3, 2), ("in", 900, 2, 1)]
    assert simulate(silent, replace_sizes(SEED, 1, 12)).events == ()  # notBreaching: nothing happens


def test_without_instance_counts_the_load_is_average_times_the_starting_size():
    report = simulate(history([3000] * 20), replace_sizes(SEED, 2, 12), initial_instances=4)
    assert report.instances[0] == 4 and report.events[0].kind == "in"


def test_a_metric_series_from_cloudwatch_can_be_replayed():
    start = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
    series = MetricSeries(period=60, timestamps=tuple(start + timedelta(minutes=i) for i in range(60)), values=spike().averages)
    report = simulate(series, replace_sizes(SEED, 2, 12), initial_instances=2)
    assert report.events[0].at == start + timedelta(seconds=900)


def test_a_history_coarser_than_the_alarm_is_refused():
    with pytest.raises(ConfigError, match="the history's period must divide the alarm's"):
        simulate(history([1, 2, 3], period=300), SEED)


def test_a_week_of_one_minute_data_replays_in_well_under_a_second():
    minutes = 7 * 24 * 60
    week = history([14000 + 9000 * math.sin(2 * math.pi * t / 1440) for t in range(minutes)], instances=[3] * minutes)
    began = time.perf_counter()
    result = compare(week, replace_sizes(SEED, 1, 12), propose(replace_sizes(SEED, 1, 12), low=10500))
    elapsed = time.perf_counter() - began
    assert result.current.periods == minutes and result.current.scale_outs > 0
    assert elapsed < 1.0, f"two replays of a week took {elapsed:.3f} s"


# --------------------------------------------------------------------------- proposals (rule 2)


def test_proposing_a_new_high_moves_the_steps_with_it():
    p = propose(SEED, high=22000)
    assert p.scale_out.steps == (StepRange(22000, 27000, 2), StepRange(27000, 32000, 2), StepRange(32000, None, 3))


def test_proposed_steps_must_start_at_the_new_high():
    with pytest.raises(ConfigError, match="not at the alarm threshold 22,000"):
        propose(SEED, high=22000, steps=(StepRange(20000, None, 2),))


def test_a_proposed_low_at_or_above_high_is_refused():
    with pytest.raises(ConfigError, match="not below the high threshold"):
        propose(SEED, low=20000)


def test_proposed_sizes_must_be_ordered():
    with pytest.raises(ConfigError, match="min size 5 and max size 4"):
        propose(SEED, min_size=5, max_size=4)


# --------------------------------------------------------------------------- CSV history


def test_csv_with_header_gaps_and_instances(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(
        "timestamp,value,instances\n"
        "2026-11-26T07:00:00Z,15000,2\n"
        "2026-11-26T07:01:00Z,16000,\n"
        "2026-11-26T07:03:00Z,,3\n"  # 07:02 is missing
    )
    h = load_history_csv(path)
    assert h.period == 60 and h.start == datetime(2026, 11, 26, 7, tzinfo=timezone.utc)
    assert h.averages == (15000, 16000, None, None)
    assert h.instances == (2, None, None, 3)


def test_csv_without_header_in_unix_seconds_any_order():
    h = parse_history_csv("1764140460,200\n1764140400,100\n1764140520,300\n")
    assert h.period == 60 and h.averages == (100, 200, 300) and h.instances is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no rows"),
        ("2026-11-26T07:00:00Z,1\n", "only one row"),
        ("2026-11-26T07:00:00Z,1\nyesterday,2\n", "line 2: 'yesterday' is not a timestamp"),
        ("2026-11-26T07:00:00Z,1\n2026-11-26T07:01:00Z,-5\n", "line 2: value -5 is below 0"),
        ("2026-11-26T07:00:00Z,1\n2026-11-26T07:01:00Z,lots\n", "line 2: value 'lots' is not a number"),
        ("2026-11-26T07:00:00Z,1,0\n2026-11-26T07:01:00Z,1,2\n", "line 1: instances 0 is below 1"),
        ("2026-11-26T07:00:00Z,1\n2026-11-26T07:00:00Z,2\n", "also appears on line 1"),
        ("2026-11-26T07:00:00Z,1\n2026-11-26T07:01:00Z,1\n2026-11-26T07:02:00Z,1\n2026-11-26T07:02:30Z,1\n", "not a multiple of the 60-second period"),
    ],
)
def test_bad_csv_rows_are_named_by_line(text, words):
    with pytest.raises(ConfigError, match=None) as err:
        parse_history_csv(text, "h.csv")
    assert str(err.value).startswith("h.csv: ") and words in str(err.value), str(err.value)


def test_a_missing_csv_says_what_to_give(tmp_path):
    with pytest.raises(ConfigError, match="history file not found"):
        load_history_csv(tmp_path / "none.csv")


def replace_sizes(config: WhatIfConfig, min_size: int, max_size: int) -> WhatIfConfig:
    return propose(config, min_size=min_size, max_size=max_size)
