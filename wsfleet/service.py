"""The dashboard's one door to the services: reads, count sweeps, plans and writes, per fleet.

No Textual here (the UI posts these results as Messages), no boto3 or asyncssh either: this only
calls the modules that own them (`wsfleet.aws.reader`, `wsfleet.counts`, `wsfleet.actions`). Tests
and snapshots use a fake with the same methods (tests/tui/fakes.py).

Threading: `read_status`, `plan_*` and `execute` are blocking (boto3) and are called from thread
workers; `sweep` and `aclose` are coroutines on the UI's event loop (asyncssh is loop-bound).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from wsfleet.errors import WsfleetError
from wsfleet.model import AppConfig, FleetConfig, FleetStatus, GroupState, InstanceCount, ScheduledAction, ScheduledActionConfig


class FleetService:
    """One fleet: its AWS session (account, region, profile), its count source, its write path."""

    def __init__(self, fleet: FleetConfig, *, read_only: bool = False, session: Any = None, audit: Any = None, audit_path: str | None = None) -> None:
        self.fleet = fleet
        self.read_only = read_only
        self._session = session
        self._audit = audit
        self._audit_path = audit_path
        self._source: Any = None
        self._source_stale = False  # the SSH settings changed: reopen the source before the next sweep

    # ------------------------------------------------------------------ identity

    @property
    def name(self) -> str:
        return self.fleet.name

    @property
    def source_name(self) -> str:
        return self.fleet.counts.source

    @property
    def session(self) -> Any:
        if self._session is None:
            from wsfleet.aws.session import AwsSession

            self._session = AwsSession(self.fleet)
        return self._session

    # ------------------------------------------------------------------ reads (blocking)

    def read_status(self, window_minutes: int = 60, on_group: Any = None) -> FleetStatus:
        """Everything the dashboard shows from AWS, in API calls constant in the fleet's size;
        `on_group(group)` as soon as the group and its addresses are read (aws.reader.read_status)."""
        from wsfleet.aws.reader import read_status

        return read_status(self.session, self.fleet, window_minutes=window_minutes, on_group=on_group)

    def read_schedule(self) -> tuple[ScheduledAction, ...]:
        """The group's scheduled actions alone (the schedule dialog re-reads them after a write)."""
        from wsfleet.aws.schedule import read_scheduled_actions

        return read_scheduled_actions(self.session, self.fleet.asg)

    # ------------------------------------------------------------------ counts (async, streaming)

    async def sweep(self, group: GroupState) -> AsyncIterator[InstanceCount]:
        """One sweep over the group's instances; yields each count as its host answers."""
        from wsfleet.counts import targets_for

        source = await self._open_source()
        async for count in source.sweep(targets_for(self.fleet, group)):
            yield count
        from wsfleet import startup

        startup.end()  # the first counts are in: the collector back on (wsfleet.startup)

    def update_fleet(self, fleet: FleetConfig) -> None:
        """New settings for the same group and account (a re-read config file)."""
        if (fleet.ssh, fleet.counts, fleet.port) != (self.fleet.ssh, self.fleet.counts, self.fleet.port):
            self._source_stale = True  # e.g. new hosts whose keys the open source has not loaded
        self.fleet = fleet

    async def _open_source(self) -> Any:
        if self._source_stale:
            self._source_stale = False
            await self.aclose()
        if self._source is None:
            from wsfleet.counts import open_source

            self._source = open_source(self.fleet, self.session)
        return self._source

    async def aclose(self) -> None:
        """Close the count source's connections (persistent SSH sessions)."""
        source, self._source = self._source, None
        if source is not None:
            await source.aclose()

    # ------------------------------------------------------------------ writes (blocking): plan, then execute

    def plan_scale(self, op: str, n: int, *, raise_max: bool = False) -> Any:
        from wsfleet import actions

        return actions.plan_scale(self.session, self.fleet, op, n, raise_max=raise_max)

    def plan_thresholds(self, high: float | None = None, low: float | None = None, steps: Any = None) -> Any:
        from wsfleet import actions

        return actions.plan_thresholds(self.session, self.fleet, high=high, low=low, steps=steps)

    def plan_schedule_put(self, action: ScheduledActionConfig) -> Any:
        from wsfleet import actions

        return actions.plan_schedule_put(self.session, self.fleet, action)

    def plan_schedule_delete(self, name: str) -> Any:
        from wsfleet import actions

        return actions.plan_schedule_delete(self.session, self.fleet, name)

    def plan_warm_pool(self, **fields: Any) -> Any:
        from wsfleet import actions

        return actions.plan_warm_pool(self.session, self.fleet, **fields)

    def plan_refresh_start(self, request: Any) -> Any:
        from wsfleet import actions

        return actions.plan_refresh_start(self.session, self.fleet, request)

    def resume_alarms_if_due(self, status: FleetStatus) -> Any:
        """Resume the AlarmNotification wsfleet suspended for a refresh that has ended (audited);
        the outcome, or None when nothing was due. Under --read-only the engine refuses it."""
        from wsfleet import actions

        plan = actions.plan_resume_alarms(self.session, self.fleet, status.group, status.instance_refresh)
        return None if plan is None else self.execute(plan)

    def plan_rebalance(self, status: FleetStatus, counts: dict[str, int], *, target_skew: float, max_drains: int) -> Any:
        from wsfleet import actions

        return actions.plan_rebalance(self.session, self.fleet, status, counts, target_skew=target_skew, max_drains=max_drains)

    def run_rebalance(self, plan: Any, *, count: Callable[[], dict[str, int | None]], progress: Callable[[str], None],
                      should_stop: Callable[[], bool]) -> Any:
        """The drains, one at a time (blocking: call from a thread worker; `count` must be thread-safe)."""
        from wsfleet import actions

        return actions.run_rebalance(plan, self.fleet, read_only=self.read_only, audit=self._audit_log(), count=count,
                                     progress=progress, should_stop=should_stop,
                                     poll=min(2.0, max(0.5, self.fleet.counts.interval / 2)))

    def execute(self, plan: Any) -> Any:
        """Apply a plan the user confirmed in the UI; the read-only gate is in `actions.execute`."""
        from wsfleet import actions

        return actions.execute(plan, confirm=lambda _plan: True, read_only=self.read_only, audit=self._audit_log())

    def _audit_log(self) -> Any:
        if self._audit is None:
            from wsfleet.audit import AuditLog, default_audit_path

            self._audit = AuditLog(self._audit_path or default_audit_path())
        return self._audit


class FleetDirectory:
    """Every configured fleet, each with its own FleetService (its own session and account)."""

    def __init__(
        self,
        app_config: AppConfig,
        *,
        read_only: bool = False,
        sessions: Callable[[FleetConfig], Any] | None = None,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.app_config = app_config
        self.read_only = read_only
        self._sessions = sessions
        self._overrides = {k: v for k, v in (overrides or {}).items() if v}
        self._services: dict[str, FleetService] = {}
        self._mtime = self._config_mtime()

    @classmethod
    def from_context(cls, ctx: Any) -> "FleetDirectory":
        """Fleets as the CLI sees them: --profile/--region/--endpoint-url applied, sessions from ctx."""
        overrides = {"profile": ctx.profile, "region": ctx.region, "endpoint_url": ctx.endpoint_url}
        return cls(ctx.app_config, read_only=ctx.read_only, sessions=ctx.aws, overrides=overrides)

    def names(self) -> list[str]:
        return list(self.app_config.fleets)

    def default_name(self, requested: str | None = None) -> str:
        from wsfleet.config import select_fleet

        return select_fleet(self.app_config, requested).name

    def service(self, name: str) -> FleetService:
        if name not in self._services:
            fleet = self._with_overrides(self.app_config.fleets[name])  # the config as last (re-)read
            session = self._sessions(fleet) if self._sessions else None
            self._services[name] = FleetService(fleet, read_only=self.read_only, session=session, audit_path=self.app_config.audit_log)
        return self._services[name]

    def _with_overrides(self, fleet: FleetConfig) -> FleetConfig:
        return dataclasses.replace(fleet, **self._overrides) if self._overrides else fleet

    def _config_mtime(self) -> int | None:
        path = self.app_config.path
        try:
            return os.stat(path).st_mtime_ns if path else None
        except OSError:
            return None

    def reload_if_changed(self) -> str | None:
        """Re-read the config file when it changed on disk, and give each open fleet its new settings.

        The demo rewrites its `ssh.hosts` map as instances come and go, and a person may edit the
        file while the dashboard runs. A fleet whose AWS identity (group, region, profile, endpoint)
        changed keeps its old session: that needs a restart. Returns a sentence for the user when
        something could not be taken over, else None. Blocking (file I/O): call it from a worker.
        """
        mtime = self._config_mtime()
        if mtime is None or mtime == self._mtime:
            return None
        self._mtime = mtime
        from wsfleet.config import load_config

        try:
            fresh = load_config(self.app_config.path)
        except WsfleetError as exc:
            return f"The config file changed but cannot be used ({exc.message}); still using the previous settings."
        self.app_config = fresh
        kept: list[str] = []
        for name, service in self._services.items():
            fleet = fresh.fleets.get(name)
            if fleet is None:
                kept.append(name)
                continue
            fleet = self._with_overrides(fleet)
            old = service.fleet
            if (fleet.asg, fleet.region, fleet.profile, fleet.endpoint_url) != (old.asg, old.region, old.profile, old.endpoint_url):
                kept.append(name)
                continue
            service.update_fleet(fleet)
        if kept:
            return f"The config file changed the AWS settings of (or removed) {', '.join(kept)}; restart wsfleet to use them."
        return None

    async def aclose(self) -> None:
        for service in self._services.values():
            try:
                await service.aclose()
            except Exception:  # closing is best effort: the process is ending
                pass
