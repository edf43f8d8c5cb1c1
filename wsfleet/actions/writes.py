"""The AWS writes a change carries: each one's data and how it is sent (the adapters in
`wsfleet.aws` do the calls), with the policy-ARN placeholders resolved at send time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Mapping

from wsfleet.aws.provision import arn_placeholder
from wsfleet.errors import AwsError, WsfleetError
from wsfleet.model import Alarm, RefreshPreferences, ScheduledAction, ScheduledActionConfig, StepAdjustment, WarmPoolConfig


class Write:
    """One AWS write. `apply` returns a policy ARN when it creates or replaces a policy."""

    def apply(self, session: Any, arns: Mapping[str, str]) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class SetCapacity(Write):
    asg: str
    desired: int
    max_size: int | None = None  # also raise MaxSize, in the same call

    def apply(self, session, arns):
        from wsfleet.aws import fleet as aws_fleet

        if self.max_size is None:
            aws_fleet.set_desired_capacity(session, self.asg, self.desired)
        else:
            aws_fleet.update_group(session, self.asg, max_size=self.max_size, desired=self.desired)
        return None


@dataclass(frozen=True)
class PutAlarm(Write):
    alarm: Alarm

    def apply(self, session, arns):
        from wsfleet.aws import alarms

        actions = tuple(_resolve_arn(a, arns) for a in self.alarm.alarm_actions)
        alarms.put_alarm(session, replace(self.alarm, alarm_actions=actions))
        return None


@dataclass(frozen=True)
class PutStepPolicy(Write):
    asg: str
    name: str
    steps: tuple[StepAdjustment, ...]
    warmup: int
    aggregation: str = "Average"

    def apply(self, session, arns):
        from wsfleet.aws import policies

        return policies.put_step_policy(session, self.asg, self.name, self.steps, self.warmup, self.aggregation)


@dataclass(frozen=True)
class PutSimplePolicy(Write):
    asg: str
    name: str
    adjustment: int
    cooldown: int

    def apply(self, session, arns):
        from wsfleet.aws import policies

        return policies.put_simple_policy(session, self.asg, self.name, self.adjustment, self.cooldown)


@dataclass(frozen=True)
class PutWarmPool(Write):
    asg: str
    config: WarmPoolConfig

    def apply(self, session, arns):
        from wsfleet.aws import warm_pool

        warm_pool.put_warm_pool(session, self.asg, self.config)
        return None


@dataclass(frozen=True)
class PutScheduledAction(Write):
    asg: str
    action: ScheduledActionConfig
    # AWS keeps a field that an update leaves out: dropping one (e.g. the max size, or the time
    # zone back to UTC) takes a delete and a fresh put; `previous` is put back if the put fails.
    previous: ScheduledActionConfig | None = None

    def apply(self, session, arns):
        from wsfleet.aws import schedule

        if self.previous is None:
            schedule.put_scheduled_action(session, self.asg, self.action)
            return None
        schedule.delete_scheduled_action(session, self.asg, self.action.name)
        try:
            schedule.put_scheduled_action(session, self.asg, self.action)
        except WsfleetError as e:
            try:
                schedule.put_scheduled_action(session, self.asg, self.previous)
            except WsfleetError:
                raise AwsError(f"{e.message.rstrip('.')}; the old action had been deleted to replace it and could not be put back.") from e
            raise AwsError(f"{e.message.rstrip('.')}; the old action was put back as it was.") from e
        return None


def _as_config(a: ScheduledAction, now: datetime | None = None) -> ScheduledActionConfig:
    """An action as read, ready to put back. AWS reports a recurring action's next start as its
    StartTime; a start in the past would be refused, so it is left out."""
    now = now or datetime.now(timezone.utc)
    start = a.start_time if a.start_time is not None and a.start_time > now else None
    return ScheduledActionConfig(a.name, a.recurrence, a.time_zone, a.min_size, a.max_size, a.desired_capacity, start, a.end_time)


def _put_action_write(asg: str, action: ScheduledActionConfig, current: ScheduledAction | None) -> PutScheduledAction:
    drops = current is not None and any(
        getattr(current, f) is not None and getattr(action, f) is None
        for f in ("recurrence", "time_zone", "min_size", "max_size", "desired_capacity", "end_time")
    )
    return PutScheduledAction(asg, action, _as_config(current) if drops and current else None)


@dataclass(frozen=True)
class DeleteScheduledAction(Write):
    asg: str
    name: str

    def apply(self, session, arns):
        from wsfleet.aws import schedule

        schedule.delete_scheduled_action(session, self.asg, self.name)
        return None


def _resolve_arn(value: str, arns: Mapping[str, str]) -> str:
    for name, arn in arns.items():
        if value == arn_placeholder(name):
            return arn
    return value


def _resolve(fields: Mapping[str, Any] | None, arns: Mapping[str, str]) -> dict[str, Any] | None:
    if fields is None:
        return None
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if isinstance(v, list):
            v = sorted(_resolve_arn(x, arns) if isinstance(x, str) else x for x in v) if k == "alarm_actions" else v
        out[k] = v
    return out


# ----------------------------------------------------------------------------- instance refreshes


@dataclass(frozen=True)
class StartRefresh(Write):
    asg: str
    preferences: RefreshPreferences

    def apply(self, session, arns):
        from wsfleet.aws import refresh

        refresh.start_refresh(session, self.asg, self.preferences)
        return None


@dataclass(frozen=True)
class CancelRefresh(Write):
    asg: str

    def apply(self, session, arns):
        from wsfleet.aws import refresh

        refresh.cancel_refresh(session, self.asg)
        return None


@dataclass(frozen=True)
class RollbackRefresh(Write):
    asg: str

    def apply(self, session, arns):
        from wsfleet.aws import refresh

        refresh.rollback_refresh(session, self.asg)
        return None


@dataclass(frozen=True)
class SuspendProcesses(Write):
    asg: str
    processes: tuple[str, ...]

    def apply(self, session, arns):
        from wsfleet.aws import refresh

        refresh.suspend_processes(session, self.asg, list(self.processes))
        return None


@dataclass(frozen=True)
class ResumeProcesses(Write):
    asg: str
    processes: tuple[str, ...]

    def apply(self, session, arns):
        from wsfleet.aws import refresh

        refresh.resume_processes(session, self.asg, list(self.processes))
        return None


@dataclass(frozen=True)
class PutGroupTag(Write):
    asg: str
    key: str
    value: str

    def apply(self, session, arns):
        from wsfleet.aws import refresh

        refresh.put_group_tag(session, self.asg, self.key, self.value)
        return None


@dataclass(frozen=True)
class DeleteGroupTag(Write):
    asg: str
    key: str

    def apply(self, session, arns):
        from wsfleet.aws import refresh

        refresh.delete_group_tag(session, self.asg, self.key)
        return None


# ----------------------------------------------------------------------------- rebalance


@dataclass(frozen=True)
class EnterStandby(Write):
    asg: str
    instance_id: str

    def apply(self, session, arns):
        from wsfleet.aws import fleet

        fleet.enter_standby(session, self.asg, self.instance_id)
        return None


@dataclass(frozen=True)
class ExitStandby(Write):
    asg: str
    instance_id: str

    def apply(self, session, arns):
        from wsfleet.aws import fleet

        fleet.exit_standby(session, self.asg, self.instance_id)
        return None


@dataclass(frozen=True)
class SetTargetGroupAlgorithm(Write):
    arn: str
    algorithm: str

    def apply(self, session, arns):
        from wsfleet.aws import targets

        targets.set_algorithm(session, self.arn, self.algorithm)
        return None
