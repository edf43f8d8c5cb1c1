"""The demo's per-group state in moto and the helpers every part of `moto_extensions` shares.

The module-level state (`_LOCK`, `_ENABLED`, `_installed`) exists here only: other modules use it
through this module, never through a copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, TYPE_CHECKING

from moto.autoscaling.models import Activity, FakeAutoScalingGroup, InstanceState

if TYPE_CHECKING:
    from wsfleet.demo.moto_extensions.refresh import _Refresh

LIVE_STATES = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")
WARM_READY_STATES = ("Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated")
ACTIVITY_LIMIT = 500  # per group, newest kept
HISTORY_LIMIT = 1000  # per region
CAUSE_TTL = 5.0  # seconds an engine-supplied cause waits for the change it explains

Origin = str  # "initial" | "launch" | "warm-pool"

_LOCK = threading.RLock()
_ENABLED: set[tuple[str, str]] = set()
_installed = False


@dataclass(frozen=True)
class InstanceView:
    """One instance as the engine needs it: where it came from and since when it is in its state."""

    id: str
    lifecycle: str
    origin: Origin
    since: float  # time.time() when it entered `lifecycle`
    private_ip: str | None
    az: str
    protected: bool = False
    launch_template_version: str | None = None  # the version it was launched from ("2"); None: a launch configuration
    launched_at: float = 0.0  # time.time() when it was launched (first seen, for the group's first instances)


@dataclass(frozen=True)
class GroupChange:
    """Instances that joined or left the group in one request (or one engine step)."""

    group: str
    launched: tuple[InstanceView, ...]
    removed: tuple[str, ...]


Listener = Callable[[GroupChange], None]


# ------------------------------------------------------------------------------- per-group state


class _GroupExtras:
    def __init__(self) -> None:
        self.activities: list[Activity] = []  # newest first
        self.launch_activity: dict[str, Activity] = {}
        self.warm: list[InstanceState] = []
        self.origin: dict[str, Origin] = {}
        self.since: dict[str, float] = {}
        self.known: set[str] = set()
        self.returned: set[str] = set()  # left the group for the warm pool, not terminated
        self.desired_seen: int | None = None
        self.cause: tuple[str, float] | None = None
        self.listener: Listener | None = None
        self.version: dict[str, str] = {}  # instance id -> launch template version it was launched from
        self.launched_at: dict[str, float] = {}
        self.refreshes: list[_Refresh] = []  # newest first
        self.standby_decremented: dict[str, bool] = {}  # Standby instance -> EnterStandby decremented desired


def _extras(group: FakeAutoScalingGroup) -> _GroupExtras:
    extras = getattr(group, "_wsfleet_demo", None)
    if extras is None:
        extras = _GroupExtras()
        group._wsfleet_demo = extras  # type: ignore[attr-defined]
    return extras


def _is_demo(account_id: str, region: str) -> bool:
    return (account_id, region) in _ENABLED


def _is_demo_group(group: FakeAutoScalingGroup) -> bool:
    return _is_demo(group.account_id, group.region)


def _now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)  # moto's own timestamps are naive UTC


def _record(group: FakeAutoScalingGroup, description: str, cause: str, status: str, progress: int) -> Activity:
    extras = _extras(group)
    activity = Activity(description, cause, group, status_code=status)
    activity.progress = progress
    if status == "InProgress":
        activity.end_time = None  # type: ignore[assignment]  # AWS gives no EndTime until it ends
    extras.activities.insert(0, activity)
    del extras.activities[ACTIVITY_LIMIT:]
    return activity


def _finish(activity: Activity | None) -> None:
    if activity is not None and activity.status_code == "InProgress":
        activity.status_code = "Successful"
        activity.progress = 100
        activity.end_time = _utcnow()


def _view(group: FakeAutoScalingGroup, state: InstanceState) -> InstanceView:
    extras = _extras(group)
    iid = state.instance.id
    return InstanceView(
        id=iid,
        lifecycle=state.lifecycle_state,
        origin=extras.origin.get(iid, "initial"),
        since=extras.since.get(iid, 0.0),
        private_ip=getattr(state.instance, "private_ip", None),
        az=str(state.availability_zone or ""),
        protected=bool(state.protected_from_scale_in),
        launch_template_version=extras.version.get(iid),
        launched_at=extras.launched_at.get(iid, 0.0),
    )


def _active_refresh(group: FakeAutoScalingGroup) -> _Refresh | None:
    extras = getattr(group, "_wsfleet_demo", None)
    if extras is None:
        return None
    return next((r for r in extras.refreshes if r.active), None)
