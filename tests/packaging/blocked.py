"""Run Python in a subprocess in which some top-level packages look uninstalled.

A meta-path finder that refuses them stands in for a core install without the `demo` extra: the
test environment has moto and friends, a user's jump box does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = '''
import importlib.abc, sys
BLOCKED = set({blocked!r})
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
for loaded in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
    del sys.modules[loaded]
'''


def run_without(blocked: set[str] | tuple[str, ...], code: str, *, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`code` run by this interpreter on this checkout's wsfleet, with `blocked` refused on import."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-c", _PRELUDE.format(blocked=sorted(blocked)) + code],
        capture_output=True, text=True, timeout=90, cwd=cwd, env=env,
    )
