"""One-shot latency of the whole `wsfleet counts` process against pdsh (run by hand).

    python tests/bench/counts_oneshot.py [--sizes 5,50] [--rtt-ms 40] [--runs 5] [--held 7]
                                         [--wsfleet-root PATH] [--no-pdsh] [--command counts|check]
                                         [--key-type ed25519|rsa]

What one run sets up, all on loopback: moto's server in this process (the AWS side: a group of N
instances), N real OpenSSH sshd ports (`SshdGroup`, `SetEnv SHLVL=1` so no `.bashrc`), the delay
proxy of `ssh_fanout.py` in front of them (C when a compiler is there, `--rtt-ms` round trip; the
AWS calls are not delayed), one port holding `--held` real connections that every host counts,
and a config mapping every instance to its proxied port (`[fleets.NAME.ssh.hosts]`). The login key
is ed25519 with its .pub beside it, or with `--key-type rsa` what an EC2 key pair gives: RSA 2048
in PEM, no .pub (loading it is the slower path: RSA key validation).

Then `python -m wsfleet --config CFG counts --format json` runs `--runs` times (after one run to
compile the bytecode, `PYTHONDONTWRITEBYTECODE` unset as a user would have it) and the median wall
clock is reported, each output checked: N rows, every one `--held`. Rows:
- wsfleet, every cache empty: the cache directory (`XDG_CACHE_HOME`) is emptied before each run
  (a first run ever: the address cache and the trimmed EC2 model, wsfleet/aws/models.py, are made);
- wsfleet, address cache empty: only the address cache is removed before each run (the trimmed
  model stays, as it does for a user between runs until botocore is upgraded);
- wsfleet, address cache warm: the cache the previous run left (the second and later invocations a
  user sees);
- pdsh -R ssh -f N with an ssh_config naming every host, the same one-shot count (sh + `ss`),
  when /usr/bin/pdsh is there.
`--wsfleet-root` runs another checkout's code; `--wsfleet-root /work/main,.` runs both, taking turns
run by run (before and after under the same load; a checkout without the cache gives the same
number in both of its rows).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _env(root: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"}
    # wsfleet's own known_hosts and audit log too: another run's recorded key for a reused port must not count
    env.update(XDG_DATA_HOME=str(cache.parent / "data"), XDG_STATE_HOME=str(cache.parent / "state"))
    env.update(PYTHONPATH=str(root), XDG_CACHE_HOME=str(cache), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def _check_doc(doc: dict, n: int, held: int) -> str:
    rows = doc.get("instances", [])
    bad = [r for r in rows if r.get("connections") != held]
    if len(rows) != n or bad:
        return f"  !! {len(rows)} rows, {len(bad)} wrong: {[(r['id'], r.get('error')) for r in bad][:3]}"
    return ""


def time_wsfleet(roots: list[Path], config: Path, work: Path, n: int, held: int, runs: int, *, clear: str | None,
                 command: str) -> list[tuple[float, list[float], str]]:
    """Per root: (median wall, walls, note). The roots take turns run by run, so that load from
    elsewhere on the machine falls on each alike. `clear` before each run: "all" (the whole cache
    dir: a first run), "addresses" (the address cache only), None (what the last run left)."""
    argv = [sys.executable, "-m", "wsfleet", "--config", str(config), command, "--format", "json"]
    walls: list[list[float]] = [[] for _ in roots]
    notes = ["" for _ in roots]
    for i in range(runs + 1):  # the first compiles the bytecode (and fills the cache)
        for k, root in enumerate(roots):
            cache = work / f"cache-{n}-{k}"
            if clear:
                shutil.rmtree(cache if clear == "all" else cache / "wsfleet" / "addresses", ignore_errors=True)
            started = time.perf_counter()
            done = subprocess.run(argv, env=_env(root, cache), capture_output=True, text=True, timeout=120,
                                  cwd=str(config.parent))
            wall = time.perf_counter() - started
            if done.returncode not in (0, 1):
                notes[k] = notes[k] or f"  !! exit {done.returncode}: {done.stderr.strip()[-300:]}"
            else:
                notes[k] = notes[k] or _check_doc(json.loads(done.stdout), n, held)
            if i:
                walls[k].append(wall)
            time.sleep(0.2)
    return [(statistics.median(w), w, note) for w, note in zip(walls, notes)]


def time_pdsh(ssh_config: Path, hosts: list[str], held_port: int, held: int, runs: int) -> tuple[float, list[float], str]:
    from wsfleet.counts.command import count_command

    env = {**os.environ, "PDSH_RCMD_TYPE": "ssh", "PDSH_SSH_ARGS": f"-F {ssh_config} -oBatchMode=yes %h"}
    argv = ["pdsh", "-R", "ssh", "-f", str(len(hosts)), "-w", ",".join(hosts), count_command(held_port)]
    walls, note = [], ""
    for i in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        wall = time.perf_counter() - started
        answers = [line.split(":", 1)[1].strip() for line in done.stdout.splitlines() if ":" in line]
        if len(answers) != len(hosts) or any(a != str(held) for a in answers):
            note = note or f"  !! pdsh: {len(answers)} answers, {done.stderr.strip()[-200:]}"
        if i:
            walls.append(wall)
        time.sleep(0.2)
    return statistics.median(walls), walls, note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,50")
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--held", type=int, default=7, help="connections held on the counted port")
    parser.add_argument("--wsfleet-root", default=str(ROOT),
                        help="the checkout whose wsfleet runs; several, comma-separated, take turns run by run")
    parser.add_argument("--command", choices=("counts", "check"), default="counts")
    parser.add_argument("--no-pdsh", action="store_true")
    parser.add_argument("--key-type", choices=("ed25519", "rsa"), default="ed25519",
                        help="the login key (rsa: RSA 2048 in PEM with no .pub beside it, as an EC2 key pair's .pem)")
    parser.add_argument("--serve", type=float, default=0, metavar="S",
                        help="set up the largest size, print its config and cache dir, keep it up S seconds (for profiling)")
    args = parser.parse_args()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # killed: still stop the daemons and the proxy

    import logging

    from tests.bench.ssh_fanout import DelayProxy, build_c_proxy, write_bench_key
    from tests.helpers.conn_holder import ConnHolder
    from tests.helpers.moto_fleet import make_fleet, write_config
    from tests.helpers.moto_server import MotoServer
    from tests.helpers.sshd import SshdGroup

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # stack traces of what moto lacks
    for key, value in _env(ROOT, Path("/nonexistent")).items():
        if key.startswith("AWS_"):
            os.environ[key] = value
    sizes = [int(x) for x in args.sizes.split(",")]
    roots = [Path(r).resolve() for r in args.wsfleet_root.split(",")]
    root = roots[0]
    user = getpass.getuser()
    pdsh = None if args.no_pdsh else shutil.which("pdsh")
    work = Path(tempfile.mkdtemp(prefix="wsfleet-oneshot-"))
    key_path, key = write_bench_key(str(work), args.key_type)
    c_proxy = build_c_proxy(str(work))
    rows = []
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"# wsfleet {args.command}, whole process, {os.cpu_count()} cores, load {load}, RTT {args.rtt_ms:g} ms "
          f"(ssh only; proxy: {'C' if c_proxy else 'asyncio'}), {args.key_type} key, code: {', '.join(map(str, roots))}, median of {args.runs}", flush=True)
    with MotoServer() as moto, SshdGroup([key.export_public_key("openssh").decode()], max(sizes), clean_shell=True) as sshd, \
            ConnHolder(count=args.held) as held:
        proxy = DelayProxy(sshd.ports, args.rtt_ms, c_proxy) if args.rtt_ms > 0 else None
        if proxy:
            proxy.__enter__()
        try:
            ports = proxy.ports if proxy else sshd.ports
            known_hosts = work / "known_hosts"
            known_hosts.write_text("".join(f"[127.0.0.1]:{p} {sshd.daemons[0].host_public_key}\n" for p in ports))
            for n in sizes:
                moto.reset()
                fleet = make_fleet(None, instances=n, max_size=n, endpoint_url=moto.endpoint_url)
                hosts = dict(zip(fleet["instance_ids"], (f"127.0.0.1:{p}" for p in ports[:n])))
                config = write_config(work, moto.endpoint_url, fleet["asg"], port=held.port,
                                      ssh={"user": user, "key": str(key_path), "known_hosts": str(known_hosts), "hosts": hosts})
                cache = work / f"cache-{n}-0"
                if args.serve:
                    print(f"config {config}\ncache {cache}\nenv XDG_CACHE_HOME={cache} PYTHONPATH={root}", flush=True)
                    time.sleep(args.serve)
                    continue
                for label, clear in (("every cache empty (a first run)", "all"), ("address cache empty", "addresses"),
                                     ("address cache warm", None)):
                    timed = time_wsfleet(roots, config, work, n, args.held, args.runs, clear=clear, command=args.command)
                    for root, (median, walls, note) in zip(roots, timed):
                        name = f"wsfleet ({root.name}), {label}"
                        rows.append((n, name, median, walls, note))
                        print(f"| {n} | {name} | {median:.3f} s | {' '.join(f'{w:.2f}' for w in walls)} |{note}", flush=True)
                if pdsh:
                    ssh_config = work / "ssh_config"
                    ssh_config.write_text("".join(
                        f"Host h{i}\n  HostName 127.0.0.1\n  Port {p}\n  User {user}\n  IdentityFile {key_path}\n"
                        f"  IdentitiesOnly yes\n  UserKnownHostsFile {known_hosts}\n  StrictHostKeyChecking yes\n"
                        for i, p in enumerate(ports[:n])))
                    median, walls, note = time_pdsh(ssh_config, [f"h{i}" for i in range(n)], held.port, args.held, args.runs)
                    rows.append((n, "pdsh -R ssh", median, walls, note))
                    print(f"| {n} | pdsh -R ssh -f {n} | {median:.3f} s | {' '.join(f'{w:.2f}' for w in walls)} |{note}", flush=True)
        finally:
            if proxy:
                proxy.__exit__(None, None, None)
    print("\n| N | tool | median wall | runs (s) |\n|---|---|---|---|")
    for n, label, median, walls, note in rows:
        print(f"| {n} | {label} | {median:.3f} s | {' '.join(f'{w:.2f}' for w in walls)} |{note}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
