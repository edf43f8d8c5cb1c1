"""The demo's stories: how many WebSocket sessions exist at each moment, and what else happens.

Pure data and arithmetic, no I/O. Numbers are the seed's, scaled down about a hundredfold (a
per-instance ceiling of 280 instead of 28,000, high 200 instead of 20,000, low 95 instead of
9,500) and time compressed: 10-second alarm periods (CloudWatch's high-resolution period) instead
of minutes, so a scaling cycle takes about a minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from wsfleet.model import StepRange

DEFAULT_MAX_CONNECTIONS = 2000  # sockets the load generator may hold (each is 2 fds in this process)


@dataclass(frozen=True)
class DemoTiming:
    """How long things take in the compressed demo world, in real seconds."""

    tick: float = 2.0  # engine step: traffic, measurement, metric datapoint, one JSON line
    period: int = 10  # CloudWatch period of the metric and both alarms (AWS allows 10 for high resolution)
    cold_launch: float = 16.0  # Pending -> InService for a newly launched instance (the slow scale-out)
    warm_start: float = 3.0  # Pending -> InService for a stopped warm-pool instance
    warm_prepare: float = 8.0  # Warmed:Pending -> Warmed:Stopped when the pool refills
    heartbeat: float = 5.0  # a live client pings its instance this often (a browser's WebSocket keepalive)
    # an instance refresh's InstanceWarmup when StartInstanceRefresh gives none (AWS would wait the
    # group's DefaultInstanceWarmup or HealthCheckGracePeriod: minutes, not compressed time)
    refresh_warmup: float = 4.0
    # doctor's silent-connections threshold in the demo's config (the seed's 5 min behind an ALB,
    # compressed): well past a live client's longest silence (heartbeat + one tick), so only the
    # `leak` story's abandoned connections pass it
    silent_after: int = 20
    # the target group's deregistration_delay.timeout_seconds (AWS's default: 300 s): how long a
    # deregistered instance (Standby, scaled in, replaced) keeps its open connections before the
    # load balancer closes them and the clients reconnect. Shorter than a cold launch, so a refresh
    # still moves a replaced instance's clients onto the others, not onto its replacement
    deregistration_delay: int = 8


@dataclass(frozen=True)
class Deploy:
    """A release in the middle of a story: a new launch template version, then an instance refresh
    (StartInstanceRefresh) to it with these preferences."""

    at: float  # seconds since the start
    min_healthy: int = 75  # MinHealthyPercentage: 75 % of 4 instances replaces one at a time
    warmup: int = 2  # InstanceWarmup, seconds after InService before the next replacement


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str  # one sentence, shown when the demo starts
    start_instances: int
    load: tuple[tuple[float, int], ...]  # (seconds since start, sessions); linear between, flat after
    high: float = 200.0
    low: float = 95.0
    capacity: int = 280
    steps_add: tuple[int, int, int] = (2, 2, 3)  # the seed's +2/+2/+3
    step_width: float = 50.0  # 200-250, 250-300, 300+ (the seed's 5,000 scaled)
    high_periods: int = 2  # datapoints (of as many periods) to ALARM
    low_periods: int = 3
    warmup: int = 20
    cooldown: int = 20
    leak_fraction: float = 0.0  # of the sessions that end, this share leave their connection open
    churn: float = 0.0  # share of sessions that end and are replaced by new ones each tick
    deploy: Deploy | None = None  # a release (instance refresh) during the story
    schedule_min_size: int = 2  # the scheduled action's MinSize

    def sessions_at(self, t: float) -> int:
        """Sessions the users want open `t` seconds into the scenario (piecewise linear)."""
        points = self.load
        if t <= points[0][0]:
            return points[0][1]
        for (t0, n0), (t1, n1) in zip(points, points[1:]):
            if t <= t1:
                return round(n0 + (n1 - n0) * (t - t0) / (t1 - t0)) if t1 > t0 else n1
        return points[-1][1]

    @property
    def steps(self) -> tuple[StepRange, ...]:
        a, b, c = self.steps_add
        w = self.step_width
        return (
            StepRange(self.high, self.high + w, a),
            StepRange(self.high + w, self.high + 2 * w, b),
            StepRange(self.high + 2 * w, None, c),
        )

    def deploy_due(self, previous_t: float, t: float) -> bool:
        """Whether the story's release falls in (previous_t, t]."""
        return self.deploy is not None and previous_t < self.deploy.at <= t


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="spike",
            summary="A morning ramp hits a 2-instance group: the step policy scales out, the warm pool makes it fast.",
            start_instances=2,
            load=((0, 360), (60, 1700), (150, 1700), (200, 500)),
            schedule_min_size=3,
        ),
        Scenario(
            name="deploy",
            summary=(
                "A deploy (a new launch template version, an instance refresh one instance at a time) moves each "
                "old instance's clients onto the others: the new instances stay nearly empty."
            ),
            start_instances=4,
            load=((0, 520),),
            churn=0.005,
            deploy=Deploy(at=14.0),
            schedule_min_size=3,  # what a refresh at MinHealthyPercentage 75 or a rebalance's drain leaves serving
        ),
        Scenario(
            name="flap",
            summary="The low threshold (170) fails the flap projection: each scale-in pushes the rest over 200 and the group churns.",
            start_instances=6,
            load=((0, 1010),),
            low=170.0,
            schedule_min_size=5,
        ),
        Scenario(
            name="leak",
            summary="Users leave after the peak but their connections are never closed: the group cannot scale back in.",
            start_instances=3,
            load=((0, 300), (20, 1100), (60, 1100), (90, 200)),
            leak_fraction=0.45,
            schedule_min_size=3,
        ),
    )
}

SCENARIO_NAMES = tuple(SCENARIOS)
MIN_SIZE = 1
MAX_SIZE = 12
