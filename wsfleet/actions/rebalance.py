"""`rebalance`: drain the hottest instances one at a time through the group's own Standby, and
switch a target group's routing algorithm; both through the one write path.

The plan is data: the drains `wsfleet.drain.choose_drains` picks from the current counts, each with
its projection. Running it (`run_rebalance`) is a loop of small plans, each executed by the engine
(read-only gate, apply, read back, one audit line): EnterStandby, wait until the instance's
connections have gone (its count under a floor, or the target group's deregistration delay and a
margin), ExitStandby, wait until it is InService, then re-check the next drain against fresh counts.

EnterStandby is sent with ShouldDecrementDesiredCapacity=True: no replacement is launched (a new,
empty instance would only add to the imbalance, and ExitStandby would then grow the group by one),
so capacity is one lower while an instance drains; the projection accounts for that. Whatever
happens (an abort, a failed step, an AWS error), every instance wsfleet put in Standby is brought
back, and a read says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from wsfleet import drain
from wsfleet.actions.engine import execute
from wsfleet.actions.plan import Change, Plan
from wsfleet.actions.writes import EnterStandby, ExitStandby, SetTargetGroupAlgorithm
from wsfleet.errors import ReadOnlyError, UsageError, WsfleetError
from wsfleet.model import FleetConfig, FleetStatus, TargetGroupInfo

DEFAULT_TARGET_SKEW = 1.25
DEFAULT_MAX_DRAINS = 3
DEFAULT_DEREGISTRATION_DELAY = 300  # seconds, the target group default
FLOOR_FRACTION = 0.02  # a drain is done once under 2 % of what it held (clients that never reconnect stay)


@dataclass(frozen=True)
class RebalancePlan:
    """What `rebalance` would do: the drains in order, and the context shown with them."""

    fleet: str
    asg: str
    algorithm: str
    steps: tuple[drain.DrainProjection, ...]
    stop_reason: str
    notes: tuple[str, ...] = ()
    drain_wait: float = DEFAULT_DEREGISTRATION_DELAY  # the longest a drain is waited for, seconds
    target_skew: float = DEFAULT_TARGET_SKEW
    counts: Mapping[str, int] = field(default_factory=dict)
    session: Any = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> str:
        if not self.steps:
            return f"Nothing to drain on {self.asg}: {self.stop_reason}"
        names = ", ".join(s.instance for s in self.steps)
        return (f"Drain {len(self.steps)} instance{'s' if len(self.steps) != 1 else ''} of {self.asg} one at a time ({names}), "
                f"skew {self.steps[0].skew_before:.2f} → {self.steps[-1].skew_after:.2f} projected.")


def parse_target_skew(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"--target-skew {value!r} is not a number: give the largest acceptable max/mean, at least 1.0, e.g. 1.25.") from None
    if not math.isfinite(number) or number < 1.0:
        raise UsageError(f"--target-skew {value} is not allowed: the busiest instance over the mean is never below 1.0; give e.g. 1.25.")
    return number


def parse_max_drains(value: Any) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise UsageError(f"--max-drains {value!r} is not a whole number: give how many instances to drain at most, e.g. 3.") from None
    if number < 1:
        raise UsageError(f"--max-drains {number} is not allowed: give 1 or more.")
    return number


def plan_rebalance(
    session: Any,
    fleet: FleetConfig,
    status: FleetStatus,
    counts: Mapping[str, int],
    *,
    target_skew: float = DEFAULT_TARGET_SKEW,
    max_drains: int = DEFAULT_MAX_DRAINS,
) -> RebalancePlan:
    """The drains for `counts` (the serving instances' exact counts), or a UsageError saying in one
    sentence why there is nothing to do or why it is not allowed now (nothing is written)."""
    group = status.group
    asg = fleet.asg
    if status.instance_refresh is not None and status.instance_refresh.active:
        raise UsageError(f"an instance refresh is in progress on {asg} ({status.instance_refresh.percentage_complete or 0}% done): "
                         f"rebalance after it ends (`wsfleet check --wait` waits for it).")
    busy = [a for a in status.activities if a.status in ("InProgress", "PreInService", "WaitingForSpotInstanceId", "MidLifecycleAction",
                                                       "WaitingForInstanceId", "PendingSpotBidPlacement", "WaitingForELBConnectionDraining")]
    pending = [i for i in group.instances if i.lifecycle.startswith(("Pending", "Terminating"))]
    if busy or pending:
        what = busy[0].description if busy else f"{pending[0].id} is {pending[0].lifecycle}"
        raise UsageError(f"a scaling activity is in progress on {asg} ({what}): rebalance once the group is steady.")
    standby = [i for i in group.instances if i.lifecycle.startswith("Standby") or i.lifecycle.endswith("Standby")]
    if standby:
        raise UsageError(f"{standby[0].id} of {asg} is already in Standby ({standby[0].lifecycle}): bring it back "
                         f"(aws autoscaling exit-standby) or wait for whoever drains it, then rebalance.")
    serving = [i for i in group.instances if i.lifecycle == "InService"]
    if len(serving) < 2:
        raise UsageError(f"{asg} has {len(serving)} instance{'s' if len(serving) != 1 else ''} in service: a fleet of one has nowhere to move connections to.")
    if len(serving) - 1 < group.min_size:
        raise UsageError(f"draining one of the {len(serving)} in-service instances of {asg} would leave {len(serving) - 1} serving, "
                         f"below its MinSize {group.min_size}: scale out by one first (`wsfleet scale out 1`).")
    if not status.target_groups:
        raise UsageError(f"{asg} has no target group, so a drain would not move any connection: attach the group to its load balancer's target group.")
    unmeasured = sorted(i.id for i in serving if i.id not in counts)
    if unmeasured:
        raise UsageError(f"{len(unmeasured)} in-service instance{'s' if len(unmeasured) != 1 else ''} of {asg} could not be counted "
                         f"({', '.join(unmeasured[:3])}): rebalance needs every count; check `wsfleet counts`.")
    algorithm = group_algorithm(status.target_groups)
    serving_counts = {i.id: int(counts[i.id]) for i in serving}
    protected = sorted(i.id for i in serving if i.protected)
    choice = drain.choose_drains(serving_counts, algorithm, target_skew=target_skew, max_drains=max_drains,
                                 threshold=fleet.scale_out.threshold, capacity=fleet.capacity, excluded=protected)
    current = drain.skew(serving_counts)
    if not choice.steps:
        if current is not None and current <= target_skew:
            raise UsageError(f"{asg} is already balanced: skew {current:.2f} is at or under the target {target_skew:.2f}, so there is nothing to drain.")
        raise UsageError(f"nothing can be drained on {asg}: {choice.stop_reason}" + _switch_offer(algorithm, status.target_groups))
    notes = [
        f"Routing: {_algorithm_names(status.target_groups)}; the drained instance's clients reconnect "
        + ("to the least-loaded instances first (water-filling)." if algorithm == drain.LEAST_OUTSTANDING else "in equal shares to every other instance."),
        "Each drain: EnterStandby with ShouldDecrementDesiredCapacity (no replacement launched: one instance fewer "
        "serves while it drains), wait for its connections to go, ExitStandby; never more than one instance out.",
    ]
    if protected:
        notes.append(f"Protected from scale-in, so not drained: {', '.join(protected)}.")
    offer = _switch_offer(algorithm, status.target_groups)
    if offer:
        notes.append(offer.strip())
    delay = max((t.deregistration_delay for t in status.target_groups if t.deregistration_delay is not None), default=DEFAULT_DEREGISTRATION_DELAY)
    return RebalancePlan(fleet.name, asg, algorithm, choice.steps, choice.stop_reason, tuple(notes), drain_wait=float(delay),
                         target_skew=target_skew, counts=serving_counts, session=session)


def group_algorithm(target_groups: Sequence[TargetGroupInfo]) -> str:
    """The routing algorithm the drained clients meet: the first target group's (ALB default round robin)."""
    for tg in target_groups:
        if tg.algorithm:
            return tg.algorithm
    return drain.ROUND_ROBIN


def _algorithm_names(target_groups: Sequence[TargetGroupInfo]) -> str:
    return ", ".join(f"{t.name} {(t.algorithm or drain.ROUND_ROBIN).replace('_', ' ')}" for t in target_groups)


def _switch_offer(algorithm: str, target_groups: Sequence[TargetGroupInfo]) -> str:
    if algorithm == drain.LEAST_OUTSTANDING:
        return ""
    slow = [t.name for t in target_groups if t.slow_start]
    if slow:
        return (f" Least outstanding requests would fill the emptiest instances first, but it cannot be combined with slow start "
                f"(on for {', '.join(slow)}): turn slow start off first.")
    return " Least outstanding requests would send reconnects to the emptiest instances first: `wsfleet rebalance --switch-algorithm` sets it (previewed, audited)."


# =========================================================================== the routing algorithm


def plan_algorithm(session: Any, fleet: FleetConfig, status: FleetStatus, algorithm: str = drain.LEAST_OUTSTANDING) -> Plan:
    """ModifyTargetGroupAttributes on every target group of the group whose algorithm differs."""
    if algorithm not in drain.ALGORITHMS:
        raise UsageError(f"routing algorithm {algorithm!r} is not one of {', '.join(drain.ALGORITHMS)}.")
    if not status.target_groups:
        raise UsageError(f"{fleet.asg} has no target group, so there is no routing algorithm to set.")
    changes = []
    for tg in status.target_groups:
        current = tg.algorithm or drain.ROUND_ROBIN
        if algorithm == drain.LEAST_OUTSTANDING and tg.slow_start:
            raise UsageError(f"target group {tg.name} has slow start on ({tg.slow_start} s), which AWS does not allow with least "
                             f"outstanding requests: turn slow start off first (slow_start.duration_seconds = 0).")
        kind = "unchanged" if current == algorithm else "update"
        changes.append(Change("target group", tg.name, kind, {"algorithm": current}, {"algorithm": algorithm},
                              write=None if kind == "unchanged" else SetTargetGroupAlgorithm(tg.arn, algorithm),
                              undo=None if kind == "unchanged" else SetTargetGroupAlgorithm(tg.arn, current)))
    summary = f"Route new connections of {fleet.asg} by {algorithm.replace('_', ' ')}."
    notes = ("It only chooses when a connection opens: connections already open stay where they are.",)
    return Plan("rebalance algorithm", fleet.name, fleet.asg, getattr(session, "region", fleet.region), summary, tuple(changes),
                notes=notes, atomic=True, session=session)


# =========================================================================== running the drains


@dataclass(frozen=True)
class DrainResult:
    instance: str
    before: int
    after: int | None  # its count when the drain ended
    projected: Mapping[str, int]  # the others, as projected before the drain
    measured: Mapping[str, int]  # the others, as counted after it
    state: str  # "InService" once back; else what the last read said


@dataclass
class RebalanceRun:
    """What happened: the drains done, and the state of every instance wsfleet touched."""

    results: list[DrainResult] = field(default_factory=list)
    stopped: str | None = None  # why it stopped before the plan's end (abort, refusal, failure)
    failed: bool = False
    states: dict[str, str] = field(default_factory=dict)  # instance -> lifecycle at the end (read back)


def run_rebalance(
    plan: RebalancePlan,
    fleet: FleetConfig,
    *,
    read_only: bool,
    audit: Any,
    count: Callable[[], Mapping[str, int | None]],
    progress: Callable[[str], None],
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    poll: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> RebalanceRun:
    """Carry the plan out one drain at a time (see the module docstring). `count()` sweeps the
    group (instance id -> connections, None when not measured); `should_stop()` is polled during the
    waits (Ctrl-C, Esc): the current drain then ends at once and its instance is brought back."""
    session = plan.session
    run = RebalanceRun()
    in_standby: set[str] = set()
    touched: set[str] = set()
    try:
        for k, planned in enumerate(plan.steps, start=1):
            if should_stop():
                run.stopped = "stopped on request before the next drain"
                break
            fresh = _measured(count())
            group = _group(session, fleet)
            serving = {i.id for i in group.instances if i.lifecycle == "InService"}
            counts = {iid: n for iid, n in fresh.items() if iid in serving}
            if planned.instance not in counts:
                run.stopped = f"{planned.instance} is no longer in service and measured; stopping before drain {k}"
                break
            step = drain.project_drain(counts, planned.instance, plan.algorithm, threshold=fleet.scale_out.threshold, capacity=fleet.capacity)
            if not step.safe:
                run.stopped = drain.refusal(step, fleet.scale_out.threshold, fleet.capacity) + " Stopped before it; nothing more was changed."
                break
            now_skew = drain.skew(counts)
            if now_skew is not None and now_skew <= plan.target_skew:
                run.stopped = f"the skew is already {now_skew:.2f}, at or under the target {plan.target_skew:.2f}"
                break
            progress(f"drain {k}/{len(plan.steps)}: {step.instance} holds {step.moved:,}; projected after: "
                     + ", ".join(f"{i} {n:,}" for i, n in sorted(step.during.items())))
            _apply(_standby_plan(plan, fleet, step.instance, step.moved, enter=True), read_only=read_only, audit=audit)
            in_standby.add(step.instance)
            touched.add(step.instance)
            after = _wait_drained(step, count, should_stop, sleep, poll, clock, plan.drain_wait, progress)
            _bring_back(plan, fleet, step.instance, audit=audit, sleep=sleep, poll=poll, clock=clock)
            in_standby.discard(step.instance)
            measured = _measured(count())
            run.results.append(DrainResult(step.instance, step.moved, after, dict(step.during),
                                           {i: n for i, n in measured.items() if i != step.instance}, "InService"))
            moved = ", ".join(f"{i} {counts.get(i, 0):,}→{measured.get(i, 0):,}" for i in sorted(step.during))
            progress(f"drain {k}/{len(plan.steps)} done: {step.instance} {step.moved:,} → {after if after is not None else '?'}; {moved}")
            if should_stop():
                run.stopped = "stopped on request after drain " + str(k)
                break
    except ReadOnlyError:
        raise  # refused by the engine before anything was written (and logged as refused)
    except WsfleetError as exc:
        run.failed = True
        run.stopped = exc.message
    except KeyboardInterrupt:
        run.stopped = "interrupted"
    finally:
        for iid in sorted(in_standby):
            try:
                _bring_back(plan, fleet, iid, audit=audit, sleep=sleep, poll=poll, clock=clock)
            except WsfleetError as exc:
                run.failed = True
                run.stopped = (run.stopped + "; " if run.stopped else "") + f"could not bring {iid} back: {exc.message}"
        try:
            group = _group(session, fleet)
            run.states = {i.id: i.lifecycle for i in group.instances if i.id in touched}
        except WsfleetError as exc:
            run.failed = True
            run.stopped = (run.stopped + "; " if run.stopped else "") + f"could not read the instances' states back: {exc.message}"
    return run


def _measured(counts: Mapping[str, int | None]) -> dict[str, int]:
    return {iid: int(n) for iid, n in counts.items() if n is not None}


def _group(session: Any, fleet: FleetConfig) -> Any:
    from wsfleet.aws import fleet as aws_fleet

    return aws_fleet.read_group_sizes(session, fleet.asg)


def _standby_plan(plan: RebalancePlan, fleet: FleetConfig, iid: str, held: int, *, enter: bool) -> Plan:
    before, after = ("InService", "Standby") if enter else ("Standby", "InService")
    write = EnterStandby(fleet.asg, iid) if enter else ExitStandby(fleet.asg, iid)
    what = f"Put {iid} of {fleet.asg} in Standby to drain its {held:,} connections." if enter else f"Bring {iid} of {fleet.asg} back into service."
    change = Change("instance", iid, "update", {"lifecycle": before}, {"lifecycle": after}, write=write)
    return Plan("rebalance drain" if enter else "rebalance return", plan.fleet, plan.asg, getattr(plan.session, "region", fleet.region),
                what, (change,), session=plan.session)


def _apply(step_plan: Plan, *, read_only: bool, audit: Any) -> None:
    outcome = execute(step_plan, confirm=lambda _: True, read_only=read_only, audit=audit)  # confirmed once, for the whole plan
    if not outcome.ok:
        raise _StepFailed(outcome.error or f"{step_plan.summary} failed")


class _StepFailed(WsfleetError):
    pass


def _wait_drained(step: drain.DrainProjection, count: Callable[[], Mapping[str, int | None]], should_stop: Callable[[], bool],
                  sleep: Callable[[float], None], poll: float, clock: Callable[[], float], limit: float,
                  progress: Callable[[str], None]) -> int | None:
    """Until the instance's count is under the floor, the deregistration delay (and a margin) has
    passed, or a stop is asked for; its last count."""
    floor = max(1, int(step.moved * FLOOR_FRACTION))
    deadline = clock() + limit + max(10.0, 2 * poll)
    last: int | None = None
    while True:
        n = count().get(step.instance)
        if n is not None:
            last = int(n)
            if last < floor:
                return last
        if should_stop():
            progress(f"stopping: {step.instance} still holds {last if last is not None else '?'}; bringing it back now")
            return last
        if clock() >= deadline:
            progress(f"{step.instance} still holds {last if last is not None else '?'} after {limit:.0f} s (the deregistration delay): "
                     f"those clients did not reconnect; bringing it back")
            return last
        sleep(poll)


def _bring_back(plan: RebalancePlan, fleet: FleetConfig, iid: str, *, audit: Any, sleep: Callable[[float], None], poll: float,
                clock: Callable[[], float], limit: float = 120.0) -> None:
    """ExitStandby (never refused by --read-only: it undoes wsfleet's own write) and wait until a
    read shows the instance InService."""
    group = _group(plan.session, fleet)
    state = next((i.lifecycle for i in group.instances if i.id == iid), None)
    if state is not None and "Standby" in state:
        _apply(_standby_plan(plan, fleet, iid, 0, enter=False), read_only=False, audit=audit)
    deadline = clock() + limit
    while True:
        group = _group(plan.session, fleet)
        state = next((i.lifecycle for i in group.instances if i.id == iid), None)
        if state == "InService":
            return
        if clock() >= deadline:
            raise WsfleetError(f"{iid} did not return to InService within {limit:.0f} s (it is {state or 'gone'}): check it with `wsfleet status`.")
        sleep(poll)
