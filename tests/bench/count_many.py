"""The remote count on one host holding many connections (run by hand).

    python tests/bench/count_many.py [--connections 19900] [--runs 20]

A child process listens on a loopback port and accepts and keeps every connection; this process
opens them (IPv4 and IPv6 mixed). Each file-descriptor table holds one end, so the host's 20,000
open-files hard limit allows 19,900 connections here (DESIGN's target is stated for 20,000).

Rows, each checked to be exactly the number held, with the median of `--runs` answers:
- the perl count loop (`reader_command`, what the ssh source keeps open where perl is present),
  timed per answer on its open pipe: the netlink query and the count, no process start;
- the sh count loop (`sh_reader_command`: `ss` with the port filter, a process start per answer);
- the one-shot count command (`count_command`, what ssm runs: sh + `ss`);
- the same one-shot command on a PATH without `ss` (the /proc/net/tcp reader of a minimal image).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_SERVER = r"""
import socket, sys
port = int(sys.argv[1])
listeners = []
for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    s.listen(4096)
    s.setblocking(False)
    listeners.append(s)
held = []
print("ready", flush=True)
import selectors
sel = selectors.DefaultSelector()
for s in listeners:
    sel.register(s, selectors.EVENT_READ)
sel.register(sys.stdin, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is sys.stdin:
            if not sys.stdin.readline():
                sys.exit(0)
            print(len(held), flush=True)
            continue
        try:
            while True:
                conn, _ = key.fileobj.accept()
                held.append(conn)
        except BlockingIOError:
            pass
"""


class Loop:
    def __init__(self, command: str, env: dict | None = None) -> None:
        from wsfleet.counts.command import FIRST_SEQ

        self.proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1, env=env)
        self.first = self._answer(FIRST_SEQ)
        self.seq = FIRST_SEQ

    def _answer(self, seq: int) -> str:
        from wsfleet.counts.command import BEGIN, END

        lines = []
        while True:
            line = self.proc.stdout.readline().rstrip("\n")
            if not line and self.proc.poll() is not None:
                raise RuntimeError("the count loop ended")
            if line.startswith(f"{END} {seq} "):
                return "\n".join(lines[lines.index(f"{BEGIN} {seq}") + 1:])
            lines.append(line)

    def ask(self) -> str:
        self.seq += 1
        self.proc.stdin.write(f"{self.seq}\n")
        self.proc.stdin.flush()
        return self._answer(self.seq)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


def timed(fn, runs: int) -> tuple[list[str], float]:
    outputs, times = [], []
    for _ in range(runs):
        started = time.perf_counter()
        outputs.append(fn())
        times.append((time.perf_counter() - started) * 1000)
    return outputs, statistics.median(times)


def main() -> int:
    from tests.helpers.conn_holder import free_port, ipv6_available
    from wsfleet.counts.command import count_command, parse_count, reader_command, sh_reader_command

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=19_900)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, bufsize=1)
    clients: list[socket.socket] = []
    try:
        assert server.stdout.readline().strip() == "ready"
        v6 = args.connections // 10 if ipv6_available() else 0
        started = time.perf_counter()
        for n in range(args.connections):
            family, host = (socket.AF_INET6, "::1") if n < v6 else (socket.AF_INET, "127.0.0.1")
            c = socket.socket(family, socket.SOCK_STREAM)
            c.connect((host, port))
            clients.append(c)
        while True:
            server.stdin.write("?\n")
            if int(server.stdout.readline()) == args.connections:
                break
            time.sleep(0.05)
        print(f"# {args.connections} connections held on port {port} ({v6} over IPv6) in "
              f"{time.perf_counter() - started:.1f} s; {os.cpu_count()} cores; median of {args.runs} answers each\n")
        print("| count | answer | exact | median |\n|---|---|---|---|")

        def row(name: str, outputs: list[str], ms: float) -> None:
            values = {parse_count(o) for o in outputs}
            exact = "yes" if values == {args.connections} else f"NO: {sorted(values)[:3]}"
            print(f"| {name} | {outputs[-1].strip()} | {exact} | {ms:.1f} ms |", flush=True)

        for name, command, env in (
            ("perl count loop (netlink, kept open)", reader_command(port), None),
            ("sh count loop (`ss`, kept open)", sh_reader_command(port), None),
        ):
            loop = Loop(command, env)
            try:
                outputs, ms = timed(loop.ask, args.runs)
            finally:
                loop.close()
            row(name, [loop.first, *outputs], ms)
        one_shot = count_command(port)
        row("one-shot `count_command` (sh + `ss`, as ssm runs it)",
            *timed(lambda: subprocess.run(["/bin/sh", "-c", one_shot], capture_output=True, text=True).stdout, args.runs))
        with tempfile.TemporaryDirectory() as bare:
            for tool in ("cat", "awk"):
                os.symlink(shutil.which(tool), Path(bare) / tool)
            row("one-shot without `ss` (/proc/net/tcp + tcp6)",
                *timed(lambda: subprocess.run(["/bin/sh", "-c", one_shot], capture_output=True, text=True,
                                              env={"PATH": bare}).stdout, max(3, args.runs // 4)))
    finally:
        for c in clients:
            c.close()
        server.stdin.close()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
