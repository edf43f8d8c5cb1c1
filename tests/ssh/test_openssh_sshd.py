"""The ssh count source against a real OpenSSH sshd on loopback, counting real held connections."""

from __future__ import annotations

import asyncio
import getpass

from tests.helpers.asyncssh_hosts import SshTestHost, new_key
from tests.helpers.conn_holder import ConnHolder
from tests.ssh.conftest import sweep, target


def login(fleet, **kw):
    return fleet.source(user=getpass.getuser(), **kw)


async def test_counts_over_openssh_are_exactly_the_held_connections(sshd, fleet):
    fleet.trust(sshd)
    with ConnHolder(count=9) as a, ConnHolder(count=4, ipv6=2) as b:
        targets = [target(0, sshd.ports[0], a.port), target(1, sshd.ports[1], b.port)]
        source = login(fleet)
        try:
            rows = await sweep(source, targets)
            assert [rows[t.instance_id].connections for t in targets] == [9, 6]
            a.set_count(250)
            b.set_count(0)
            rows = await sweep(source, targets)
            assert [rows[t.instance_id].connections for t in targets] == [250, 0]
        finally:
            await source.aclose()
    assert source.connects == 2  # the second sweep reused both connections


async def test_a_connection_sshd_drops_between_sweeps_is_reopened(sshd, fleet):
    fleet.trust(sshd)
    with ConnHolder(count=3) as held:
        t = target(0, sshd.ports[0], held.port)
        source = login(fleet)
        try:
            assert (await sweep(source, [t]))[t.instance_id].connections == 3
            assert sshd.drop_connections() >= 1
            await asyncio.sleep(0.2)
            held.set_count(5)
            row = (await sweep(source, [t]))[t.instance_id]
        finally:
            await source.aclose()
    assert (row.error, row.connections) == (None, 5)
    assert source.connects == 2


async def test_openssh_refuses_a_key_it_does_not_know(sshd, fleet, tmp_path):
    from tests.helpers.asyncssh_hosts import write_client_key

    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_key_path, _ = write_client_key(other_dir)
    fleet.trust(sshd)
    source = login(fleet, key=str(other_key_path))
    try:
        row = (await sweep(source, [target(0, sshd.ports[0], 9)]))[target(0, 0, 0).instance_id]
    finally:
        await source.aclose()
    assert row.error == "auth"


async def test_a_changed_openssh_host_key_is_refused_under_strict_and_accept_new(sshd, fleet):
    fleet.trust(sshd)
    sshd.new_host_key()
    sshd.restart()
    t = target(0, sshd.ports[0], 9)
    for policy in ("strict", "accept-new"):
        source = login(fleet, policy=policy)
        try:
            row = (await sweep(source, [t]))[t.instance_id]
        finally:
            await source.aclose()
        assert row.error == "host-key", (policy, row)
        assert "differs" in row.detail
    assert not fleet.own_known_hosts.exists() or sshd.host_public_key not in fleet.own_known_hosts.read_text()


async def test_accept_new_records_the_openssh_host_key(sshd, fleet):
    t = target(0, sshd.ports[0], 9)
    source = login(fleet, policy="accept-new")
    try:
        row = (await sweep(source, [t]))[t.instance_id]
    finally:
        await source.aclose()
    assert row.error is None
    assert f"[127.0.0.1]:{sshd.ports[0]} {sshd.host_public_key}" in fleet.own_known_hosts.read_text()
    # and strict now trusts what accept-new recorded
    source = login(fleet, policy="strict")
    try:
        assert (await sweep(source, [t]))[t.instance_id].error is None
    finally:
        await source.aclose()


async def test_openssh_as_the_jump_host_tunnels_to_the_instances(sshd, fleet, client_key):
    hosts = [await SshTestHost([client_key[1]]).start() for _ in range(3)]
    fleet.trust(sshd, *hosts)
    with ConnHolder(count=6) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source(jump_host=f"{getpass.getuser()}@127.0.0.1:{sshd.ports[1]}")
        try:
            rows = await sweep(source, targets)
        finally:
            await source.aclose()
            for h in hosts:
                await h.close()
    assert {r.connections for r in rows.values()} == {6}, rows
    assert source.connects == 4  # one bastion connection + one per instance


async def test_healthy_openssh_hosts_keep_working_next_to_broken_ones(sshd, fleet):
    broken = await SshTestHost([new_key()]).start()  # will refuse our key
    fleet.trust(sshd, broken)
    with ConnHolder(count=12) as held:
        targets = [target(0, sshd.ports[0], held.port), target(1, broken.port, held.port), target(2, sshd.ports[1], held.port)]
        source = login(fleet)
        try:
            for _ in range(2):
                rows = await sweep(source, targets)
                assert [rows[t.instance_id].error for t in targets] == [None, "auth", None]
                assert rows[targets[0].instance_id].connections == rows[targets[2].instance_id].connections == 12
        finally:
            await source.aclose()
            await broken.close()


def _cipher(source) -> str:
    (link,) = source._links.values()
    return link.conn.get_extra_info("send_cipher")


async def test_aes_gcm_is_preferred_and_a_ciphers_line_in_the_ssh_config_wins(sshd, fleet, tmp_path):
    fleet.trust(sshd)
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  Ciphers aes256-ctr,aes128-ctr\n")
    with ConnHolder(count=3) as held:
        t = target(0, sshd.ports[0], held.port)
        for options, expected in (({}, "aes128-gcm@openssh.com"), ({"config_file": str(config)}, "aes256-ctr")):
            source = login(fleet, **options)
            try:
                assert (await sweep(source, [t]))[t.instance_id].connections == 3
                assert _cipher(source) == expected
            finally:
                await source.aclose()


# ---------------------------------------------------------------- logins in one round trip (ssh_auth)


async def _count_once(fleet, sshd, **options) -> int | None:
    with ConnHolder(count=2) as held:
        t = target(0, sshd.ports[0], held.port)
        source = login(fleet, **options)
        try:
            row = (await sweep(source, [t]))[t.instance_id]
        finally:
            await source.aclose()
    assert row.error is None, row.detail
    return row.connections


async def test_a_key_file_logs_in_with_one_signed_request_and_no_none_or_query(sshd, fleet, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # an agent's keys come first, and are queried
    fleet.trust(sshd)
    assert await _count_once(fleet, sshd) == 2
    assert sshd.auth_requests() == ["signed"]


async def test_a_key_the_server_refuses_is_followed_by_the_next_key_signed_at_once(sshd, fleet, tmp_path, monkeypatch):
    from tests.helpers.asyncssh_hosts import write_client_key

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    wrong, _ = write_client_key(tmp_path / "home")
    wrong.rename(home / ".ssh" / "id_ed25519")  # the default keys, in asyncssh's order: the refused one first
    (home / ".ssh" / "id_ecdsa").write_bytes(fleet.key_path.read_bytes())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    fleet.trust(sshd)
    assert await _count_once(fleet, sshd, key=None) == 2
    assert sshd.auth_requests() == ["signed", "signed"]


async def test_a_key_held_by_the_agent_is_queried_before_it_is_signed(ssh_agent, sshd, fleet, monkeypatch):
    monkeypatch.setenv("HOME", str(fleet.tmp))  # no key files: the agent's key only
    fleet.trust(sshd)
    assert await _count_once(fleet, sshd, key=None) == 2
    assert sshd.auth_requests() == ["query", "signed"]


async def test_other_asyncssh_connections_in_the_process_keep_the_stock_login(sshd, fleet, client_key, monkeypatch):
    import asyncssh

    from wsfleet.counts import ssh_auth

    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    assert ssh_auth.install(), "this asyncssh lost the hooks ssh_auth needs: logins take two round trips more"
    conn = await asyncssh.connect("127.0.0.1", sshd.ports[0], username=getpass.getuser(), client_keys=[str(client_key[0])],
                                  known_hosts=asyncssh.import_known_hosts(sshd.known_hosts_lines()))
    conn.close()
    await conn.wait_closed()
    assert sshd.auth_requests() == ["none", "query", "signed"]
