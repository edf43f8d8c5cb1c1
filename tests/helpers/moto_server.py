"""moto's server on loopback, for tests that need real HTTP (CLI subprocesses, the dashboard).

Use the fixture by importing it into your test module (or your directory's conftest.py):

    from tests.helpers.moto_server import moto_server  # noqa: F401  (pytest fixture)

    def test_status_reads_the_group(moto_server, tmp_path):
        make_fleet(moto_server.session(), instances=3, endpoint_url=moto_server.endpoint_url)
        ...

One server per test session (started on first use, on 127.0.0.1 and a free port, stopped at the
end of the session); every test that asks for `moto_server` starts from an empty moto
(POST /moto-api/reset, ~50-80 ms). `MotoServer` also works on its own, e.g. for a benchmark:

    with MotoServer() as server:
        ...

Two things to know: moto's server and `mock_aws()` share the same in-process state (a test using
both sees one set of resources), and moto's NotImplemented answers are HTTP 500, which botocore
retries; give such tests a client with `Config(retries={"max_attempts": 1})`.
"""

from __future__ import annotations

import logging
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer


class MotoServer:
    """A ThreadedMotoServer bound to 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def start(self) -> "MotoServer":
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forget every resource (all services, all regions)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def session(self, region: str = "us-east-1") -> boto3.Session:
        """A boto3 session for test setup; pass `endpoint_url=server.endpoint_url` to its clients
        (make_fleet does when given `endpoint_url`)."""
        return boto3.Session(region_name=region)

    def client(self, service: str, region: str = "us-east-1"):
        """A boto3 client for this server (for setting up or checking resources in a test)."""
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url)

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


_shared: MotoServer | None = None


def _shared_server(config: pytest.Config) -> MotoServer:
    global _shared
    if _shared is None:
        _shared = MotoServer().start()
        config.add_cleanup(_stop_shared)
    return _shared


def _stop_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


@pytest.fixture
def moto_server(request: pytest.FixtureRequest) -> MotoServer:
    """moto's server on 127.0.0.1, emptied before this test."""
    server = _shared_server(request.config)
    server.reset()
    return server
