"""The demo's instance refresh: what Auto Scaling does between StartInstanceRefresh and Successful.

`moto_extensions` holds the refresh records and answers the four API calls; `RefreshRunner` carries
the active refresh out, one engine step at a time, through `DemoGroup` (the engine calls it from
`ScalingEngine.advance`, after the boot timers):

- It replaces what `RefreshView.needs_update` names: every instance launched before the start
  (with SkipMatching, only those on another launch template version), oldest first; while rolling
  back, every instance not on the previous version. The live pool first, then the warm pool, as AWS
  does; old warm-pool instances are terminated and the pool refills from the new version.
- One batch at a time. With MaxHealthyPercentage 100 (not given) a batch terminates old instances
  and launches as many, no more than keeps the InService-and-healthy instances at or above
  ceil(desired x MinHealthyPercentage / 100); when that leaves no room at all (MinHealthyPercentage
  100, a one-instance group) it replaces one at a time, as AWS does. With MaxHealthyPercentage above
  100 it launches first, up to floor(desired x MaxHealthyPercentage / 100) instances (at least one
  over desired), and terminates as many old ones when the new ones are ready.
- A new instance is ready (healthy) once InService for InstanceWarmup seconds. Without the
  preference AWS waits the group's DefaultInstanceWarmup or HealthCheckGracePeriod (minutes); the
  demo, whose time is compressed, waits `DemoTiming.refresh_warmup` (a few seconds).
- At each checkpoint percentage it waits CheckpointDelay seconds; reaching the last checkpoint ends
  the refresh (AWS: to replace every instance the last checkpoint must be 100). A batch never
  overshoots the next checkpoint by more than one instance.
- Cancelling: the batch in flight finishes, then Cancelled. RollbackInProgress: the batch in flight
  is left as it is and everything not on the previous version is replaced the same way (no
  checkpoints), then RollbackSuccessful. BakeTime: Baking that long after the last replacement.
- Protected (scale-in) and Standby instances as the preferences say: Refresh / Terminate replaces
  them, Ignore leaves them, Wait waits for them; after an hour of waiting the refresh fails (or
  rolls back, with AutoRollback), as AWS's does.

Where the demo differs from AWS: its instances are healthy as soon as they are InService (no ELB or
EC2 health checks), replacements never come from the warm pool (its instances are on the old
version until the pool itself is refreshed), AlarmSpecification is stored and not watched, and a
scaling policy that changes the desired capacity in the middle of a batch is not reconciled with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from wsfleet.demo.moto_extensions import DemoGroup, InstanceView, RefreshView
from wsfleet.demo.scenarios import DemoTiming

WAIT_LIMIT = 3600.0  # seconds a refresh waits for protected or Standby instances before it fails (AWS: one hour)
SERVING = ("InService",)


def _ts(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class BatchSize:
    count: int  # instances to replace in this batch
    launch_first: bool  # launch the replacements, then terminate (MaxHealthyPercentage above 100)


def batch_size(
    *, desired: int, healthy: int, live: int, replaceable: int, min_healthy: int, max_healthy: int | None
) -> BatchSize:
    """How many instances the next batch replaces, by AWS's rules for the two percentages.

    `healthy`: InService and ready instances now; `live`: every instance in the group (Pending too);
    `replaceable`: old instances that can be replaced now."""
    if max_healthy is not None and max_healthy > 100:
        ceiling = max(desired + 1, math.floor(desired * max_healthy / 100))
        return BatchSize(max(0, min(ceiling - live, replaceable)), True)
    floor_ = math.ceil(desired * min_healthy / 100)
    room = healthy - floor_
    if room <= 0 and floor_ >= desired and healthy >= desired:
        room = 1  # 100 % (or one instance): AWS replaces one at a time rather than none
    return BatchSize(max(0, min(room, replaceable)), False)


def percent(done: int, total: int) -> int:
    """Whole percent, rounded down: 100 only when everything is done."""
    return 100 if total <= 0 else min(100, 100 * done // total)


@dataclass
class _Batch:
    launched: tuple[str, ...]
    terminated: tuple[str, ...] = ()  # terminated at the start (terminate first)
    replace_after: tuple[str, ...] = ()  # terminated once the launched ones are ready (launch first)

    @property
    def size(self) -> int:
        return len(self.terminated) + len(self.replace_after)


@dataclass
class _Progress:
    """The runner's own notes on the refresh it carries out (what AWS keeps internally)."""

    refresh_id: str
    rolling_back: bool = False
    batch: _Batch | None = None
    replaced: int = 0  # live instances replaced, their replacements ready
    warm_replaced: int = 0  # warm-pool instances terminated for the new version
    checkpoints_passed: int = 0
    paused_until: float | None = None
    waiting_since: float | None = None
    baking_until: float | None = None
    in_service_at: dict[str, float] = field(default_factory=dict)  # first step an instance was seen InService


class RefreshRunner:
    def __init__(self, group: DemoGroup, timing: DemoTiming) -> None:
        self.group = group
        self.timing = timing
        self.progress: _Progress | None = None

    def advance(self, now: datetime) -> list[str]:
        """One engine step of the active refresh, if any. Returns event texts."""
        refresh = self.group.refresh()
        if refresh is None:
            self.progress = None
            return []
        t = now.timestamp()
        p = self.progress
        if p is None or p.refresh_id != refresh.id:
            p = self.progress = _Progress(refresh.id)
        live = self.group.instances()
        for v in live:
            if v.lifecycle in SERVING:
                p.in_service_at.setdefault(v.id, t)
        step = _Step(self, refresh, p, live, self.group.warm_instances(), now)
        return step.run()

    def warmup(self, refresh: RefreshView) -> float:
        return float(refresh.warmup) if refresh.warmup is not None else self.timing.refresh_warmup


class _Step:
    """One engine step of one refresh: read once, decide, act, report."""

    def __init__(self, runner: RefreshRunner, refresh: RefreshView, p: _Progress, live: list[InstanceView],
                 warm: list[InstanceView], now: datetime) -> None:
        self.runner, self.group, self.refresh, self.p = runner, runner.group, refresh, p
        self.live, self.warm, self.now, self.t = live, warm, now, now.timestamp()
        self.status = refresh.status
        self.label = f"refresh {refresh.id[:8]}"
        self.percentage = refresh.percentage_complete
        self.warm_removed_now = 0
        self.events: list[str] = []

    # ------------------------------------------------------------------------------- reading

    def counted(self, v: InstanceView) -> bool:
        """An old instance this refresh will replace (or wait for)."""
        if not self.refresh.needs_update(v):
            return False
        if v.lifecycle == "Standby":
            return self.refresh.standby != "Ignore"
        if v.protected and self.refresh.protected == "Ignore":
            return False
        return v.lifecycle in ("Pending", "Pending:Wait", "Pending:Proceed", "InService")

    def replaceable(self, v: InstanceView) -> bool:
        if v.lifecycle == "Standby":
            return self.refresh.standby == "Terminate"
        if v.protected and self.refresh.protected != "Refresh":
            return False
        return v.lifecycle == "InService"

    def old_live(self) -> list[InstanceView]:
        return sorted((v for v in self.live if self.counted(v)), key=lambda v: (v.launched_at, v.id))

    def warm_counts(self) -> tuple[int, int] | None:
        """(replaced and ready, total) in the warm pool; None when the group has no warm pool."""
        if self.group.warm_pool_config() is None:
            return None
        old = sum(self.refresh.needs_update(w) for w in self.warm)
        # the pool refills after this step (ScalingEngine._fill_warm_pool): those just terminated are not done
        preparing = self.warm_removed_now + sum(
            w.lifecycle == "Warmed:Pending" and not self.refresh.needs_update(w) for w in self.warm
        )
        return max(0, self.p.warm_replaced - preparing), self.p.warm_replaced + old

    def report(self, reason: str | None = None, status: str | None = None) -> None:
        p = self.p
        in_flight = len(p.batch.terminated) if p.batch is not None else 0
        live_total = p.replaced + len(self.old_live()) + in_flight
        done, total = p.replaced, live_total
        warm = self.warm_counts()
        if warm is not None:
            done, total = done + warm[0], total + warm[1]
        self.percentage = percent(done, total)
        now_status = self.group.report_refresh(
            self.refresh.id, self.status,
            live=(percent(p.replaced, live_total), live_total - p.replaced),
            warm=None if warm is None else (percent(*warm), warm[1] - warm[0]),
            percentage=self.percentage, status=status, reason=reason,
        )
        if now_status is not None and status is not None:
            self.status = now_status  # a cancel or rollback that came meanwhile is seen next step

    def ready(self, v: InstanceView) -> bool:
        """InService and healthy: an instance launched since the start has warmed up too."""
        if v.lifecycle not in SERVING:
            return False
        if v.launched_at < self.refresh.started:
            return True
        return self.t - self.p.in_service_at.get(v.id, self.t) >= self.runner.warmup(self.refresh)

    def finish(self, status: str, reason: str) -> list[str]:
        self.report()
        self.group.finish_refresh(self.refresh.id, status, reason)
        self.events.append(f"{self.label} {status}")
        return self.events

    # ------------------------------------------------------------------------------- running

    def run(self) -> list[str]:
        p, refresh = self.p, self.refresh
        if self.status == "Pending":
            self.report(reason="", status="InProgress")
            if self.status != "InProgress":
                return self.events  # cancelled or rolled back meanwhile: the next step sees it
            self.events.append(f"{self.label} InProgress: replacing {len(self.old_live())} instances")
        if refresh.rolling_back and not p.rolling_back:
            # the rollback replaces whatever is not on the previous version, from scratch
            self.runner.progress = p = self.p = _Progress(refresh.id, rolling_back=True, in_service_at=p.in_service_at)
            self.events.append(f"{self.label} rolling back")
        if self.status == "Baking":
            if self.t >= (p.baking_until or 0):
                return self.finish("Successful", "Instance refresh completed successfully.")
            self.report()
            return self.events
        if p.batch is not None and not self.finish_batch():
            return self.events
        if self.status == "Cancelling":
            return self.finish("Cancelled", "Instance refresh cancelled by user request.")
        self.report()
        if self.checkpoint_holds():
            return self.events
        if not self.old_live():
            return self.after_live_pool()
        self.start_batch()
        return self.events

    def finish_batch(self) -> bool:
        """True when the batch in flight is done (and its old instances gone); False while it runs."""
        batch = self.p.batch
        assert batch is not None
        by_id = {v.id: v for v in self.live}
        for iid in batch.launched:
            v = by_id.get(iid)
            if v is None:
                continue  # scaled in meanwhile: nothing to wait for
            if not self.ready(v):
                self.report(reason=f"Waiting for instances to warm up before continuing. For example: {iid} is warming up.")
                return False
        for old in batch.replace_after:
            self.group.terminate_instances([old], self.termination_cause(old))
        self.p.replaced += batch.size
        self.p.batch = None
        self.live = self.group.instances() if batch.replace_after else self.live
        return True

    def checkpoint_holds(self) -> bool:
        """True while the refresh waits at a checkpoint (or ended at its last one)."""
        p, refresh = self.p, self.refresh
        if p.rolling_back or not refresh.checkpoints:
            return False
        if p.paused_until is not None:
            if self.t < p.paused_until:
                self.report(reason=f"Waiting for the checkpoint delay: {p.paused_until - self.t:.0f} s left at "
                                   f"{self.percentage}% complete.")
                return True
            p.paused_until = None
        reached = sum(1 for c in refresh.checkpoints if self.percentage >= c)
        if reached <= p.checkpoints_passed:
            return False
        p.checkpoints_passed = reached
        checkpoint = refresh.checkpoints[reached - 1]
        if reached == len(refresh.checkpoints):
            if checkpoint < 100:
                self.finish("Successful", f"Instance refresh reached its last checkpoint, {checkpoint}%.")
                return True
            return False  # 100: nothing left to replace
        p.paused_until = self.t + refresh.checkpoint_delay
        self.report(reason=f"Checkpoint {checkpoint}% reached: waiting {refresh.checkpoint_delay} s (CheckpointDelay) before continuing.")
        self.events.append(f"{self.label} at checkpoint {checkpoint}%: pausing {refresh.checkpoint_delay} s")
        return True

    def after_live_pool(self) -> list[str]:
        old_warm = [w.id for w in self.warm if self.refresh.needs_update(w)]
        if old_warm:
            cause = f"At {_ts(self.now)} an instance was taken out of the warm pool in response to an instance refresh{self.rollback_words()}."
            gone = self.group.remove_from_warm_pool(old_warm, cause)
            self.p.warm_replaced += len(gone)
            self.warm_removed_now = len(gone)
            self.warm = self.group.warm_instances()
            self.report(reason="Replacing the instances in the warm pool.")
            self.events.append(f"{self.label}: {len(gone)} warm-pool instances terminated for the new version")
            return self.events
        warm = self.warm_counts()
        if warm is not None and warm[0] < warm[1]:
            self.report(reason="Waiting for the warm pool's new instances to be ready.")
            return self.events
        if self.p.rolling_back:
            return self.finish("RollbackSuccessful", "Instance refresh rollback completed successfully.")
        if self.refresh.bake_time > 0:
            self.p.baking_until = self.t + self.refresh.bake_time
            self.report(reason=f"Baking for {self.refresh.bake_time} s (BakeTime) before the refresh completes.", status="Baking")
            self.events.append(f"{self.label} Baking")
            return self.events
        return self.finish("Successful", "Instance refresh completed successfully.")

    def start_batch(self) -> None:
        p, refresh = self.p, self.refresh
        old = self.old_live()
        ready = [v for v in old if self.replaceable(v)]
        if not ready:
            self.wait_for(old)
            return
        p.waiting_since = None
        _, _, desired = self.group.capacity()
        healthy = sum(1 for v in self.live if self.ready(v))
        size = batch_size(
            desired=desired, healthy=healthy, live=sum(1 for v in self.live if v.lifecycle != "Standby"),
            replaceable=min(len(ready), self.checkpoint_cap()), min_healthy=refresh.min_healthy,
            max_healthy=refresh.max_healthy,
        )
        if size.count <= 0:
            floor_ = math.ceil(desired * refresh.min_healthy / 100)
            self.report(reason=f"Waiting for healthy instances: {healthy} are healthy and at least {floor_} "
                               f"({refresh.min_healthy}% of {desired}) must stay healthy.")
            return
        chosen = ready[: size.count]
        if size.launch_first:
            launched = self.group.launch_instances(size.count, self.launch_cause(chosen))
            p.batch = _Batch(launched=tuple(launched), replace_after=tuple(v.id for v in chosen))
        else:
            for v in chosen:
                self.group.terminate_instances([v.id], self.termination_cause(v.id))
            launched = self.group.launch_instances(size.count, self.launch_cause(chosen))
            p.batch = _Batch(launched=tuple(launched), terminated=tuple(v.id for v in chosen))
        self.live = self.group.instances()
        self.report(reason=f"Replacing {size.count} instance{'s' if size.count != 1 else ''}: "
                           f"{', '.join(v.id for v in chosen)}.")
        total = p.replaced + len(self.old_live()) + len(p.batch.terminated)
        self.events.append(
            f"{self.label}: replacing {', '.join(v.id for v in chosen)} "
            f"({'launch first' if size.launch_first else 'terminate first'}; {p.replaced + size.count} of {total})"
        )

    def checkpoint_cap(self) -> int:
        """At most as many as reach the next checkpoint (at least one)."""
        if self.p.rolling_back:
            return 1 << 30
        ahead = [c for c in self.refresh.checkpoints if c > self.percentage]
        if not ahead:
            return 1 << 30
        total = self.p.replaced + len(self.old_live())
        return max(1, math.ceil(total * ahead[0] / 100) - self.p.replaced)

    def wait_for(self, old: list[InstanceView]) -> None:
        """Old instances remain but none can be replaced now: booting ones, or Wait preferences."""
        blocked = [v for v in old if v.lifecycle == "Standby" or v.protected]
        if not blocked:
            self.report(reason="Waiting for instances to finish launching before replacing them.")
            return
        p = self.p
        p.waiting_since = p.waiting_since if p.waiting_since is not None else self.t
        what = "Standby" if blocked[0].lifecycle == "Standby" else "protected from scale in"
        if self.t - p.waiting_since >= WAIT_LIMIT:
            reason = f"Instance refresh failed: {blocked[0].id} stayed {what} for an hour."
            if self.refresh.auto_rollback and self.group.roll_back_refresh(self.refresh.id, reason):
                self.events.append(f"{self.label} failed: rolling back")
                return
            self.finish("Failed", reason)
            return
        self.report(reason=f"Waiting for {blocked[0].id}, which is {what}, before replacing it "
                           f"({WAIT_LIMIT - (self.t - p.waiting_since):.0f} s left before the refresh fails).")

    # -------------------------------------------------------------------------------- causes

    def rollback_words(self) -> str:
        return " rollback" if self.p.rolling_back else ""

    def termination_cause(self, iid: str) -> str:
        at = _ts(self.now)
        return (f"At {at} an instance was taken out of service in response to an instance refresh{self.rollback_words()}. "
                f"At {at} instance {iid} was selected for termination.")

    def launch_cause(self, replacing: list[InstanceView]) -> str:
        return (f"At {_ts(self.now)} an instance was launched in response to an instance refresh{self.rollback_words()}, "
                f"replacing {', '.join(v.id for v in replacing)}.")
