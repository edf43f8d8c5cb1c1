"""Cron recurrence of scheduled actions: what AWS accepts, and when it runs next in its time zone."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from wsfleet.cron import next_run, next_runs, parse_cron, zone
from wsfleet.errors import ConfigError

UTC = timezone.utc


def test_weekday_mornings_parse_with_names():
    s = parse_cron("0 7 * * MON-FRI")
    assert s.minutes == {0} and s.hours == {7}
    assert s.weekdays == {1, 2, 3, 4, 5}
    assert s.months == set(range(1, 13))


def test_steps_lists_and_month_names():
    s = parse_cron("*/15 8-18/2 1,15 jan,JUL-SEP *")
    assert s.minutes == {0, 15, 30, 45}
    assert s.hours == {8, 10, 12, 14, 16, 18}
    assert s.days == {1, 15}
    assert s.months == {1, 7, 8, 9}


def test_start_with_step_runs_to_the_end_of_the_field():
    assert parse_cron("5/20 * * * *").minutes == {5, 25, 45}


@pytest.mark.parametrize(
    "expr, words",
    [
        ("0 0 7 * * MON-FRI", "6 fields"),
        ("0 7 * *", "4 fields"),
        ("", "0 fields"),
        ("60 7 * * *", "minute 60 is out of range"),
        ("0 24 * * *", "hour 24 is out of range"),
        ("0 7 0 * *", "day of month 0 is out of range"),
        ("0 7 * 13 *", "month 13 is out of range"),
        ("0 7 * * 7", "day of week 7 is out of range"),
        ("0 7 * * MON-FRX", 'day of week "FRX" is not'),
        ("0 7 * FOO *", 'month "FOO" is not'),
        ("*/0 * * * *", "step"),
        ("0 7 * * FRI-MON", "runs backwards"),
        ("0 7 1,,2 * *", "empty list item"),
        ("0 7 31 FEB,APR *", "never occurs"),
        ("x 7 * * *", 'minute "x" is not a number'),
    ],
)
def test_bad_cron_is_one_sentence_naming_the_field(expr, words):
    with pytest.raises(ConfigError) as e:
        parse_cron(expr)
    msg = str(e.value)
    assert words in msg
    assert msg.count("\n") == 0 and msg.endswith(".")


def test_feb_29_is_possible():
    parse_cron("0 0 29 2 *")


def test_next_run_is_in_the_actions_time_zone():
    after = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday, 13:00 in Berlin
    nxt = next_run("0 7 * * MON-FRI", "Europe/Berlin", after)
    assert nxt == datetime(2026, 11, 27, 7, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert nxt.utcoffset().total_seconds() == 3600


def test_next_run_skips_the_weekend():
    after = datetime(2026, 11, 27, 7, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # Friday 07:00 exactly
    assert next_run("0 7 * * MON-FRI", "Europe/Berlin", after) == datetime(2026, 11, 30, 7, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_wall_clock_time_stays_put_across_dst():
    runs = next_runs("0 7 * * *", "Europe/Berlin", datetime(2026, 3, 27, 12, 0, tzinfo=UTC), 3)
    assert [r.hour for r in runs] == [7, 7, 7]
    assert [r.astimezone(UTC).hour for r in runs] == [6, 5, 5]  # CET until 29 March, then CEST


def test_time_in_the_spring_forward_gap_does_not_run():
    # 2026-03-29 02:30 does not exist in Berlin
    nxt = next_run("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert nxt == datetime(2026, 3, 30, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"))


def test_repeated_hour_runs_once():
    runs = next_runs("30 2 * * *", "Europe/Berlin", datetime(2026, 10, 24, 12, 0, tzinfo=UTC), 3)
    assert [r.date().day for r in runs] == [25, 26, 27]


def test_day_of_month_or_day_of_week_when_both_given():
    # Vixie cron: the 1st of the month OR any Monday
    runs = next_runs("0 0 1 * MON", "UTC", datetime(2026, 11, 26, tzinfo=UTC), 3)
    assert [r.date().isoformat() for r in runs] == ["2026-11-30", "2026-12-01", "2026-12-07"]


def test_default_time_zone_is_utc():
    nxt = next_run("*/5 * * * *", None, datetime(2026, 1, 1, 0, 2, 30, tzinfo=UTC))
    assert nxt == datetime(2026, 1, 1, 0, 5, tzinfo=ZoneInfo("UTC"))


def test_leap_day_years_away():
    nxt = next_run("0 0 29 2 *", "UTC", datetime(2097, 1, 1, tzinfo=UTC))
    assert nxt.date().isoformat() == "2104-02-29"


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "europe/berlin "])
def test_unknown_time_zone_is_rejected(name):
    with pytest.raises(ConfigError, match="is not an IANA time zone"):
        zone(name)


def test_known_time_zone():
    assert zone("America/New_York").key == "America/New_York"
