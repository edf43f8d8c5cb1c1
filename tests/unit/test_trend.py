"""The imbalance's trend: least squares over the window's skew points, hand-computed series, and
the history's memory bounds."""

from __future__ import annotations

import math

import pytest

from wsfleet.trend import MIN_POINTS, CountHistory, Trend, estimate, fit_line, fmt_eta

TARGET = 1.25


def test_a_steady_drain_is_shrinking_with_the_time_to_the_target():
    # skew falls 0.1 a minute: 2.0, 1.9, 1.8, 1.7. The line reaches 1.25 after (1.7 - 1.25) / 0.1 = 4.5 more minutes.
    t = estimate([(0, 2.0), (60, 1.9), (120, 1.8), (180, 1.7)], TARGET)
    assert t.direction == "shrinking" and t.points == 4 and t.span_s == 180
    assert t.rate_per_min == pytest.approx(-0.1)
    assert t.eta_s == pytest.approx(270)
    assert (t.skew, t.first_skew) == (1.7, 2.0)


def test_a_noisy_drain_is_fitted_by_least_squares():
    # t = 0, 60, 120, 180 (mean 90, Sxx = 18,000); skew 1.80, 1.70, 1.75, 1.60 (mean 1.7125)
    # Sxy = -90*0.0875 - 30*-0.0125 + 30*0.0375 + 90*-0.1125 = -16.5, so the slope is -16.5 / 18,000 per s
    # = -0.055 a minute; intercept 1.7125 + 0.0825 = 1.795; at t = 180 the line is at 1.63.
    # Residuals 0.005, -0.04, 0.065, -0.03: SSR = 0.00675, stderr = sqrt(0.00675 / 2 / 18,000) = 4.330e-4 per s,
    # and |slope| = 9.167e-4 per s is 2.12 stderrs: shrinking. (1.63 - 1.25) / 9.167e-4 = 414.5 s.
    fit = fit_line([(0, 1.80), (60, 1.70), (120, 1.75), (180, 1.60)])
    assert fit.slope == pytest.approx(-16.5 / 18000)
    assert fit.intercept == pytest.approx(1.795)
    assert fit.stderr == pytest.approx(math.sqrt(0.00675 / 2 / 18000))
    assert fit.at(180) == pytest.approx(1.63)
    t = estimate([(0, 1.80), (60, 1.70), (120, 1.75), (180, 1.60)], TARGET)
    assert t.direction == "shrinking"
    assert t.rate_per_min == pytest.approx(-0.055)
    assert t.eta_s == pytest.approx(0.38 / (16.5 / 18000))  # 414.5 s
    assert t.sentence() == "shrinking: skew 1.60 → under 1.25 in ~7 min at the current churn"


def test_noise_without_a_clear_slope_is_steady():
    # 1.80, 1.90, 1.70, 1.85: Sxy = -1.5, slope -8.33e-5 per s, a fitted change of -0.015 over 3 minutes (< 0.02)
    t = estimate([(0, 1.80), (60, 1.90), (120, 1.70), (180, 1.85)], TARGET)
    assert t.direction == "steady" and t.eta_s is None
    assert t.rate_per_min == pytest.approx(-1.5 / 18000 * 60)
    assert t.sentence() == "not converging: old instances keep their connections (skew steady at 1.85)"


def test_a_slope_within_two_standard_errors_is_steady_even_when_large():
    # 2.0, 1.2, 2.0, 1.4: Sxy = -90*0.35 - 30*-0.45 + 30*0.35 + 90*-0.25 = -30, slope -1/600 per s: a change of -0.3;
    # residuals 0.15, -0.55, 0.35, -0.15: SSR = 0.46, stderr = sqrt(0.23 / 18000) = 3.57e-3 per s > |slope|
    t = estimate([(0, 2.0), (60, 1.2), (120, 2.0), (180, 1.4)], TARGET)
    assert t.rate_per_min == pytest.approx(-0.1)
    assert t.direction == "steady"


def test_a_growing_skew_does_not_converge():
    t = estimate([(0, 1.3), (60, 1.4), (120, 1.5), (180, 1.6)], TARGET)
    assert t.direction == "growing" and t.eta_s is None
    assert t.rate_per_min == pytest.approx(0.1)
    assert t.sentence() == "not converging: skew 1.60 growing (+0.10/min)"


def test_a_flat_skew_is_steady():
    t = estimate([(0, 1.8), (5, 1.8), (10, 1.8), (15, 1.8)], TARGET)
    assert (t.direction, t.rate_per_min, t.eta_s) == ("steady", 0.0, None)


@pytest.mark.parametrize("n", range(MIN_POINTS))
def test_fewer_than_the_minimum_sweeps_give_no_trend(n):
    t = estimate([(10 * i, 2.0 - 0.1 * i) for i in range(n)], TARGET)
    assert t.direction == "unknown" and t.eta_s is None and t.points == n
    assert t.sentence() == f"not enough sweeps yet ({n} of {MIN_POINTS}) for a trend"


def test_points_all_at_one_time_give_no_trend():
    assert estimate([(5, 2.0), (5, 1.9), (5, 1.8), (5, 1.7)], TARGET).direction == "unknown"


def test_within_the_target_the_sentence_says_so():
    assert estimate([(0, 1.4), (60, 1.3), (120, 1.2), (180, 1.1)], TARGET).sentence() == "shrinking: skew 1.10, within 1.25"
    assert estimate([(0, 1.1)] * 1 + [(60, 1.1), (120, 1.1), (180, 1.1)], TARGET).sentence() == "steady: skew 1.10, within 1.25"
    growing = estimate([(0, 1.0), (60, 1.05), (120, 1.1), (180, 1.15)], TARGET)
    assert growing.sentence() == "growing: skew 1.15 (+0.05/min), within 1.25 for now"


def test_a_line_already_past_the_target_is_due_within_a_minute():
    # 1.70, 1.50, 1.20, 1.26: Sxy = -48.6, slope -0.0027 per s (3.1 stderrs), intercept 1.658; the line is at
    # 1.172 at the newest point, under the target, while the newest skew 1.26 is still above it
    t = estimate([(0, 1.70), (60, 1.50), (120, 1.20), (180, 1.26)], TARGET)
    assert t.rate_per_min == pytest.approx(-48.6 / 18000 * 60)
    assert t.direction == "shrinking" and t.eta_s == 0.0
    assert t.sentence() == "shrinking: skew 1.26 → under 1.25 within a minute at the current churn"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "within a minute"), (59, "within a minute"), (60, "in ~1 min"), (689, "in ~11 min"), (690, "in ~12 min"),
    (5340, "in ~89 min"), (5400, "in ~1.5 h"), (86400, "in ~24.0 h"), (86401, "in more than a day"), (None, "in more than a day"),
])
def test_eta_wording(seconds, text):
    assert fmt_eta(seconds) == text


def test_the_history_feeds_the_estimate_sweep_by_sweep():
    h = CountHistory()
    for i, (hot, cold) in enumerate([(300, 100), (280, 110), (260, 120), (240, 130)]):
        mean = (hot + cold) / 2
        h.record_sweep(60.0 * i, {"i-hot": hot, "i-cold": cold, "i-dead": None}, hot / mean)
    assert h.counts("i-hot") == [300, 280, 260, 240] and h.counts("i-hot", last=2) == [260, 240]
    assert h.counts("i-dead") == [] and h.instances == 2 and h.total_points == 8
    assert [round(s, 4) for _, s in h.skews()] == [1.5, 1.4359, 1.3684, 1.2973]
    assert h.trend(TARGET).direction == "shrinking"


def test_a_ring_buffer_keeps_the_last_points_per_instance():
    h = CountHistory(points=3)
    for i in range(10):
        h.observe("i-1", float(i), i)
    assert h.counts("i-1") == [7, 8, 9]


def test_the_skew_window_keeps_the_last_points():
    h = CountHistory(window=4)
    for i in range(10):
        h.observe_skew(float(i), 2.0 - 0.01 * i)
    assert [t for t, _ in h.skews()] == [6.0, 7.0, 8.0, 9.0]
    h.observe_skew(10.0, None)  # nothing measured: no point
    assert len(h.skews()) == 4


def test_instances_gone_for_a_while_are_dropped():
    h = CountHistory(forget_after_s=600)
    h.record_sweep(0, {"i-old": 5, "i-new": 5}, 1.0)
    h.record_sweep(600, {"i-new": 6}, 1.0)
    assert h.counts("i-old") == [5]  # gone for exactly 600 s: kept
    h.record_sweep(601, {"i-new": 7}, 1.0)
    assert h.counts("i-old") == [] and h.counts("i-new") == [5, 6, 7]


def test_the_total_cap_drops_instances_seen_longest_ago_first():
    h = CountHistory(points=10, max_points=15, forget_after_s=1e9)
    h.record_sweep(0, {"i-a": 1, "i-b": 1}, 1.0)
    h.record_sweep(1, {"i-b": 2, "i-c": 2}, 1.0)
    for t in range(2, 7):
        h.record_sweep(t, {"i-b": t, "i-c": t}, 1.0)
    # 1 + 7 + 6 = 14 points
    assert h.counts("i-a") == [1] and h.total_points == 14
    h.record_sweep(7, {"i-b": 7, "i-c": 7}, 1.0)  # 16: i-a, seen longest ago, goes first
    assert h.counts("i-a") == [] and h.total_points == 15 and h.instances == 2


def test_the_total_cap_cuts_every_buffer_when_all_are_current():
    h = CountHistory(points=32, max_points=100, forget_after_s=1e9)
    for t in range(40):
        h.record_sweep(float(t), {f"i-{k}": t for k in range(10)}, 1.0)
    assert h.instances == 10 and h.total_points <= 100
    assert h.counts("i-3") == list(range(30, 40))


def test_memory_stays_bounded_for_1000_instances_over_hours():
    h = CountHistory()
    for sweep in range(2000):  # almost 3 hours at 5 s; a tenth of the fleet replaced every 200 sweeps
        generation = sweep // 200
        h.record_sweep(5.0 * sweep, {f"i-{generation}-{k}" if k < 100 else f"i-{k}": k for k in range(1000)}, 1.0)
    assert h.instances <= 1000 + 100 * (600 // 5 // 200 + 1)
    assert h.total_points <= h.max_points


def test_a_trend_value_is_immutable():
    with pytest.raises(AttributeError):
        Trend("steady", 1.25, 4).direction = "shrinking"  # type: ignore[misc]
