"""The demo fleet in a process of its own, for the dashboard of `wsfleet demo`.

The fleet (moto, the instances' servers, the load, the scaling engine) and the dashboard each keep
a core busy while they start; in one process they took turns under the GIL, so the dashboard only
began to import once the fleet served. Here the child is `wsfleet demo --no-ui --parent-pid PID`
(the headless demo, its JSON lines discarded) and the dashboard opens at once on a boot screen
that shows the child's progress; it reads the fleet when the child says where its config is.

The child is stopped by its PID when the dashboard ends (SIGTERM: the demo's own clean exit, then
SIGKILL after STOP_TIMEOUT), and it stops by itself when this process goes away. What it printed on
stderr is kept and printed once the dashboard has given the terminal back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

from wsfleet.errors import WsfleetError

PREFIX = "wsfleet demo: "
PROGRESS = "starting: "  # a boot step, for the boot screen only: "starting: moto on …"
CONFIG_LINE = "config: "  # what the headless demo says once its fleet serves: "config: PATH"
STOP_TIMEOUT = 20.0


class DemoProcess:
    """A running child demo; also the dashboard's `Boot` (wait, progress, cancel)."""

    def __init__(self, argv: list[str], *, fleet_name: str, read_only: bool = False, verbose: bool = False) -> None:
        self.title = "Starting the demo fleet…"
        self._fleet_name, self._read_only, self._verbose = fleet_name, read_only, verbose
        self.lines: list[str] = []
        self.config_path: str | None = None
        self._ready = threading.Event()
        self._cancelled = threading.Event()
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True, errors="replace", bufsize=1)
        self._reader = threading.Thread(target=self._read, name="wsfleet-demo-stderr", daemon=True)
        self._reader.start()

    @classmethod
    def for_args(cls, args: Any, ctx: Any, fleet_name: str) -> "DemoProcess":
        argv = [sys.executable, "-m", "wsfleet", "demo", "--no-ui", "--scenario", args.scenario, "--parent-pid", str(os.getpid())]
        if args.instances is not None:
            argv += ["--instances", str(args.instances)]
        if getattr(args, "host_wide", False):
            argv.append("--host-wide")
        return cls(argv, fleet_name=fleet_name, read_only=ctx.read_only, verbose=ctx.verbose)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.rstrip("\n")
            self.lines.append(line)
            said = line.removeprefix(PREFIX)
            if self.config_path is None and said.startswith(CONFIG_LINE):
                self.config_path = said[len(CONFIG_LINE):].strip()
                self._ready.set()
        self._ready.set()  # the child ended (or closed stderr): wait() reports it

    # ------------------------------------------------------------------ Boot

    def progress(self) -> list[str]:
        return [line.removeprefix(PREFIX).removeprefix(PROGRESS) for line in self.lines]

    def cancel(self) -> None:
        self._cancelled.set()

    def wait(self) -> Any:
        """The demo's FleetDirectory once its fleet serves (blocks; a worker thread calls it)."""
        while not self._ready.wait(0.1):
            if self._cancelled.is_set():
                raise WsfleetError("the demo was stopped before its fleet started.")
        if self.config_path is None:
            code = self._proc.wait()
            said = [line.removeprefix(PREFIX) for line in self.lines if line.strip()]
            raise WsfleetError(f"the demo fleet did not start (exit code {code})" + (f": {said[-1]}" if said else "."))
        from wsfleet.context import Context
        from wsfleet.demo.env import CLEARED_ENV, DUMMY_ENV
        from wsfleet.service import FleetDirectory

        for key in CLEARED_ENV:  # the dashboard talks only to the demo's moto, as the demo does
            os.environ.pop(key, None)
        os.environ.update(DUMMY_ENV)
        ctx = Context(config_path=self.config_path, fleet_name=self._fleet_name, read_only=self._read_only, verbose=self._verbose)
        return FleetDirectory.from_context(ctx)

    # ------------------------------------------------------------------ stopping

    def stop(self) -> int | None:
        """Stop the child by its PID and wait for it; its exit code (None if it had to be killed)."""
        if self._proc.poll() is None:
            try:
                self._proc.send_signal(signal.SIGTERM)
                return self._proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
                return None
            finally:
                self._reader.join(timeout=5)
        self._reader.join(timeout=5)
        return self._proc.returncode

    def __enter__(self) -> "DemoProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
