"""A deterministic stand-in for `wsfleet.service.FleetService` / `FleetDirectory`: same methods,
in-memory state, a frozen clock. The dashboard's Pilot tests, snapshots and the table benchmark
use it; the moto-backed tests use the real services.

Plans are the real `wsfleet.actions.Plan` objects, validated with the real pure validators, so the
modals show exactly what they would show against AWS.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from wsfleet import actions, scaling
from wsfleet.errors import AwsError, ReadOnlyError, UsageError
from wsfleet.model import (
    Alarm,
    AppConfig,
    CountsConfig,
    FleetConfig,
    FleetStatus,
    GroupState,
    Instance,
    InstanceCount,
    LaunchTemplateRef,
    MetricSeries,
    ScalingActivity,
    ScalingPolicy,
    ScheduledAction,
    ScheduledActionConfig,
    UiConfig,
    WarmPool,
    WarmPoolConfig,
)

NOW = datetime(2026, 11, 26, 14, 30, 0, tzinfo=timezone.utc)


def frozen_clock() -> datetime:
    return NOW


def _instance(i: int, az: str, launched_minutes_ago: int, lifecycle: str = "InService", health: str = "Healthy", version: str | None = None) -> Instance:
    return Instance(
        id=f"i-0{i:03d}a1b2c3d4e5f6a",
        az=az,
        lifecycle=lifecycle,
        health=health,
        launch_time=NOW - timedelta(minutes=launched_minutes_ago),
        instance_type="c6i.large",
        private_ip=f"10.0.{i // 250}.{10 + i % 250}",
        launch_template_version=version,
    )


@dataclass
class FleetFixture:
    """The state of one fake fleet; tests change it between refreshes."""

    fleet: FleetConfig
    account_id: str
    desired: int
    min_size: int
    max_size: int
    instances: list[Instance]
    counts: dict[str, int | None]
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (error, detail)
    metric: list[float | None] = field(default_factory=list)
    high_state: str = "OK"
    low_state: str = "OK"
    high_threshold: float = 20000
    low_threshold: float = 9500
    steps: tuple = ()
    warm_pool: WarmPool | None = None
    schedule: list[ScheduledAction] = field(default_factory=list)
    activities: list[ScalingActivity] = field(default_factory=list)
    problems: tuple[str, ...] = ()
    launch_template: LaunchTemplateRef | None = None


def prod_fixture(n: int = 12) -> FleetFixture:
    fleet = FleetConfig(
        name="prod-chat",
        asg="prod-chat-asg",
        region="us-east-1",
        profile="prod",
        env="prod",
        app="chat",
        port=443,
        capacity=28000,
        counts=CountsConfig(source="ssh", interval=5, timeout=3, concurrency=100),
        warm_pool=WarmPoolConfig(min_size=2, max_prepared_capacity=6, pool_state="Stopped", reuse_on_scale_in=True),
        schedule=(ScheduledActionConfig(name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4),),
    )
    azs = ("us-east-1a", "us-east-1b", "us-east-1c")
    # launched from version 7 of the group's template, the one it launches now, but for two
    # instances a deploy has not replaced yet (version 6)
    instances = [_instance(i, azs[i % 3], 60 * 24 * 3 + 7 * i, version="6" if i in (3, 5) else "7") for i in range(n)]
    base = [21400, 22100, 20950, 21800, 22600, 21150, 20700, 22300, 21900, 21050, 22450, 21600]
    counts: dict[str, int | None] = {inst.id: base[i % len(base)] + (i // len(base)) * 37 for i, inst in enumerate(instances)}
    errors: dict[str, tuple[str, str]] = {}
    if n >= 12:
        counts[instances[3].id] = 28900  # over the ceiling
        counts[instances[7].id] = 2100  # a fresh instance the old ones kept connections from
        instances[7] = replace(instances[7], launch_time=NOW - timedelta(minutes=4))
        counts[instances[10].id] = None
        errors[instances[10].id] = ("timeout", "no answer within 3 s")
        instances[11] = replace(instances[11], lifecycle="Pending", health="Healthy", launch_time=NOW - timedelta(seconds=40))
    metric = [15000 + 110 * i for i in range(54)] + [21100, 21300, 21500, 21700, 21800, 21900]
    metric[20] = None  # one missing datapoint
    warm = WarmPool(
        min_size=2,
        max_prepared_capacity=6,
        pool_state="Stopped",
        reuse_on_scale_in=True,
        instances=(
            Instance(id="i-0w01a1b2c3d4e5f6a", az="us-east-1a", lifecycle="Warmed:Stopped", health="Healthy"),
            Instance(id="i-0w02a1b2c3d4e5f6a", az="us-east-1b", lifecycle="Warmed:Pending", health="Healthy"),
        ),
    )
    schedule = [
        ScheduledAction(name="weekday-morning", recurrence="0 7 * * MON-FRI", time_zone="Europe/Berlin", min_size=4, desired_capacity=4),
        ScheduledAction(name="night", recurrence="30 22 * * *", time_zone="UTC", min_size=2, desired_capacity=2),
    ]
    activities = [
        ScalingActivity(id="a1", description="Launching a new EC2 instance from the warm pool", cause="alarm high", status="InProgress", start_time=NOW - timedelta(seconds=40)),
        ScalingActivity(id="a2", description="Launching a new EC2 instance", cause="alarm high", status="Successful", start_time=NOW - timedelta(minutes=9)),
    ]
    return FleetFixture(
        fleet=fleet,
        account_id="111122223333",
        desired=n,
        min_size=1,
        max_size=max(12, n),
        instances=instances,
        counts=counts,
        errors=errors,
        metric=metric,
        high_state="ALARM",
        low_state="OK",
        steps=((20000, 25000, 2), (25000, 30000, 2), (30000, None, 3)),
        warm_pool=warm,
        schedule=schedule,
        activities=activities,
        launch_template=LaunchTemplateRef(id="lt-0abc1234", name="prod-chat", version="$Latest", resolved_version="7"),
    )


def staging_fixture() -> FleetFixture:
    fleet = FleetConfig(name="staging-chat", asg="staging-chat-asg", region="eu-west-1", profile="staging", env="staging", app="chat", capacity=1000)
    instances = [_instance(100 + i, "eu-west-1a", 90 + i) for i in range(3)]
    counts: dict[str, int | None] = {inst.id: 300 + 10 * i for i, inst in enumerate(instances)}
    return FleetFixture(
        fleet=fleet,
        account_id="444455556666",
        desired=3,
        min_size=1,
        max_size=6,
        instances=instances,
        counts=counts,
        metric=[300.0 + (i % 7) for i in range(60)],
        high_threshold=700,
        low_threshold=200,
        steps=((700, 900, 1), (900, None, 2)),
    )


class FakeFleetService:
    """Same interface as wsfleet.service.FleetService."""

    def __init__(self, fx: FleetFixture, *, read_only: bool = False) -> None:
        self.fx = fx
        self.read_only = read_only
        self.reads = 0
        self.sweeps = 0
        self.fail_reads: str | None = None  # an AwsError sentence to raise on read
        self.read_delay = 0.0
        self.read_gate: Any = None  # a threading.Event: reads wait until the test sets it (no timing luck)
        self.sweep_delay = 0.0  # seconds between streamed counts
        self.executed: list[actions.Plan] = []
        self.closed = False
        self.api_calls = 0
        self.group_first = True  # read_status gives on_group the group before the rest (aws.reader's order)
        self.active_reads = 0
        self.max_active_reads = 0
        self.completed_reads = 0

    @property
    def fleet(self) -> FleetConfig:
        return self.fx.fleet

    @property
    def name(self) -> str:
        return self.fx.fleet.name

    @property
    def source_name(self) -> str:
        return self.fx.fleet.counts.source

    # reads ---------------------------------------------------------------------------------
    def read_status(self, window_minutes: int = 60, on_group=None) -> FleetStatus:
        import time

        self.reads += 1
        self.active_reads += 1
        self.max_active_reads = max(self.max_active_reads, self.active_reads)
        try:
            if on_group is not None and self.group_first and not self.fail_reads:  # as the real reader: the group, then the rest
                on_group(self._status(window_minutes).group)
            if self.read_delay:
                time.sleep(self.read_delay)
            if self.read_gate is not None:
                self.read_gate.wait(timeout=60)
            if self.fail_reads:
                raise AwsError(self.fail_reads)
            return self._status(window_minutes)
        finally:
            self.active_reads -= 1
            self.completed_reads += 1

    def _status(self, window_minutes: int) -> FleetStatus:
        fx = self.fx
        f = fx.fleet
        self.api_calls += 9
        group = GroupState(name=f.asg, min_size=fx.min_size, max_size=fx.max_size, desired=fx.desired, instances=tuple(fx.instances),
                           launch_template=fx.launch_template)
        n = min(len(fx.metric), window_minutes)
        values = tuple(fx.metric[-n:])
        series = MetricSeries(period=60, timestamps=tuple(NOW - timedelta(minutes=n - 1 - i) for i in range(n)), values=values)
        steps = tuple((lo, hi, add) for lo, hi, add in fx.steps)
        from wsfleet.model import StepRange

        rel = scaling.to_relative(fx.high_threshold, [StepRange(lo, hi, add) for lo, hi, add in steps]) if steps else ()
        return FleetStatus(
            fleet=f.name,
            region=f.region,
            taken_at=NOW,
            group=group,
            high_alarm=Alarm(name=f.high_alarm_name, state=fx.high_state, threshold=fx.high_threshold, comparison="GreaterThanOrEqualToThreshold", period=60, evaluation_periods=5, datapoints_to_alarm=5, treat_missing_data="missing"),
            low_alarm=Alarm(name=f.low_alarm_name, state=fx.low_state, threshold=fx.low_threshold, comparison="LessThanOrEqualToThreshold", period=300, evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="notBreaching"),
            scale_out_policy=ScalingPolicy(name=f.scale_out.policy_name, arn="arn:aws:autoscaling:policy/high", policy_type="StepScaling", adjustment_type="ChangeInCapacity", steps=tuple(rel), warmup=150) if rel else None,
            scale_in_policy=ScalingPolicy(name=f.scale_in.policy_name, arn="arn:aws:autoscaling:policy/low", policy_type="SimpleScaling", adjustment_type="ChangeInCapacity", scaling_adjustment=-1, cooldown=300),
            warm_pool=fx.warm_pool,
            scheduled_actions=tuple(fx.schedule),
            activities=tuple(fx.activities),
            metric=series,
            account_id=fx.account_id,
            api_calls=9,
            problems=fx.problems,
        )

    def read_schedule(self) -> tuple[ScheduledAction, ...]:
        return tuple(self.fx.schedule)

    # counts --------------------------------------------------------------------------------
    async def sweep(self, group: GroupState):
        self.sweeps += 1
        fx = self.fx
        for inst in group.instances:
            if self.sweep_delay:
                await asyncio.sleep(self.sweep_delay)
            err = fx.errors.get(inst.id)
            yield InstanceCount(
                instance_id=inst.id,
                az=inst.az,
                address=inst.private_ip,
                lifecycle=inst.lifecycle,
                health=inst.health,
                connections=None if err else fx.counts.get(inst.id),
                error=err[0] if err else None,
                detail=err[1] if err else None,
                latency_ms=2.0,
            )

    async def aclose(self) -> None:
        self.closed = True

    # plans ---------------------------------------------------------------------------------
    def _group(self) -> GroupState:
        fx = self.fx
        return GroupState(name=fx.fleet.asg, min_size=fx.min_size, max_size=fx.max_size, desired=fx.desired, instances=tuple(fx.instances))

    def _plan(self, action: str, summary: str, changes: tuple, warnings=(), notes=()) -> actions.Plan:
        f = self.fx.fleet
        return actions.Plan(action, f.name, f.asg, f.region, summary, changes, tuple(warnings), tuple(notes))

    def plan_scale(self, op: str, n: int, *, raise_max: bool = False) -> actions.Plan:
        n = actions.parse_count(n, f"scale {op} N", zero=(op == "to"))
        if op != "to" and n < 1:
            raise UsageError(f"scale {op} N must be at least 1, not {n}.")
        fx = self.fx
        cur = fx.desired
        target = cur + n if op == "out" else cur - n if op == "in" else n
        if target < fx.min_size:
            raise UsageError(f"scaling {fx.fleet.asg} {op} by {n} would leave {max(target, 0)} instances, below its MinSize {fx.min_size}; scale to {fx.min_size} at the least, or lower MinSize first.")
        after: dict[str, Any] = {"desired": target}
        warnings: list[str] = []
        notes: list[str] = []
        if target > fx.max_size:
            if not raise_max:
                raise UsageError(f"scaling {fx.fleet.asg} out by {n} needs {target} instances, above its MaxSize {fx.max_size}; pass --raise-max to raise MaxSize to {target} as well, or scale to {fx.max_size}.")
            after = {"max_size": target, "desired": target}
            warnings.append(f"MaxSize goes up from {fx.max_size} to {target}: scaling policies may then grow the group that far too.")
        if target < cur:
            avg = next((v for v in reversed(fx.metric) if v is not None), None)
            if avg is not None:
                proj = scaling.project_scale_in(avg, cur, cur - target, fx.high_threshold, fx.fleet.capacity)
                notes.append(f"Projection: {proj.n} → {proj.remaining} instances puts about {proj.per_instance:,.0f} connections on each remaining one.")
                if proj.reaches_high:
                    warnings.append(f"{proj.per_instance:,.0f} per instance reaches the scale-out threshold {fx.high_threshold:,.0f}: the group would scale straight back out (flap).")
        before = {"min_size": fx.min_size, "max_size": fx.max_size, "desired": cur}
        change = actions.Change("group", fx.fleet.asg, "update", before, after)
        word = "out" if target > cur else "in"
        return self._plan(f"scale {op}", f"Scale {fx.fleet.asg} {word} from {cur} to {target} instances.", (change,), warnings, notes)

    def plan_thresholds(self, high=None, low=None, steps=None) -> actions.Plan:
        fx = self.fx
        if high is None and low is None and steps is None:
            raise UsageError("nothing to change: give --high, --low and/or --steps.")
        high = fx.high_threshold if high is None else actions.parse_connections(high, "high threshold")
        low = fx.low_threshold if low is None else actions.parse_connections(low, "low threshold")
        if low >= high:
            raise UsageError(f"the low threshold {low:,.0f} must stay below the high threshold {high:,.0f}.")
        from wsfleet.model import StepRange

        old = tuple(StepRange(a, b, c) for a, b, c in fx.steps)
        new = scaling.parse_steps_spec(steps) if isinstance(steps, str) else (tuple(steps) if steps else scaling.shift_steps(fx.high_threshold, high, old))
        problems = scaling.validate_steps(high, new)
        if problems:
            raise UsageError(f"steps: {problems[0]}")
        changes = (
            actions.Change("alarm", fx.fleet.high_alarm_name, "update", {"threshold": fx.high_threshold}, {"threshold": high}),
            actions.Change("alarm", fx.fleet.low_alarm_name, "update", {"threshold": fx.low_threshold}, {"threshold": low}),
            actions.Change("step policy", fx.fleet.scale_out.policy_name, "update", {"steps": [list(s) for s in fx.steps]}, {"steps": [[s.lower, s.upper, s.add] for s in new]}),
        )
        self._pending_thresholds = (high, low, tuple((s.lower, s.upper, s.add) for s in new))
        return self._plan("thresholds set", f"Change the thresholds of {fx.fleet.asg}: high {fx.high_threshold:,.0f} → {high:,.0f}, low {fx.low_threshold:,.0f} → {low:,.0f}.", changes)

    def plan_schedule_put(self, action: ScheduledActionConfig) -> actions.Plan:
        problems = actions.validate_scheduled_action(action, NOW)
        if problems:
            raise UsageError(problems[0])
        fx = self.fx
        current = next((a for a in fx.schedule if a.name == action.name), None)
        after = {"recurrence": action.recurrence, "time_zone": action.time_zone or "UTC", "min_size": action.min_size, "max_size": action.max_size, "desired_capacity": action.desired_capacity}
        before = None if current is None else {"recurrence": current.recurrence, "time_zone": current.time_zone or "UTC", "min_size": current.min_size, "max_size": current.max_size, "desired_capacity": current.desired_capacity}
        kind = "create" if current is None else "update"
        self._pending_action = action
        return self._plan("schedule put", f"{'Create' if kind == 'create' else 'Replace'} scheduled action {action.name} on {fx.fleet.asg}.", (actions.Change("scheduled action", action.name, kind, before, after),))

    def plan_schedule_delete(self, name: str) -> actions.Plan:
        fx = self.fx
        current = next((a for a in fx.schedule if a.name == name), None)
        if current is None:
            raise UsageError(f"{fx.fleet.asg} has no scheduled action named {name!r}.")
        self._pending_delete = name
        return self._plan("schedule delete", f"Delete scheduled action {name} from {fx.fleet.asg}.", (actions.Change("scheduled action", name, "delete", {"recurrence": current.recurrence}, None),))

    def plan_warm_pool(self, **fields: Any) -> actions.Plan:
        fx = self.fx
        cur = fx.warm_pool
        base = WarmPoolConfig(cur.min_size, cur.max_prepared_capacity, cur.pool_state, cur.reuse_on_scale_in) if cur else WarmPoolConfig()
        wanted = dataclasses.replace(base, **fields)
        problems = actions.validate_warm_pool(wanted)
        if problems:
            raise UsageError(problems[0])
        self._pending_pool = wanted
        before = None if cur is None else {"min_size": cur.min_size, "max_prepared_capacity": cur.max_prepared_capacity, "pool_state": cur.pool_state, "reuse_on_scale_in": cur.reuse_on_scale_in}
        after = {"min_size": wanted.min_size, "max_prepared_capacity": wanted.max_prepared_capacity, "pool_state": wanted.pool_state, "reuse_on_scale_in": wanted.reuse_on_scale_in}
        return self._plan("warm-pool set", f"Change the warm pool of {fx.fleet.asg}.", (actions.Change("warm pool", fx.fleet.asg, "update" if cur else "create", before, after),))

    def plan_refresh_start(self, request: Any) -> actions.Plan:
        """The real refresh plan's shape and projection, from the fake's counts (no AWS)."""
        fx = self.fx
        p = request.preferences
        n = sum(1 for i in fx.instances if i.lifecycle == "InService")
        known = [c for c in fx.counts.values() if c is not None]
        proj = scaling.project_refresh(sum(known) / len(known), n, p.min_healthy_percentage, p.max_healthy_percentage or 100,
                                       fx.high_threshold, fx.fleet.capacity)
        if (proj.reaches_high or proj.over_capacity) and not request.force:
            raise UsageError(f"during each batch the {proj.serving} serving instances would average {proj.per_instance:,.0f} connections, "
                             f"at or over the scale-out threshold {fx.high_threshold:,.0f}: pass --force to start it anyway. Nothing was changed.")
        change = actions.Change("instance refresh", fx.fleet.asg, "create", {"status": None}, {"status": "started", "min_healthy_percentage": p.min_healthy_percentage})
        return self._plan("refresh start", f"Start an instance refresh of {fx.fleet.asg}: replace its {n} in-service instances keeping at least {p.min_healthy_percentage}% healthy.",
                          (change,), notes=(f"Projection: min healthy {p.min_healthy_percentage}% of {n} keeps {proj.serving} serving.",))

    def plan_rebalance(self, status: Any, counts: dict[str, int], *, target_skew: float, max_drains: int) -> Any:
        from wsfleet import drain
        from wsfleet.actions.rebalance import RebalancePlan

        choice = drain.choose_drains(counts, drain.LEAST_OUTSTANDING, target_skew=target_skew, max_drains=max_drains,
                                     threshold=self.fx.high_threshold, capacity=self.fx.fleet.capacity)
        if not choice.steps:
            raise UsageError(f"nothing can be drained on {self.fx.fleet.asg}: {choice.stop_reason}")
        return RebalancePlan(self.fx.fleet.name, self.fx.fleet.asg, drain.LEAST_OUTSTANDING, choice.steps, choice.stop_reason,
                             target_skew=target_skew, counts=dict(counts))

    def run_rebalance(self, plan: Any, *, count: Any, progress: Any, should_stop: Any) -> Any:
        """Moves the fake's counts as the plan projects, one drain at a time, through the real `count`."""
        from wsfleet.actions.rebalance import DrainResult, RebalanceRun

        if self.read_only:
            raise ReadOnlyError(f"--read-only is set, so wsfleet refused to write: {plan.summary} Nothing was changed.")
        run = RebalanceRun()
        for step in plan.steps:
            if should_stop():
                run.stopped = "stopped on request before the next drain"
                break
            count()  # the fresh sweep a real run takes first
            progress(f"drain: {step.instance} holds {step.moved:,}")
            self.fx.counts.update(step.after)
            run.results.append(DrainResult(step.instance, step.moved, 0, dict(step.during), dict(step.during), "InService"))
            progress(f"drain done: {step.instance} {step.moved:,} → 0")
        run.states = {r.instance: "InService" for r in run.results}
        self.executed.append(plan)
        return run

    def execute(self, plan: actions.Plan) -> actions.Outcome:
        if self.read_only:
            raise ReadOnlyError(f"--read-only is set, so wsfleet refused to write: {plan.summary} Nothing was changed.")
        fx = self.fx
        self.executed.append(plan)
        if plan.action.startswith("scale"):
            after = plan.changes[0].after or {}
            fx.desired = after["desired"]
            fx.max_size = after.get("max_size", fx.max_size)
        elif plan.action == "thresholds set":
            fx.high_threshold, fx.low_threshold, fx.steps = self._pending_thresholds
        elif plan.action == "schedule put":
            a = self._pending_action
            fx.schedule = [s for s in fx.schedule if s.name != a.name] + [ScheduledAction(name=a.name, recurrence=a.recurrence, time_zone=a.time_zone, min_size=a.min_size, max_size=a.max_size, desired_capacity=a.desired_capacity)]
        elif plan.action == "schedule delete":
            fx.schedule = [s for s in fx.schedule if s.name != self._pending_delete]
        elif plan.action == "warm-pool set":
            w = self._pending_pool
            fx.warm_pool = WarmPool(w.min_size, w.max_prepared_capacity, w.pool_state, w.reuse_on_scale_in, instances=fx.warm_pool.instances if fx.warm_pool else ())
        return actions.Outcome(plan, "applied")


class FakeDirectory:
    """Same interface as wsfleet.service.FleetDirectory."""

    def __init__(self, *fixtures: FleetFixture, read_only: bool = False, ui: UiConfig | None = None) -> None:
        fixtures = fixtures or (prod_fixture(), staging_fixture())
        self.read_only = read_only
        self.services = {fx.fleet.name: FakeFleetService(fx, read_only=read_only) for fx in fixtures}
        self.app_config = AppConfig(fleets={fx.fleet.name: fx.fleet for fx in fixtures}, default_fleet=fixtures[0].fleet.name, ui=ui or UiConfig())
        self.closed = False
        self.unusable: dict[str, str] = {}  # fleet name -> the ConfigError sentence opening it raises

    def names(self) -> list[str]:
        return list(self.services)

    def default_name(self, requested: str | None = None) -> str:
        return requested or self.app_config.default_fleet or self.names()[0]

    def service(self, name: str) -> FakeFleetService:
        if name in self.unusable:
            from wsfleet.errors import ConfigError

            raise ConfigError(self.unusable[name])
        return self.services[name]

    async def aclose(self) -> None:
        self.closed = True
        for s in self.services.values():
            await s.aclose()
