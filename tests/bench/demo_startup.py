"""How long a new user waits for the demo's first counts, as a ratio to the stack's import time.

    python tests/bench/demo_startup.py [--runs 3] [--headless-only | --tui-only]

In one run, with bytecode caching on (PYTHONDONTWRITEBYTECODE unset, as a user's Python has it):
- the stack's import time: a fresh `python -c 'import moto.server, textual, boto3, asyncssh'`;
- in tmux at 200x50: from `wsfleet demo` starting to the first instance row with a count on screen
  (`tmux capture-pane -p` every 50 ms);
- headless (`wsfleet demo --no-ui`): the scenario's story line on stderr and the first JSON line.
Prints each run, the medians and the ratio to the import time (the issue's goal: first counts within
2x). Wall times: the machine may be shared, so compare the ratio, not the seconds.
Everything is loopback: the demo's own moto and servers. Each demo is stopped by its PID (tmux's
session is killed by name, a name this script made).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK = "import moto.server, textual, boto3, asyncssh"
# an instance row of the dashboard's table with a number after its id (the count column)
COUNT_ROW = re.compile(r"\bi-[0-9a-f]{17}\s+\d+\s")
POLL = 0.05
TIMEOUT = 60.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def import_time() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", STACK], env=_env(), check=True)
    return time.perf_counter() - t0


def tui_first_counts(run: int) -> float | None:
    session = f"wsfleet-bench-{os.getpid()}-{run}"
    pid_file = Path(f"/tmp/{session}.pid")
    env = _env()
    command = f"echo $$ > {pid_file}; exec env -u PYTHONDONTWRITEBYTECODE PYTHONPATH={env['PYTHONPATH']} {sys.executable} -m wsfleet demo --seconds 40"
    t0 = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", command], check=True, env=env)
    found = None
    try:
        while time.perf_counter() - t0 < TIMEOUT:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if COUNT_ROW.search(screen):
                found = time.perf_counter() - t0
                break
            time.sleep(POLL)
    finally:
        _stop_pid(pid_file)
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return found


def _stop_pid(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return
    finally:
        pid_file.unlink(missing_ok=True)
    try:
        os.kill(pid, 2)  # Ctrl-C: the demo's own clean stop
        for _ in range(200):
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, 9)
    except ProcessLookupError:
        pass


def headless() -> tuple[float | None, float | None]:
    """(story line, first JSON line) seconds after start."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "wsfleet", "demo", "--no-ui", "--seconds", "8"], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    story = first = None
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    try:
        while first is None and time.perf_counter() - t0 < TIMEOUT:
            for key, _ in sel.select(timeout=0.5):
                line = key.fileobj.readline()
                if not line:
                    sel.unregister(key.fileobj)
                    continue
                if key.data == "err" and story is None and "config:" not in line and "wsfleet demo:" in line:
                    story = time.perf_counter() - t0
                if key.data == "out" and line.startswith("{"):
                    first = time.perf_counter() - t0
            if proc.poll() is not None and not sel.get_map():
                break
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return story, first


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--headless-only", action="store_true")
    p.add_argument("--tui-only", action="store_true")
    args = p.parse_args()
    if not args.headless_only and shutil.which("tmux") is None:
        print("tmux is not installed: measuring headless only", file=sys.stderr)
        args.headless_only = True
    import_time()  # warm the bytecode cache and the page cache
    imports, tui, story, first = [], [], [], []
    for run in range(args.runs):
        imports.append(import_time())
        if not args.tui_only:
            s, f = headless()
            story.append(s)
            first.append(f)
        if not args.headless_only:
            tui.append(tui_first_counts(run))
        print(f"run {run + 1}: import {imports[-1]:.2f} s"
              + ("" if args.tui_only else f", headless story {_fmt(story[-1])} s, first JSON {_fmt(first[-1])} s")
              + ("" if args.headless_only else f", tmux first counts {_fmt(tui[-1])} s"), flush=True)
    base = statistics.median(imports)
    print(f"median stack import: {base:.2f} s ({STACK})")
    for name, values in (("headless story line", story), ("headless first JSON", first), ("tmux first counts", tui)):
        got = [v for v in values if v is not None]
        if values:
            if got:
                m = statistics.median(got)
                print(f"median {name}: {m:.2f} s = {m / base:.1f}x the import time ({len(got)}/{len(values)} runs)")
            else:
                print(f"{name}: not seen in {len(values)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
