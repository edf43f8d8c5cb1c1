"""Step bounds (rules 1 and 2), CloudWatch alarm semantics (rule 3) and flap safety (rule 5)."""

from __future__ import annotations

import math

import pytest

from wsfleet.errors import ConfigError
from wsfleet.model import ScaleOutConfig, StepAdjustment, StepRange
from wsfleet.scaling import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    breaches,
    evaluate_alarm,
    evaluate_window,
    flap_unsafe_sizes,
    format_steps_spec,
    max_flap_safe_low,
    parse_steps_spec,
    project_scale_in,
    shift_steps,
    step_for,
    to_absolute,
    to_relative,
    validate_steps,
)

SEED_STEPS = (StepRange(20000, 25000, 2), StepRange(25000, 30000, 2), StepRange(30000, None, 3))


# --------------------------------------------------------------------------- rule 1: relative bounds


def test_seed_steps_are_sent_relative_to_the_threshold():
    assert to_relative(20000, SEED_STEPS) == (
        StepAdjustment(0, 5000, 2),
        StepAdjustment(5000, 10000, 2),
        StepAdjustment(10000, None, 3),
    )


def test_the_model_defaults_are_the_seed_steps():
    assert ScaleOutConfig().steps == SEED_STEPS and ScaleOutConfig().threshold == 20000


def test_relative_bounds_come_back_absolute_in_order():
    unordered = (StepAdjustment(10000, None, 3), StepAdjustment(0, 5000, 2), StepAdjustment(5000, 10000, 2))
    assert to_absolute(20000, unordered) == SEED_STEPS


def test_a_missing_lower_bound_is_minus_infinity_and_is_reported():
    steps = to_absolute(20000, (StepAdjustment(None, 5000, 1), StepAdjustment(5000, None, 2)))
    assert steps[0].lower == -math.inf
    assert any("not at the alarm threshold" in p for p in validate_steps(20000, steps))


def test_seed_steps_are_valid():
    assert validate_steps(20000, SEED_STEPS) == []


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ((StepRange(21000, 25000, 2), StepRange(25000, None, 3)), "not at the alarm threshold"),
        ((StepRange(20000, 25000, 2), StepRange(26000, None, 3)), "leaving a gap"),
        ((StepRange(20000, 25000, 2), StepRange(24000, None, 3)), "overlapping"),
        ((StepRange(20000, 25000, 2), StepRange(25000, 30000, 3)), "must be open-ended"),
        ((StepRange(20000, None, 2), StepRange(25000, None, 3)), "only the last step may leave out"),
        ((StepRange(20000, 20000, 2), StepRange(20000, None, 3)), "`to` must be greater than `from`"),
        ((StepRange(20000, None, 0),), "at least 1 instance"),
        ((), "no steps"),
    ],
)
def test_broken_steps_are_named(steps, expected):
    problems = validate_steps(20000, steps)
    assert any(expected in p for p in problems), problems


def test_moving_the_threshold_alone_keeps_the_step_widths():
    assert shift_steps(20000, 22000, SEED_STEPS) == (
        StepRange(22000, 27000, 2),
        StepRange(27000, 32000, 2),
        StepRange(32000, None, 3),
    )
    # the relative bounds AWS holds do not change (rule 2)
    assert to_relative(22000, shift_steps(20000, 22000, SEED_STEPS)) == to_relative(20000, SEED_STEPS)


def test_steps_spec_parses_absolute_steps():
    assert parse_steps_spec("22000:25000:+2,25000:30000:+2,30000::+3") == (
        StepRange(22000, 25000, 2),
        StepRange(25000, 30000, 2),
        StepRange(30000, None, 3),
    )


def test_steps_spec_round_trips():
    assert parse_steps_spec(format_steps_spec(SEED_STEPS)) == SEED_STEPS


def test_steps_spec_allows_spaces_underscores_and_plain_counts():
    assert parse_steps_spec(" 20_000 : 25_000 : 2 , 25000::+3 ") == (StepRange(20000, 25000, 2), StepRange(25000, None, 3))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", "empty"),
        ("20000-25000:+2", "is not FROM:TO:+N"),
        ("20000:25000:-1,25000::+3", "is not FROM:TO:+N"),
        ("20000:25000:+2,26000::+3", "leaving a gap"),
        ("20000:25000:+2,25000:30000:+3", "must be open-ended"),
        ("abc::+1", "is not FROM:TO:+N"),
    ],
)
def test_bad_steps_spec_is_one_config_error(spec, expected):
    with pytest.raises(ConfigError) as err:
        parse_steps_spec(spec)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (19999, None),
        (20000, StepRange(20000, 25000, 2)),  # lower bound inclusive
        (24999.5, StepRange(20000, 25000, 2)),
        (25000, StepRange(25000, 30000, 2)),  # upper bound exclusive
        (30000, StepRange(30000, None, 3)),
        (1e9, StepRange(30000, None, 3)),
    ],
)
def test_which_step_fires(value, expected):
    assert step_for(value, 20000, SEED_STEPS) == expected


# --------------------------------------------------------------------------- rule 3: alarm semantics


@pytest.mark.parametrize(
    ("comparison", "at", "above", "below"),
    [
        ("GreaterThanOrEqualToThreshold", True, True, False),
        ("GreaterThanThreshold", False, True, False),
        ("LessThanThreshold", False, False, True),
        ("LessThanOrEqualToThreshold", True, False, True),
    ],
)
def test_comparison_operators(comparison, at, above, below):
    assert breaches(100, 100, comparison) is at
    assert breaches(101, 100, comparison) is above
    assert breaches(99, 100, comparison) is below


def test_unknown_comparison_is_refused():
    with pytest.raises(ValueError):
        breaches(1, 1, "GreaterThan")


HIGH = dict(threshold=20000, comparison="GreaterThanOrEqualToThreshold")


def states(values, n, m, treat, initial=INSUFFICIENT_DATA, **kw):
    return evaluate_alarm(values, evaluation_periods=n, datapoints_to_alarm=m, treat_missing_data=treat, initial=initial, **{**HIGH, **kw})


def test_seed_high_alarm_needs_five_breaching_minutes_in_a_row():
    values = [15000, 21000, 21000, 21000, 21000, 21000, 19000, 21000]
    assert states(values, 5, 5, "missing") == [OK, OK, OK, OK, OK, ALARM, OK, OK]


def test_a_new_metric_that_starts_breaching_waits_for_enough_datapoints():
    # before the series starts is missing data: four breaching points of a 5-of-5 alarm decide nothing
    values = [21000] * 5
    assert states(values, 5, 5, "missing") == [INSUFFICIENT_DATA] * 4 + [ALARM]


def test_m_of_n_needs_m_breaching_datapoints_anywhere_in_the_last_n():
    # 3 of 5: breaching points need not be consecutive
    values = [21000, 10000, 21000, 10000, 21000, 10000, 10000, 21000]
    assert states(values, 5, 3, "notBreaching") == [OK, OK, OK, OK, ALARM, OK, OK, OK]


def test_a_full_window_ignores_the_missing_data_setting():
    values = [21000] * 5 + [10000] * 5
    for treat in ("breaching", "notBreaching", "ignore", "missing"):
        assert states(values, 5, 5, treat)[4] == ALARM
        assert states(values, 5, 5, treat)[5:] == [OK] * 5


# AWS's documented tables ("How alarm state is evaluated when data is missing"): a range of 5
# datapoints, oldest first; 0 = not breaching, X = breaching, - = missing. "keep" = retain state.
AWS_3_OF_3 = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, "keep", ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - - - X", INSUFFICIENT_DATA, "keep", ALARM, OK),
    ("X - - - -", ALARM, "keep", ALARM, OK),
]
AWS_2_OF_3 = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - - X", INSUFFICIENT_DATA, "keep", ALARM, OK),
]


def window(text):
    return [{"0": 10000.0, "X": 25000.0, "-": None}[c] for c in text.split()]


@pytest.mark.parametrize("previous", [OK, ALARM, INSUFFICIENT_DATA])
@pytest.mark.parametrize(("m", "rows"), [(3, AWS_3_OF_3), (2, AWS_2_OF_3)], ids=["3-of-3", "2-of-3"])
def test_missing_data_matches_aws_documented_tables(m, rows, previous):
    for points, *expected in rows:
        for treat, want in zip(("missing", "ignore", "breaching", "notBreaching"), expected):
            got = evaluate_window(window(points), evaluation_periods=3, datapoints_to_alarm=m, treat_missing_data=treat, previous=previous, **HIGH)
            assert got == (previous if want == "keep" else want), f"{points} {treat}"


def test_breaching_missing_data_turns_a_silent_agent_into_an_alarm():
    # the seed's slip: a silent agent under treat_missing_data=breaching
    values = [10000, 10000, 10000, None, None, None, None, None]
    assert states(values, 3, 3, "breaching")[-1] == ALARM


def test_not_breaching_missing_data_goes_ok_when_the_agent_stops():
    values = [25000, 25000, 25000, None, None, None, None, None]
    got = states(values, 3, 3, "notBreaching")
    assert got[2] == ALARM and got[-1] == OK


def test_ignore_keeps_the_state_while_the_metric_is_silent():
    values = [25000, 25000, 25000] + [None] * 6
    got = states(values, 3, 3, "ignore")
    assert got[2] == ALARM and got[-1] == ALARM
    assert states([None] * 4, 3, 3, "ignore", initial=OK) == [OK] * 4


def test_missing_goes_to_insufficient_data_once_the_whole_range_is_empty():
    values = [25000, 25000, 25000] + [None] * 5
    got = states(values, 3, 3, "missing")
    # still ALARM while a breaching point is in the range, INSUFFICIENT_DATA after (range = 5)
    assert got == [INSUFFICIENT_DATA, INSUFFICIENT_DATA, ALARM, ALARM, ALARM, ALARM, ALARM, INSUFFICIENT_DATA]


def test_a_gap_inside_the_range_is_skipped_when_enough_points_remain():
    # 3 of 3 over the three most recent *present* points: 25000, 25000, 25000
    values = [25000, None, 25000, 25000]
    assert states(values, 3, 3, "notBreaching")[-1] == ALARM


def test_low_alarm_uses_less_than_or_equal():
    values = [9500, 9500, 9501, 9500, 9500, 9500]
    got = evaluate_alarm(values, threshold=9500, comparison="LessThanOrEqualToThreshold", evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="notBreaching")
    assert got == [OK, OK, OK, OK, OK, ALARM]


def test_bad_alarm_arguments_are_refused():
    with pytest.raises(ValueError):
        states([1], 3, 4, "missing")
    with pytest.raises(ValueError):
        states([1], 3, 3, "sometimes")


# --------------------------------------------------------------------------- rule 5: flap safety


def test_removing_one_of_two_at_10500_leaves_21000_which_reaches_the_high_threshold():
    p = project_scale_in(10500, 2, 1, 20000, 28000)
    assert (p.n, p.remaining, p.per_instance, p.reaches_high, p.over_capacity) == (2, 1, 21000, True, False)


def test_removing_one_of_two_at_the_seed_low_threshold_is_safe():
    p = project_scale_in(9500, 2, 1, 20000, 28000)
    assert p.per_instance == 19000 and not p.reaches_high


def test_removing_one_of_four_at_9500_leaves_12667():
    p = project_scale_in(9500, 4, 1, 20000, 28000)
    assert p.per_instance == pytest.approx(12666.67, abs=0.01) and not p.reaches_high


def test_projection_over_the_ceiling():
    p = project_scale_in(15000, 2, 1, 20000, 28000)
    assert p.per_instance == 30000 and p.reaches_high and p.over_capacity


def test_removing_every_instance_strands_the_connections():
    p = project_scale_in(100, 2, 5, 20000, 28000)
    assert p.remaining == 0 and p.per_instance is None and p.reaches_high and p.over_capacity
    idle = project_scale_in(0, 2, 2, 20000, 28000)
    assert not idle.reaches_high and not idle.over_capacity


def test_seed_low_threshold_is_flap_safe_at_every_size():
    assert flap_unsafe_sizes(9500, 20000, 1, 12) == []


def test_low_threshold_10500_flaps_at_two_instances():
    assert flap_unsafe_sizes(10500, 20000, 1, 12) == [2]


def test_a_group_at_min_size_cannot_scale_in_so_cannot_flap():
    assert flap_unsafe_sizes(10500, 20000, 2, 12) == []


def test_removing_two_at_a_time_is_less_safe():
    # 9500 * 3 / 1 = 28500, 9500 * 4 / 2 = 19000
    assert flap_unsafe_sizes(9500, 20000, 1, 12, remove=2) == [3]


def test_max_flap_safe_low_is_the_bound_at_the_worst_size():
    assert max_flap_safe_low(20000, 1, 12) == 10000  # n = 2 -> 20000 * 1 / 2
    assert max_flap_safe_low(20000, 3, 12) == pytest.approx(20000 * 3 / 4)
    assert max_flap_safe_low(20000, 5, 5) is None
