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

With the dashboard, the fleet runs in a process of its own (`wsfleet demo --serve`, in its own
session so the terminal's signals reach only the dashboard), started first: it boots moto, the
group and the servers on one core while the dashboard's process imports Textual on the other.
It prints one JSON line when its config is written, and stops when its stdin closes (the
dashboard's process ended, however it ended) or at SIGTERM; the dashboard's process waits for it
by PID, then kills it if it has not gone within STOP_WAIT.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
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


def _dashboard(ctx: Any, demo: Any) -> int | None:
    """Run the dashboard on the demo's config; None when there is no dashboard to run."""
    try:
        from wsfleet.commands import ui as ui_command
    except ImportError:
        return None
    from wsfleet.context import Context

    demo_ctx = Context(config_path=str(demo.config_path), fleet_name=demo.fleet_name, read_only=ctx.read_only, verbose=ctx.verbose)
    return int(ui_command.run(argparse.Namespace(command="ui"), demo_ctx) or 0)


READY_WAIT = 60.0  # seconds the dashboard waits for the fleet's process to say it serves
STOP_WAIT = 20.0  # seconds the fleet's process gets to stop cleanly before it is killed


def run(args: Any, ctx: Any) -> int:
    _check_demo_extra()
    _check_args(args)
    if getattr(args, "serve", False):
        return _serve(args)
    if not args.no_ui and sys.stdin.isatty() and sys.stderr.isatty() and importlib.util.find_spec("textual") is not None:
        return _beside_dashboard(args, ctx)
    from wsfleet.demo.fleet import DemoFleet

    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    demo = DemoFleet(scenario=args.scenario, instances=args.instances, host_wide=getattr(args, "host_wide", False))
    with _StopOnSignal():
        try:
            return _run_demo(args, ctx, demo, deadline)
        except (KeyboardInterrupt, _Stop):
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
        _say(_host_wide_line(demo.host_wide.sockets_per_client, demo.host_wide.fixed))
    for warning in demo.warnings:
        _say(f"provision warned: {warning}")
    _say(f"config: {demo.config_path}")
    _say(f"try from another terminal: {demo.try_line()}")
    if not args.no_ui:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            _say("no terminal for the dashboard: running headless (--no-ui says so).")
        else:
            status = _dashboard(ctx, demo)
            if status is not None:
                return status
            _say("the dashboard is not available in this build: running headless.")
    _say(f"printing one JSON line per engine step{'' if deadline is None else f' for {args.seconds:g} s'} (Ctrl-C to stop).")
    while deadline is None or time.monotonic() < deadline:
        wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
        frame = demo.next_frame(timeout=wait)
        if frame is not None:
            print(frame.to_json(), flush=True)
    return 0


# ============================================================== the fleet beside the dashboard


def _serve(args: Any) -> int:
    """The fleet's own process: start, say where the config is (one JSON line), serve until stdin
    closes or a stop signal."""
    from wsfleet.demo.fleet import DemoFleet

    demo = DemoFleet(scenario=args.scenario, instances=args.instances, host_wide=getattr(args, "host_wide", False))
    closed = threading.Event()
    with _StopOnSignal():
        try:
            demo.start()
            hello = {"config": str(demo.config_path), "fleet": demo.fleet_name, "summary": demo.scenario.summary,
                     "warnings": list(demo.warnings), "try": demo.try_line(),
                     "host_wide": None if demo.host_wide is None else [demo.host_wide.sockets_per_client, demo.host_wide.fixed]}
            print(json.dumps(hello), flush=True)
            threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True, name="wsfleet-demo-stdin").start()
            while not closed.wait(0.5):
                pass
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            demo.stop()
            for problem in demo.errors[:5]:
                _say(f"note: {problem}")
    return 0


def _beside_dashboard(args: Any, ctx: Any) -> int:
    command = [sys.executable, "-m", "wsfleet", "demo", "--serve", "--scenario", args.scenario]
    if args.instances is not None:
        command += ["--instances", str(args.instances)]
    if getattr(args, "host_wide", False):
        command.append("--host-wide")
    _say("starting the demo fleet…")
    # the fleet's stderr goes to a file, shown after the dashboard: nothing may write over the screen
    with tempfile.TemporaryFile("w+") as fleet_log, _StopOnSignal():
        fleet = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fleet_log, text=True,
                                 start_new_session=True)
        try:
            return _dashboard_of(fleet, ctx)
        except (KeyboardInterrupt, _Stop):
            _say("stopping.")
            return 0
        finally:
            _stop_fleet(fleet)
            fleet_log.seek(0)
            sys.stderr.write(fleet_log.read())


def _dashboard_of(fleet: subprocess.Popen, ctx: Any) -> int:
    # Textual's, the dashboard's and boto3's imports, on this core while the fleet boots on the other
    import wsfleet.service  # noqa: F401
    import wsfleet.tui.app  # noqa: F401
    from wsfleet.demo import environment

    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(fleet.stdout.readline()), daemon=True, name="wsfleet-demo-ready")
    reader.start()
    reader.join(READY_WAIT)
    hello = json.loads(ready[0]) if ready and ready[0].strip() else None
    if hello is None:
        if fleet.poll() is None:
            _say(f"the demo fleet did not start within {READY_WAIT:.0f} s; stopping it.")
            return 3
        return fleet.returncode or 3  # it said why on its stderr, shown below
    _say(hello["summary"])
    if hello.get("host_wide"):
        _say(_host_wide_line(*hello["host_wide"]))
    for warning in hello["warnings"]:
        _say(f"provision warned: {warning}")
    _say(f"config: {hello['config']}")
    _say(f"try from another terminal: {hello['try']}")
    saved = environment.isolate()  # the dashboard reads the demo's moto with the demo's dummies
    try:
        return _dashboard(ctx, SimpleNamespace(config_path=Path(hello["config"]), fleet_name=hello["fleet"])) or 0
    finally:
        environment.restore(saved)


def _stop_fleet(fleet: subprocess.Popen) -> None:
    """Close its stdin (its signal to stop), wait by PID, SIGTERM, then SIGKILL."""
    try:
        fleet.stdin.close()
    except OSError:
        pass
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and fleet.poll() is None:
            os.kill(fleet.pid, sig)
        try:
            fleet.wait(timeout=STOP_WAIT if sig is None else 5)
            break
        except subprocess.TimeoutExpired:
            continue
    if fleet.stdout is not None:
        fleet.stdout.close()


def _host_wide_line(per_client: int, fixed: int) -> str:
    return (f"publishing host-wide counts ({per_client} sockets a client + {fixed}, as netstat's tcp_established would): "
            f"the alarms see about {per_client}x the real load; `wsfleet doctor` shows the ratio.")
