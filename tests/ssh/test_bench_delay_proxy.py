"""The fan-out bench's network stand-in (tests/bench/ssh_fanout.py): both delay proxies, the C one
and the asyncio one, hold each direction for half the round trip, keep every byte in order, pass
each direction's end on, and close a client whose upstream refuses. The bench's numbers are only
as good as this."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from tests.bench.ssh_fanout import DelayProxy, build_c_proxy


@pytest.fixture(scope="module")
def echo_port():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    server.close()


def _proxies(tmp_path) -> list[tuple[str, str | None]]:
    kinds = [("asyncio", None)]
    if shutil.which("cc") or shutil.which("gcc"):
        binary = build_c_proxy(str(tmp_path))
        assert binary, "delay_proxy.c does not compile"
        kinds.append(("C", binary))
    return kinds


def test_both_delay_proxies_hold_each_direction_half_the_round_trip_and_keep_the_bytes(tmp_path, echo_port):
    for kind, binary in _proxies(tmp_path):
        with DelayProxy([echo_port], 40, binary) as proxy, \
                socket.create_connection(("127.0.0.1", proxy.ports[0]), timeout=5) as conn:
            rtts = []
            for _ in range(3):
                started = time.perf_counter()
                conn.sendall(b"ping")
                assert conn.recv(16) == b"ping"
                rtts.append((time.perf_counter() - started) * 1000)
            assert 39 <= min(rtts) and max(rtts) < 200, (kind, rtts)  # the delay is there (a busy machine adds)
            payload = bytes(range(256)) * 4096  # 1 MiB, in many chunks
            threading.Thread(target=lambda: (conn.sendall(payload), conn.shutdown(socket.SHUT_WR)), daemon=True).start()
            echoed = bytearray()
            while chunk := conn.recv(1 << 20):
                echoed += chunk
            assert bytes(echoed) == payload, kind  # in order, whole, and the end of stream came through


def test_both_delay_proxies_close_a_client_whose_upstream_refuses(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens once this closes
    for kind, binary in _proxies(tmp_path):
        with DelayProxy([dead], 40, binary) as proxy, \
                socket.create_connection(("127.0.0.1", proxy.ports[0]), timeout=5) as conn:
            assert conn.recv(16) == b"", kind
