"""The load balancer in front of the group: how its target groups route new connections, and the
ALB's idle timeout (which the instance checks hold nginx's keep-alive and silent connections to)."""

from __future__ import annotations

from wsfleet.doctor._text import _ok
from wsfleet.model import FleetConfig, FleetStatus, Finding

ALB_DEFAULT_IDLE_TIMEOUT = 60


def check_target_groups(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    if not status.target_groups:
        return [Finding(
            "target-group", "info",
            f"{fleet.asg} has no target group attached; the load-balancer checks are skipped",
            subject=fleet.asg,
        )]
    out = []
    for tg in status.target_groups:
        attr = f"aws elbv2 modify-target-group-attributes --target-group-arn {tg.arn} --attributes"
        if tg.algorithm == "least_outstanding_requests":
            out.append(_ok("target-group", f"target group {tg.name} routes by least outstanding requests: "
                           f"new WebSockets go to the emptiest instances first", tg.name))
        else:
            slow = f"; slow start is on ({tg.slow_start} s), and AWS does not combine it with least outstanding requests: set it to 0 first" if tg.slow_start else ""
            out.append(Finding(
                "target-group", "info",
                f"target group {tg.name} routes {'round robin' if tg.algorithm in (None, 'round_robin') else tg.algorithm}{'' if tg.algorithm else ' (the default)'}",
                "round robin (the seed's choice) gives a new, empty instance the same share of new connections as a full one, "
                "so after a deploy or a scale-out the old instances stay full; least outstanding requests counts an open "
                "WebSocket as an outstanding request and sends each new connection to the emptiest instance, filling new "
                "ones first (it only chooses when a connection opens: existing ones stay where they are)" + slow,
                f"{attr} Key=load_balancing.algorithm.type,Value=least_outstanding_requests (or `wsfleet rebalance --switch-algorithm`, previewed and audited)",
                subject=tg.name,
            ))
        if tg.stickiness_enabled:
            out.append(_ok("target-group", f"target group {tg.name} is sticky ({tg.stickiness_type or 'lb_cookie'})", tg.name))
        else:
            out.append(Finding(
                "target-group", "info",
                f"target group {tg.name} has stickiness {'disabled' if tg.stickiness_enabled is False else 'unknown'}",
                "the seed enabled load-balancer cookie stickiness so a client's requests keep reaching the same instance",
                f"{attr} Key=stickiness.enabled,Value=true Key=stickiness.type,Value=lb_cookie",
                subject=tg.name,
            ))
    return out


def alb_idle_timeout(status: FleetStatus) -> int | None:
    for tg in status.target_groups:
        if tg.idle_timeout is not None:
            return tg.idle_timeout
    return None


def check_idle_timeout(fleet: FleetConfig, status: FleetStatus) -> list[Finding]:
    lbs = [(tg, tg.idle_timeout) for tg in status.target_groups if tg.load_balancer_arns]
    if not lbs:
        return []
    out = []
    for tg, idle in lbs:
        lb = tg.load_balancer_arns[0].rsplit("/", 2)[-2] if "/" in tg.load_balancer_arns[0] else tg.load_balancer_arns[0]
        if idle is None:
            out.append(Finding("idle-timeout", "info", f"the idle timeout of load balancer {lb} could not be read", subject=lb))
        elif idle < ALB_DEFAULT_IDLE_TIMEOUT:
            out.append(Finding(
                "idle-timeout", "warning",
                f"load balancer {lb} closes connections idle for {idle} s (default {ALB_DEFAULT_IDLE_TIMEOUT} s)",
                "a WebSocket with no message in that time is cut by the ALB; the seed kept the default 60 s and set nginx's keep-alive above it",
                f"aws elbv2 modify-load-balancer-attributes --load-balancer-arn {tg.load_balancer_arns[0]} --attributes Key=idle_timeout.timeout_seconds,Value={ALB_DEFAULT_IDLE_TIMEOUT}",
                subject=lb,
            ))
        else:
            out.append(_ok("idle-timeout", f"load balancer {lb} idle timeout {idle} s (nginx keep-alive must stay above it)", lb))
    return out
