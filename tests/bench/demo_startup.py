"""How long a new user waits for the demo's first counts, as a ratio to the stack's import time.

    python tests/bench/demo_startup.py [--runs 3] [--headless-only | --tui-only] [--root TREE ...] [--split fork --split thread]

--root (repeatable) measures the demo of each checkout given (e.g. main's and a branch's), one after
the other within every run, so a before/after comparison shares the machine's load; by default the
checkout this script is in. --split (repeatable) runs the dashboard's demo with each boot named
(WSFLEET_DEMO_SPLIT: `fork`, the dashboard in a process of its own; `thread`, beside the fleet in
one), taking turns like the roots; by default the demo chooses by the load, as a user's does.
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


def _env(root: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def import_time() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", STACK], env=_env(), check=True)
    return time.perf_counter() - t0


def tui_first_counts(run: int, root: Path = ROOT, split: str | None = None) -> float | None:
    session = f"wsfleet-bench-{os.getpid()}-{run}"
    pid_file = Path(f"/tmp/{session}.pid")
    env = _env(root)
    chosen = "" if split is None else f" WSFLEET_DEMO_SPLIT={split}"
    command = f"echo $$ > {pid_file}; exec env -u PYTHONDONTWRITEBYTECODE{chosen} PYTHONPATH={env['PYTHONPATH']} {sys.executable} -m wsfleet demo --seconds 40"
    t0 = time.perf_counter()
    # started in the checkout: `python -m` puts the working directory first on sys.path
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", "-c", str(root), command], check=True, env=env)
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


def headless(root: Path = ROOT) -> tuple[float | None, float | None]:
    """(story line, first JSON line) seconds after start."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "wsfleet", "demo", "--no-ui", "--seconds", "8"], env=_env(root), cwd=root,
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


def _name(root: tuple[Path, str | None]) -> str:
    return str(root[0]) + ("" if root[1] is None else f" {root[1]}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--headless-only", action="store_true")
    p.add_argument("--tui-only", action="store_true")
    p.add_argument("--root", type=Path, action="append", help="a wsfleet checkout to measure (repeatable; default: this one)")
    p.add_argument("--split", choices=("fork", "thread"), action="append", help="the dashboard demo's boot (repeatable; default: the demo's choice)")
    args = p.parse_args()
    checkouts = [r.resolve() for r in args.root] if args.root else [ROOT]
    for root in checkouts:
        if not (root / "wsfleet" / "__main__.py").is_file():
            p.error(f"--root {root}: not a wsfleet checkout (no wsfleet/__main__.py)")
    # every (checkout, boot) pair, taking turns within each run; a headless demo has no dashboard to split from
    roots = [(root, split) for root in checkouts for split in (args.split or [None])]
    if not args.headless_only and shutil.which("tmux") is None:
        print("tmux is not installed: measuring headless only", file=sys.stderr)
        args.headless_only = True
    import_time()  # warm the bytecode cache and the page cache
    for root in checkouts:  # and each checkout's own bytecode
        subprocess.run([sys.executable, "-c", "import wsfleet.cli, wsfleet.commands.demo, wsfleet.demo.fleet, wsfleet.tui.app"],
                       env=_env(root), cwd=root, check=True)
    imports: list[float] = []
    tui: dict[tuple, list[float | None]] = {r: [] for r in roots}
    story: dict[tuple, list[float | None]] = {r: [] for r in roots}
    first: dict[tuple, list[float | None]] = {r: [] for r in roots}
    for run in range(args.runs):
        imports.append(import_time())
        for root in roots:
            if not args.tui_only:
                s, f = headless(root[0])
                story[root].append(s)
                first[root].append(f)
            if not args.headless_only:
                tui[root].append(tui_first_counts(run, *root))
            name = "" if len(roots) == 1 else f" [{_name(root)}]"
            print(f"run {run + 1}{name}: import {imports[-1]:.2f} s"
                  + ("" if args.tui_only else f", headless story {_fmt(story[root][-1])} s, first JSON {_fmt(first[root][-1])} s")
                  + ("" if args.headless_only else f", tmux first counts {_fmt(tui[root][-1])} s"), flush=True)
    base = statistics.median(imports)
    print(f"median stack import: {base:.2f} s ({STACK})")
    for root in roots:
        if len(roots) > 1:
            print(f"{_name(root)}:")
        for name, values in (("headless story line", story[root]), ("headless first JSON", first[root]), ("tmux first counts", tui[root])):
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
