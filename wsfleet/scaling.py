"""Step bounds, alarm semantics, step choice, flap and refresh projections. Pure: no I/O.

Thresholds and `StepRange` bounds are absolute connection counts (as a person thinks of them);
`StepAdjustment` bounds are relative to the alarm threshold, as AWS holds them (rule 1).

The alarm evaluator here is the only one in wsfleet: the dashboard's chart, the demo engine,
`doctor` and the what-if simulator all call `evaluate_alarm` / `evaluate_window`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from wsfleet.errors import ConfigError
from wsfleet.model import FleetConfig, FleetStatus, RefreshProjection, ScaleInProjection, StepAdjustment, StepRange

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
ALARM_STATES = (OK, ALARM, INSUFFICIENT_DATA)

COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
SCALE_OUT_COMPARISON = "GreaterThanOrEqualToThreshold"  # the seed's high alarm
SCALE_IN_COMPARISON = "LessThanOrEqualToThreshold"  # the seed's low alarm


# --------------------------------------------------------------------------- step bounds


def to_relative(threshold: float, steps: Sequence[StepRange]) -> tuple[StepAdjustment, ...]:
    """Absolute steps -> AWS step adjustments, bounds relative to the alarm threshold (rule 1).

    The seed's 20000-25000 +2, 25000-30000 +2, 30000- +3 at threshold 20000 become
    (0, 5000, 2), (5000, 10000, 2), (10000, None, 3).
    """
    return tuple(
        StepAdjustment(
            lower_bound=_clean(step.lower - threshold),
            upper_bound=None if step.upper is None else _clean(step.upper - threshold),
            scaling_adjustment=step.add,
        )
        for step in steps
    )


def to_absolute(threshold: float, adjustments: Sequence[StepAdjustment]) -> tuple[StepRange, ...]:
    """AWS step adjustments -> absolute steps, ordered by lower bound.

    A missing lower bound means negative infinity to AWS; it comes back as `-inf`, which
    `validate_steps` reports (a scale-out step must start at the threshold).
    """
    ranges = [
        StepRange(
            lower=-math.inf if adj.lower_bound is None else _clean(threshold + adj.lower_bound),
            upper=None if adj.upper_bound is None else _clean(threshold + adj.upper_bound),
            add=adj.scaling_adjustment,
        )
        for adj in adjustments
    ]
    return tuple(sorted(ranges, key=lambda s: s.lower))


def shift_steps(old_threshold: float, new_threshold: float, steps: Sequence[StepRange]) -> tuple[StepRange, ...]:
    """Move the steps with the threshold, keeping their widths (rule 2: the relative bounds stay)."""
    delta = new_threshold - old_threshold
    return tuple(
        StepRange(
            lower=_clean(step.lower + delta),
            upper=None if step.upper is None else _clean(step.upper + delta),
            add=step.add,
        )
        for step in steps
    )


def step_problems(threshold: float | None, steps: Sequence[StepRange]) -> list[tuple[int | None, str, str]]:
    """Every problem with a list of absolute scale-out steps, as (step index, field, sentence).

    `field` is the config key at fault ("from", "to", "add"; "" for the list as a whole).
    With `threshold=None` the start-at-the-threshold check is skipped (e.g. a --steps spec
    parsed before the threshold is known).
    """
    problems: list[tuple[int | None, str, str]] = []
    if not steps:
        return [(None, "", "there are no steps; give at least one, the last open-ended (no `to`)")]
    for i, step in enumerate(steps):
        if isinstance(step.add, bool) or not isinstance(step.add, int) or step.add < 1:
            problems.append((i, "add", f"step {i + 1} adds {step.add!r}; a scale-out step must add a whole number of at least 1 instance"))
        if step.upper is not None and step.upper <= step.lower:
            problems.append((i, "to", f"step {i + 1} ends at {_fmt(step.upper)}, not above its start {_fmt(step.lower)}; `to` must be greater than `from`"))
        if step.upper is None and i != len(steps) - 1:
            problems.append((i, "to", f"step {i + 1} is open-ended but is not the last; only the last step may leave out `to`"))
    first = steps[0]
    if threshold is not None and first.lower != threshold:
        problems.append((0, "from", f"the first step starts at {_fmt(first.lower)}, not at the alarm threshold {_fmt(threshold)}; the first `from` must equal the threshold (AWS bounds are relative to it)"))
    for i in range(1, len(steps)):
        prev, step = steps[i - 1], steps[i]
        if prev.upper is None:
            continue  # already reported as open-ended before the end
        if step.lower > prev.upper:
            problems.append((i, "from", f"step {i + 1} starts at {_fmt(step.lower)}, leaving a gap after step {i}'s end {_fmt(prev.upper)}; steps must be contiguous: each `from` equals the previous `to`"))
        elif step.lower < prev.upper:
            problems.append((i, "from", f"step {i + 1} starts at {_fmt(step.lower)}, overlapping step {i} which ends at {_fmt(prev.upper)}; steps must not overlap: each `from` equals the previous `to`"))
    if steps[-1].upper is not None:
        problems.append((len(steps) - 1, "to", f"the last step ends at {_fmt(steps[-1].upper)}; the last step must be open-ended (leave out `to`) so every value above the threshold scales out"))
    return problems


def validate_steps(threshold: float | None, steps: Sequence[StepRange]) -> list[str]:
    """Problem sentences for absolute scale-out steps (rule 1); an empty list means they are fine."""
    return [sentence for _, _, sentence in step_problems(threshold, steps)]


_NUMBER = r"[0-9][0-9_]*(?:\.[0-9]+)?"
_STEP_RE = re.compile(rf"^\s*(?P<lower>{_NUMBER})\s*:\s*(?P<upper>{_NUMBER})?\s*:\s*(?P<add>[+]?[0-9]+)\s*$")
STEPS_SPEC_EXAMPLE = '"22000:25000:+2,25000:30000:+2,30000::+3"'


def parse_steps_spec(spec: str) -> tuple[StepRange, ...]:
    """Parse absolute steps written as FROM:TO:+N,...,FROM::+N (the last open-ended).

    Raises ConfigError with one sentence when the text is malformed or the steps are not
    contiguous; whether the first starts at the threshold is the caller's check (validate_steps).
    """
    text = (spec or "").strip()
    if not text:
        raise ConfigError(f"--steps is empty; write the steps as FROM:TO:+N, separated by commas, the last open-ended, e.g. {STEPS_SPEC_EXAMPLE}.")
    steps: list[StepRange] = []
    for i, item in enumerate(text.split(","), start=1):
        match = _STEP_RE.match(item)
        if not match:
            raise ConfigError(
                f'--steps item {i} "{item.strip()}" is not FROM:TO:+N (or FROM::+N for the last, open-ended step); '
                f"write absolute connection counts, e.g. {STEPS_SPEC_EXAMPLE}."
            )
        upper = match["upper"]
        steps.append(
            StepRange(
                lower=_number(match["lower"]),
                upper=None if upper is None else _number(upper),
                add=int(match["add"]),
            )
        )
    problems = validate_steps(None, steps)
    if problems:
        raise ConfigError(f"--steps {text}: {problems[0]}.")
    return tuple(steps)


def format_steps_spec(steps: Sequence[StepRange]) -> str:
    """The inverse of parse_steps_spec: "20000:25000:+2,25000:30000:+2,30000::+3"."""
    def plain(value: float) -> str:
        return str(_clean(value))

    return ",".join(f"{plain(s.lower)}:{'' if s.upper is None else plain(s.upper)}:+{s.add}" for s in steps)


def live_steps(fleet: FleetConfig, status: FleetStatus | None) -> tuple[float, tuple[StepRange, ...], str]:
    """The scale-out steps as they stand, in absolute connections, and where they came from.

    The threshold is the live high alarm's (else the config's); the steps are the live policy's
    relative bounds hung from it ("AWS"), else the config's ("config"). `status`, the dashboard
    and the thresholds editor all show the steps this way.
    """
    alarm = status.high_alarm if status is not None else None
    threshold = alarm.threshold if alarm is not None else fleet.scale_out.threshold
    policy = status.scale_out_policy if status is not None else None
    if policy is not None and policy.steps:
        return threshold, tuple(to_absolute(threshold, policy.steps)), "AWS"
    return threshold, tuple(fleet.scale_out.steps), "config"


def warm_pool_size(*, min_size: int, max_prepared: int | None, desired: int, max_size: int) -> int:
    """Instances AWS keeps in a warm pool: (max prepared capacity, or MaxSize when unset) minus
    desired, never below the pool's min size."""
    ceiling = max_size if max_prepared is None else max_prepared
    return max(min_size, ceiling - desired, 0)


def step_for(value: float, threshold: float, steps: Sequence[StepRange]) -> StepRange | None:
    """The step a scale-out alarm at `value` executes, or None below the threshold / outside every step.

    Above the threshold AWS takes the lower bound as inclusive and the upper as exclusive.
    """
    if value is None or value < threshold:
        return None
    for step in steps:
        if step.lower <= value and (step.upper is None or value < step.upper):
            return step
    return None


# --------------------------------------------------------------------------- alarm evaluation


def breaches(value: float, threshold: float, comparison: str) -> bool:
    """Whether one datapoint breaches the threshold under the alarm's ComparisonOperator."""
    if comparison == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if comparison == "GreaterThanThreshold":
        return value > threshold
    if comparison == "LessThanThreshold":
        return value < threshold
    if comparison == "LessThanOrEqualToThreshold":
        return value <= threshold
    raise ValueError(f"unknown comparison operator {comparison!r}; use one of {', '.join(COMPARISONS)}")


def default_evaluation_range(evaluation_periods: int) -> int:
    """How many periods back the evaluator looks when data is missing.

    AWS retrieves "a higher number of data points than Evaluation Periods" (the evaluation
    range) and does not publish the exact number; its documented example retrieves 5 for an
    alarm of 3 evaluation periods. We use evaluation_periods + 2, which reproduces that example.
    """
    return evaluation_periods + 2


def evaluate_window(
    window: Sequence[float | None],
    *,
    threshold: float,
    comparison: str,
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing_data: str,
    previous: str = INSUFFICIENT_DATA,
) -> str:
    """The alarm state after one evaluation of `window`, the evaluation range, oldest first (None = missing).

    CloudWatch's documented rules ("How alarm state is evaluated when data is missing"):

    * At least N (EvaluationPeriods) datapoints present in the range: the N most recent present
      ones decide; ALARM if at least M (DatapointsToAlarm) breach, else OK. TreatMissingData
      plays no part.
    * None present: missing -> INSUFFICIENT_DATA, ignore -> the state is kept,
      breaching -> ALARM, notBreaching -> OK.
    * Fewer than N present: every present point counts, and missing points fill up to N:
      - breaching / notBreaching: the fills count as breaching / not breaching; M of N decides.
      - missing / ignore: the alarm evaluates over the present points. M breaching -> ALARM;
        any present point not breaching -> OK. Otherwise (all present breach, fewer than M):
        ignore keeps its state; missing goes to ALARM when the oldest evaluated point is a
        breaching datapoint (the metric stopped while breaching) and to INSUFFICIENT_DATA when
        it is a fill (too few points since the metric started). The evaluated fills are the
        most recent missing periods.

    These reproduce every row of both tables in AWS's documentation (3 of 3 and 2 of 3 over a
    range of 5), including "X - - - -" -> ALARM but "- - - - X" -> INSUFFICIENT_DATA under
    `missing`, and "- - - - X" -> kept under `ignore`.
    """
    n, m = evaluation_periods, datapoints_to_alarm
    if len(window) < n:  # a range shorter than N: the periods before it count as missing
        window = [None] * (n - len(window)) + list(window)
    present = [(i, v) for i, v in enumerate(window) if v is not None]
    if len(present) >= n:
        recent = present[-n:]
        hits = sum(1 for _, v in recent if breaches(v, threshold, comparison))
        return ALARM if hits >= m else OK
    if not present:
        if treat_missing_data == "missing":
            return INSUFFICIENT_DATA
        if treat_missing_data == "ignore":
            return previous
        if treat_missing_data == "breaching":
            return ALARM
        if treat_missing_data == "notBreaching":
            return OK
        raise ValueError(f"unknown TreatMissingData {treat_missing_data!r}")
    hits = sum(1 for _, v in present if breaches(v, threshold, comparison))
    fills = n - len(present)
    if treat_missing_data == "breaching":
        return ALARM if hits + fills >= m else OK
    if treat_missing_data == "notBreaching":
        return ALARM if hits >= m else OK
    if treat_missing_data not in ("missing", "ignore"):
        raise ValueError(f"unknown TreatMissingData {treat_missing_data!r}")
    if hits >= m:
        return ALARM
    if hits < len(present):
        return OK
    if treat_missing_data == "ignore":
        return previous
    missing_slots = [i for i, v in enumerate(window) if v is None]
    evaluated = [i for i, _ in present] + missing_slots[len(missing_slots) - fills :]
    oldest = min(evaluated)
    return ALARM if window[oldest] is not None else INSUFFICIENT_DATA


def evaluate_alarm(
    values: Sequence[float | None],
    *,
    threshold: float,
    comparison: str,
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing_data: str,
    initial: str = INSUFFICIENT_DATA,
    evaluation_range: int | None = None,
) -> list[str]:
    """The alarm's state after each period of `values` (the statistic per period, oldest first).

    Periods before the series starts count as missing (as they are to CloudWatch when a metric
    is new). `initial` is the state before the first period (what `ignore` keeps when nothing is
    present). `evaluation_range` defaults to `default_evaluation_range(evaluation_periods)`.
    """
    _check_alarm_args(comparison, evaluation_periods, datapoints_to_alarm, treat_missing_data, initial)
    span = evaluation_range or default_evaluation_range(evaluation_periods)
    if span < evaluation_periods:
        raise ValueError(f"evaluation_range {span} is shorter than evaluation_periods {evaluation_periods}")
    padded: list[float | None] = [None] * (span - 1) + list(values)
    states: list[str] = []
    state = initial
    for end in range(span, len(padded) + 1):
        state = evaluate_window(
            padded[end - span : end],
            threshold=threshold,
            comparison=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=treat_missing_data,
            previous=state,
        )
        states.append(state)
    return states


def _check_alarm_args(comparison: str, n: int, m: int, treat: str, initial: str) -> None:
    if comparison not in COMPARISONS:
        raise ValueError(f"unknown comparison operator {comparison!r}; use one of {', '.join(COMPARISONS)}")
    if treat not in ("breaching", "notBreaching", "ignore", "missing"):
        raise ValueError(f"unknown TreatMissingData {treat!r}; use breaching, notBreaching, ignore or missing")
    if not (isinstance(n, int) and isinstance(m, int) and 1 <= m <= n):
        raise ValueError(f"datapoints_to_alarm ({m}) must be between 1 and evaluation_periods ({n})")
    if initial not in ALARM_STATES:
        raise ValueError(f"unknown alarm state {initial!r}")


# --------------------------------------------------------------------------- flap safety (rule 5)


def project_scale_in(average: float, n: int, remove: int, high_threshold: float, capacity: float) -> ScaleInProjection:
    """What removing `remove` of `n` instances at group average `average` leaves on each of the rest.

    The connections of the removed instances reconnect to the others: average * n / (n - remove)
    each. `reaches_high` means the scale-out alarm would fire again: the group flaps. When
    nothing remains, `per_instance` is None and both flags are True if there is any load at all
    (those connections have nowhere to go).
    """
    if n < 0 or remove < 0:
        raise ValueError(f"instances ({n}) and instances to remove ({remove}) cannot be negative")
    remaining = max(0, n - remove)
    if remaining == 0:
        stranded = average > 0 and n > 0
        return ScaleInProjection(n=n, remaining=0, average=average, per_instance=None, reaches_high=stranded, over_capacity=stranded)
    per_instance = average * n / remaining
    return ScaleInProjection(
        n=n,
        remaining=remaining,
        average=average,
        per_instance=per_instance,
        reaches_high=per_instance >= high_threshold,
        over_capacity=per_instance > capacity,
    )


def refresh_serving(n: int, min_healthy: int, max_healthy: int = 100) -> int:
    """Instances still serving while an instance refresh replaces a batch of an n-instance group.

    AWS keeps ceil(n · min_healthy / 100) healthy (rounded up, as its API reference says), but
    always replaces at least one instance at a time: with no room above the desired capacity (max
    healthy 100) at least one is out. With min healthy 100 and a max healthy above 100 it launches
    the replacements before it terminates, so all n keep serving.
    """
    if n <= 0:
        return 0
    keep = math.ceil(n * min_healthy / 100)
    if max_healthy > 100:
        return min(n, keep)
    return min(n - 1, keep)


def project_refresh(
    average: float, n: int, min_healthy: int, max_healthy: int, high_threshold: float, capacity: float
) -> RefreshProjection:
    """Where an instance refresh's capacity dip puts the load (rule 9), and the lowest min healthy
    percentage that keeps each serving instance under the scale-out threshold and the ceiling.

    The instances being replaced drop their clients, which reconnect to the ones still serving: the
    average over the serving ones is average · n / serving. Zero serving instances strand every
    connection (per_instance is then infinite).
    """
    if n < 0 or not 0 <= min_healthy <= 100 or not 100 <= max_healthy <= 200:
        raise ValueError(f"bad refresh projection inputs: n={n}, min healthy {min_healthy}, max healthy {max_healthy}")

    def per(p: int) -> float:
        serving = refresh_serving(n, p, max_healthy)
        if serving == 0:
            return math.inf if average > 0 else 0.0
        return average * n / serving

    def safe(p: int) -> bool:
        value = per(p)
        return value < high_threshold and value <= capacity

    serving = refresh_serving(n, min_healthy, max_healthy)
    per_instance = per(min_healthy)
    safe_p = next((p for p in range(0, 101) if safe(p)), None)
    return RefreshProjection(
        n=n,
        min_healthy=min_healthy,
        max_healthy=max_healthy,
        serving=serving,
        # replaced at once: up to the max healthy share may be in service or pending, the rest serve
        batch=min(n, max(1, n * max_healthy // 100 - serving)) if n else 0,
        average=average,
        per_instance=per_instance,
        reaches_high=per_instance >= high_threshold,
        over_capacity=per_instance > capacity,
        safe_min_healthy=safe_p,
    )


def flap_unsafe_sizes(low_threshold: float, high_threshold: float, min_size: int, max_size: int, remove: int = 1) -> list[int]:
    """Group sizes at which the low alarm's scale-in lands the rest at or above the high threshold.

    The worst case is the highest average the low alarm (<= low) fires at: the low threshold
    itself. A scale-in never goes below min_size, so a size at min_size cannot scale in at all.
    """
    unsafe: list[int] = []
    for n in range(max(1, min_size), max_size + 1):
        after = max(min_size, n - remove)
        if after >= n or after <= 0:
            continue
        if low_threshold * n / after >= high_threshold:
            unsafe.append(n)
    return unsafe


def max_flap_safe_low(high_threshold: float, min_size: int, max_size: int, remove: int = 1) -> float | None:
    """The highest low threshold below which no size in min..max flaps (None when none can scale in).

    A low threshold must stay strictly below this value: at exactly it, a scale-in lands on
    the high threshold, which GreaterThanOrEqualToThreshold counts as breaching.
    """
    bound: float | None = None
    for n in range(max(1, min_size), max_size + 1):
        after = max(min_size, n - remove)
        if after >= n or after <= 0:
            continue
        limit = high_threshold * after / n
        bound = limit if bound is None else min(bound, limit)
    return bound


# --------------------------------------------------------------------------- helpers


def _number(text: str) -> float | int:
    value = float(text.replace("_", ""))
    return int(value) if value.is_integer() else value


def _clean(value: float) -> float | int:
    """Whole numbers as int, so 5000.0 prints and compares as 5000."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fmt(value: float | None) -> str:
    if value is None:
        return "(open)"
    if isinstance(value, float) and math.isinf(value):
        return "-infinity" if value < 0 else "infinity"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"
