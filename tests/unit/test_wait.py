"""`check --wait DURATION` and `--interval S`: every accepted spelling, every refused one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from wsfleet.commands.check_wait import MAX_WAIT_S, WaitOptions, fmt_elapsed, parse_duration, wait_options
from wsfleet.errors import EXIT_USAGE, UsageError


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("90s", 90), ("2.5", 2.5), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("1m30s", 90),
    ("1h0m5s", 3605), ("0.5h", 1800), (" 15m ", 900), ("24h", MAX_WAIT_S),
])
def test_a_duration_is_seconds_or_hours_minutes_seconds_in_that_order(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "why"), [
    ("abc", "is not a duration"), ("10x", "is not a duration"), ("", "is not a duration"),
    ("1h30", "is not a duration"),  # 30 what? after a unit, seconds need their "s"
    ("30m1h", "is not a duration"), ("15 m", "is not a duration"), ("1e3", "is not a duration"),
    ("15M", "is not a duration"), ("nan", "is not a duration"), ("inf", "is not a duration"), ("m", "is not a duration"),
    ("-5m", "is negative"), ("-5", "is negative"),
    ("0", "is no time at all"), ("0s", "is no time at all"), ("0h0m", "is no time at all"),
    ("25h", "is longer than 24h00m"), ("86401", "is longer than 24h00m"),
])
def test_a_bad_duration_is_one_sentence_naming_the_option_and_the_fix(text, why):
    with pytest.raises(UsageError) as caught:
        parse_duration(text, "--wait")
    message = caught.value.message
    assert caught.value.exit_code == EXIT_USAGE
    assert message.startswith(f"--wait {text.strip()!r} {why}") and "e.g. 90, 90s, 15m, 1h or 1h30m" in message
    assert message.replace("e.g. ", "").count(". ") == 0 and message.endswith(".") and "\n" not in message


def test_an_interval_below_one_second_is_refused():
    with pytest.raises(UsageError, match=r"--interval '0.5' is too short: give at least 1s"):
        parse_duration("0.5", "--interval", minimum=1.0)
    assert parse_duration("1", "--interval", minimum=1.0) == 1.0


def args(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"wait": None, "interval": None, "no_refresh_wait": False, **kw})


def test_wait_options_from_the_command_line():
    assert wait_options(args()) is None
    assert wait_options(args(wait="15m")) == WaitOptions(900, None, refresh_wait=True)
    assert wait_options(args(wait="90", interval="2", no_refresh_wait=True)) == WaitOptions(90, 2, refresh_wait=False)


@pytest.mark.parametrize("given", [{"interval": "5"}, {"no_refresh_wait": True}])
def test_wait_flags_without_wait_are_a_usage_error(given):
    with pytest.raises(UsageError, match="only work with --wait DURATION"):
        wait_options(args(**given))


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (45.9, "45s"), (125, "2m05s"), (3720, "1h02m"), (-3, "0s")])
def test_elapsed_time_in_progress_lines(seconds, text):
    assert fmt_elapsed(seconds) == text


# ------------------------------------------------------------------------------- progress lines


def sweep_of(*rows) -> "CountSweep":
    from datetime import datetime, timezone

    from wsfleet.balance import sweep_balance
    from wsfleet.model import CountSweep, InstanceCount

    instances = tuple(InstanceCount(i, "us-east-1a", None, lifecycle, "Healthy", c, error="refused" if c is None else None)
                      for i, c, lifecycle in rows)
    return CountSweep("prod-chat", "prod-chat-asg", "ssh", datetime(2026, 12, 2, tzinfo=timezone.utc), instances, sweep_balance(instances))


def test_a_progress_line_names_the_skew_the_hottest_the_coldest_and_the_trend():
    from wsfleet.commands.check_wait import progress_line
    from wsfleet.trend import estimate

    sweep = sweep_of(("i-hot", 300, "InService"), ("i-cold", 50, "InService"), ("i-mid", 100, "InService"),
                     ("i-new", 0, "Pending"), ("i-dead", None, "InService"))
    trend = estimate([(0, 2.3), (60, 2.1), (120, 2.0), (180, 2.0)], 1.25)  # slope -0.1/min; the line is at 1.95 now: 420 s to go
    line = progress_line(125, 7, sweep, 1.25, trend)
    assert line == ("wsfleet: [2m05s] sweep 7: skew 2.00 > 1.25 (3 of 4 measured), hottest i-hot 300, coldest i-cold 50; "
                    "shrinking: skew 2.00 → under 1.25 in ~7 min at the current churn")


def test_a_progress_line_during_a_refresh_and_with_nothing_measured():
    from wsfleet.commands.check_wait import progress_line
    from wsfleet.model import InstanceRefresh
    from wsfleet.trend import estimate

    refresh = InstanceRefresh(id="r-1", status="InProgress", percentage_complete=40)
    line = progress_line(3, 1, sweep_of(("i-a", 100, "InService"), ("i-b", 100, "InService")), 1.25, estimate([], 1.25), refresh)
    assert line.startswith("wsfleet: [3s] sweep 1 (instance refresh InProgress 40%: not judged until it ends): skew 1.00 <= 1.25")
    none = progress_line(3, 2, sweep_of(("i-a", None, "InService")), 1.25, estimate([], 1.25))
    assert none == "wsfleet: [3s] sweep 2: none of the 1 in-service instances could be measured"
    empty = progress_line(3, 3, sweep_of(("i-a", 5, "Pending")), 1.25, estimate([], 1.25))
    assert empty == "wsfleet: [3s] sweep 3: the group has no in-service instances to measure"
