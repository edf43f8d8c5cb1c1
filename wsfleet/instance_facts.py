"""The instance side of `wsfleet doctor`: read-only facts read over the counts' SSH/SSM channel.

One fixed shell script per host (only ints are put in: the service port, and doctor.silent_after in
milliseconds when the fleet sets it), one round trip,
sections marked `@@ name`: what listens on the port and which processes hold it (`ss -p`, run
once: it reads every process's fds, ~200 ms next to 9,000 connections), their "Max open files",
`net.ipv4.ip_local_port_range`, the ESTABLISHED and CLOSE_WAIT sockets on the port (and how many
established ones carried no data either way for 60 s / 5 min / 1 h, and for the fleet's
doctor.silent_after when set: `ss -i` lastsnd/lastrcv), nginx's
`keepalive_timeout`s from `nginx -T` when nginx is installed. Everything it runs only reads: no
sudo (a failed `sudo -n` is mailed to root on many fleets), no writes. Without `ss` (minimal
images) the socket states come from /proc/net/tcp and tcp6.

`parse_facts` is pure; `gather_facts` moves bytes through the count source's connections.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import replace

from wsfleet.counts.base import address_of
from wsfleet.model import CountTarget, FleetConfig, GroupState, InstanceFacts

_SCRIPT = r"""P=@PORT@
if ss -Htln >/dev/null 2>&1; then
  L=$(ss -Htlnp "sport = :$P" 2>/dev/null)
  echo '@@ listen'
  [ -n "$L" ] && printf '%s\n' "$L"
  echo '@@ established'
  ss -Htn state established "( sport = :$P )" 2>/dev/null | wc -l
  echo '@@ close-wait'
  ss -Htn state close-wait "( sport = :$P )" 2>/dev/null | wc -l
  echo '@@ silent'
  ss -Htni state established "( sport = :$P )" 2>/dev/null | awk '{ s = 0; r = 0
    for (i = 1; i <= NF; i++) { if ($i ~ /^lastsnd:/) s = substr($i, 9) + 0; else if ($i ~ /^lastrcv:/) r = substr($i, 9) + 0 }
    q = (s < r) ? s : r; if (q >= 60000) a++; if (q >= 300000) b++; if (q >= 3600000) c++@OVER@ }
    END { print a + 0, b + 0, c + 0@OVER_PRINT@ }'
  echo '@@ limits'
  for pid in $(printf '%s\n' "$L" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un | head -n 16); do
    echo "pid $pid"
    grep -i '^max open files' "/proc/$pid/limits" 2>/dev/null
  done
else
  echo '@@ proc'
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$(printf '%04X' "$P")" '$2 ~ p"$" {print $4}' | sort | uniq -c
fi
echo '@@ port-range'
cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
echo '@@ nginx'
N=$(command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
if [ -n "$N" ]; then
  C=$("$N" -T 2>/dev/null); echo "rc $?"
  printf '%s\n' "$C" | grep -v -E '^[[:space:]]*(#|$)' | head -c 2000000
else
  echo 'absent'
fi
echo '@@ end'
"""

# The silent count reads `ss -i`'s lastsnd/lastrcv (ms since data last went each way) on each
# socket's info line. ss leaves out a timer that is 0 (data this very millisecond), so a missing one
# is 0, not unknown; a socket's first line has neither and so counts as not silent.

# /proc/net/tcp state codes
_TCP_ESTABLISHED, _TCP_CLOSE_WAIT, _TCP_LISTEN = "01", "08", "0A"

_NGINX_UNITS = {"ms": 0.001, "": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}


class FactsParseError(ValueError):
    pass


def silent_after_ms(silent_after: float) -> int:
    """doctor.silent_after (seconds) as the whole milliseconds `ss -i` counts in (at least 1)."""
    if isinstance(silent_after, bool) or not isinstance(silent_after, (int, float)) or not silent_after > 0 or silent_after != silent_after:
        raise ValueError(f"silent_after must be a number of seconds above 0, not {silent_after!r}")
    return max(1, round(silent_after * 1000))


def facts_command(port: int, silent_after: float | None = None) -> str:
    """The fixed read-only script for one service port. With `silent_after` (seconds, the fleet's
    doctor.silent_after) the silent line gets a fourth count: connections silent at least that
    long; only the port and that number (both ints) are put in."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"service port must be an int 1-65535, not {port!r}")
    over = print_over = ""
    if silent_after is not None:
        over, print_over = f"; if (q >= {silent_after_ms(silent_after)}) d++", ", d + 0"
    return _SCRIPT.replace("@PORT@", str(port)).replace("@OVER@", over).replace("@OVER_PRINT@", print_over)


def remote_command(port: int, silent_after: float | None = None) -> str:
    """What the SSH exec request / SSM RunShellScript carries: the script in a plain sh, whatever
    the login shell (as the count command does)."""
    return f"exec /bin/sh -c {shlex.quote(facts_command(port, silent_after))}"


def nginx_seconds(value: str) -> float | None:
    """An nginx time ("65", "75s", "1m30s", "500ms") in seconds; None when it is not one."""
    text = value.strip().rstrip(";").strip()
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|M|y)?", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(int(n) * _NGINX_UNITS[u] for n, u in parts)


_TOKEN = re.compile(r"""#[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};#"']+""")


def client_keepalive_timeouts(config: str) -> list[str]:
    """The first argument of every client-side `keepalive_timeout` in an `nginx -T` dump.

    A small tokenizer (comments, quotes, blocks) rather than a grep: a directive can share a line
    with others, and `keepalive_timeout` inside an `upstream` block is about nginx's own
    connections to the backend, not the ALB's to nginx.
    """
    found: list[str] = []
    blocks: list[str] = []
    words: list[str] = []
    for token in _TOKEN.findall(config):
        if token.startswith("#"):
            continue
        if token == "{":
            blocks.append(words[0] if words else "")
            words = []
        elif token == "}":
            if blocks:
                blocks.pop()
            words = []
        elif token == ";":
            if len(words) >= 2 and words[0] == "keepalive_timeout" and "upstream" not in blocks:
                found.append(words[1])
            words = []
        else:
            words.append(token)
    return found


def _sections(output: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("@@ "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


def _int_line(lines: Sequence[str]) -> int | None:
    for line in lines:
        if line.strip():
            try:
                return int(line.strip())
            except ValueError:
                return None
    return None


def _silent(lines: Sequence[str]) -> tuple[tuple[int, int, int] | None, int | None]:
    """The 60 s / 5 min / 1 h counts, and the count past doctor.silent_after when it was asked for."""
    for line in lines:
        parts = line.split()
        if len(parts) in (3, 4) and all(p.isdigit() for p in parts):
            return (int(parts[0]), int(parts[1]), int(parts[2])), (int(parts[3]) if len(parts) == 4 else None)
    return None, None


def parse_facts(instance_id: str, output: str, address: str | None = None) -> InstanceFacts:
    """Turn the script's output into facts; raise FactsParseError when it is cut short or foreign.

    Output cut inside the nginx section (SSM keeps 24,000 characters; the nginx dump comes last
    for that reason) keeps every other fact and marks nginx unreadable.
    """
    s = _sections(output)
    complete = "end" in s
    if not (complete or "nginx" in s) or "port-range" not in s or not ("listen" in s or "proc" in s):
        raise FactsParseError("the facts script's output is incomplete")
    listening: bool | None
    pids: tuple[int, ...] = ()
    established = close_wait = None
    silent: tuple[int, int, int] | None = None
    silent_over: int | None = None
    if "listen" in s:
        lines = [ln for ln in s["listen"] if ln.strip()]
        listening = bool(lines)
        pids = tuple(sorted({int(p) for ln in lines for p in re.findall(r"pid=(\d+)", ln)}))
        established = _int_line(s.get("established", ()))
        close_wait = _int_line(s.get("close-wait", ()))
        silent, silent_over = _silent(s.get("silent", ()))
    else:
        states: dict[str, int] = {}
        for ln in s["proc"]:
            parts = ln.split()
            if len(parts) == 2 and parts[0].isdigit():
                states[parts[1].upper()] = states.get(parts[1].upper(), 0) + int(parts[0])
        listening = states.get(_TCP_LISTEN, 0) > 0
        established = states.get(_TCP_ESTABLISHED, 0)
        close_wait = states.get(_TCP_CLOSE_WAIT, 0)

    soft_limits: list[int] = []
    unlimited = False
    for ln in s.get("limits", ()):
        m = re.match(r"(?i)max open files\s+(\S+)", ln.strip())
        if m:
            if m.group(1) == "unlimited":
                unlimited = True
            elif m.group(1).isdigit():
                soft_limits.append(int(m.group(1)))

    port_range = None
    for ln in s.get("port-range", ()):
        parts = ln.split()
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            port_range = (int(parts[0]), int(parts[1]))
            break

    nginx_lines = s.get("nginx", [])
    nginx_present = bool(nginx_lines) and nginx_lines[0].strip() != "absent"
    readable = False
    keepalive: list[float] = []
    if nginx_present:
        m = re.match(r"rc (\d+)", nginx_lines[0].strip())
        readable = bool(m) and m.group(1) == "0" and complete
        for value in client_keepalive_timeouts("\n".join(nginx_lines[1:])):
            seconds = nginx_seconds(value)
            if seconds is not None:
                keepalive.append(seconds)

    return InstanceFacts(
        instance_id=instance_id,
        address=address,
        listening=listening,
        service_pids=pids,
        open_files=min(soft_limits) if soft_limits else None,
        open_files_unlimited=unlimited and not soft_limits,
        port_range=port_range,
        established=established,
        close_wait=close_wait,
        nginx_present=nginx_present,
        nginx_readable=readable,
        nginx_keepalive=tuple(keepalive),
        silent=silent,
        silent_over=silent_over,
    )


# --------------------------------------------------------------------------- gathering (I/O)

FACTS_TIMEOUT_MIN_S = 10.0  # `nginx -T` on a big config takes longer than a count


async def gather_facts(source, targets: Sequence[CountTarget], *, timeout: float, silent_after: float | None = None) -> list[InstanceFacts]:
    """Run the facts script on every target at once through `source.run_command` (the count
    source's connections); one InstanceFacts per target, in target order; failures are values.
    `silent_after`: the fleet's doctor.silent_after (adds `silent_over` to the facts)."""
    import asyncio

    async def one(target: CountTarget) -> InstanceFacts:
        address = address_of(target)
        try:
            out = await source.run_command(target, remote_command(target.service_port, silent_after), timeout=timeout)
        except Exception as exc:  # a bug in a source must not lose the row
            return InstanceFacts(target.instance_id, address, error="command", detail=f"internal error: {type(exc).__name__}: {exc}")
        if out.error is not None:
            return InstanceFacts(target.instance_id, address, error=out.error, detail=out.detail)
        if out.exit_status not in (0, None):
            return InstanceFacts(target.instance_id, address, error="command",
                                 detail=f"the facts script exited with status {out.exit_status}" + (f": {out.stderr}" if out.stderr else ""))
        try:
            return replace(parse_facts(target.instance_id, out.stdout, address), service_port=target.service_port)
        except FactsParseError as exc:
            return InstanceFacts(target.instance_id, address, error="parse", detail=str(exc))

    return list(await asyncio.gather(*(one(t) for t in targets)))


def facts_timeout(fleet: FleetConfig) -> float:
    return max(float(fleet.counts.timeout), FACTS_TIMEOUT_MIN_S)


def gather_facts_sync(fleet: FleetConfig, session, group: GroupState) -> list[InstanceFacts]:
    """The facts of every InService instance of `group`, over the fleet's count source (ssh or ssm)."""
    import asyncio

    from wsfleet.counts import open_source, targets_for

    targets = [t for t in targets_for(fleet, group) if t.lifecycle == "InService"]
    if not targets:
        return []

    async def main() -> list[InstanceFacts]:
        source = open_source(fleet, session)
        try:
            return await gather_facts(source, targets, timeout=facts_timeout(fleet), silent_after=fleet.doctor.silent_after)
        finally:
            await source.aclose()

    return asyncio.run(main())
