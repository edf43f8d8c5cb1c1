"""Hold a known number of real, ESTABLISHED TCP connections to a loopback service port.

The listening side accepts and keeps every connection, so the kernel shows exactly `count`
established sockets whose local port is `port` (plus as many client-side sockets, whose local
port is an ephemeral one and which a `sport` filter does not count). Connections can be spread
over IPv4 (127.0.0.1) and IPv6 (::1), on the same port number.

Blocking sockets, no threads: a client's connect completes from the listen backlog, then the
listener accepts it. Each held connection costs two file descriptors (hard limit here: 20,000).
"""

from __future__ import annotations

import socket


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_port() -> int:
    """A port free on both 127.0.0.1 and ::1 at the moment of asking."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not ipv6_available():
            return port
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s6.bind(("::1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


class ConnHolder:
    """`ConnHolder(count=7)` holds 7 established connections on `holder.port` until closed."""

    def __init__(self, count: int = 0, *, port: int | None = None, ipv6: int = 0) -> None:
        self.port = port or free_port()
        self._listeners: dict[int, socket.socket] = {}
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listen(socket.AF_INET, "127.0.0.1")
        if ipv6:
            self._listen(socket.AF_INET6, "::1")
        self.add(count)
        self.add(ipv6, family=socket.AF_INET6)

    def _listen(self, family: int, host: str) -> None:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, self.port))
        s.listen(4096)
        self._listeners[family] = s

    @property
    def count(self) -> int:
        return len(self._pairs)

    def add(self, n: int, *, family: int = socket.AF_INET) -> None:
        if n <= 0:
            return
        if family not in self._listeners:
            self._listen(family, "::1" if family == socket.AF_INET6 else "127.0.0.1")
        listener = self._listeners[family]
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        for _ in range(n):
            client = socket.socket(family, socket.SOCK_STREAM)
            client.connect((host, self.port))
            server, _ = listener.accept()
            self._pairs.append((client, server))

    def remove(self, n: int) -> None:
        for _ in range(min(n, len(self._pairs))):
            client, server = self._pairs.pop()
            client.close()
            server.close()

    def set_count(self, n: int) -> None:
        if n > self.count:
            self.add(n - self.count)
        else:
            self.remove(self.count - n)

    def close(self) -> None:
        self.remove(len(self._pairs))
        for s in self._listeners.values():
            s.close()
        self._listeners.clear()

    def __enter__(self) -> "ConnHolder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
