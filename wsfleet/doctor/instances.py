"""The instance side: facts read on each InService instance (`wsfleet.instance_facts`) — reachable,
the service listening, room for the connections it is sized for (open files, local ports), nginx
closing after the ALB, no sockets left behind, connections spread evenly.

Rules where a number had to be chosen (documented here, named below):

- **open-files**: error when the service process's soft limit is below the per-instance ceiling
  (it cannot hold the connections it is sized for); warning below twice the ceiling (a proxy such
  as nginx holds two descriptors per client: client side and upstream side).
- **port-range**: warning when `ip_local_port_range` holds fewer ports than the ceiling (a proxy
  needs one local port per upstream connection).
- **close-wait**: warning when more than `CLOSE_WAIT_FRACTION` (1 %) of the ceiling, and at least
  one socket, sits in CLOSE_WAIT on the service port (the peer closed, the service never did).
- **silent-connections**: the same limit for ESTABLISHED connections that carried no data either
  way for twice the ALB idle timeout (rounded up to 5 min or 1 h; the ALB would have closed a live
  client's connection by then), or for 1 h when no load balancer is known — or for the fleet's
  `doctor.silent_after` seconds when the config sets it: the client vanished without a FIN and the
  service, with no heartbeat, keeps the socket.
- **nginx-keepalive**: warning when any `keepalive_timeout` is at or below the ALB idle timeout
  (nginx must close after the ALB, or the ALB reuses a connection nginx is closing: 502s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from wsfleet import balance
from wsfleet.doctor._text import _ids, _n, _ok, _section
from wsfleet.doctor.load_balancer import ALB_DEFAULT_IDLE_TIMEOUT, alb_idle_timeout
from wsfleet.model import FleetConfig, FleetStatus, Finding, InstanceFacts

CLOSE_WAIT_FRACTION = 0.01
NGINX_DEFAULT_KEEPALIVE = 75.0
SEED_OPEN_FILES = 1_048_576


_REACH_FIX = {
    "timeout": "the host did not answer in time: check the security group, the jump host, and `timeout` in {section}",
    "refused": "nothing accepts SSH there: check sshd and the `port` of the ssh address",
    "auth": "the login was refused: check `user` and `key` in {section} (or the SSH agent)",
    "host-key": "the host key is unknown or changed: verify it, then add it to known_hosts (or host_keys = \"accept-new\" in {section})",
    "not-found": "no address for the instance: check `address` in {section}",
    "command": "a command failed on the host; rerun with -v for its output",
    "parse": "the output was not understood; rerun with -v",
}


def _group(facts: Sequence[InstanceFacts], pred) -> list[InstanceFacts]:
    return [f for f in facts if pred(f)]


def check_instances(fleet: FleetConfig, status: FleetStatus, facts: Sequence[InstanceFacts]) -> list[Finding]:
    out: list[Finding] = []
    section = _section(fleet, "ssh")
    if not facts:
        return [Finding("instance-reach", "info", f"no InService instance in {fleet.asg} to check", subject=fleet.asg)]
    failed = [f for f in facts if f.error is not None]
    ok = [f for f in facts if f.error is None]
    if failed:
        by_error: dict[str, list[str]] = {}
        for f in failed:
            by_error.setdefault(f.error or "command", []).append(f.instance_id)
        for error, ids in by_error.items():
            out.append(Finding(
                "instance-reach", "warning",
                f"could not check {len(ids)} of {len(facts)} instance{'s' if len(facts) != 1 else ''} ({error}): {_ids(ids)}",
                "the instance-side checks (open files, ports, keep-alive, CLOSE_WAIT) say nothing about these hosts",
                _REACH_FIX.get(error, _REACH_FIX["command"]).format(section=section),
                subject=_ids(ids),
            ))
    else:
        out.append(_ok("instance-reach", f"checked {len(facts)} instance{'s' if len(facts) != 1 else ''}"))
    if not ok:
        return out
    ports = {f.service_port or fleet.port for f in ok}
    port = f"port {ports.pop()}" if len(ports) == 1 else "the service port"
    out += _check_listening(fleet, ok, port)
    listening = [f for f in ok if f.listening is not False]
    out += _check_open_files(fleet, listening, port)
    out += _check_port_range(fleet, ok)
    out += _check_nginx(fleet, status, ok)
    out += _check_close_wait(fleet, listening, port)
    out += _check_silent(fleet, status, listening, port)
    out += _check_balance(fleet, listening)
    return out


def _port_number(fleet: FleetConfig, facts: Sequence[InstanceFacts]) -> int:
    return next((f.service_port for f in facts if f.service_port), fleet.port)


SILENT_BUCKETS = (60, 300, 3600)  # seconds, as the facts script counts them


def silent_threshold(status: FleetStatus) -> int | None:
    """How long a connection may carry no data before it counts as left behind (see the module doc)."""
    idle = alb_idle_timeout(status)
    if idle is None:
        return SILENT_BUCKETS[-1]
    return next((b for b in SILENT_BUCKETS if b >= 2 * idle), None)


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{_n(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{_n(seconds // 60)} min"
    return f"{_n(seconds)} s"


def _check_silent(fleet: FleetConfig, status: FleetStatus, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    limit = max(1, math.ceil(fleet.capacity * CLOSE_WAIT_FRACTION))
    configured = fleet.doctor.silent_after
    if configured is not None:  # the fleet says how long a live client can stay silent
        known = [f for f in facts if f.silent_over is not None]
        if not known:
            return []
        count = lambda f: f.silent_over  # noqa: E731
        value = str(int(configured)) if float(configured).is_integer() else repr(float(configured))
        behind = f"{_section(fleet, 'doctor')} silent_after = {value}: a live client sends or receives something more often"
        span = _duration(configured)
    else:
        threshold = silent_threshold(status)
        known = [f for f in facts if f.silent is not None]
        if threshold is None or not known:
            return []
        index = SILENT_BUCKETS.index(threshold)
        count = lambda f: f.silent[index]  # noqa: E731
        behind = "the ALB closes connections idle longer than its idle timeout, so these have no client behind them" if alb_idle_timeout(status) is not None else "with no load balancer known, an hour without a byte either way"
        span = f"{threshold // 60} min" if threshold < 3600 else "1 h"
    stuck = sorted((f for f in known if count(f) >= limit), key=lambda f: -count(f))
    if stuck:
        shown = _ids([f"{f.instance_id} ({_n(count(f))} of {_n(f.established)})" for f in stuck])
        return [Finding(
            "silent-connections", "warning",
            f"established connections on {port} that carried no data either way for {span} or more: {shown} ({behind})",
            "the seed's \"TCP connections not being closed\": clients that vanished without closing leave sockets the service never notices — they count as connections, hold file descriptors and keep instances running that are not needed",
            "ping every WebSocket from the service (e.g. every 30 s) and close it when no pong comes back; or set TCP keepalive on the listening socket (net.ipv4.tcp_keepalive_time)",
            subject=_ids([f.instance_id for f in stuck]),
        )]
    worst = max(count(f) for f in known)
    return [_ok("silent-connections", f"at most {_n(worst)} connection{'s' if worst != 1 else ''} on {port} silent for {span} or more, across {len(known)} instance{'s' if len(known) != 1 else ''}")]


def _check_balance(fleet: FleetConfig, facts: Sequence[InstanceFacts]) -> list[Finding]:
    """Connections spread evenly (the seed's load test): the same statistics as `wsfleet check`."""
    measured = [f for f in facts if f.established is not None]
    if len(measured) < 2:
        return []
    stats = balance.balance_stats(f.established for f in measured)
    limit = fleet.counts.max_skew
    if balance.verdict(stats, limit) == "balanced":
        return [_ok("balance", f"connections are even across {stats.measured} instances: busiest {stats.skew:.2f}× the mean {_n(stats.mean)} (limit {limit:g}×)")]
    busiest = max(measured, key=lambda f: f.established or 0)
    emptiest = min(measured, key=lambda f: f.established or 0)
    return [Finding(
        "balance", "warning",
        f"connections are uneven: {busiest.instance_id} holds {_n(busiest.established)}, {stats.skew:.2f}× the mean {_n(stats.mean)} "
        f"(limit {limit:g}×), while {emptiest.instance_id} holds {_n(emptiest.established)}",
        "WebSocket connections stay where they landed: after a deploy or a scale-out the old instances keep theirs and near the ceiling while the new ones sit nearly empty",
        f"wsfleet check --max-skew {limit:g}   # in the deploy pipeline; least outstanding requests on the target group fills new instances first",
        subject=_ids([busiest.instance_id, emptiest.instance_id]),
    )]


def _check_listening(fleet: FleetConfig, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    down = [f.instance_id for f in facts if f.listening is False]
    if down:
        return [Finding(
            "service-listening", "error",
            f"nothing listens on {port} on {_ids(down)}",
            "the service is down there, or `port` in the config is wrong — every count on that port reads 0",
            f"ss -Htln   # on the instance: what listens; then set port = ... in {_section(fleet)}",
            subject=_ids(down),
        )]
    return [_ok("service-listening", f"{port} is listening on {len(facts)} instance{'s' if len(facts) != 1 else ''}")]


def _check_open_files(fleet: FleetConfig, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    cap = fleet.capacity
    unknown_facts = [f for f in facts if f.open_files is None and not f.open_files_unlimited]
    unknown = [f.instance_id for f in unknown_facts]
    low = [f for f in facts if f.open_files is not None and f.open_files < cap]
    tight = [f for f in facts if f.open_files is not None and cap <= f.open_files < 2 * cap]
    fine = [f for f in facts if f.open_files_unlimited or (f.open_files is not None and f.open_files >= 2 * cap)]
    fix = (
        f"# systemd service (limits.conf does not apply to it): LimitNOFILE={SEED_OPEN_FILES} in the unit, then restart\n"
        f"# login sessions, /etc/security/limits.d/nofile.conf:\n* soft nofile {SEED_OPEN_FILES}\n* hard nofile {SEED_OPEN_FILES}\n"
        f"# nginx workers: worker_rlimit_nofile {SEED_OPEN_FILES};"
    )

    def shown(fs: Sequence[InstanceFacts]) -> str:
        return _ids([f"{f.instance_id} ({_n(f.open_files)})" for f in fs])

    out = []
    if low:
        out.append(Finding(
            "open-files", "error",
            f"the service on {port} may open fewer files than the {_n(cap)}-connection ceiling: {shown(low)}",
            f"every connection is a file descriptor; the seed raised the limit from 1,024 to {_n(SEED_OPEN_FILES)} before its load tests",
            fix, subject=_ids([f.instance_id for f in low]),
        ))
    if tight:
        out.append(Finding(
            "open-files", "warning",
            f"the service on {port} may open fewer than twice the ceiling ({_n(2 * cap)}) files: {shown(tight)}",
            f"a proxy such as nginx holds two descriptors per client (client and upstream); the seed used {_n(SEED_OPEN_FILES)}",
            fix, subject=_ids([f.instance_id for f in tight]),
        ))
    if unknown:
        out.append(Finding(
            "open-files", "info",
            f"could not see which process listens on {port} (or read its limits) on {_ids(unknown)}",
            "ss shows the owning process only for the SSH user's own processes or to root",
            f"sudo ss -Htlnp 'sport = :{_port_number(fleet, unknown_facts)}'   # then: grep 'Max open files' /proc/PID/limits",
            subject=_ids(unknown),
        ))
    if fine and not low and not tight:
        lowest = min((f.open_files for f in fine if f.open_files is not None), default=None)
        out.append(_ok("open-files", f"the service may open {'unlimited' if lowest is None else _n(lowest)} files on {len(fine)} instance{'s' if len(fine) != 1 else ''}"))
    return out


def _check_port_range(fleet: FleetConfig, facts: Sequence[InstanceFacts]) -> list[Finding]:
    cap = fleet.capacity
    known = [f for f in facts if f.port_range is not None]
    narrow = [f for f in known if f.port_range[1] - f.port_range[0] + 1 < cap]  # type: ignore[index]
    out = []
    if narrow:
        shown = _ids([f"{f.instance_id} ({f.port_range[0]}-{f.port_range[1]})" for f in narrow])  # type: ignore[index]
        out.append(Finding(
            "port-range", "warning",
            f"net.ipv4.ip_local_port_range holds fewer ports than the {_n(cap)}-connection ceiling on {shown}",
            "a proxy opens one local port per upstream connection; the seed widened the range to 10000 65535",
            "echo 'net.ipv4.ip_local_port_range = 10000 65535' | sudo tee /etc/sysctl.d/net.ipv4.ip_local_port_range.conf && sudo sysctl --system",
            subject=_ids([f.instance_id for f in narrow]),
        ))
    elif known:
        widths = min(f.port_range[1] - f.port_range[0] + 1 for f in known)  # type: ignore[index]
        out.append(_ok("port-range", f"at least {_n(widths)} local ports on {len(known)} instance{'s' if len(known) != 1 else ''}"))
    unknown = [f.instance_id for f in facts if f.port_range is None]
    if unknown:
        out.append(Finding("port-range", "info", f"could not read net.ipv4.ip_local_port_range on {_ids(unknown)}", subject=_ids(unknown)))
    return out


def _check_nginx(fleet: FleetConfig, status: FleetStatus, facts: Sequence[InstanceFacts]) -> list[Finding]:
    with_nginx = [f for f in facts if f.nginx_present]
    if not with_nginx:
        return []
    idle = alb_idle_timeout(status)
    idle_text = f"the ALB idle timeout {idle} s" if idle is not None else f"the ALB's default idle timeout {ALB_DEFAULT_IDLE_TIMEOUT} s"
    idle = idle if idle is not None else ALB_DEFAULT_IDLE_TIMEOUT
    unreadable = [f.instance_id for f in with_nginx if not f.nginx_readable]
    readable = [f for f in with_nginx if f.nginx_readable]

    def keepalive(f: InstanceFacts) -> float:
        return min(f.nginx_keepalive) if f.nginx_keepalive else NGINX_DEFAULT_KEEPALIVE

    short = [f for f in readable if keepalive(f) <= idle]
    out = []
    if short:
        shown = _ids([f"{f.instance_id} ({_n(keepalive(f))} s{'' if f.nginx_keepalive else ', default'})" for f in short])
        out.append(Finding(
            "nginx-keepalive", "warning",
            f"nginx keepalive_timeout is not above {idle_text} on {shown}",
            "nginx must close idle connections after the ALB does, or the ALB reuses a connection nginx is closing (the seed: 65 s over the ALB's 60 s)",
            f"keepalive_timeout {idle + 5};   # in nginx's http block, then: sudo nginx -t && sudo systemctl reload nginx",
            subject=_ids([f.instance_id for f in short]),
        ))
    elif readable:
        lowest = min(keepalive(f) for f in readable)
        out.append(_ok("nginx-keepalive", f"nginx keepalive_timeout {_n(lowest)} s is above {idle_text} on {len(readable)} instance{'s' if len(readable) != 1 else ''}"))
    if unreadable:
        out.append(Finding(
            "nginx-keepalive", "info",
            f"nginx is installed but `nginx -T` could not be read on {_ids(unreadable)}",
            "reading nginx's whole configuration usually needs root",
            f"sudo nginx -T | grep keepalive_timeout   # keep it above {idle_text}",
            subject=_ids(unreadable),
        ))
    return out


def _check_close_wait(fleet: FleetConfig, facts: Sequence[InstanceFacts], port: str) -> list[Finding]:
    limit = max(1, math.ceil(fleet.capacity * CLOSE_WAIT_FRACTION))
    stuck = [f for f in facts if f.close_wait is not None and f.close_wait >= limit]
    known = [f for f in facts if f.close_wait is not None]
    if stuck:
        shown = _ids([f"{f.instance_id} ({_n(f.close_wait)})" for f in sorted(stuck, key=lambda f: -(f.close_wait or 0))])
        return [Finding(
            "close-wait", "warning",
            f"connections stuck in CLOSE_WAIT on {port} (the limit is {_n(limit)}, 1% of the ceiling): {shown}",
            "the clients hung up but the service never closed its side — the seed's \"TCP connections not being closed\", which keeps instances running that are not needed",
            f"ss -Htnp state close-wait '( sport = :{_port_number(fleet, stuck)} )'   # on the instance: which process; fix its close handling (restart it as a stopgap)",
            subject=_ids([f.instance_id for f in stuck]),
        )]
    if known:
        worst = max(f.close_wait or 0 for f in known)
        return [_ok("close-wait", f"at most {_n(worst)} connection{'s' if worst != 1 else ''} in CLOSE_WAIT on {port} across {len(known)} instance{'s' if len(known) != 1 else ''}")]
    return []
