"""Benchmark (run by hand): applying one sweep of 1,000 instances to the dashboard's table.

    python tests/bench/table_update.py [--instances 1000] [--sweeps 30]

Builds the real dashboard (headless, 200x50) over a fixture fleet of N instances, fills the table
once, then applies S sweeps in which every instance's count changed (the worst case: every row's
count, bar, Δ and sparkline cells are rewritten) and times `InstanceTable.apply_counts` — the model
update, the per-instance history and sparklines, the diff and the `update_cell` calls — then the
same plus the end of the sweep (`sweep_ended`: the skew into the history, its bounds, the trend),
and that plus the next screen refresh. Target (DESIGN.md): the apply ≤ 50 ms; prints the median
and the spread.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.tui.fakes import FakeDirectory, frozen_clock, prod_fixture  # noqa: E402
from wsfleet.model import InstanceCount  # noqa: E402
from wsfleet.tui.app import WsfleetApp  # noqa: E402
from wsfleet.tui.widgets.instances import InstanceTable  # noqa: E402


def sweep(fx, rng: random.Random) -> list[InstanceCount]:
    out = []
    for inst in fx.instances:
        out.append(InstanceCount(inst.id, inst.az, inst.private_ip, inst.lifecycle, inst.health, connections=rng.randint(15000, 29000), latency_ms=2.0))
    return out


async def run(n: int, sweeps: int) -> tuple[list[float], list[float]]:
    fx = prod_fixture(n)
    app = WsfleetApp(FakeDirectory(fx), clock=frozen_clock, poll=False)
    rng = random.Random(7)
    apply_ms: list[float] = []
    sweep_ms: list[float] = []
    frame_ms: list[float] = []
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        table = app.dashboard.query_one(InstanceTable)
        table.set_instances(fx.instances)
        table.apply_counts(sweep(fx, rng))  # the first fill adds the rows: not what is measured
        await pilot.pause(0.2)
        assert table.row_count == n
        for _ in range(sweeps):
            batch = sweep(fx, rng)
            t0 = time.perf_counter()
            table.apply_counts(batch)
            t1 = time.perf_counter()
            ended = getattr(table, "sweep_ended", None)  # absent before the trend (for a before/after run)
            if ended is not None:
                ended()
            t2 = time.perf_counter()
            await pilot.pause()  # let the screen repaint the visible rows
            t3 = time.perf_counter()
            apply_ms.append((t1 - t0) * 1000)
            sweep_ms.append((t2 - t0) * 1000)
            frame_ms.append((t3 - t0) * 1000)
    return apply_ms, sweep_ms, frame_ms


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=1000)
    p.add_argument("--sweeps", type=int, default=30)
    a = p.parse_args()
    apply_ms, sweep_ms, frame_ms = asyncio.run(run(a.instances, a.sweeps))
    q = lambda xs: (statistics.median(xs), min(xs), max(xs))  # noqa: E731
    m, lo, hi = q(apply_ms)
    sm, slo, shi = q(sweep_ms)
    fm, flo, fhi = q(frame_ms)
    print(f"instances {a.instances}, sweeps {a.sweeps} (every count changed each sweep)")
    print(f"apply a sweep to the table: median {m:.1f} ms (min {lo:.1f}, max {hi:.1f})  target <= 50 ms: {'ok' if m <= 50 else 'MISSED'}")
    print(f"apply + end of sweep (trend): median {sm:.1f} ms (min {slo:.1f}, max {shi:.1f})")
    print(f"apply + end of sweep + next screen refresh: median {fm:.1f} ms (min {flo:.1f}, max {fhi:.1f})")
    return 0 if m <= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
