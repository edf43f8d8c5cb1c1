"""Benchmark (run by hand): what the dashboard's paints cost, on the tests/tui fakes.

    python tests/tui/paint_bench.py [--runs 4] [--size 200x50 --size 80x24] [--instances 12] [--root TREE ...]

Each run starts a fresh process per checkout (--root, repeatable: e.g. main's and a branch's;
default: this one), in alternating order so a before/after comparison shares the machine's load.
The process opens the dashboard the way `wsfleet demo` does (a boot screen, then the dashboard
replaces it, polling off), headless at the given size, and times every DashboardScreen layout and
compositor refresh in main-thread CPU (`time.thread_time`), with the terminal encoding the headless
driver skips (`render_segments`) added back and the cyclic collector off (its pauses belong to
start-up: `wsfleet.startup`). It reports medians of:
- first paint: the first layout that painted the dashboard;
- opening: every paint until the dashboard is idle, no data yet;
- first data: the paints of the first refresh cycle (the status and the counts appear);
- sweep: the paints of a later cycle (mean of three), the steady state.
Bytecode caching on, as a user's Python has it (PYTHONDONTWRITEBYTECODE is dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LATER_SWEEPS = 3


def measure(width: int, height: int, instances: int) -> dict:
    """In the child: one dashboard, its paints timed; a dict of CPU ms."""
    import asyncio
    import gc
    import threading
    import time

    gc.disable()
    from textual._compositor import CompositorUpdate
    from textual.app import App
    from textual.screen import Screen

    paints: list[tuple[str, str, float, int]] = []  # (phase, what, thread CPU ms, nesting depth)
    phase, depth = ["boot"], [0]
    display = App._display

    def encoded(self, screen, renderable):
        if isinstance(renderable, CompositorUpdate) and not self._batch_count:
            renderable.render_segments(self.console)  # what a terminal driver does with the update
        return display(self, screen, renderable)

    App._display = encoded

    def timed(name: str):
        original = getattr(Screen, name)

        def wrapper(self, *args, **kwargs):
            if type(self).__name__ != "DashboardScreen":
                return original(self, *args, **kwargs)
            started = time.thread_time()
            depth[0] += 1
            try:
                return original(self, *args, **kwargs)
            finally:
                depth[0] -= 1
                paints.append((phase[0], name, 1e3 * (time.thread_time() - started), depth[0]))

        setattr(Screen, name, wrapper)

    timed("_refresh_layout")
    timed("_compositor_refresh")

    from tests.tui.conftest import settle, wait_for
    from tests.tui.fakes import FakeDirectory, frozen_clock, prod_fixture, staging_fixture
    from wsfleet.tui.app import WsfleetApp

    class Boot:
        title = "Starting the demo fleet…"

        def __init__(self, directory) -> None:
            self.directory, self.release = directory, threading.Event()

        def progress(self) -> list[str]:
            return ["moto on 127.0.0.1"]

        def cancel(self) -> None:
            self.release.set()

        def wait(self):
            self.release.wait(10)
            return self.directory

    async def run() -> None:
        boot = Boot(FakeDirectory(prod_fixture(instances), staging_fixture()))
        app = WsfleetApp(None, boot=boot, clock=frozen_clock, theme_dirs=None, poll=False)
        async with app.run_test(size=(width, height)) as pilot:
            await pilot.pause(0.3)
            boot.release.set()
            await wait_for(pilot, lambda: app.dashboard is not None, timeout=30, what="the dashboard")
            await pilot.pause(0.3)
            for cycle in range(1 + LATER_SWEEPS):
                phase[0] = "data" if cycle == 0 else f"sweep{cycle}"
                done = app.dashboard.cycles
                app.dashboard.action_refresh()
                await settle(pilot, app, cycles=done + 1, timeout=30)
                await pilot.pause(0.2)

    asyncio.run(run())
    top = lambda wanted: sum(ms for ph, _, ms, d in paints if d == 0 and ph in wanted)  # noqa: E731
    # the first layout with a compositor refresh inside it (recorded just before it, one level down)
    first = next(ms for prev, (ph, name, ms, d) in zip(paints, paints[1:]) if name == "_refresh_layout" and prev[1] == "_compositor_refresh" and prev[3] == 1)
    return {
        "first paint": first,
        "opening": top({"boot"}),
        "first data": top({"data"}),
        "sweep": statistics.mean(top({f"sweep{i}"}) for i in range(1, LATER_SWEEPS + 1)),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--size", action="append", help="WIDTHxHEIGHT (repeatable; default 200x50 and 80x24)")
    p.add_argument("--instances", type=int, default=12)
    p.add_argument("--root", type=Path, action="append", help="a wsfleet checkout to measure (repeatable; default: this one)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        width, height = (int(x) for x in a.child.split("x"))
        print(json.dumps(measure(width, height, a.instances)))
        return 0
    roots = [r.resolve() for r in (a.root or [ROOT])]
    sizes = a.size or ["200x50", "80x24"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    results: dict[tuple[str, Path], list[dict]] = {}
    for run in range(a.runs):
        for size in sizes:
            for root in roots if run % 2 == 0 else roots[::-1]:
                # this script, over that checkout's wsfleet and fakes (main's may not have the script)
                out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", size, "--instances", str(a.instances)],
                                     cwd=root, env=dict(env, PYTHONPATH=str(root)), capture_output=True, text=True, timeout=300)
                if out.returncode:
                    print(out.stderr[-3000:], file=sys.stderr)
                    return 1
                results.setdefault((size, root), []).append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{a.instances} instances, {a.runs} runs; main-thread CPU ms, medians; load {os.getloadavg()[0]:.2f} at the end")
    for size in sizes:
        for root in roots:
            runs = results[(size, root)]
            cells = " | ".join(f"{k} {statistics.median(r[k] for r in runs):6.1f}" for k in runs[0])
            print(f"{size} {root}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
