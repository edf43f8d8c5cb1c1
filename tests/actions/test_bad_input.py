"""Every wrong value is rejected with one sentence, before any AWS call."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from wsfleet import actions
from wsfleet.errors import WsfleetError
from wsfleet.model import ScheduledActionConfig, StepRange

SOON = datetime.now(timezone.utc) + timedelta(days=1)


def _one_sentence(exc: WsfleetError) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg.endswith("."), msg
    assert exc.exit_code == 2
    return msg


def _action(**kw):
    base = dict(name="peak", recurrence="0 7 * * MON-FRI", min_size=2, max_size=8, desired_capacity=4)
    base.update(kw)
    return ScheduledActionConfig(**base)


@pytest.mark.parametrize(
    "action, words",
    [
        (_action(recurrence="0 0 7 * * MON-FRI"), "6 fields"),
        (_action(recurrence="61 7 * * *"), "minute 61 is out of range"),
        (_action(recurrence="0 7 32 * *"), "day of month 32 is out of range"),
        (_action(recurrence="0 7 * * MON-FUN"), '"FUN"'),
        (_action(time_zone="Europe/Atlantis"), "not an IANA time zone"),
        (_action(min_size=9, max_size=3, desired_capacity=None), "min size 9 is above max size 3"),
        (_action(desired_capacity=10), "desired capacity 10 is outside min..max (2..8)"),
        (_action(min_size=-1, desired_capacity=None), "min size must be a whole number 0 or more"),
        (_action(min_size=None, max_size=None, desired_capacity=None), "sets nothing"),
        (_action(start_time=SOON, end_time=SOON - timedelta(hours=1)), "is not after start time"),
        (_action(start_time=datetime(2020, 1, 1, tzinfo=timezone.utc)), "is in the past"),
        (_action(name=""), "1-255 printable characters"),
    ],
)
def test_bad_scheduled_action(bare_session, fleet, no_aws_calls, action, words):
    with pytest.raises(WsfleetError) as e:
        actions.plan_schedule_put(bare_session, fleet, action)
    assert words in _one_sentence(e.value)


@pytest.mark.parametrize(
    "op, n, words",
    [("out", 0, "at least 1"), ("in", -2, "at least 1"), ("to", -1, "0 or more"), ("out", "three", "whole number"), ("sideways", 1, "out, in or to")],
)
def test_bad_scale(bare_session, fleet, no_aws_calls, op, n, words):
    with pytest.raises(WsfleetError) as e:
        actions.plan_scale(bare_session, fleet, op, n)
    assert words in _one_sentence(e.value)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(high="lots"), "--high must be a number"),
        (dict(low="-5"), "--low must be a positive number"),
        (dict(high=0), "--high must be a positive number"),
        (dict(high="nan"), "positive number"),
        (dict(high=10000, low=12000), "--low 12,000 must be below --high 10,000"),
        (dict(high=20000, steps="20000:26000:+2,25000::+3"), "overlap"),
        (dict(high=20000, steps="20000:25000:+2,26000::+3"), "gap"),
        (dict(high=20000, steps="20000:25000:+0,25000::+3"), "adds 0"),
        (dict(high=20000, steps="20000:25000:+2,25000:30000:+3"), "open-ended"),
        (dict(high=20000, steps="20000:abc:+2"), "is not FROM:TO:+N"),
        (dict(high=22000, steps="20000:25000:+2,25000::+3"), "not at the alarm threshold 22,000"),
        (dict(high="20,000.5x"), "must be a number"),
        (dict(), "nothing to change"),
    ],
)
def test_bad_thresholds(bare_session, fleet, no_aws_calls, kwargs, words):
    with pytest.raises(WsfleetError) as e:
        actions.plan_thresholds(bare_session, fleet, **kwargs)
    assert words in _one_sentence(e.value)


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(min_size=-1), "0 or more"),
        (dict(min_size="two"), "whole number"),
        (dict(max_prepared_capacity="1.5"), "whole number"),
        (dict(pool_state="Frozen"), "must be one of Stopped, Running, Hibernated"),
        (dict(reuse_on_scale_in="yes"), "true or false"),
        (dict(size=3), "unknown warm pool field"),
    ],
)
def test_bad_warm_pool(bare_session, fleet, no_aws_calls, fields, words):
    with pytest.raises(WsfleetError) as e:
        actions.plan_warm_pool(bare_session, fleet, **fields)
    assert words in _one_sentence(e.value)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda f: replace(f, scale_in=replace(f.scale_in, threshold=25000)), "must be below scale_out.threshold"),
        (lambda f: replace(f, scale_out=replace(f.scale_out, steps=(StepRange(20000, 26000, 2), StepRange(25000, None, 3)))), "scale_out.steps"),
        (lambda f: replace(f, scale_in=replace(f.scale_in, remove=0)), "scale_in.remove must be at least 1"),
        (lambda f: replace(f, scale_out=replace(f.scale_out, datapoints_to_alarm=6)), "datapoints_to_alarm 6"),
        (lambda f: replace(f, schedule=(_action(recurrence="* * * * * *"),)), "6 fields"),
        (lambda f: replace(f, schedule=(_action(), _action())), "appears twice"),
    ],
)
def test_bad_config_is_refused_before_provisioning(bare_session, fleet, no_aws_calls, change, words):
    with pytest.raises(WsfleetError) as e:
        actions.plan_provision(bare_session, change(fleet))
    assert words in str(e.value)


def test_thousands_separators_are_accepted():
    assert actions.parse_connections("20,000", "--high") == 20000.0
    assert actions.parse_connections("20_000", "--high") == 20000.0


def test_the_call_guard_itself_sees_calls(bare_session, no_aws_calls):
    before = bare_session.api_calls
    bare_session.client("autoscaling").describe_auto_scaling_groups()
    assert no_aws_calls.calls == ["DescribeAutoScalingGroups"]
    assert bare_session.api_calls == before + 1
    no_aws_calls.calls.clear()  # the guard's own teardown checks would (rightly) fail otherwise
    no_aws_calls.baseline = bare_session.api_calls
