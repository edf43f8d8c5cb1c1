"""`wsfleet demo` with its dashboard in a process of its own, forked from the fleet's.

With a core free, the demo's start-up runs on two: the dashboard's process imports Textual, opens
its boot screen and makes its AWS clients while the fleet's process imports the rest of moto,
starts its server and boots the instances. A fork (not a fresh interpreter) shares every module
imported before it: wsfleet, botocore and moto's core are imported once. On one core, or a
machine whose other core is busy, the two would only take turns and add the pipe between them:
the fleet then boots on a thread beside the dashboard, in one process (`commands.demo._DemoBoot`).

The fleet's process (the one the user started; it keeps the stop signals) and the dashboard's
speak JSON lines over two pipes:
- fleet → dashboard: `progress` (text), `serving` (its config file and the story to announce),
  `provisioned` (when it ended, and any warnings), `later` (a note for the open dashboard),
  `error` (why it did not start); the pipe closing means the fleet is stopping: the dashboard exits.
- dashboard → fleet: `counts` (its first counts are on screen: provisioning may begin) and `exit`
  (why it could not open the fleet, said once the terminal is back).
A stop signal to the fleet's process stops the dashboard's with asyncio's own Ctrl-C (its terminal
restored) and then the fleet; a dashboard that quits, or dies, lets the fleet stop.

`WSFLEET_DEMO_SPLIT=fork` or `=thread` chooses, whatever the load (benches and tests compare them).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import datetime
from typing import Any, Callable

SPLIT_ENV = "WSFLEET_DEMO_SPLIT"
# what the dashboard's first read calls (wsfleet.aws.reader.read_status): their clients made early
DASHBOARD_SERVICES = ("autoscaling", "ec2", "cloudwatch", "elbv2", "sts")
CHILD_STOP_WAIT = 10.0  # seconds for the dashboard's process to restore its terminal and exit


def wanted() -> bool:
    """Whether to fork: on Linux (elsewhere a fork without exec can break system frameworks), from
    one thread (a fork keeps only the calling one), and with a core to spare (`core_free`)."""
    choice = os.environ.get(SPLIT_ENV, "").strip().lower()
    if choice not in ("", "fork", "thread"):
        from wsfleet.errors import UsageError

        raise UsageError(f"{SPLIT_ENV}={os.environ[SPLIT_ENV]!r} is neither `fork` nor `thread`; "
                         f"set one of those, or unset it to let the demo choose by the load.")
    if choice == "thread" or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.active_count() != 1:
        return False
    return choice == "fork" or core_free()


# With the fork the two processes' start-ups overlap; on a machine whose cores other work keeps busy
# they only take turns, plus the pipe. Measured here (2 cores, tmux, first counts on screen, medians):
# the fork won at a 1-minute load of 1.3 (1.39 s against 1.53 s) and once at 2-3 (1.38 against
# 1.66), and lost at 2-3 rising with the test suite running beside it (1.94 against 1.70); an
# earlier build of it lost at 4-8. So the fork needs a core to spare: half a core's worth at least.
SPARE_CORE = 0.5


def core_free() -> bool:
    try:
        cores = len(os.sched_getaffinity(0))
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return False
    return cores >= 2 and load <= cores - SPARE_CORE


class _Pipe:
    """One direction of the two processes' talk: a JSON object a line."""

    def __init__(self, fd: int, mode: str) -> None:
        self._file = os.fdopen(fd, mode, encoding="utf-8")
        self._lock = threading.Lock()

    def send(self, kind: str, **fields: Any) -> None:
        with self._lock:
            try:
                self._file.write(json.dumps({"kind": kind, **fields}) + "\n")
                self._file.flush()
            except (OSError, ValueError):  # the other process has gone: it no longer listens
                pass

    def messages(self):
        try:
            for line in self._file:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    yield message
        except (OSError, ValueError):  # closed under us
            return

    def close(self) -> None:
        with self._lock:
            try:
                self._file.close()
            except OSError:
                pass


class PipedBoot:
    """The dashboard's Boot (wsfleet.tui.app) in the dashboard's process: what the fleet's process says."""

    title = "Starting the demo fleet…"

    def __init__(self, from_fleet: int, to_fleet: int, ctx: Any) -> None:
        self._ctx = ctx
        self._lines: list[str] = []
        self._ready, self._cancelled = threading.Event(), threading.Event()
        self._config: str | None = None
        self._error: str | None = None
        self._announce: list[str] = []
        self._served = False
        self._counts_told = False
        self.finished_at: datetime | None = None  # when the fleet's start ended (provisioned, or failed)
        self.on_later: Callable[[str, str], None] | None = None
        self.on_gone: Callable[[], None] | None = None  # the fleet's process closed its pipe (stopping, or died)
        self._in, self._out = _Pipe(from_fleet, "r"), _Pipe(to_fleet, "w")
        self._reader = threading.Thread(target=self._read, name="wsfleet-demo-pipe", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for message in self._in.messages():
                kind = message.get("kind")
                if kind == "progress":
                    self._lines.append(str(message.get("text", "")))
                elif kind == "serving":
                    self._config, self._announce = str(message["config"]), [str(x) for x in message.get("announce", ())]
                    self._served = True
                    self._ready.set()
                elif kind == "provisioned":
                    self.finished_at = datetime.fromisoformat(message["at"])
                elif kind == "error":
                    self._error = str(message.get("text") or "it stopped")
                    self._ready.set()
                elif kind == "later":
                    self._tell(str(message.get("text", "")), str(message.get("severity", "information")))
        finally:
            if not self._ready.is_set():
                self._error = self._error or "its process ended"
                self._ready.set()
            elif self._served and self.on_gone is not None:
                try:
                    self.on_gone()
                except Exception:  # the dashboard is closing already
                    pass

    def _tell(self, text: str, severity: str) -> None:
        if self.on_later is not None:
            try:
                self.on_later(text, severity)
            except Exception:  # the dashboard is closing
                pass

    def progress(self) -> list[str]:
        return list(self._lines)

    def announce(self) -> list[str]:
        return list(self._announce)

    def provisioning_at(self, when: Any) -> bool:
        from wsfleet.commands.demo import provisioning_at

        return provisioning_at(self._served, self.finished_at, when)

    def counts_shown(self) -> None:
        if not self._counts_told:  # once: the dashboard calls it after every sweep
            self._counts_told = True
            self._out.send("counts")

    def cancel(self) -> None:
        self._cancelled.set()

    def tell_exit(self, boot_error: str | None) -> None:
        self._out.send("exit", boot_error=boot_error)
        self._out.close()

    def wait(self) -> Any:
        from wsfleet.context import Context
        from wsfleet.errors import WsfleetError
        from wsfleet.service import FleetDirectory

        make_clients_early()  # while the fleet boots in the other process
        while not self._ready.wait(0.1):
            if self._cancelled.is_set():
                raise WsfleetError("the demo was stopped before its fleet started.")
        if self._config is None:
            raise WsfleetError(f"the demo fleet did not start: {self._error}")
        ctx = Context(config_path=self._config, fleet_name="demo", read_only=self._ctx.read_only, verbose=self._ctx.verbose)
        return FleetDirectory.from_context(ctx)


def make_clients_early() -> None:
    """Load the models of the services the dashboard reads through its sessions' loader, and make
    one client of each (the first of a service costs most: its model, botocore's lazy imports), so
    that its first read does not. No profile or AWS config file read, explicit dummy credentials,
    an endpoint never called. Only a head start: a failure here is the first read's to report."""
    try:
        import botocore.session

        from wsfleet.aws.session import _session_loader

        session = botocore.session.Session(session_vars={
            "profile": (None, None, None, None),  # (config name, env vars, default, conversion)
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        })
        session.register_component("data_loader", _session_loader())
        for service in DASHBOARD_SERVICES:
            session.create_client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                                  aws_access_key_id="demo", aws_secret_access_key="demo")
    except Exception:  # noqa: BLE001 - see the docstring
        pass


# ------------------------------------------------------------------ the fork


def run(args: Any, ctx: Any) -> int:
    """Fork the dashboard's process, then boot the fleet in this one (`wanted()` said to)."""
    from wsfleet.demo import isolation

    isolation.isolate()  # both processes: the demo's dummy credentials, before either makes a client
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(to_child_w)
        os.close(to_parent_r)
        code = 1
        try:
            code = _dashboard(to_child_r, to_parent_w, ctx)
        except BaseException as exc:  # noqa: BLE001 - os._exit below would swallow it: one sentence
            print(f"wsfleet demo: the dashboard stopped: {getattr(exc, 'message', None) or exc or type(exc).__name__}",
                  file=sys.stderr)
        finally:
            try:
                from wsfleet import startup

                startup.save_dataclass_code()  # no atexit in this process
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
    os.close(to_child_r)
    os.close(to_parent_w)
    return _fleet(args, pid, _Pipe(to_child_w, "w"), _Pipe(to_parent_r, "r"))


def _stop_with_ctrl_c(signum: int, frame: Any) -> None:
    os.kill(os.getpid(), signal.SIGINT)  # asyncio's own Ctrl-C: the app's task is cancelled, the terminal restored


def _dashboard(from_fleet: int, to_fleet: int, ctx: Any) -> int:
    """The dashboard's process: the app on a PipedBoot."""
    from wsfleet import startup

    startup.after_fork_in_child()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_with_ctrl_c)
    boot = PipedBoot(from_fleet, to_fleet, ctx)
    from wsfleet.tui.app import WsfleetApp

    app = WsfleetApp(None, fleet="demo", boot=boot)
    # notify() only posts a message (thread-safe), as in commands.demo
    boot.on_later = lambda text, severity: app.notify(text, title="Demo", severity=severity, timeout=15)
    boot.on_gone = lambda: app.call_from_thread(app.exit)  # no fleet left to show
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    finally:
        boot.on_later = boot.on_gone = None
    boot.tell_exit(app.boot_error)
    return 3 if app.boot_error else int(app.return_code or 0)


def _fleet(args: Any, pid: int, to_dashboard: _Pipe, from_dashboard: _Pipe) -> int:
    """The fleet's process: boot the fleet, tell the dashboard; when the dashboard's process ends
    (or a stop signal comes), stop it, then the fleet, and say what it played."""
    from datetime import timezone

    from wsfleet import startup
    from wsfleet.commands.demo import FIRST_COUNTS_WAIT, _say, _story, _why
    from wsfleet.demo.fleet import DemoFleet

    demo = DemoFleet(scenario=args.scenario, instances=args.instances, host_wide=getattr(args, "host_wide", False))
    gone, start_ended = threading.Event(), threading.Event()
    exit_status: list[int] = []
    boot_error: list[str] = []

    def watch() -> None:
        _, status = os.waitpid(pid, 0)
        exit_status.append(os.waitstatus_to_exitcode(status))
        gone.set()
        demo.stop_waiting_for_counts()  # a quit during the boot: provision now, stop soon after
        if not start_ended.is_set():
            _say("stopping: letting the fleet finish booting, then removing it…")

    def listen() -> None:
        for message in from_dashboard.messages():
            if message.get("kind") == "counts":
                startup.end()  # this process has started too
                demo.stop_waiting_for_counts()
            elif message.get("kind") == "exit" and message.get("boot_error"):
                boot_error.append(str(message["boot_error"]))

    threading.Thread(target=watch, name="wsfleet-demo-dashboard", daemon=True).start()
    listener = threading.Thread(target=listen, name="wsfleet-demo-pipe", daemon=True)
    listener.start()
    served: list[bool] = []

    def serving() -> None:
        served.append(True)
        to_dashboard.send("serving", config=str(demo.config_path),
                          announce=[*_story(demo), f"try from another terminal: {demo.try_line()}"])

    demo.on_progress = lambda text: to_dashboard.send("progress", text=text)
    demo.on_serving = serving
    demo.first_counts_wait = FIRST_COUNTS_WAIT
    demo.counts_shown_reported = True
    failed = False

    def boot() -> None:
        # On a thread, as in commands.demo._DemoBoot: a stop signal then lands in this process's
        # main thread, in a wait, never inside provisioning's own error handling (which would
        # take it for an AWS failure)
        nonlocal failed
        try:
            demo.start()
            warnings = [f"provision warned: {w}" for w in demo.warnings]
            if warnings:
                to_dashboard.send("later", text="\n".join(warnings), severity="warning")
        except BaseException as exc:  # noqa: BLE001 - one sentence, on the dashboard or after it
            failed = True
            if served:
                sentence = f"the demo fleet stopped while it was being provisioned: {_why(exc)}"
                demo.errors.append(sentence)
                to_dashboard.send("later", text=sentence, severity="error")
            else:
                to_dashboard.send("error", text=_why(exc))
        finally:
            start_ended.set()
            to_dashboard.send("provisioned", at=datetime.now(timezone.utc).isoformat())
            startup.end()

    booter = threading.Thread(target=boot, name="wsfleet-demo-boot", daemon=True)
    booter.start()
    try:
        while not gone.wait(0.5):  # the dashboard's life; a stop signal ends the wait (_Stop)
            pass
    finally:
        to_dashboard.close()  # the dashboard exits, if it has not
        if not gone.is_set():
            _stop_child(pid, gone)
        demo.stop_waiting_for_counts()  # provision now rather than wait for counts nobody takes
        booter.join()  # so that stop() finds a whole fleet to clean up
        listener.join(timeout=1.0)
        demo.stop()
        if served:  # now that the terminal is back: what it played (its config is gone with it)
            for line in _story(demo):
                _say(line)
            _say("stopped: its servers, moto and temporary directory are gone.")
        for problem in demo.errors[:5]:
            _say(f"note: {problem}")
    for sentence in boot_error:
        _say(sentence)
    code = exit_status[0] if exit_status else 0
    if code < 0:  # the dashboard's process was killed by a signal
        return 1
    return 3 if (boot_error or (failed and served)) else code


def _stop_child(pid: int, gone: threading.Event) -> None:
    for sig, wait in ((signal.SIGINT, CHILD_STOP_WAIT), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if gone.wait(wait):
            return
