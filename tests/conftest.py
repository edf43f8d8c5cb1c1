"""Fixtures every test gets: dummy AWS credentials, private config/log dirs, loopback-only network.

The environment is set at import time so that CLI subprocesses started by tests inherit it too.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile

import pytest

_SANDBOX = tempfile.mkdtemp(prefix="wsfleet-tests-")
_SHARED_CACHES = ("parsed-json", "dataclass-code")  # named after what they were made from: one for the run
for _name in _SHARED_CACHES:
    os.makedirs(os.path.join(_SANDBOX, _name), mode=0o700, exist_ok=True)
for _key, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # never read the user's ~/.aws in a test
    "AWS_CONFIG_FILE": os.path.join(_SANDBOX, "aws-config"),
    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(_SANDBOX, "aws-credentials"),
    "AWS_EC2_METADATA_DISABLED": "true",
    "XDG_CONFIG_HOME": os.path.join(_SANDBOX, "config"),
    "XDG_STATE_HOME": os.path.join(_SANDBOX, "state"),
    "XDG_DATA_HOME": os.path.join(_SANDBOX, "data"),
    "XDG_CACHE_HOME": os.path.join(_SANDBOX, "cache"),
    "NO_PROXY": "*",
}.items():
    os.environ[_key] = _value
for _key in ("WSFLEET_CONFIG", "AWS_PROFILE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
    os.environ.pop(_key, None)


class NonLoopbackConnect(AssertionError):
    pass


def _check_address(address) -> None:
    if not isinstance(address, tuple):
        return  # AF_UNIX paths and the like
    host = address[0]
    if host in ("localhost", "ip6-localhost"):
        return
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        raise NonLoopbackConnect(f"test tried to connect to a name, not loopback: {host!r}") from None
    if not ip.is_loopback:
        raise NonLoopbackConnect(f"test tried to connect to a non-loopback address: {host}")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self, address):
    _check_address(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def loopback_only():
    """Fail any attempt to reach an address outside 127.0.0.0/8 and ::1 (DESIGN: network rule)."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex



@pytest.fixture(autouse=True)
def own_cache_dir(tmp_path_factory, monkeypatch):
    """A cache dir per test (the address cache of `counts`/`check` lives there): a test never starts
    from instance ids another test left, whose moto 10.x addresses a CLI subprocess (which has no
    loopback guard) would otherwise be asked to connect to."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    # parsed JSON (wsfleet.parsed_json) and dataclasses' code (wsfleet.startup) are named after what
    # they were made from: one of each for the whole run, so that each test's processes do not parse
    # and write botocore's and moto's 11 MB, or compile the same dataclasses, again
    (cache / "wsfleet").mkdir()
    for name in _SHARED_CACHES:
        (cache / "wsfleet" / name).symlink_to(os.path.join(_SANDBOX, name), target_is_directory=True)
