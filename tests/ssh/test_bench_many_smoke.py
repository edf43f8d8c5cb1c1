"""tests/bench/ssh_many.py runs end to end at a small size: its stand-in hosts answer wsfleet's real
SshSource with K on every host, and it reports the client's CPU (the figures, not timing targets)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[1] / "bench" / "ssh_many.py"


def _bench():
    spec = importlib.util.spec_from_file_location("ssh_many_bench", _BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_many_hosts_bench_answers_k_everywhere_and_reports_client_cpu():
    bench = _bench()
    [result] = bench.run_sizes([20], workers=2, warm_runs=1, timeout=20.0, sweep_timeout=25.0, k=37,
                               worker_lifetime=60.0)
    assert result.n == 20 and result.connects == 20
    assert result.first.rows == 20 and result.first.wrong == 0, result.first.errors
    assert [(s.rows, s.wrong) for s in result.warm] == [(20, 0)], [s.errors for s in result.warm]
    assert result.first.cpu > 0 and result.warm_cpu > 0
    line = bench.row(result)
    assert line.startswith("| 20 | ") and line.endswith("| 0 |")
