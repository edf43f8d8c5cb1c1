"""One read of everything the dashboard and `wsfleet status` show, in a number of API calls that
does not grow with the number of instances.

The group is read first; the other reads are independent of each other, so they run side by side
on a few threads (boto3 clients are thread-safe): a refresh costs about four round trips to AWS
in a row, not fifteen. Only the group is
essential; any other part that fails (say AccessDenied on the warm pool) is left empty and its
sentence goes into `FleetStatus.problems`.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
import logging
from typing import Callable, TypeVar

from wsfleet.aws.activities import read_activities
from wsfleet.aws.alarms import read_alarms
from wsfleet.aws.fleet import describe_group, describe_instances, group_from_aws, launch_template_of, resolve_launch_template
from wsfleet.aws.metrics import read_group_metric
from wsfleet.aws.policies import read_policies
from wsfleet.aws.refresh import RefreshUnavailable, deploying_to, read_latest_refresh
from wsfleet.aws.schedule import read_scheduled_actions
from wsfleet.aws.session import AwsSession
from wsfleet.aws.targets import read_target_groups
from wsfleet.aws.warm_pool import describe_warm_pool, warm_pool_from_aws
from wsfleet.errors import WsfleetError
from wsfleet.model import FleetConfig, FleetStatus, GroupState

T = TypeVar("T")

READ_THREADS = 8


def read_status(
    session: AwsSession,
    fleet: FleetConfig,
    *,
    window_minutes: int = 60,
    activities: int = 20,
    now: datetime | None = None,
    on_group: Callable[[GroupState], None] | None = None,
) -> FleetStatus:
    """Group (with instance addresses and its resolved launch template), alarms, policies, warm
    pool (with its instances), schedule, recent activities, target groups, the running or latest
    instance refresh, and the last `window_minutes` of the group metric.

    `on_group`, when given, is called (on this thread) with the group and its addresses as soon as
    they are read, its launch template not yet resolved, while the rest is still being read: a
    sweep needs no more, so the dashboard's counts need not wait for the alarms, policies and the
    metric. An error it raises is logged, never the read's."""
    calls_before = session.api_calls
    taken_at = now or datetime.now(timezone.utc)
    problems: list[str] = []
    asg = fleet.asg
    with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="wsfleet-read") as pool:
        account_f = pool.submit(session.account_id)
        # The group first: without it there is nothing to show, and its error is the answer.
        raw_group = describe_group(session, asg)
        group_ids = [i["InstanceId"] for i in raw_group.get("Instances", ())]
        described_f = pool.submit(describe_instances, session, group_ids) if group_ids else None
        warm_f = pool.submit(describe_warm_pool, session, asg)
        alarms_f = pool.submit(read_alarms, session, [fleet.high_alarm_name, fleet.low_alarm_name])
        policies_f = pool.submit(read_policies, session, asg)
        schedule_f = pool.submit(read_scheduled_actions, session, asg)
        activities_f = pool.submit(read_activities, session, asg, activities)
        targets_f = pool.submit(read_target_groups, session, raw_group.get("TargetGroupARNs", ()))
        refresh_f = pool.submit(read_latest_refresh, session, asg)
        template_f = pool.submit(resolve_launch_template, session, launch_template_of(raw_group))
        metric_f = pool.submit(
            read_group_metric,
            session,
            fleet,
            taken_at - timedelta(minutes=window_minutes),
            taken_at,
            fleet.scale_out.period,
        )

        described = _part(described_f, problems, {}) if described_f else {}
        if on_group is not None:
            try:
                on_group(group_from_aws(raw_group, described))
            except Exception:  # noqa: BLE001 - the read goes on; the caller's bug is in the log
                logging.getLogger(__name__).exception("on_group failed")
        raw_warm = _part(warm_f, problems, None)
        warm_ids = [i["InstanceId"] for i in raw_warm["Instances"]] if raw_warm else []
        if warm_ids:
            described = {**described, **_part(pool.submit(describe_instances, session, warm_ids), problems, {})}
        alarms = _part(alarms_f, problems, {})
        policies = _part(policies_f, problems, {})
        refresh_unavailable = None
        try:
            refresh = refresh_f.result()
        except RefreshUnavailable as exc:
            refresh, refresh_unavailable = None, exc.message
        except WsfleetError as exc:
            refresh = None
            problems.append(exc.message)
        group = group_from_aws(raw_group, described)
        group = replace(group, launch_template=deploying_to(_part(template_f, problems, group.launch_template), refresh))
        status = FleetStatus(
            fleet=fleet.name,
            region=session.region,
            taken_at=taken_at,
            group=group,
            high_alarm=alarms.get(fleet.high_alarm_name),
            low_alarm=alarms.get(fleet.low_alarm_name),
            scale_out_policy=policies.get(fleet.scale_out.policy_name),
            scale_in_policy=policies.get(fleet.scale_in.policy_name),
            warm_pool=warm_pool_from_aws(raw_warm, described) if raw_warm else None,
            scheduled_actions=_part(schedule_f, problems, ()),
            activities=_part(activities_f, problems, ()),
            target_groups=_part(targets_f, problems, ()),
            metric=_part(metric_f, problems, None),
            account_id=account_f.result(),
            instance_refresh=refresh,
            refresh_unavailable=refresh_unavailable,
        )
    return replace(status, api_calls=session.api_calls - calls_before, problems=tuple(problems))


def _part(future: Future[T], problems: list[str], default: T) -> T:
    try:
        return future.result()
    except WsfleetError as exc:
        problems.append(exc.message)
        return default
