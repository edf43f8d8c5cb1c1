"""SSH fan-out benchmark: the seed's sequential paramiko loop vs wsfleet's ssh source (run by hand).

    python tests/bench/ssh_fanout.py [--sizes 10,50,200] [--delays 0,40] [--warm-runs 5]
                                     [--key-type rsa|ed25519] [--with-bashrc-row]
                                     [--skip-seed-over N] [--python-proxy]

Hosts: N loopback ports served by real OpenSSH sshd daemons (16 listen sockets a daemon, so
ceil(N/16) daemons sharing one host key), logging in as the current user with one generated key:
by default an RSA 2048 key in PEM, as the seed's script (`paramiko.RSAKey`, an EC2 key pair's
.pem); `--key-type ed25519` for an ed25519 key. Round-trip delay: a small proxy in its own process in front of every port, holding each chunk
for delay/2 in each direction (this kernel has no netem). It is `delay_proxy.c`, compiled at the
start when a C compiler is there, else (or with --python-proxy) the asyncio proxy in this file,
which behaves the same and costs ~5x the CPU: a real network's latency costs the machines at its
ends nothing, but here the proxy shares the 2 cores with every host and the client being measured
(200 hosts' first sweep: ~0.17 s of CPU in asyncio). The header says which one ran. The kernel
completes TCP's own handshake without the proxy, so each new connection is one round trip cheaper
than on a real network -- for the seed's loop and for wsfleet alike. The proxy runs at nice -10
(when allowed): it plays the network, which the hosts' CPU load must not slow down.

Every row counts the same port holding K real connections, and every answer is checked to be
exactly K: the seed loop runs wsfleet's one-shot `count_command` (sh + `ss`), wsfleet its count
loop (`reader_command`: perl over netlink here). Both log in with the same key. Measured here, the
key type moves sshd's CPU, not the seed's loop: OpenSSH 9.2 verifies an ed25519 signature with its
own reference code, ~1.4 ms a login more than an RSA one through OpenSSL, which a 200-host first
sweep pays on the 2 shared cores. Rows:
- seed loop: paramiko, per host: load the key, connect (AutoAddPolicy, as the seed), exec, read,
  close -- one host after the other, as the seed's script does;
- wsfleet first sweep: a fresh SshSource with the product defaults (concurrency 100, timeout 3 s,
  strict host keys), cold: connect + open the count loop + one count per host; with the cyclic
  collector off, then the heap frozen and the collector on for the warm sweeps, as the console
  script runs a command (wsfleet.startup; `--collector-on` keeps it on throughout);
- wsfleet warm sweep: the median of `--warm-runs` further sweeps on the kept connections;
- single-host warm round trip: the median of 20 warm sweeps of a one-host source (the scale the
  warm target is stated in).
The sshd config sets `SetEnv SHLVL=1`, so bash skips `~/.bashrc` for ssh commands (root's
.bashrc here runs `pyenv init`: +~170 ms a session). `--with-bashrc-row` adds N=max rows with it
sourced: the seed's loop pays it on every host every time; wsfleet pays it once per connection.
Caveat measured here: `pyenv init` rehashes under a lock in ~/.pyenv (60 s wait), and all N "hosts"
share this one home directory, so N concurrent logins queue on that lock and many exceed any
per-host timeout -- an artifact of the bench (each real host has its own home), not of fan-out.

All servers share this machine's 2 cores with the client: without delay the numbers measure CPU
more than fan-out (reported, not tuned to). Open files: ~4 per host for the proxy and client, well
below the 20,000 hard limit.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- the delay proxy


class _Delayed(asyncio.Protocol):
    """One side of a proxied connection: what it receives is written to its peer `one_way` later, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, one_way: float) -> None:
        self.loop, self.one_way = loop, one_way
        self.peer: "_Delayed | None" = None
        self.transport: asyncio.Transport | None = None
        self.pending: collections.deque = collections.deque()  # (due, bytes or None for EOF), bound for the peer
        self.timer: asyncio.TimerHandle | None = None
        self.early: list[bytes] = []  # received before the peer exists

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._queue(data)

    def eof_received(self) -> bool:
        self._queue(None)
        return True

    def connection_lost(self, exc) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self._queue(None)

    def _queue(self, data: bytes | None) -> None:
        self.pending.append((self.loop.time() + self.one_way, data))
        if self.timer is None:
            self.timer = self.loop.call_at(self.pending[0][0], self._flush)

    def _flush(self) -> None:
        self.timer = None
        if self.peer is None or self.peer.transport is None:
            self.timer = self.loop.call_later(0.001, self._flush)
            return
        now = self.loop.time()
        out = self.peer.transport
        while self.pending and self.pending[0][0] <= now:
            _, data = self.pending.popleft()
            if out.is_closing():
                continue
            if data is None:
                if out.can_write_eof():
                    out.write_eof()
                else:
                    out.close()
            else:
                out.write(data)
        if self.pending:
            self.timer = self.loop.call_at(self.pending[0][0], self._flush)


async def _proxy_main(pairs: list[tuple[int, int]], one_way_s: float) -> None:
    loop = asyncio.get_running_loop()

    def factory(upstream_port: int):
        def make() -> _Delayed:
            client_side = _Delayed(loop, one_way_s)

            async def connect_upstream() -> None:
                try:
                    _, upstream = await loop.create_connection(lambda: _Delayed(loop, one_way_s), "127.0.0.1", upstream_port)
                except OSError:
                    if client_side.transport is not None:
                        client_side.transport.close()
                    return
                upstream.peer, client_side.peer = client_side, upstream

            loop.create_task(connect_upstream())
            return client_side
        return make

    servers = [await loop.create_server(factory(up), "127.0.0.1", listen, backlog=1024) for listen, up in pairs]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def build_c_proxy(directory: str) -> str | None:
    """Compile delay_proxy.c (the same proxy in C, a fraction of the CPU); None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    binary = os.path.join(directory, "delay_proxy")
    built = subprocess.run([cc, "-O2", "-o", binary, str(Path(__file__).with_name("delay_proxy.c"))],
                           capture_output=True, text=True)
    return binary if built.returncode == 0 else None


class DelayProxy:
    """A subprocess forwarding 127.0.0.1:listen -> 127.0.0.1:upstream with `rtt_ms` of delay: the C
    proxy when `c_binary` is given, else the asyncio one in this file."""

    def __init__(self, upstream_ports: list[int], rtt_ms: float, c_binary: str | None = None) -> None:
        from tests.helpers.sshd import _free_ports

        self.ports = _free_ports(len(upstream_ports))
        self.pairs = list(zip(self.ports, upstream_ports))
        self.rtt_ms = rtt_ms
        self.c_binary = c_binary
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "DelayProxy":
        if self.c_binary:
            argv = [self.c_binary, str(round(self.rtt_ms / 2 * 1000))] + [f"{a}:{b}" for a, b in self.pairs]
        else:
            spec = ",".join(f"{a}:{b}" for a, b in self.pairs)
            argv = [sys.executable, __file__, "--proxy", spec, "--one-way-ms", str(self.rtt_ms / 2)]
        if shutil.which("nice"):  # the proxy is the network: hosts busy on the shared cores must not slow it down
            argv = ["nice", "-n", "-10"] + argv  # (without the right to, nice says so and runs it as it is)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                                     stderr=None if self.c_binary else subprocess.DEVNULL)  # C: says why it stops
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("delay proxy did not start")
        return self

    def cpu_s(self) -> float:
        """The proxy's own CPU so far (user + system)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)


# --------------------------------------------------------------------------- the loops


def write_bench_key(directory: str, key_type: str):
    """(path, key): RSA 2048 in PEM as an EC2 key pair's .pem (the seed's key), or ed25519."""
    import asyncssh

    from tests.helpers.asyncssh_hosts import write_client_key

    if key_type == "ed25519":
        return write_client_key(directory)
    key = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    path = Path(directory) / "fleet-key.pem"
    key.write_private_key(str(path), format_name="pkcs1-pem")
    path.chmod(0o600)
    return path, key


def seed_loop(ports: list[int], user: str, key_path: str, command: str, key_type: str) -> tuple[float, list[str]]:
    """The seed's script: one host after the other, connect + exec + close, key loaded per host."""
    import paramiko

    outputs = []
    started = time.perf_counter()
    for port in ports:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        key_class = paramiko.RSAKey if key_type == "rsa" else paramiko.Ed25519Key
        private_key = key_class.from_private_key_file(key_path)  # per host, as the seed
        try:
            client.connect("127.0.0.1", port=port, username=user, pkey=private_key,
                           look_for_keys=False, allow_agent=False, timeout=30)
            _, stdout, _ = client.exec_command(command)
            outputs.append(stdout.read().decode())
        except Exception as e:  # noqa: BLE001 - the seed prints and goes on
            outputs.append(f"error: {e}")
        finally:
            client.close()
    return time.perf_counter() - started, outputs


class Meter:
    """Wall time and this process's CPU (the client's share) over a block."""

    def __enter__(self) -> "Meter":
        self._t, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._t
        self.cpu = time.process_time() - self._c


def remote_count_cost_ms(port: int, runs: int = 200) -> float:
    """Wall ms per answer of the real count loop (`reader_command`) run locally, one request at a time:
    what each host spends per warm sweep, the process start of `ss` included."""
    from wsfleet.counts.command import END, reader_command

    proc = subprocess.Popen(["/bin/sh", "-c", reader_command(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    started = time.perf_counter()
    for seq in range(runs):
        proc.stdin.write(f"{seq}\n")
        proc.stdin.flush()
        while not proc.stdout.readline().startswith(f"{END} {seq} "):
            pass
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.wait(10)
    return elapsed / runs * 1000


async def connect_only(ports: list[int], user: str, key_path: str, known_hosts: str) -> Meter:
    """The floor: open and authenticate an SSH connection to every host at once, run nothing
    (asyncssh with wsfleet's one-round-trip login, `ssh_auth`)."""
    import asyncssh

    from wsfleet.counts import ssh_auth

    keys = asyncssh.load_keypairs([key_path])
    trusted = asyncssh.read_known_hosts(known_hosts)

    async def one(port: int) -> None:
        conn = await asyncssh.connect("127.0.0.1", port, username=user, client_keys=keys, known_hosts=trusted,
                                      client_factory=ssh_auth.SignFirstClient)
        conn.close()
        await conn.wait_closed()

    with Meter() as m:
        await asyncio.gather(*(one(p) for p in ports))
    return m


COLLECTOR_AS_PRODUCT = True  # --collector-on: False


async def wsfleet_sweeps(ports: list[int], service_port: int, user: str, key_path: str, known_hosts: str,
                         warm_runs: int, timeout: float = 3.0) -> tuple[Meter, list[Meter], list, int]:
    from wsfleet import startup
    from wsfleet.counts.host_keys import HostKeys
    from wsfleet.counts.ssh import SshSource
    from wsfleet.model import CountsConfig, CountTarget, SshConfig

    ssh = SshConfig(user=user, key=key_path, known_hosts=known_hosts, host_keys="strict")
    own = tempfile.NamedTemporaryFile(prefix="wsfleet-bench-own-kh-", delete=False).name
    source = SshSource(ssh, CountsConfig(timeout=timeout), host_keys=HostKeys("strict", known_hosts, own))
    targets = [CountTarget(f"i-{n:017x}", "127.0.0.1", p, service_port) for n, p in enumerate(ports)]
    try:
        with Meter() as first, startup.as_at_start_up(COLLECTOR_AS_PRODUCT):
            first_rows = [r async for r in source.sweep(targets)]
        warm, rows = [], first_rows
        for _ in range(warm_runs):
            with Meter() as m:
                rows = [r async for r in source.sweep(targets)]
            warm.append(m)
        return first, warm, first_rows + rows, source.connects
    finally:
        await source.aclose()
        os.unlink(own)


# --------------------------------------------------------------------------- the bench


def _check(values, k: int, what: str) -> str:
    bad = [v for v in values if v != k]
    return "" if not bad else f"  !! {what}: {len(bad)} wrong answers, e.g. {bad[0]!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,200")
    parser.add_argument("--delays", default="0,40", help="round-trip delays in ms")
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--held", type=int, default=25, help="connections held on the counted port")
    parser.add_argument("--timeout", type=float, default=3.0, help="wsfleet's per-host timeout (product default 3 s)")
    parser.add_argument("--with-bashrc-row", action="store_true",
                        help="add N=max rows with root's .bashrc sourced (per-host timeout raised to 60 s: 200 "
                             "start-up files on 2 shared cores take longer than 3 s, which one host never would)")
    parser.add_argument("--skip-seed-over", type=int, default=10**9, help="skip the seed loop above N hosts")
    parser.add_argument("--key-type", choices=("rsa", "ed25519"), default="rsa",
                        help="the login key of both loops (rsa: the seed's paramiko.RSAKey)")
    parser.add_argument("--python-proxy", action="store_true",
                        help="delay with the asyncio proxy even when a C compiler can build delay_proxy.c")
    parser.add_argument("--proxy")
    parser.add_argument("--one-way-ms", type=float)
    parser.add_argument("--collector-on", action="store_true",
                        help="the first sweep with the cyclic collector on (the console script turns it off until its first sweep ends)")
    args = parser.parse_args()
    global COLLECTOR_AS_PRODUCT
    COLLECTOR_AS_PRODUCT = not args.collector_on
    if args.proxy:
        pairs = [tuple(int(x) for x in p.split(":")) for p in args.proxy.split(",")]
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        asyncio.run(_proxy_main(pairs, args.one_way_ms / 1000))
        return 0

    import getpass

    from tests.helpers.conn_holder import ConnHolder
    from tests.helpers.sshd import SshdGroup
    from wsfleet.counts.command import count_command, parse_count

    sizes = [int(x) for x in args.sizes.split(",")]
    delays = [float(x) for x in args.delays.split(",")]
    user = getpass.getuser()
    work = tempfile.TemporaryDirectory(prefix="wsfleet-bench-")
    key_path, key = write_bench_key(work.name, args.key_type)
    public = key.export_public_key("openssh").decode()
    results = []
    count_cost = 0.0
    c_proxy = None if args.python_proxy else build_c_proxy(work.name)

    def run(n_max: int, clean: bool, only: list[tuple[float, int]]) -> None:
        with SshdGroup([public], n_max, clean_shell=clean) as sshd, ConnHolder(count=args.held) as held:
            known_hosts = Path(work.name) / "known_hosts"
            command = count_command(held.port)
            for delay in delays:
                proxy = DelayProxy(sshd.ports, delay, c_proxy) if delay > 0 else None
                try:
                    if proxy:
                        proxy.__enter__()
                    ports = proxy.ports if proxy else sshd.ports
                    known_hosts.write_text("".join(f"[127.0.0.1]:{p} {sshd.daemons[0].host_public_key}\n" for p in ports))
                    for n in sizes:
                        if (delay, n) not in only:
                            continue
                        note = ""
                        if n <= args.skip_seed_over:
                            seed_s, outputs = seed_loop(ports[:n], user, str(key_path), command, args.key_type)
                            note += _check([o.strip() for o in outputs], str(args.held), "seed")
                        else:
                            seed_s = None
                        time.sleep(0.5)
                        proxy_cpu = proxy.cpu_s() if proxy else 0.0
                        first, warm, rows, connects = asyncio.run(
                            wsfleet_sweeps(ports[:n], held.port, user, str(key_path), str(known_hosts), args.warm_runs,
                                           timeout=args.timeout if clean else max(args.timeout, 60.0)))
                        proxy_cpu = (proxy.cpu_s() - proxy_cpu) if proxy else None  # first + warm sweeps
                        note += _check([r.connections for r in rows], args.held, "wsfleet")
                        errors = sorted({f"{r.error}: {r.detail}" for r in rows if r.error})
                        if errors:
                            note += f"  !! errors: {errors[:2]}"
                        time.sleep(0.5)
                        _, single, _, _ = asyncio.run(
                            wsfleet_sweeps(ports[:1], held.port, user, str(key_path), str(known_hosts), 20,
                                           timeout=args.timeout if clean else max(args.timeout, 60.0)))
                        time.sleep(0.5)
                        floor = asyncio.run(connect_only(ports[:n], user, str(key_path), str(known_hosts)))
                        mid = sorted(warm, key=lambda m: m.wall)[len(warm) // 2]
                        results.append(dict(n=n, delay=delay, clean=clean, seed=seed_s, first=first.wall,
                                            warm=mid.wall, single=statistics.median(m.wall for m in single),
                                            first_m=first, warm_m=mid, floor=floor, connects=connects, note=note,
                                            proxy_cpu=proxy_cpu))
                        print_row(results[-1], flush=True)
                        time.sleep(0.5)
                finally:
                    if proxy:
                        proxy.__exit__(None, None, None)
            assert parse_count(subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True).stdout) == args.held
            nonlocal count_cost
            count_cost = remote_count_cost_ms(held.port)

    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"# ssh fan-out, {os.cpu_count()} cores, held connections per counted port: {args.held}, load average {load}, "
          f"delay proxy: {'C (delay_proxy.c)' if c_proxy else 'asyncio'}, login key: {args.key_type}, "
          f"first sweep with the cyclic collector {'on' if args.collector_on else 'off, as the console script'}", flush=True)
    print(HEADER, flush=True)
    run(max(sizes), True, [(d, n) for d in delays for n in sizes])
    if args.with_bashrc_row:
        run(max(sizes), False, [(max(delays), max(sizes))])
    print()
    print("## table")
    print(HEADER)
    for r in results:
        print_row(r)
    print()
    print("## where the time goes: wall and the client's own CPU (this process); the rest is the hosts' work, which")
    print("## here all N hosts do on the same 2 cores (on a fleet, each on its own). Floor: open + authenticate an SSH")
    print("## connection to all N hosts at once (asyncssh, wsfleet's login), run nothing.")
    print("| N | RTT | .bashrc | first sweep: wall / client CPU | warm sweep: wall / client CPU "
          "| client CPU per host: first / warm | delay proxy CPU, first + warm sweeps | floor: connect+auth only, wall |"
          "\n|---|---|---|---|---|---|---|---|")
    for r in results:
        f, w, c = r["first_m"], r["warm_m"], r["floor"]
        print(f"| {r['n']} | {r['delay']:.0f} ms | {'skipped' if r['clean'] else 'sourced'} "
              f"| {f.wall:.3f} s / {f.cpu:.3f} s | {w.wall * 1000:.1f} ms / {w.cpu * 1000:.1f} ms "
              f"| {f.cpu / r['n'] * 1000:.2f} / {w.cpu / r['n'] * 1000:.3f} ms "
              f"| {'-' if r['proxy_cpu'] is None else format(r['proxy_cpu'], '.2f') + ' s'} | {c.wall:.3f} s |")
    print(f"\none remote count through the count loop, run locally one at a time: {count_cost:.2f} ms "
          "(x N hosts / 2 cores = the least a warm sweep can take on this machine)")
    with open("/proc/loadavg") as f:
        print(f"\nload average at the end: {f.read().split()[:3]} (other work on this machine shares the 2 cores)")
    work.cleanup()
    return 0


HEADER = ("| N | RTT | remote .bashrc | seed loop | wsfleet first sweep | first vs seed | wsfleet warm sweep | warm vs seed "
          "| single-host warm RTT | warm / single RTT |\n|---|---|---|---|---|---|---|---|---|---|")


def print_row(r: dict, flush: bool = False) -> None:
    seed = r["seed"]
    cells = [
        str(r["n"]), f"{r['delay']:.0f} ms", "skipped" if r["clean"] else "sourced",
        f"{seed:.2f} s" if seed is not None else "-",
        f"{r['first']:.3f} s", f"{seed / r['first']:.1f}x" if seed else "-",
        f"{r['warm'] * 1000:.1f} ms", f"{seed / r['warm']:.0f}x" if seed else "-",
        f"{r['single'] * 1000:.1f} ms", f"{r['warm'] / r['single']:.2f}x",
    ]
    print("| " + " | ".join(cells) + " |" + r["note"], flush=flush)


if __name__ == "__main__":
    sys.exit(main())
