import socket

import pytest

from tests.conftest import NonLoopbackConnect


def test_connect_to_moto_style_private_address_is_refused():
    s = socket.socket()
    try:
        with pytest.raises(NonLoopbackConnect):
            s.connect(("10.0.0.12", 22))
    finally:
        s.close()


def test_connect_to_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.socket()
    try:
        client.connect(server.getsockname())
    finally:
        client.close()
        server.close()
