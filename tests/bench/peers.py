"""wsfleet beside its peers: one count on every host, the same hosts for every tool (run by hand).

    python tests/bench/peers.py [--sizes 5,100] [--runs 1] [--rtt 40] [--held 25] [--row-timeout 120]
                                [--key-type rsa|ed25519] [--python-proxy]

Measured here on 2026-12-03, 2 cores shared with other work (load average 29.6 at the start, 27.4
at the end, partly this bench's own 100-process rows), 40 ms round trip through the C proxy, 25
connections held, median of 3 runs (`--runs 3`), commit 69cae09; OpenSSH 9.2p1, pdsh 2.34,
parallel-ssh 2.16.0.post1, ansible-core 2.19.14, paramiko 5.1.0; every answer right:
| tool | N=5 | N=100 |
| --- | --- | --- |
| seed loop (paramiko, one host after another) | 1.87 s | 37.19 s |
| `wsfleet counts` (whole process: AWS read + sweep) | 2.30 s | 3.88 s |
| `wsfleet check` (whole process: AWS read + sweep) | 1.69 s | 4.30 s |
| pdsh -R ssh -f 100 (OpenSSH per host) | 0.81 s | 8.38 s |
| parallel-ssh 2.16.0.post1 (libssh2, no host key check), pool_size 100 | 0.80 s | 11.18 s |
| OpenSSH + xargs -P 100, cold | 1.13 s | 14.42 s |
| OpenSSH + xargs -P 100, warm over ControlMaster | 0.17 s | 1.84 s |
| ansible-core ad-hoc `-m raw -f 100` | 2.46 s | 15.42 s |
wsfleet counts / pdsh: N=5 2.84, N=100 0.46 (below 1: wsfleet is faster)
Single runs the same day spread widely with the machine's load: at load 3.0, counts 1.25 / 3.28 s,
pdsh 0.56 / 8.95 s (ratio 2.22 / 0.37); at load 6.9, counts 2.87 / 5.83 s, pdsh 0.88 / 9.04 s
(3.27 / 0.64). Compare rows within one run, never across runs.

Hosts: N loopback ports served by real OpenSSH sshd daemons (tests/helpers/sshd.SshdGroup, bash's
start-up files skipped as on a clean image), each behind the delay proxy of ssh_fanout.py (the C one
when a compiler is there), `--rtt` ms of round trip. One port holds `--held` real connections
(ConnHolder) and every row runs the same one-shot `count_command` on every host, except wsfleet,
which runs its own count loop; every answer is checked to be exactly that number, and a row with a
wrong or missing answer says how many and shows one. Rows, each a whole run of the tool:
- seed loop: paramiko, one host after the other (ssh_fanout.seed_loop), the key loaded per host;
- `wsfleet counts --format json` and `wsfleet check --format json`: the whole process
  (`python -m wsfleet`: start-up, the Auto Scaling and EC2 reads from moto's server on 127.0.0.1,
  the sweep), the group's instance ids mapped to the proxy ports by [fleets.NAME.ssh.hosts];
  product defaults (concurrency 100, per-host timeout 3 s, strict host keys);
- pdsh -R ssh -f 100: one OpenSSH client per host, reading an ssh_config of host aliases
  h0..hN -> 127.0.0.1:port (through PDSH_SSH_ARGS);
- parallel-ssh (`pssh.clients.ParallelSSHClient`, libssh2, pool_size 100); it checks no host keys;
- OpenSSH + xargs -P 100, cold: `ssh -F cfg hI CMD` per host;
- the same, warm: first a ControlMaster per host (not timed), then the commands over them;
- ansible-core ad-hoc `ansible all -m raw -f 100` (its default ControlPersist off, so it leaves no
  master processes behind), when installed.
The in-process rows (seed, parallel-ssh) run in a child Python and are timed inside it, without the
interpreter's start; the others are timed from process start to exit. Every row runs once, unmeasured,
at the smallest N before the table (bytecode written, files in the page cache, moto's first answers).

Caveats of this machine: the hosts, the proxy, moto and the client share its cores, so a tool that
opens N connections at once also makes the N hosts compete with it; the kernel completes TCP's own
handshake without the proxy (one round trip less per connection than a real network, for every
tool alike). Every process started here is stopped by its PID (a row's process group on timeout)
before the bench exits, on error too; every row is bounded by `--row-timeout`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import importlib.metadata
import importlib.util
import json
import os
import re
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

from tests.bench.ssh_fanout import DelayProxy, build_c_proxy, seed_loop, write_bench_key  # noqa: E402

FANOUT = 100  # every parallel tool's concurrency, as in the table


@dataclasses.dataclass
class Run:
    """One run of one tool: wall seconds and what each host answered (stripped text, or "error: ...")."""

    wall: float
    answers: dict[str, str]
    problem: str = ""  # "timed out after 120 s", "exit 3: ...": the run as a whole


def check(run: Run, names: list[str], expected: int) -> str:
    """'' when every host in `names` answered exactly `expected`; else what was wrong, with one example."""
    if run.problem and not run.answers:
        return run.problem
    wrong = [(name, run.answers.get(name, "no answer")) for name in names if run.answers.get(name) != str(expected)]
    extra = sorted(set(run.answers) - set(names))
    if not wrong and not extra:
        return ""
    note = f"{len(wrong)} of {len(names)} answers wrong"
    if wrong:
        note += f", e.g. {wrong[0][0]}: {wrong[0][1][:120]!r} (expected {expected})"
    if extra:
        note += f"; answers from unknown hosts {extra[:3]}"
    return note + (f"; {run.problem}" if run.problem else "")


def _stop_group(proc: subprocess.Popen) -> None:
    """Kill the process group this bench created for `proc` (pdsh's and xargs' ssh children with it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def run_process(argv: list[str], *, env: dict | None = None, timeout: float, stdin: str | None = None) -> tuple[float, int | None, str, str]:
    """(wall s, exit code or None on timeout, stdout, stderr), the process in its own group."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        return time.perf_counter() - started, proc.returncode, out, err
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        return time.perf_counter() - started, None, "", ""
    finally:
        if proc.poll() is None:
            _stop_group(proc)


class PeerHosts:
    """The hosts every row uses: n sshd ports behind the delay proxy (none at rtt 0), a port holding
    `held` connections, a login key, a known_hosts file, an ssh_config of aliases h0..h{n-1}."""

    def __init__(self, n_max: int, *, rtt_ms: float = 40.0, held: int = 25, key_type: str = "rsa",
                 python_proxy: bool = False) -> None:
        self.n_max, self.rtt_ms, self.held_count, self.key_type = n_max, rtt_ms, held, key_type
        self.python_proxy = python_proxy
        self.user = getpass.getuser()
        self._stack = contextlib.ExitStack()
        self.proxy_kind = "none"

    def __enter__(self) -> "PeerHosts":
        from tests.helpers.conn_holder import ConnHolder
        from tests.helpers.sshd import SshdGroup
        from wsfleet.counts.command import count_command

        try:
            self.dir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="wsfleet-peers-")))
            self.key_path, key = write_bench_key(str(self.dir), self.key_type)
            self.holder = self._stack.enter_context(ConnHolder(count=self.held_count))
            self.command = count_command(self.holder.port)
            self.sshd = self._stack.enter_context(SshdGroup([key.export_public_key("openssh").decode()], self.n_max,
                                                            clean_shell=True))
            self.ports = self.sshd.ports
            if self.rtt_ms > 0:
                c_proxy = None if self.python_proxy else build_c_proxy(str(self.dir))
                self.proxy_kind = "C (delay_proxy.c)" if c_proxy else "asyncio"
                self.ports = self._stack.enter_context(DelayProxy(self.sshd.ports, self.rtt_ms, c_proxy)).ports
            self.known_hosts = self.dir / "known_hosts"
            host_key = self.sshd.daemons[0].host_public_key
            self.known_hosts.write_text("".join(f"[127.0.0.1]:{p} {host_key}\n" for p in self.ports))
            self.names = [f"h{i}" for i in range(self.n_max)]
            self.ssh_config = self.dir / "ssh_config"
            self.ssh_config.write_text(self._ssh_config_text())
            self.out = self.dir / "out"
            self.out.mkdir()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _ssh_config_text(self) -> str:
        common = [
            "Host h*", "  HostName 127.0.0.1", f"  User {self.user}", f"  IdentityFile {self.key_path}",
            "  IdentitiesOnly yes", f"  UserKnownHostsFile {self.known_hosts}", "  GlobalKnownHostsFile /dev/null",
            "  StrictHostKeyChecking yes", "  UpdateHostKeys no", "  BatchMode yes", "  ConnectTimeout 30",
            "  LogLevel ERROR", "  ControlMaster no",
        ]
        return "\n".join(common + [f"Host {n}\n  Port {p}" for n, p in zip(self.names, self.ports)]) + "\n"

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def callback(self, fn, *args) -> None:
        """Run `fn(*args)` when the hosts close (a process to stop), newest first."""
        self._stack.callback(fn, *args)


# --------------------------------------------------------------------------- the rows


def row_seed(hosts: PeerHosts, n: int, timeout: float) -> Run:
    return _inner(hosts, n, "seed", timeout)


def row_pssh(hosts: PeerHosts, n: int, timeout: float) -> Run:
    return _inner(hosts, n, "pssh", timeout)


def _inner(hosts: PeerHosts, n: int, kind: str, timeout: float) -> Run:
    """An in-process tool in a child Python (bounded, killable), timed inside it."""
    spec = dict(kind=kind, ports=hosts.ports[:n], user=hosts.user, key=str(hosts.key_path), command=hosts.command,
                key_type=hosts.key_type)
    wall, code, out, err = run_process([sys.executable, __file__, "--inner"], timeout=timeout, stdin=json.dumps(spec))
    if code is None:
        return Run(wall, {}, f"timed out after {timeout:.0f} s")
    if code != 0:
        return Run(wall, {}, f"exit {code}: {(err.strip().splitlines() or [''])[-1][:200]}")
    doc = json.loads(out)
    return Run(doc["wall"], dict(zip(hosts.names, (a.strip() for a in doc["answers"]))))


def _inner_main() -> int:
    spec = json.loads(sys.stdin.read())
    if spec["kind"] == "seed":
        wall, answers = seed_loop(spec["ports"], spec["user"], spec["key"], spec["command"], spec["key_type"])
    else:
        from pssh.clients import ParallelSSHClient
        from pssh.config import HostConfig

        started = time.perf_counter()
        client = ParallelSSHClient(["127.0.0.1"] * len(spec["ports"]), user=spec["user"], pkey=spec["key"],
                                   host_config=[HostConfig(port=p) for p in spec["ports"]], pool_size=FANOUT,
                                   num_retries=1, timeout=60, allow_agent=False)
        output = client.run_command(spec["command"], stop_on_errors=False)
        client.join(output)
        answers = [f"error: {o.exception!r}" if o.exception else "\n".join(o.stdout or ()) for o in output]
        wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "answers": answers}))
    return 0


def row_pdsh(hosts: PeerHosts, n: int, timeout: float) -> Run:
    env = {**os.environ, "PDSH_SSH_ARGS": f"-F {hosts.ssh_config} -a -x -l%u %h"}
    wall, code, out, err = run_process(["pdsh", "-R", "ssh", "-f", str(FANOUT), "-w", ",".join(hosts.names[:n]),
                                        hosts.command], env=env, timeout=timeout)
    if code is None:
        return Run(wall, {}, f"timed out after {timeout:.0f} s")
    answers: dict[str, str] = {}
    for line in out.splitlines():
        name, _, text = line.partition(": ")
        answers[name] = (answers.get(name, "") + "\n" + text).strip()
    return Run(wall, answers, f"exit {code}: {err.strip()[:200]}" if code else "")


def row_xargs(hosts: PeerHosts, n: int, timeout: float, *, control_dir: Path | None = None) -> Run:
    """`xargs -P 100` of `ssh -F cfg hI CMD`, each host's output to its own file; over ControlMasters
    in `control_dir` when given (see start_masters)."""
    for f in hosts.out.iterdir():
        f.unlink()
    extra = f"-o ControlPath={control_dir}/%n" if control_dir else ""
    env = {**os.environ, "CFG": str(hosts.ssh_config), "CMD": hosts.command, "OUT": str(hosts.out), "EXTRA": extra}
    wall, code, _, err = run_process(
        ["xargs", "-P", str(FANOUT), "-n", "1", "sh", "-c", 'exec ssh -F "$CFG" $EXTRA "$1" "$CMD" >"$OUT/$1" 2>&1', "sh"],
        env=env, timeout=timeout, stdin="\n".join(hosts.names[:n]) + "\n")
    answers = {f.name: f.read_text(errors="replace").strip() for f in hosts.out.iterdir()}
    if code is None:
        return Run(wall, answers, f"timed out after {timeout:.0f} s")
    return Run(wall, answers, f"exit {code}: {err.strip()[:200]}" if code else "")


@contextlib.contextmanager
def control_masters(hosts: PeerHosts, n: int, timeout: float):
    """One OpenSSH ControlMaster per host (foreground children of this process, stopped by PID on the
    way out); yields the directory of their sockets once all are up."""
    control_dir = Path(tempfile.mkdtemp(prefix="cm-", dir=hosts.dir))
    masters = []
    for name in hosts.names[:n]:
        proc = subprocess.Popen(["ssh", "-F", str(hosts.ssh_config), "-M", "-N", "-o", f"ControlPath={control_dir}/%n",
                                 name], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hosts.callback(_stop, proc)
        masters.append(proc)
    deadline = time.monotonic() + timeout
    while not all((control_dir / name).exists() for name in hosts.names[:n]):
        dead = [p for p in masters if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            for p in masters:
                _stop(p)
            raise RuntimeError(f"ControlMasters did not start ({len(dead)} exited)")
        time.sleep(0.05)
    try:
        yield control_dir
    finally:
        for p in masters:
            _stop(p)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def ansible_path() -> str | None:
    beside = Path(sys.executable).with_name("ansible")  # not a pyenv shim: its start-up is not ansible's
    return str(beside) if beside.exists() else shutil.which("ansible")


def row_ansible(hosts: PeerHosts, n: int, timeout: float) -> Run:
    inventory = hosts.dir / f"inventory-{n}.ini"
    inventory.write_text("[fleet]\n" + "\n".join(hosts.names[:n]) + "\n")
    home = hosts.dir / "ansible"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    (home / "ansible.cfg").touch()
    env = {**os.environ, "ANSIBLE_CONFIG": str(home / "ansible.cfg"), "ANSIBLE_HOME": str(home),
           "ANSIBLE_LOCAL_TEMP": str(home / "tmp"), "ANSIBLE_SSH_ARGS": f"-F {hosts.ssh_config} -o ControlMaster=no",
           "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_TIMEOUT": "30",
           "ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False"}
    wall, code, out, err = run_process([ansible_path(), "all", "-i", str(inventory), "-m", "raw", "-a", hosts.command,
                                        "-f", str(FANOUT), "-o"], env=env, timeout=timeout)
    if code is None:
        return Run(wall, {}, f"timed out after {timeout:.0f} s")
    answers = {}
    for line in out.splitlines():  # "h3 | CHANGED | rc=0 | (stdout) 25\r\n" (-o escapes the newlines)
        m = re.match(r"(\S+) \| (\w+)!?(?: => | \| )(.*)", line)
        if m:
            text = m.group(3)
            text = text.split("(stdout) ", 1)[1] if "(stdout) " in text else f"error: {m.group(2)} {text}"
            answers[m.group(1)] = text.replace("\\r", "").replace("\\n", "\n").strip()
    return Run(wall, answers, f"exit {code}: {err.strip()[:200]}" if code else "")


class WsfleetFleets:
    """moto's server on loopback with one Auto Scaling group per size, and wsfleet configs whose
    ssh.hosts map the group's instance ids to the hosts' (proxy) ports; dummy credentials, its own
    HOME, no ~/.aws."""

    def __init__(self, hosts: PeerHosts) -> None:
        self.hosts = hosts
        self.configs: dict[int, Path] = {}
        self.ids: dict[int, list[str]] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "WsfleetFleets":
        import logging

        from tests.helpers.moto_server import MotoServer
        from wsfleet.demo import bootstrap, moto_extensions

        home = self.hosts.dir / "home"
        home.mkdir(exist_ok=True)
        sandbox = {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"), "AWS_EC2_METADATA_DISABLED": "true",
            "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_STATE_HOME": str(home / "state"),
            "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"), "NO_PROXY": "*",
            "COLUMNS": "200", "PYTHONPATH": str(ROOT),
        }
        # bytecode caching on, as a user has it (PYTHONDONTWRITEBYTECODE in this environment would
        # make every run compile the modules edited since their last .pyc)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("AWS_PROFILE", "WSFLEET_CONFIG", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                                 "PYTHONDONTWRITEBYTECODE")}
        self.env.update(sandbox)
        saved = {k: os.environ.get(k) for k in sandbox}
        os.environ.update({k: v for k, v in sandbox.items() if k.startswith("AWS_")})  # this process's boto3 too
        self._stack.callback(_restore_env, saved)
        # stock moto has no DescribeInstanceRefreshes (an HTTP 500 that botocore retries); AWS answers
        # it, and so does the demo's extension of moto, enabled for this server's account and region
        moto_extensions.enable(bootstrap.ACCOUNT_ID, "us-east-1")
        self._stack.callback(moto_extensions.disable, bootstrap.ACCOUNT_ID, "us-east-1")
        self.moto = self._stack.enter_context(MotoServer())
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # stack traces of what moto lacks
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def config(self, n: int) -> Path:
        from tests.helpers.moto_fleet import make_fleet, write_config

        if n not in self.configs:
            fleet = make_fleet(self.moto.session(), asg=f"peers-{n}", instances=n, max_size=n,
                               endpoint_url=self.moto.endpoint_url)
            self.ids[n] = fleet["instance_ids"]
            if len(self.ids[n]) != n:
                raise RuntimeError(f"moto made {len(self.ids[n])} instances, not {n}")
            h = self.hosts
            ssh = {"user": h.user, "key": str(h.key_path), "known_hosts": str(h.known_hosts), "host_keys": "strict",
                   "hosts": {i: {"address": f"127.0.0.1:{p}", "service_port": h.holder.port}
                             for i, p in zip(self.ids[n], h.ports)}}
            directory = h.dir / f"fleet-{n}"
            directory.mkdir()
            self.configs[n] = write_config(directory, self.moto.endpoint_url, fleet["asg"], ssh=ssh)
        return self.configs[n]

    def run(self, verb: str, n: int, timeout: float) -> Run:
        config = self.config(n)
        wall, code, out, err = run_process([sys.executable, "-m", "wsfleet", "--config", str(config), verb,
                                            "--format", "json"], env=self.env, timeout=timeout)
        if code is None:
            return Run(wall, {}, f"timed out after {timeout:.0f} s")
        try:
            rows = json.loads(out)["instances"]
        except (ValueError, KeyError):
            return Run(wall, {}, f"exit {code}: {err.strip()[-200:]}")
        names = dict(zip(self.ids[n], self.hosts.names))  # answers by host alias, as every other row
        answers = {names.get(r["id"], r["id"]): str(r["connections"]) if r["connections"] is not None
                   else f"error: {r['error']}" for r in rows}
        return Run(wall, answers, f"exit {code}: {err.strip()[:200]}" if code not in (0, None) else "")


def _restore_env(saved: dict) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


# --------------------------------------------------------------------------- the bench


ROWS = [
    ("seed", "seed loop (paramiko, one host after another)"),
    ("counts", "`wsfleet counts` (whole process: AWS read + sweep)"),
    ("check", "`wsfleet check` (whole process: AWS read + sweep)"),
    ("pdsh", f"pdsh -R ssh -f {FANOUT} (OpenSSH per host)"),
    ("pssh", f"parallel-ssh (libssh2), pool_size {FANOUT}"),
    ("xargs", f"OpenSSH + xargs -P {FANOUT}, cold"),
    ("warm", f"OpenSSH + xargs -P {FANOUT}, warm over ControlMaster"),
    ("ansible", f"ansible-core ad-hoc `-m raw -f {FANOUT}`"),
]


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return ((done.stdout or done.stderr).strip().splitlines() or ["?"])[0]


def missing_tools() -> dict[str, str]:
    """Row key -> why it is skipped."""
    why = {}
    if not shutil.which("pdsh"):
        why["pdsh"] = "pdsh is not on PATH"
    if importlib.util.find_spec("pssh") is None:
        why["pssh"] = "the parallel-ssh package (pssh) is not importable"
    if not shutil.which("xargs") or not shutil.which("ssh"):
        why["xargs"] = why["warm"] = "xargs or the OpenSSH client is not on PATH"
    if ansible_path() is None:
        why["ansible"] = "ansible-core is not installed"
    return why


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,100")
    parser.add_argument("--runs", type=int, default=1, help="runs per cell; the table shows the median")
    parser.add_argument("--rtt", type=float, default=40.0, help="round trip through the delay proxy, ms (0: none)")
    parser.add_argument("--held", type=int, default=25, help="connections held on the counted port (every answer)")
    parser.add_argument("--row-timeout", type=float, default=120.0, help="seconds a row's run may take")
    parser.add_argument("--key-type", choices=("rsa", "ed25519"), default="rsa")
    parser.add_argument("--python-proxy", action="store_true")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        return _inner_main()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: every process is stopped on the way out

    sizes = [int(x) for x in args.sizes.split(",")]
    skipped = missing_tools()
    versions = {
        "OpenSSH": _first_line(["ssh", "-V"]).split(",")[0].removeprefix("OpenSSH_"),
        "pdsh": _first_line(["pdsh", "-V"]) if "pdsh" not in skipped else "-",
        "parallel-ssh": _version("parallel-ssh") or "-",
        "ansible-core": _version("ansible-core") or "-",
        "paramiko": _version("paramiko"),
        "wsfleet": _first_line([sys.executable, "-m", "wsfleet", "--version"]).removeprefix("wsfleet "),
        "commit": _first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
    }
    results: dict[tuple[str, int], tuple[float | None, str]] = {}
    with PeerHosts(max(sizes), rtt_ms=args.rtt, held=args.held, key_type=args.key_type,
                   python_proxy=args.python_proxy) as hosts, WsfleetFleets(hosts) as fleets:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        print(f"# peers: {os.cpu_count()} cores, load average {load}, {args.rtt:.0f} ms round trip, delay proxy "
              f"{hosts.proxy_kind}, {args.held} connections held, median of {args.runs} run(s), row timeout "
              f"{args.row_timeout:.0f} s, login key {args.key_type}; "
              + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
        for key, why in skipped.items():
            print(f"skipped: {key}: {why}", flush=True)
        for n in sizes:
            fleets.config(n)
        # every row once at the smallest N, unmeasured: bytecode written, files cached, moto's first answers
        for key, _ in ROWS:
            if key not in skipped:
                measure(key, hosts, fleets, min(sizes), 1, args.row_timeout)
        for n in sizes:
            for key, _ in ROWS:
                if key in skipped:
                    continue
                results[(key, n)] = measure(key, hosts, fleets, n, args.runs, args.row_timeout)
                wall, note = results[(key, n)]
                print(f"N={n} {key}: {wall:.2f} s" + (f"  !! {note}" if note else "  (all answers right)"), flush=True)
    print()
    print("| tool | " + " | ".join(f"N={n}" for n in sizes) + " |")
    print("| --- |" + " --- |" * len(sizes))
    labels = dict(ROWS)
    labels["pssh"] = f"parallel-ssh {versions['parallel-ssh']} (libssh2, no host key check), pool_size {FANOUT}"
    for key, _ in ROWS:
        if key in skipped:
            print(f"| {labels[key]} | " + " | ".join("skipped" for _ in sizes) + " |")
            continue
        cells = []
        for n in sizes:
            wall, note = results[(key, n)]
            cells.append(f"{wall:.2f} s" + (" (WRONG)" if note else ""))
        print(f"| {labels[key]} | " + " | ".join(cells) + " |")
    wrong = [(k, n, note) for (k, n), (_, note) in results.items() if note]
    for k, n, note in wrong:
        print(f"- WRONG: {labels[k]} at N={n}: {note}")
    if "pdsh" not in skipped:
        print("wsfleet counts / pdsh: " + ", ".join(
            f"N={n} {results[('counts', n)][0] / results[('pdsh', n)][0]:.2f}" for n in sizes)
              + " (below 1: wsfleet is faster)")
    for key, why in skipped.items():
        print(f"skipped: {key}: {why}")
    with open("/proc/loadavg") as f:
        print(f"load average at the end: {' '.join(f.read().split()[:3])} (other work here shares the cores)")
    return 1 if wrong else 0


def measure(key: str, hosts: PeerHosts, fleets: "WsfleetFleets", n: int, runs: int, timeout: float) -> tuple[float, str]:
    """(median wall s of `runs` runs, what was wrong in the first run that had wrong answers, or '')."""
    walls, notes = [], []
    with control_masters(hosts, n, timeout) if key == "warm" else contextlib.nullcontext() as control_dir:
        for _ in range(runs):
            time.sleep(0.5)  # the previous row's sshd sessions end
            run = run_row(key, hosts, fleets, n, timeout, control_dir)
            walls.append(run.wall)
            if note := check(run, hosts.names[:n], hosts.held_count):
                notes.append(note)
    return statistics.median(walls), (notes[0] if notes else "")


def run_row(key: str, hosts: PeerHosts, fleets: WsfleetFleets, n: int, timeout: float, control_dir: Path | None) -> Run:
    if key in ("counts", "check"):
        return fleets.run(key, n, timeout)
    if key == "warm":
        return row_xargs(hosts, n, timeout, control_dir=control_dir)
    return {"seed": row_seed, "pdsh": row_pdsh, "pssh": row_pssh, "xargs": row_xargs, "ansible": row_ansible}[key](
        hosts, n, timeout)


if __name__ == "__main__":
    sys.exit(main())
