"""ssh_auth's one-round-trip login steps aside whenever the stock login would have done something
else: no key to offer (then `none` follows, and a server that needs no auth still lets us in),
`PubkeyAuthentication no`, or another method preferred first. Real asyncssh servers on loopback."""

from __future__ import annotations

import asyncssh
import pytest

from wsfleet.counts import ssh_auth


class _NoAuthServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return False  # no authentication needed: `none` succeeds


class _Client(ssh_auth.SignFirstClient):
    """wsfleet's client object (`ssh._HostClient` is one), recording whether the hook took."""

    enabled: list[bool] = []

    def begin_auth(self, username: str) -> None:
        super().begin_auth(username)
        _Client.enabled.append(self.sign_first)


@pytest.fixture
async def no_auth_port():
    server = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")],
                                   server_factory=_NoAuthServer)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _login(port: int, tmp_path, config: str = "", **options) -> list[bool]:
    _Client.enabled = []
    path = tmp_path / "ssh_config"
    path.write_text(config)
    conn = await asyncssh.connect("127.0.0.1", port, username="tester", known_hosts=None, agent_path=None,
                                  client_factory=_Client, config=[str(path)], **options)
    conn.close()
    await conn.wait_closed()
    return _Client.enabled


async def test_without_a_key_to_offer_none_follows_and_a_server_needing_no_auth_lets_us_in(no_auth_port, tmp_path):
    assert await _login(no_auth_port, tmp_path, client_keys=[]) == [True]


async def test_pubkey_authentication_no_leaves_the_stock_login(no_auth_port, tmp_path, client_key):
    assert await _login(no_auth_port, tmp_path, "PubkeyAuthentication no\n", client_keys=[str(client_key[0])]) == [False]


async def test_another_method_preferred_before_publickey_leaves_the_stock_login(no_auth_port, tmp_path, client_key):
    config = "PreferredAuthentications password,publickey\n"
    assert await _login(no_auth_port, tmp_path, config, client_keys=[str(client_key[0])]) == [False]


async def test_with_a_key_the_hook_takes(no_auth_port, tmp_path, client_key):
    assert await _login(no_auth_port, tmp_path, client_keys=[str(client_key[0])]) == [True]
