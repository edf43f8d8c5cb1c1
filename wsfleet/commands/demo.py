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

With the dashboard, the fleet boots beside it: in a process of its own when a core is free
(`wsfleet.commands.demo_forked`), else on a thread (`_DemoBoot`). The dashboard opens when the
fleet serves, and the fleet is provisioned after the dashboard's first counts.
"""

from __future__ import annotations

import importlib.util
import math
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


def _terminal() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


# How long the demo's provisioning waits for the dashboard's first counts (the dashboard opens as
# soon as the instances serve; alarms, policies, warm pool and schedule follow its first sweep).
FIRST_COUNTS_WAIT = 5.0


class _DemoBoot:
    """The demo fleet booting on a thread of this process while the dashboard opens: the
    dashboard's Boot (wsfleet.tui.app). Started before Textual is imported, so the import and the
    fleet's boot overlap wherever either waits. The dashboard opens once the instances serve the
    story's first sessions (`on_serving`); the boot then goes on with provisioning and the engine,
    after the dashboard's first sweep, and `done` means all of it."""

    title = "Starting the demo fleet…"

    def __init__(self, demo: Any, ctx: Any) -> None:
        import threading

        self.demo, self._ctx = demo, ctx
        self._lines: list[str] = []
        self._done, self._cancelled = threading.Event(), threading.Event()
        self._ready = threading.Event()  # serving, or done (with or without an error)
        self._error: BaseException | None = None
        self._served = False
        self._counts_shown = False
        self.on_later: Any = None  # (text, severity) -> None: what the boot says once the dashboard is open
        self.finished_at: Any = None  # when start() returned or failed (UTC)
        demo.on_progress = self._lines.append
        demo.on_serving = self._serving
        demo.first_counts_wait = FIRST_COUNTS_WAIT
        demo.counts_shown_reported = True  # the dashboard calls counts_shown()
        self._thread = threading.Thread(target=self._boot, name="wsfleet-demo-boot", daemon=True)
        self._thread.start()

    def _serving(self) -> None:
        self._served = True
        self._ready.set()

    def _boot(self) -> None:
        try:
            self.demo.start()
        except BaseException as exc:  # reported by wait(), on the dashboard, as one sentence
            self._error = exc
            if self._served:  # the dashboard is open already: say it there, and at exit
                sentence = f"the demo fleet stopped while it was being provisioned: {_why(exc)}"
                self.demo.errors.append(sentence)
                self._tell(sentence, "error")
        else:
            warnings = [f"provision warned: {w}" for w in getattr(self.demo, "warnings", ())]
            if self._served and warnings:  # announce() came before provisioning
                self._tell("\n".join(warnings), "warning")
        finally:
            from datetime import datetime, timezone

            self.finished_at = datetime.now(timezone.utc)
            self._done.set()
            self._ready.set()

    def _tell(self, text: str, severity: str) -> None:
        if self.on_later is not None:
            try:
                self.on_later(text, severity)
            except Exception:  # the dashboard has closed meanwhile: the exit report says it
                pass

    def progress(self) -> list[str]:
        return list(self._lines)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def failed(self) -> bool:
        """It stopped with an error (before or after the dashboard opened)."""
        return self._done.is_set() and self._error is not None

    def provisioning_at(self, when: Any) -> bool:
        """Whether it was serving but not yet provisioned (alarms, policies, warm pool, schedule)
        at `when`, a status read's start (UTC): the dashboard's panels then say "being
        provisioned…", not "none", also for a read that began just before provisioning ended."""
        return provisioning_at(self._served, self.finished_at, when)

    @property
    def started(self) -> bool:
        return self._done.is_set() and self._error is None

    def announce(self) -> list[str]:
        """Shown on the dashboard once the fleet serves: the story, and how to reach it from a second terminal."""
        return [*_story(self.demo), f"try from another terminal: {self.demo.try_line()}"]  # the line names the config

    def counts_shown(self) -> None:
        """The dashboard painted its first counts: provisioning may begin (it waited, at most
        FIRST_COUNTS_WAIT, so as not to share the first read's, sweep's and paint's CPU)."""
        if self._counts_shown:
            return  # once: the dashboard calls it after every sweep
        self._counts_shown = True
        stop_waiting = getattr(self.demo, "stop_waiting_for_counts", None)
        if stop_waiting is not None:
            stop_waiting()

    def cancel(self) -> None:
        self._cancelled.set()
        stop_waiting = getattr(self.demo, "stop_waiting_for_counts", None)
        if stop_waiting is not None:  # quitting: provision now rather than wait for counts nobody takes
            stop_waiting()

    def join(self) -> None:
        self._thread.join()

    def wait(self) -> Any:
        from wsfleet.context import Context
        from wsfleet.errors import WsfleetError
        from wsfleet.service import FleetDirectory

        while not self._ready.wait(0.1):
            if self._cancelled.is_set():
                raise WsfleetError("the demo was stopped before its fleet started.")
        if self._error is not None and not self._served:
            raise WsfleetError(f"the demo fleet did not start: {_why(self._error)}")
        ctx = Context(config_path=str(self.demo.config_path), fleet_name=self.demo.fleet_name,
                      read_only=self._ctx.read_only, verbose=self._ctx.verbose)
        return FleetDirectory.from_context(ctx)


def provisioning_at(served: bool, finished: Any, when: Any) -> bool:
    """A boot's `provisioning_at(when)`: serving, and `when` (UTC) before its start ended."""
    if not served:
        return False
    try:
        return finished is None or (when is not None and when < finished)
    except TypeError:  # a naive time: not a read of this boot's fleet
        return False


def _why(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


def _story(demo: Any) -> list[str]:
    """What the demo says of itself: its story, what it publishes, what provisioning warned of."""
    lines = [demo.scenario.summary]
    if demo.host_wide is not None:
        model = demo.host_wide
        lines.append(f"publishing host-wide counts ({model.sockets_per_client} sockets a client + {model.fixed}, as netstat's "
                     f"tcp_established would): the alarms see about {model.sockets_per_client}x the real load; `wsfleet doctor` shows the ratio.")
    lines += [f"provision warned: {w}" for w in demo.warnings]
    return lines


def _dashboard(args: Any, ctx: Any) -> int | None:
    """The dashboard at once, on its boot screen, while the fleet boots: in a process of its own
    with a core free (commands.demo_forked), else on a thread beside it; None when this build has
    no dashboard (the caller then runs headless)."""
    if importlib.util.find_spec("textual") is None:
        return None
    from wsfleet.commands import demo_forked

    if demo_forked.wanted():
        return demo_forked.run(args, ctx)
    return _dashboard_in_process(args, ctx)


def _dashboard_in_process(args: Any, ctx: Any) -> int:
    """The fleet boots on a thread (_DemoBoot) while the dashboard opens."""
    from wsfleet.demo.fleet import DemoFleet

    demo = DemoFleet(scenario=args.scenario, instances=args.instances, host_wide=getattr(args, "host_wide", False))
    boot = _DemoBoot(demo, ctx)
    app = None
    try:
        from wsfleet.tui.app import WsfleetApp

        app = WsfleetApp(None, fleet=demo.fleet_name, boot=boot)
        # notify() only posts a message (thread-safe); call_from_thread would wait for the app's
        # answer, and a quit at that moment would leave the boot thread, and the quit, waiting forever
        boot.on_later = lambda text, severity: app.notify(text, title="Demo", severity=severity, timeout=15)
        app.run()
    finally:
        boot.on_later = None
        boot.cancel()  # a boot still waiting for the first counts provisions now, so that stop() follows soon
        if not boot.done:
            _say("stopping: letting the fleet finish booting, then removing it…")
        boot.join()  # a quit during the boot waits for it, so that stop() finds a whole fleet to clean up
        demo.stop()
        if boot.started:  # now that the terminal is back: what it played (its config is gone with it)
            for line in _story(demo):
                _say(line)
            _say("stopped: its servers, moto and temporary directory are gone.")
        for problem in demo.errors[:5]:
            _say(f"note: {problem}")
    if app is not None and app.boot_error:
        _say(app.boot_error)
        return 3
    if boot.failed:  # it served, then its provisioning failed (said above, under "note:")
        return 3
    return int((app.return_code if app is not None else 0) or 0)


def run(args: Any, ctx: Any) -> int:
    _check_demo_extra()
    _check_args(args)
    if not args.no_ui and _terminal():
        with _StopOnSignal():
            try:
                status = _dashboard(args, ctx)
            except (KeyboardInterrupt, _Stop):
                _say("stopping.")
                return 0
        if status is not None:
            return status
        _say("the dashboard is not available in this build: running headless.")
        args.no_ui = True
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
    from wsfleet import startup

    demo.start()
    startup.end()  # the fleet serves: the collector back on (wsfleet.startup)
    for line in _story(demo):
        _say(line)
    _say(f"config: {demo.config_path}")
    _say(f"try from another terminal: {demo.try_line()}")
    if not args.no_ui:  # with a terminal, run() opened the dashboard
        _say("no terminal for the dashboard: running headless (--no-ui says so).")
    _say(f"printing one JSON line per engine step{'' if deadline is None else f' for {args.seconds:g} s'} (Ctrl-C to stop).")
    while deadline is None or time.monotonic() < deadline:
        wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
        frame = demo.next_frame(timeout=wait)
        if frame is not None:
            print(frame.to_json(), flush=True)
    return 0
