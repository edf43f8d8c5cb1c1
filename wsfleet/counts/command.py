"""The remote count command and its parser: one text serves ssh and ssm (DESIGN rule 4).

Counts ESTABLISHED TCP connections whose *local* port is the service port, IPv4 and IPv6.
`ss` with a port filter is exact and fast (45 ms for 20,000 connections); a minimal image without
`ss` falls back to `/proc/net/tcp` + `tcp6` (state 01, local port in hex; a missing tcp6 is fine;
a connection listed twice -- /proc is read in pages while sockets come and go -- counts once).
The text is fixed: the only thing put in is the port, after checking it is an int in 1..65535.

`reader_command` wraps the same count in a loop that answers one request line per sweep on an
open SSH channel, so a warm sweep costs one round trip and no channel open or shell start-up.
OpenSSH runs every exec request as `$SHELL -c '...'`, and Debian's bash then sources `~/.bashrc`
(measured here: +120 ms, a version manager); the loop pays that once per connection, `exec
/bin/sh` leaves the login shell behind, and the begin/end markers make any noise the start-up
files print harmless.
"""

from __future__ import annotations

import re
import shlex

READY = "wsfleet-count-ready"
BEGIN = "wsfleet-count-begin"
END = "wsfleet-count-end"


class CountParseError(ValueError):
    """The remote command's output was not exactly one non-negative integer."""


def _checked_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"service port must be an integer from 1 to 65535, got {port!r}")
    return port


# IFS = one newline, so that `set -- $output` makes one word per line (no wc, no pipe: the fewer
# processes a count starts, the cheaper a warm sweep; a fork+exec costs ~2 ms on a small VM).
_IFS_NEWLINE = "IFS=$(printf '\\nx'); IFS=${IFS%x}"


def _count_function(port: int) -> str:
    """sh function `wsfleet_count`: sets wsfleet_n to the count and returns 0, or returns non-zero."""
    port = _checked_port(port)
    return (
        "wsfleet_count() { "
        "if command -v ss >/dev/null 2>&1 && "
        f"wsfleet_out=$(ss -Htn state established '( sport = :{port} )' 2>/dev/null); then "
        "set -f; set -- $wsfleet_out; wsfleet_n=$#; "
        "elif [ -r /proc/net/tcp ]; then "
        "wsfleet_n=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | "
        f"awk 'BEGIN {{ n = 0 }} $4 == \"01\" && $2 ~ /:{port:04X}$/ && !seen[$2 \" \" $3]++ {{ n++ }} END {{ print n }}'); "
        "else echo 'wsfleet: neither ss nor /proc/net/tcp on this host' >&2; return 1; "
        "fi; }"
    )


def count_command(port: int) -> str:
    """The POSIX sh text that prints the number of established connections on local `port`."""
    return f"{_count_function(port)}; {_IFS_NEWLINE}; wsfleet_count && echo \"$wsfleet_n\""


def reader_script(port: int) -> str:
    """A sh loop: for each request line (a sequence number) print BEGIN n, the count, END n status.

    One printf per answer, so each answer leaves as one write (one SSH packet)."""
    return (
        f"{_count_function(port)}; {_IFS_NEWLINE}; "
        f"echo {READY}; "
        "while IFS= read -r wsfleet_seq; do "
        "wsfleet_n=; wsfleet_count; wsfleet_rc=$?; "
        f"printf '{BEGIN} %s\\n%s\\n{END} %s %s\\n' \"$wsfleet_seq\" \"$wsfleet_n\" \"$wsfleet_seq\" \"$wsfleet_rc\"; "
        "done"
    )


def reader_command(port: int) -> str:
    """What the SSH exec request carries: leave the login shell for a plain sh running the loop."""
    return f"exec /bin/sh -c {shlex.quote(reader_script(port))}"


def oneshot_command(port: int) -> str:
    """One count through a plain sh (for ssh hosts driven without the reader loop)."""
    return f"exec /bin/sh -c {shlex.quote(count_command(port))}"


_COUNT = re.compile(r"\s*([0-9]+)\s*", re.ASCII)


def parse_count(output: str) -> int:
    """Exactly one non-negative integer (surrounding whitespace allowed), else CountParseError."""
    if not isinstance(output, str):
        raise CountParseError(f"expected text, got {type(output).__name__}")
    match = _COUNT.fullmatch(output)
    if not match:
        shown = output.strip().replace("\n", "\\n")
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise CountParseError(f"expected one non-negative integer, got {shown!r}" if shown else "expected one non-negative integer, got no output")
    return int(match.group(1))
