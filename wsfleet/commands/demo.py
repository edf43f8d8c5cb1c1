"""`wsfleet demo`: the embedded demo fleet, with the dashboard (or headless with --no-ui).

    wsfleet demo [--instances N] [--scenario spike|deploy|flap|leak] [--seconds S] [--no-ui] [--host-wide]

--host-wide: the agent stand-in publishes what the CloudWatch agent's netstat `tcp_established`
would (every ESTABLISHED socket on an nginx + app server host: 3 a client plus 4 fixed, see
`wsfleet.demo.aws_stand_in.HostWideModel`) instead of the exact count, so the alarms scale out at
about a third of the real load and `wsfleet doctor` on the demo finds the ratio.

The demo writes an ordinary config file for its fleet and says where on stderr, with a command to
try from another terminal. With --no-ui it prints one JSON object per engine step on stdout:

    {"t", "scenario", "desired", "in_service", "warm", "total_connections", "avg_connections",
     "alarms": {"high", "low"}, "event", "pending", "sessions", "leaked", "connections": {id: n}}

and stops after S seconds (or at Ctrl-C / SIGTERM), exit 0, leaving no server, socket, thread or
temporary file behind.
"""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import sys
import time
from typing import Any

from wsfleet.errors import UsageError

# What `pip install 'wsfleet[demo]'` adds (import names): moto, its server mode's imports, and the
# instances' WebSocket servers. Looked up, not imported, so a core install can say what is missing.
DEMO_EXTRA_MODULES = ("moto", "flask", "flask_cors", "yaml", "websockets")
DEMO_EXTRA_INSTALL = "python -m pip install 'wsfleet[demo]'"


def _missing_demo_module() -> str | None:
    for name in DEMO_EXTRA_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):
            return name
    return None


def _check_demo_extra() -> None:
    missing = _missing_demo_module()
    if missing is not None:
        raise UsageError(f"the demo needs the optional `demo` dependencies ({missing} is not installed): "
                         f"run `{DEMO_EXTRA_INSTALL}` (in a checkout: `python -m pip install -e '.[demo]'`).")


def _check_args(args: Any) -> None:
    from wsfleet.demo.scenarios import MAX_SIZE, MIN_SIZE, SCENARIOS

    if args.scenario not in SCENARIOS:
        raise UsageError(f"--scenario {args.scenario!r} is not a demo scenario; use one of {', '.join(SCENARIOS)}.")
    if args.instances is not None and not MIN_SIZE <= args.instances <= MAX_SIZE:
        raise UsageError(f"--instances {args.instances} is outside the demo group's {MIN_SIZE}..{MAX_SIZE}; pick a number in that range.")
    if args.seconds is not None and (not math.isfinite(args.seconds) or args.seconds <= 0):
        raise UsageError(f"--seconds {args.seconds:g} must be a positive number of seconds, e.g. --seconds 60.")


class _Stop(Exception):
    pass


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, the terminal closing


class _StopOnSignal:
    """The first stop signal ends the demo; later ones are ignored so the clean-up runs to its end."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_StopOnSignal":
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is None:
            self.received = signum
            raise _Stop()


def _say(text: str) -> None:
    print(f"wsfleet demo: {text}", file=sys.stderr, flush=True)


def _progress(text: str) -> None:
    from wsfleet.demo.process import PROGRESS

    _say(f"{PROGRESS}{text}")


def _terminal() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _dashboard_beside(args: Any, ctx: Any) -> int | None:
    """The dashboard in this process, the fleet in a child (wsfleet.demo.process); None when there
    is no dashboard in this build (the caller then runs headless)."""
    try:
        from wsfleet.tui.app import WsfleetApp
    except ImportError:
        return None
    from wsfleet.demo.config_file import FLEET_NAME
    from wsfleet.demo.process import PREFIX, PROGRESS, DemoProcess

    child = DemoProcess.for_args(args, ctx, FLEET_NAME)
    app = None
    try:
        app = WsfleetApp(None, fleet=FLEET_NAME, boot=child)
        app.run()
    finally:
        child.stop()
        for line in child.lines:  # the demo's story, config and try line, now that the terminal is back
            if not line.startswith(PREFIX + PROGRESS):  # the boot screen's steps: said already
                print(line, file=sys.stderr)
    if app is not None and app.boot_error:
        _say(app.boot_error)
        return 3
    return int((app.return_code if app is not None else 0) or 0)


def run(args: Any, ctx: Any) -> int:
    _check_demo_extra()
    _check_args(args)
    if not args.no_ui and _terminal() and getattr(args, "parent_pid", None) is None:
        with _StopOnSignal():
            try:
                status = _dashboard_beside(args, ctx)
            except (KeyboardInterrupt, _Stop):
                _say("stopping.")
                return 0
        if status is not None:
            return status
        _say("the dashboard is not available in this build: running headless.")
        args.no_ui = True
    from wsfleet.demo.fleet import DemoFleet

    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    demo = DemoFleet(scenario=args.scenario, instances=args.instances, host_wide=getattr(args, "host_wide", False),
                     on_progress=_progress if getattr(args, "parent_pid", None) is not None else None)  # for the dashboard's boot screen
    with _StopOnSignal():
        try:
            return _run_demo(args, ctx, demo, deadline)
        except (KeyboardInterrupt, _Stop):
            if getattr(args, "parent_pid", None) is None:  # beside a dashboard, the dashboard ended it
                _say("stopping.")
            return 0
        finally:
            demo.stop()
            for problem in demo.errors[:5]:
                _say(f"note: {problem}")


def _run_demo(args: Any, ctx: Any, demo: Any, deadline: float | None) -> int:
    demo.start()
    _say(demo.scenario.summary)
    if demo.host_wide is not None:
        model = demo.host_wide
        _say(f"publishing host-wide counts ({model.sockets_per_client} sockets a client + {model.fixed}, as netstat's tcp_established would): "
             f"the alarms see about {model.sockets_per_client}x the real load; `wsfleet doctor` shows the ratio.")
    for warning in demo.warnings:
        _say(f"provision warned: {warning}")
    from wsfleet.demo.process import CONFIG_LINE

    _say(f"{CONFIG_LINE}{demo.config_path}")  # the dashboard beside a child demo waits for this line
    _say(f"try from another terminal: {demo.try_line()}")
    if not args.no_ui and getattr(args, "parent_pid", None) is None:  # with a terminal, run() opened the dashboard
        _say("no terminal for the dashboard: running headless (--no-ui says so).")
    parent = getattr(args, "parent_pid", None)
    if parent is None:
        _say(f"printing one JSON line per engine step{'' if deadline is None else f' for {args.seconds:g} s'} (Ctrl-C to stop).")
    while deadline is None or time.monotonic() < deadline:
        if parent is not None and os.getppid() != parent:
            _say("the dashboard's process is gone: stopping.")
            return 0
        wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
        frame = demo.next_frame(timeout=wait)
        if frame is not None:
            print(frame.to_json(), flush=True)
    return 0
