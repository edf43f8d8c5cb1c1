"""The demo's Auto Scaling and CloudWatch: what moto stores but never does.

Each engine step it publishes the metric (as the CloudWatch agent would), and at the end of every
alarm period it evaluates both alarms over what CloudWatch holds, with wsfleet's one evaluator
(`wsfleet.scaling.evaluate_alarm`), sets their state, and runs the policy an alarm in ALARM points
at (the step by `wsfleet.scaling.step_for` over the policy's relative bounds from DescribePolicies;
warm-up, cooldown and MaxSize respected) with SetDesiredCapacity, unless the group's AlarmNotification
process is suspended. It also boots instances (Pending -> InService, fast from the warm pool, slow
when cold), carries out the group's instance refresh (`refresh.py`), keeps the warm pool at its
size, and runs scheduled actions when their cron time comes (`wsfleet.cron`).

Reads and writes go through wsfleet's own AWS adapters, i.e. the ordinary AWS API against moto;
only what the API cannot express (boot timers, the warm pool's instances, causes of activities)
goes through `moto_extensions.DemoGroup`. Runs in one worker thread; no I/O besides AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Mapping

from wsfleet import cron, scaling
from wsfleet.aws import alarms as aws_alarms
from wsfleet.aws import fleet as aws_fleet
from wsfleet.aws import metrics as aws_metrics
from wsfleet.aws import policies as aws_policies
from wsfleet.aws import schedule as aws_schedule
from wsfleet.aws.refresh import ALARM_NOTIFICATION
from wsfleet.demo import aws_stand_in as stand_in
from wsfleet.demo import decisions
from wsfleet.demo.moto_extensions import DemoGroup
from wsfleet.demo.refresh import RefreshRunner
from wsfleet.demo.scenarios import DemoTiming
from wsfleet.errors import WsfleetError
from wsfleet.model import Alarm, FleetConfig, ScalingPolicy, ScheduledAction

GREATER = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold")


def _ts(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class EngineState:
    alarm_states: dict[str, str] = field(default_factory=dict)  # alarm name -> state
    last_scale_out: decisions.ScaleOut | None = None
    last_scale_in: float | None = None
    evaluated_until: datetime | None = None  # end of the last period evaluated
    schedule_checked: datetime | None = None


class ScalingEngine:
    def __init__(self, session, fleet: FleetConfig, group: DemoGroup, timing: DemoTiming, *, started: datetime,
                 host_wide: stand_in.HostWideModel | None = None) -> None:
        self.session = session
        self.host_wide = host_wide  # publish netstat's host-wide count instead of the exact one
        self.fleet = fleet
        self.group = group
        self.timing = timing
        self.state = EngineState(schedule_checked=started)
        self.refresh = RefreshRunner(group, timing)

    # ------------------------------------------------------------------------ before traffic

    def advance(self, now: datetime) -> list[str]:
        """Boot timers, the instance refresh, scheduled actions, the warm pool's size. Returns event texts."""
        events: list[str] = []
        events += self._boot(now)
        events += self.refresh.advance(now)
        events += self._scheduled_actions(now)
        events += self._fill_warm_pool(now)
        return events

    def _boot(self, now: datetime) -> list[str]:
        pool = self.group.warm_pool_config()
        pool_state = pool["pool_state"] if pool else "Stopped"
        views = self.group.instances() + self.group.warm_instances()
        rows = [(v.id, v.lifecycle, v.origin, v.since) for v in views]
        origin = {v.id: v.origin for v in views}
        events = []
        for iid, state in decisions.due_transitions(rows, pool_state=pool_state, now=now.timestamp(), timing=self.timing):
            if self.group.set_lifecycle(iid, state) and state == "InService":
                how = "from the warm pool" if origin.get(iid) == "warm-pool" else "cold launch"
                events.append(f"{iid} InService ({how}, {decisions.boot_time(origin.get(iid, ''), self.timing):.0f} s)")
        return events

    def _fill_warm_pool(self, now: datetime) -> list[str]:
        pool = self.group.warm_pool_config()
        warm = self.group.warm_instances()
        if pool is None:
            if warm:
                self.group.remove_from_warm_pool([v.id for v in warm], f"At {_ts(now)} the warm pool was deleted.")
                return [f"warm pool deleted: {len(warm)} instances terminated"]
            return []
        _, max_size, desired = self.group.capacity()
        target = decisions.warm_pool_size(
            min_size=pool["min_size"], max_prepared=pool["max_prepared_capacity"], desired=desired, max_size=max_size
        )
        if len(warm) < target:
            cause = (
                f"At {_ts(now)} an instance was launched into the warm pool in response to a difference between "
                f"the warm pool's desired size {target} and its actual size {len(warm)}."
            )
            added = self.group.add_to_warm_pool(target - len(warm), cause)
            return [f"warm pool +{len(added)} (Warmed:Pending)"]
        if len(warm) > target:
            extra = sorted(warm, key=lambda v: v.since, reverse=True)[: len(warm) - target]
            cause = f"At {_ts(now)} the warm pool shrank to its desired size {target}."
            self.group.remove_from_warm_pool([v.id for v in extra], cause)
            return [f"warm pool -{len(extra)}"]
        return []

    def _scheduled_actions(self, now: datetime) -> list[str]:
        since = self.state.schedule_checked or now
        if now < since + timedelta(seconds=self.timing.period):
            return []  # cron has minute resolution: checking each period is plenty
        self.state.schedule_checked = now
        actions = aws_schedule.read_scheduled_actions(self.session, self.fleet.asg)
        events = []
        for action in actions:
            if self._due(action, since, now):
                events.append(self._run_scheduled(action, now))
        return events

    @staticmethod
    def _due(action: ScheduledAction, since: datetime, now: datetime) -> bool:
        if action.recurrence:
            try:
                at = cron.next_run(action.recurrence, action.time_zone, since)
            except WsfleetError:
                return False
            if at is None or at > now:
                return False
            if action.start_time is not None and at < action.start_time:
                return False
            return action.end_time is None or at <= action.end_time
        return action.start_time is not None and since < action.start_time <= now

    def _run_scheduled(self, action: ScheduledAction, now: datetime) -> str:
        min_size, max_size, desired = self.group.capacity()
        new_min = action.min_size if action.min_size is not None else min_size
        new_max = action.max_size if action.max_size is not None else max_size
        new_desired = action.desired_capacity if action.desired_capacity is not None else min(max(desired, new_min), new_max)
        change = f" changing the desired capacity from {desired} to {new_desired}" if new_desired != desired else ""
        self.group.explain_next_change(
            f"At {_ts(now)} a scheduled action update of AutoScalingGroup constraints to min: {new_min}, "
            f"max: {new_max}, desired: {new_desired}{change}."
        )
        aws_fleet.update_group(
            self.session, self.fleet.asg, min_size=action.min_size, max_size=action.max_size, desired=action.desired_capacity
        )
        if not change:
            self.group.record_activity(
                f"Executing scheduled action {action.name}",
                f"At {_ts(now)} a scheduled action update of AutoScalingGroup constraints to min: {new_min}, max: {new_max}, desired: {new_desired}.",
            )
        return f"scheduled action {action.name}: min {new_min}, max {new_max}, desired {desired} -> {new_desired}"

    # ------------------------------------------------------------------------- after traffic

    def publish(self, now: datetime, in_service_counts: Mapping[str, int]) -> float | None:
        """The CloudWatch agent's datapoints: each in-service instance's count (exact, or host-wide
        with `host_wide`), and the group's average over them (nothing when no instance is in
        service: the datapoint is missing). Returns the exact average: the alarms see the published one."""
        if not in_service_counts:
            return None
        published = stand_in.published_counts(in_service_counts, self.host_wide)
        stand_in.put_group_metric(self.session, self.fleet, sum(published.values()) / len(published), now)
        stand_in.put_instance_metric(self.session, self.fleet, published, now)
        return sum(in_service_counts.values()) / len(in_service_counts)

    def evaluate(self, now: datetime) -> list[str]:
        """At the end of each alarm period: both alarms, then the policies of those in ALARM."""
        period = self.timing.period
        boundary = datetime.fromtimestamp(int(now.timestamp()) // period * period, tz=timezone.utc)
        if self.state.evaluated_until is not None and boundary <= self.state.evaluated_until:
            return []
        self.state.evaluated_until = boundary
        names = [self.fleet.high_alarm_name, self.fleet.low_alarm_name]
        alarms = aws_alarms.read_alarms(self.session, names)
        if not alarms:
            return []
        policies: Mapping[str, ScalingPolicy] | None = None  # read only when an alarm is in ALARM
        suspended: bool | None = None  # AlarmNotification suspended: likewise
        events: list[str] = []
        for name in names:
            alarm = alarms.get(name)
            if alarm is None:
                continue
            span = scaling.default_evaluation_range(alarm.evaluation_periods)
            series = aws_metrics.read_group_metric(
                self.session, self.fleet, boundary - timedelta(seconds=span * alarm.period), boundary, alarm.period
            )
            m = alarm.datapoints_to_alarm or alarm.evaluation_periods
            state = scaling.evaluate_alarm(
                series.values,
                threshold=alarm.threshold,
                comparison=alarm.comparison,
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=m,
                treat_missing_data=alarm.treat_missing_data,
                initial=alarm.state,
            )[-1]
            points = [(t, v) for t, v in zip(series.timestamps, series.values) if v is not None]
            if state != alarm.state:
                reason = decisions.alarm_reason(
                    points, threshold=alarm.threshold, comparison=alarm.comparison,
                    datapoints_to_alarm=m, evaluation_periods=alarm.evaluation_periods, old=alarm.state, new=state,
                )
                stand_in.set_alarm_state(self.session, name, state, reason)
                events.append(f"{self._label(name)} alarm {alarm.state} -> {state}")
            self.state.alarm_states[name] = state
            if state == "ALARM":
                if suspended is None:
                    suspended = ALARM_NOTIFICATION in aws_fleet.read_group_sizes(self.session, self.fleet.asg).suspended_processes
                if suspended:
                    # AWS: with AlarmNotification suspended the group ignores its alarms' actions
                    # (the alarms themselves still change state)
                    events.append(f"{self._label(name)} alarm: AlarmNotification is suspended, no policy runs")
                    continue
                value = points[-1][1] if points else None
                if policies is None:
                    policies = aws_policies.read_policies(self.session, self.fleet.asg)
                events += self._run_policies(alarm, value, policies, now)
        return events

    def _label(self, alarm_name: str) -> str:
        return "high" if alarm_name == self.fleet.high_alarm_name else "low"

    def _run_policies(self, alarm: Alarm, value: float | None, policies: Mapping[str, ScalingPolicy], now: datetime) -> list[str]:
        by_arn = {p.arn: p for p in policies.values() if p.arn}
        events = []
        for action in alarm.alarm_actions:
            policy = by_arn.get(action)
            if policy is not None:
                events += self._run_policy(alarm, policy, value, now)
        return events

    def _run_policy(self, alarm: Alarm, policy: ScalingPolicy, value: float | None, now: datetime) -> list[str]:
        min_size, max_size, desired = self.group.capacity()
        t = now.timestamp()
        label = self._label(alarm.name)
        if policy.policy_type == "StepScaling":
            if value is None or alarm.comparison not in GREATER:
                return []
            steps = scaling.to_absolute(alarm.threshold, policy.steps)
            step = scaling.step_for(value, alarm.threshold, steps)
            decision = decisions.step_scale_out(
                step=step, adjustment_type=policy.adjustment_type, desired=desired, max_size=max_size,
                now=t, warmup=float(policy.warmup or 0), last=self.state.last_scale_out,
            )
            which = f"step {step.lower:g}-{'' if step.upper is None else f'{step.upper:g}'} +{step.add}" if step else "no step"
        elif policy.policy_type == "SimpleScaling":
            decision = decisions.simple_scale_in(
                adjustment=int(policy.scaling_adjustment or 0), adjustment_type=policy.adjustment_type,
                desired=desired, min_size=min_size, now=t, cooldown=float(policy.cooldown if policy.cooldown is not None else 300),
                last_scale_in=self.state.last_scale_in, last_scale_out=self.state.last_scale_out,
                warmup=float(self.fleet.scale_out.warmup),
            )
            which = f"{policy.scaling_adjustment:+d}" if policy.scaling_adjustment is not None else ""
        else:
            return []
        if decision.desired is None:
            return [f"{label} alarm: {policy.name} waits ({decision.why})"]
        self.group.explain_next_change(
            f"At {_ts(now)} a monitor alarm {alarm.name} in state ALARM triggered policy {policy.name} "
            f"changing the desired capacity from {desired} to {decision.desired}."
        )
        aws_fleet.set_desired_capacity(self.session, self.fleet.asg, decision.desired)
        self.group.record_alarm_action(alarm.name, f"Successfully executed action {policy.arn}")
        if decision.desired > desired:
            self.state.last_scale_out = decisions.ScaleOut(t, desired, decision.desired)
        else:
            self.state.last_scale_in = t
        return [f"{label} alarm -> {policy.name} ({which}): desired {desired} -> {decision.desired}"]
