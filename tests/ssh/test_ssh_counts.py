"""The ssh count source against real asyncssh servers on loopback, counting real held connections."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.helpers.asyncssh_hosts import SilentPort, SshTestHost, closed_port, new_key
from tests.helpers.conn_holder import ConnHolder
from tests.ssh.conftest import sweep, target
from wsfleet.counts.host_keys import HostKeys, own_known_hosts_path


async def test_each_host_reports_exactly_the_connections_held_on_its_service_port(hosts, fleet):
    fleet.trust(*hosts)
    held = [ConnHolder(count=k) for k in (3, 0, 7, 12)]
    targets = [target(i, h.port, c.port) for i, (h, c) in enumerate(zip(hosts, held))]
    source = fleet.source()
    try:
        rows = await sweep(source, targets)
        assert [rows[t.instance_id].connections for t in targets] == [3, 0, 7, 12]
        assert all(r.error is None and r.latency_ms > 0 for r in rows.values())
        held[0].set_count(9)
        held[3].set_count(1)
        rows = await sweep(source, targets)
        assert [rows[t.instance_id].connections for t in targets] == [9, 0, 7, 1]
    finally:
        await source.aclose()
        for c in held:
            c.close()


async def test_warm_sweeps_reuse_one_connection_and_one_session_per_host(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=2) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source()
        try:
            for _ in range(4):
                rows = await sweep(source, targets)
                assert {r.connections for r in rows.values()} == {2}
        finally:
            await source.aclose()
    assert [h.accepted for h in hosts] == [1, 1, 1, 1]
    assert [h.sessions for h in hosts] == [1, 1, 1, 1]
    assert source.connects == 4


async def test_rows_stream_as_hosts_answer(hosts, fleet):
    fleet.trust(*hosts)
    hosts[0].no_netlink()
    hosts[0].fake_tool("ss", "sleep 1.5; exec /usr/bin/ss \"$@\"")
    with ConnHolder(count=4) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source()
        try:
            started = time.monotonic()
            arrivals = []
            async for row in source.sweep(targets):
                arrivals.append((row.instance_id, time.monotonic() - started, row.connections))
        finally:
            await source.aclose()
    assert arrivals[-1][0] == targets[0].instance_id and arrivals[-1][2] == 4
    assert all(at < 1.2 for _, at, _ in arrivals[:-1]), arrivals
    assert arrivals[-1][1] >= 1.5


async def test_a_host_without_perl_is_counted_by_the_sh_loop_and_remembered(hosts, fleet):
    fleet.trust(*hosts[:2])
    hosts[0].without_perl()
    with ConnHolder(count=6) as held:
        targets = [target(0, hosts[0].port, held.port), target(1, hosts[1].port, held.port)]
        source = fleet.source()
        try:
            rows = await sweep(source, targets)
            assert [rows[t.instance_id].connections for t in targets] == [6, 6]
            assert [h.sessions for h in hosts[:2]] == [2, 1]  # perl's loop ended at once, then the sh loop
            held.set_count(2)
            rows = await sweep(source, targets)
            assert [rows[t.instance_id].connections for t in targets] == [2, 2]
            assert [h.sessions for h in hosts[:2]] == [2, 1]  # warm: the kept loops answered
            hosts[0].drop_connections()
            await asyncio.sleep(0.1)
            rows = await sweep(source, targets)
            assert rows[targets[0].instance_id].connections == 2
            assert hosts[0].sessions == 3  # reconnected: straight to the sh loop, perl not tried again
        finally:
            await source.aclose()


async def test_a_closed_port_is_refused_and_the_others_are_measured(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=5) as held:
        targets = [target(0, closed_port(), held.port)] + [target(i + 1, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source()
        try:
            rows = await sweep(source, targets)
        finally:
            await source.aclose()
    dead = rows[targets[0].instance_id]
    assert (dead.error, dead.connections) == ("refused", None)
    assert "refused" in dead.detail
    assert [rows[t.instance_id].connections for t in targets[1:]] == [5, 5, 5, 5]


async def test_hosts_that_accept_tcp_and_never_speak_cost_one_timeout(hosts, fleet):
    fleet.trust(*hosts)
    silent = [await SilentPort().start() for _ in range(3)]
    with ConnHolder(count=1) as held:
        targets = [target(i, s.port, held.port) for i, s in enumerate(silent)]
        targets += [target(10 + i, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source(timeout=1.0)
        try:
            started = time.monotonic()
            rows = await sweep(source, targets)
            elapsed = time.monotonic() - started
        finally:
            await source.aclose()
            for s in silent:
                await s.close()
    assert [rows[t.instance_id].error for t in targets[:3]] == ["timeout"] * 3
    assert [rows[t.instance_id].connections for t in targets[3:]] == [1, 1, 1, 1]
    assert 1.0 <= elapsed < 2.5, elapsed  # one timeout, not three (3.0 s): slack for a loaded CI machine


async def test_connection_set_up_is_bounded_by_the_concurrency_setting(fleet):
    silent = [await SilentPort().start() for _ in range(3)]
    targets = [target(i, s.port, 9) for i, s in enumerate(silent)]
    source = fleet.source(timeout=0.4, concurrency=1)
    try:
        started = time.monotonic()
        rows = await sweep(source, targets)
        elapsed = time.monotonic() - started
    finally:
        await source.aclose()
        for s in silent:
            await s.close()
    assert {r.error for r in rows.values()} == {"timeout"}
    assert 1.2 <= elapsed < 3.0, elapsed  # one at a time, each given its own full timeout


async def test_a_key_the_host_does_not_accept_is_an_auth_error(client_key, fleet):
    stranger = SshTestHost([new_key()])  # accepts some other client key only
    await stranger.start()
    fleet.trust(stranger)
    source = fleet.source()
    try:
        rows = await sweep(source, [target(0, stranger.port, 9)])
    finally:
        await source.aclose()
        await stranger.close()
    row = rows[target(0, 0, 0).instance_id]
    assert row.error == "auth" and row.connections is None


async def test_an_unknown_host_key_is_refused_under_strict(hosts, fleet):
    fleet.trust(hosts[1])
    source = fleet.source(policy="strict")
    try:
        rows = await sweep(source, [target(0, hosts[0].port, 9), target(1, hosts[1].port, 9)])
    finally:
        await source.aclose()
    unknown = rows[target(0, 0, 0).instance_id]
    assert unknown.error == "host-key"
    assert "accept-new" in unknown.detail and f"[127.0.0.1]:{hosts[0].port}" in unknown.detail
    assert rows[target(1, 0, 0).instance_id].connections == 0
    assert not fleet.own_known_hosts.exists()


async def test_a_changed_host_key_is_refused_under_strict(hosts, fleet):
    fleet.trust(*hosts)
    await hosts[0].restart_with_new_key()
    source = fleet.source(policy="strict")
    try:
        rows = await sweep(source, [target(0, hosts[0].port, 9), target(1, hosts[1].port, 9)])
    finally:
        await source.aclose()
    changed = rows[target(0, 0, 0).instance_id]
    assert changed.error == "host-key" and "differs" in changed.detail
    assert rows[target(1, 0, 0).instance_id].error is None


async def test_accept_new_records_unknown_keys_and_still_refuses_a_changed_one(hosts, fleet):
    with ConnHolder(count=6) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source(policy="accept-new")
        try:
            rows = await sweep(source, targets)
            assert {r.connections for r in rows.values()} == {6}
            recorded = fleet.own_known_hosts.read_text()
            assert all(h.known_hosts_line in recorded for h in hosts)
            assert fleet.known_hosts.read_text() == ""  # the user's file is never written

            await hosts[2].restart_with_new_key()  # drops its connection, presents a new key
            rows = await sweep(source, targets)
        finally:
            await source.aclose()
    assert rows[targets[2].instance_id].error == "host-key"
    assert "differs" in rows[targets[2].instance_id].detail
    assert [rows[t.instance_id].connections for t in (targets[0], targets[1], targets[3])] == [6, 6, 6]
    assert fleet.own_known_hosts.read_text() == recorded  # the changed key was not recorded


async def test_accept_new_refuses_a_key_that_differs_from_the_users_known_hosts(hosts, fleet):
    fleet.trust(hosts[0])
    await hosts[0].restart_with_new_key()
    source = fleet.source(policy="accept-new")
    try:
        rows = await sweep(source, [target(0, hosts[0].port, 9)])
    finally:
        await source.aclose()
    assert rows[target(0, 0, 0).instance_id].error == "host-key"


def test_wsfleets_own_known_hosts_lives_in_the_user_data_dir():
    path = own_known_hosts_path()
    assert path.name == "known_hosts" and "wsfleet" in str(path)
    assert str(path).startswith(os.environ["XDG_DATA_HOME"])  # conftest's private dir


def test_there_is_no_policy_that_skips_host_key_checks():
    from wsfleet.errors import ConfigError

    for policy in ("ignore", "none", "off", "no"):
        with pytest.raises(ConfigError, match="always verified"):
            HostKeys(policy)


async def test_garbage_output_is_a_parse_error(hosts, fleet):
    fleet.trust(*hosts)
    hosts[0].no_netlink()
    hosts[0].fake_tool("ss", "exit 1")  # ss fails: the /proc reader runs, and its awk prints garbage
    hosts[0].fake_tool("awk", "echo 'lots of sockets'")
    with ConnHolder(count=3) as held:
        source = fleet.source()
        try:
            rows = await sweep(source, [target(0, hosts[0].port, held.port), target(1, hosts[1].port, held.port)])
        finally:
            await source.aclose()
    bad = rows[target(0, 0, 0).instance_id]
    assert (bad.error, bad.connections) == ("parse", None)
    assert "lots of sockets" in bad.detail
    assert rows[target(1, 0, 0).instance_id].connections == 3


async def test_a_failing_count_command_is_a_command_error(hosts, fleet):
    fleet.trust(*hosts)
    hosts[0].no_netlink()
    hosts[0].fake_tool("ss", "exit 1")
    hosts[0].fake_tool("awk", "echo 'awk: broken' >&2; exit 3")
    with ConnHolder(count=3) as held:
        source = fleet.source()
        try:
            rows = await sweep(source, [target(0, hosts[0].port, held.port)])
        finally:
            await source.aclose()
    bad = rows[target(0, 0, 0).instance_id]
    assert bad.error == "command" and "status 3" in bad.detail and "awk: broken" in bad.detail


async def test_noise_from_the_remote_shells_start_up_files_is_ignored(hosts, fleet):
    fleet.trust(*hosts)
    hosts[0].noise = "Welcome to prod!\n42\nwsfleet-count-end 1 0"
    with ConnHolder(count=8) as held:
        source = fleet.source()
        try:
            rows = await sweep(source, [target(0, hosts[0].port, held.port)])
        finally:
            await source.aclose()
    assert rows[target(0, 0, 0).instance_id].connections == 8


async def test_a_connection_dropped_between_sweeps_is_reopened_on_the_next(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=4) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source()
        try:
            await sweep(source, targets)
            hosts[1].drop_connections()
            await asyncio.sleep(0.1)
            held.set_count(11)
            rows = await sweep(source, targets)
        finally:
            await source.aclose()
    assert {r.connections for r in rows.values()} == {11}
    assert [h.accepted for h in hosts] == [1, 2, 1, 1]


async def test_a_connection_dropped_unnoticed_is_retried_within_the_sweep(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=4) as held:
        t = target(0, hosts[0].port, held.port)
        source = fleet.source()
        try:
            await sweep(source, [t])
            hosts[0].drop_connections()  # no pause: the sweep may find the link still looking alive
            rows = await sweep(source, [t])
        finally:
            await source.aclose()
    assert rows[t.instance_id].connections == 4


async def test_a_failed_host_is_retried_with_backoff_and_reported_meanwhile(fleet):
    port = closed_port()
    t = target(0, port, 9)
    source = fleet.source()
    try:
        first = (await sweep(source, [t]))[t.instance_id]
        started = time.monotonic()
        second = (await sweep(source, [t]))[t.instance_id]
        assert time.monotonic() - started < 0.1
    finally:
        await source.aclose()
    assert first.error == second.error == "refused"
    assert "next attempt in" in second.detail
    assert source.connects == 1


async def test_healthy_hosts_keep_working_through_every_kind_of_fault(hosts, fleet):
    fleet.trust(*hosts[:3])  # hosts[3]: unknown key
    hosts[1].no_netlink()
    hosts[1].fake_tool("ss", "exit 1")
    hosts[1].fake_tool("awk", "echo garbage")
    silent = await SilentPort().start()
    with ConnHolder(count=2) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts)]
        targets += [target(8, closed_port(), held.port), target(9, silent.port, held.port), target(10, 22, held.port, host=None)]
        source = fleet.source(timeout=2.5)  # generous: healthy hosts must not time out on a loaded CI machine
        try:
            for k in (2, 5, 3):
                held.set_count(k)
                rows = await sweep(source, targets)
                errors = [rows[t.instance_id].error for t in targets]
                assert errors == [None, "parse", None, "host-key", "refused", "timeout", "not-found"]
                assert rows[targets[0].instance_id].connections == rows[targets[2].instance_id].connections == k
                hosts[0].drop_connections()
        finally:
            await source.aclose()
            await silent.close()


async def test_each_host_counts_its_own_service_port(hosts, fleet):
    fleet.trust(*hosts)
    with ConnHolder(count=1) as a, ConnHolder(count=2) as b:
        targets = [target(0, hosts[0].port, a.port), target(1, hosts[0].port, b.port)]
        source = fleet.source()
        try:
            rows = await sweep(source, targets)
        finally:
            await source.aclose()
    assert [rows[t.instance_id].connections for t in targets] == [1, 2]


async def test_a_jump_host_carries_every_instance_over_one_connection(client_key, hosts, fleet):
    bastion = await SshTestHost([client_key[1]], forwarding=True).start()
    fleet.trust(bastion, *hosts)
    with ConnHolder(count=7) as held:
        targets = [target(i, h.port, held.port) for i, h in enumerate(hosts)]
        source = fleet.source(jump_host=f"jumper@127.0.0.1:{bastion.port}")
        try:
            for _ in range(2):
                rows = await sweep(source, targets)
                assert {r.connections for r in rows.values()} == {7}
        finally:
            await source.aclose()
            await bastion.close()
    assert bastion.accepted == 1
    assert bastion.forwarded == 4
    assert bastion.sessions == 0


async def test_a_dead_jump_host_fails_every_row_with_its_reason(hosts, fleet):
    fleet.trust(*hosts)
    source = fleet.source(jump_host=f"127.0.0.1:{closed_port()}")
    try:
        rows = await sweep(source, [target(i, h.port, 9) for i, h in enumerate(hosts)])
    finally:
        await source.aclose()
    assert {r.error for r in rows.values()} == {"refused"}
    assert all("jump host" in r.detail for r in rows.values())
    assert source.connects == 1


async def test_the_users_ssh_config_supplies_hostname_port_user_and_key(tmp_path, client_key, hosts, fleet):
    config = tmp_path / "ssh_config"
    config.write_text(
        "".join(f"Host fleet-{i}\n  HostName 127.0.0.1\n  Port {h.port}\n" for i, h in enumerate(hosts))
        + f"Host fleet-*\n  User from-config\n  IdentityFile {client_key[0]}\n"
    )
    fleet.trust(*hosts)
    with ConnHolder(count=3) as held:
        targets = [target(i, 22, held.port, host=f"fleet-{i}") for i in range(len(hosts))]
        source = fleet.source(key=None, user=None, config_file=str(config))
        try:
            rows = await sweep(source, targets)
        finally:
            await source.aclose()
    assert {r.connections for r in rows.values()} == {3}, rows


async def test_the_ssh_agent_authenticates_when_no_key_is_configured(ssh_agent, hosts, fleet, monkeypatch):
    monkeypatch.setenv("HOME", str(fleet.tmp))  # no ~/.ssh/id_* to fall back on
    fleet.trust(*hosts)
    rows = await _sweep_held(fleet, hosts[:1], 2, key=None)
    assert rows[target(0, 0, 0).instance_id].connections == 2


async def test_an_instance_without_an_address_is_not_found(fleet):
    source = fleet.source()
    try:
        rows = await sweep(source, [target(0, 22, 443, host=None)])
    finally:
        await source.aclose()
    assert rows[target(0, 0, 0).instance_id].error == "not-found"


async def test_closing_the_source_closes_its_connections(hosts, fleet):
    fleet.trust(*hosts)
    source = fleet.source()
    await sweep(source, [target(i, h.port, 9) for i, h in enumerate(hosts)])
    assert all(len(h.connections) == 1 for h in hosts)
    await source.aclose()
    for _ in range(50):
        if not any(h.connections for h in hosts):
            break
        await asyncio.sleep(0.02)
    assert not any(h.connections for h in hosts)


def test_an_unreadable_key_is_one_config_sentence(tmp_path, fleet):
    from wsfleet.errors import ConfigError

    with pytest.raises(ConfigError, match="ssh.key .*cannot load it"):
        fleet.source(key=str(tmp_path / "missing_key"))


async def test_the_tests_loopback_guard_is_never_swallowed_into_a_row(fleet):
    from tests.conftest import NonLoopbackConnect

    source = fleet.source(timeout=1.0)
    try:
        with pytest.raises(NonLoopbackConnect):
            await sweep(source, [target(0, 22, 443, host="10.0.1.5")])  # a moto address: must never be dialled
    finally:
        await source.aclose()


def test_only_the_users_own_private_key_file_skips_rsa_validation(tmp_path, monkeypatch):
    """A key file owned by the user and readable by no one else (as OpenSSH wants a private key)
    skips cryptography's slow RSA check on every pass over it; any other file is validated, and
    both load. (asyncssh's load_keypairs(path) also reads the private file as a public key when no
    .pub is beside it, and validates it there whatever it was asked.)"""
    import asyncssh
    from asyncssh.crypto.rsa import RSAPrivateKey

    from wsfleet.counts import ssh_link
    from wsfleet.model import SshConfig

    key = tmp_path / "ec2.pem"
    key.write_bytes(asyncssh.generate_private_key("ssh-rsa", 2048).export_private_key("pkcs1-pem"))
    validated: list[bool] = []
    real = RSAPrivateKey.construct.__func__
    monkeypatch.setattr(RSAPrivateKey, "construct",
                        classmethod(lambda cls, *a, **kw: validated.append(not a[-1]) or real(cls, *a, **kw)))
    for mode, skipped in ((0o600, True), (0o400, True), (0o640, False), (0o644, False)):
        key.chmod(mode)
        validated.clear()
        assert ssh_link._own_private_file(str(key)) is skipped
        assert len(ssh_link._load_client_keys(SshConfig(key=str(key)), frozenset())) == 1
        assert validated and set(validated) == {not skipped}, (mode, validated)
    assert ssh_link._own_private_file(str(tmp_path / "missing")) is False


def test_a_certificate_beside_the_key_is_offered_with_it_and_a_wrong_one_is_one_sentence(tmp_path):
    import asyncssh

    from wsfleet.counts import ssh_link
    from wsfleet.errors import ConfigError
    from wsfleet.model import SshConfig

    ca = asyncssh.generate_private_key("ssh-ed25519")
    key = tmp_path / "ec2.pem"
    user_key = asyncssh.generate_private_key("ssh-rsa", 2048)
    key.write_bytes(user_key.export_private_key("pkcs1-pem"))
    key.chmod(0o600)
    cert = tmp_path / "ec2.pem-cert.pub"
    cert.write_bytes(ca.generate_user_certificate(user_key, "on-call", comment=None).export_certificate())
    pairs = ssh_link._load_client_keys(SshConfig(key=str(key)), frozenset())
    assert [p.algorithm for p in pairs] == [b"ssh-rsa-cert-v01@openssh.com", b"ssh-rsa"]

    other = asyncssh.generate_private_key("ssh-ed25519")
    cert.write_bytes(ca.generate_user_certificate(other, "someone else", comment=None).export_certificate())
    with pytest.raises(ConfigError) as err:
        ssh_link._load_client_keys(SshConfig(key=str(key)), frozenset())
    assert str(err.value).startswith(f"ssh.key {key}: its certificate {cert} cannot be used (")
    assert str(err.value).endswith("replace it with the one signed for this key, or remove it.")

    cert.unlink()
    assert [p.algorithm for p in ssh_link._load_client_keys(SshConfig(key=str(key)), frozenset())] == [b"ssh-rsa"]


def _home_with_keys(tmp_path, monkeypatch, **files: bytes):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    for name, data in files.items():
        (home / ".ssh" / name).write_bytes(data)
        (home / ".ssh" / name).chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    return home / ".ssh"


async def test_default_keys_that_cannot_be_used_are_left_out_and_the_next_one_logs_in(tmp_path, monkeypatch, hosts, fleet):
    """No ssh.key: ~/.ssh/id_* as OpenSSH's client takes them. A broken file and an encrypted key
    (its passphrase is the agent's business) are passed over, not a failed command."""
    import asyncssh

    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    encrypted = asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh", passphrase="secret")
    _home_with_keys(tmp_path, monkeypatch, id_ed25519=encrypted, id_ecdsa=b"not a key\n",
                    id_rsa=fleet.key_path.read_bytes())  # the key the hosts take, last in asyncssh's order
    fleet.trust(*hosts)
    rows = await _sweep_held(fleet, hosts[:1], 4, key=None)
    row = rows[target(0, 0, 0).instance_id]
    assert (row.error, row.connections) == (None, 4), row.detail


def test_the_users_own_default_rsa_key_skips_rsa_validation(tmp_path, monkeypatch):
    import asyncssh
    from asyncssh.crypto.rsa import RSAPrivateKey

    from wsfleet.counts import ssh_link
    from wsfleet.model import SshConfig

    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    keys = _home_with_keys(tmp_path, monkeypatch, id_rsa=rsa.export_private_key("openssh"))
    (keys / "id_rsa.pub").write_bytes(rsa.export_public_key("openssh"))
    validated: list[bool] = []
    real = RSAPrivateKey.construct.__func__
    monkeypatch.setattr(RSAPrivateKey, "construct",
                        classmethod(lambda cls, *a, **kw: validated.append(not a[-1]) or real(cls, *a, **kw)))
    pairs = ssh_link._load_client_keys(SshConfig(key=None), frozenset())
    assert [p.algorithm for p in pairs] == [b"ssh-rsa"]
    assert validated == [False]  # read once, unvalidated
    (keys / "id_rsa").chmod(0o644)  # readable by others: not a private file of the user's, so checked
    validated.clear()
    assert len(ssh_link._load_client_keys(SshConfig(key=None), frozenset())) == 1
    assert validated and set(validated) == {True}


async def test_a_key_from_the_ssh_configs_identityfile_is_read_once_not_per_connection(tmp_path, client_key, hosts, fleet,
                                                                                        monkeypatch):
    """asyncssh resolves IdentityFile per host; each connection used to read (and, for RSA,
    validate) the file again. Now a sweep of every host reads it as often as one load does."""
    import asyncssh
    from asyncssh import public_key

    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    key = tmp_path / "from-config" / "fleet_key"
    key.parent.mkdir()
    key.write_bytes(client_key[0].read_bytes())
    key.chmod(0o600)
    config = tmp_path / "ssh_config"
    config.write_text(f"Host 127.0.0.1\n  IdentityFile {key}\n")
    imports: list[int] = []
    real = public_key.import_private_key
    monkeypatch.setattr(public_key, "import_private_key", lambda *a, **kw: imports.append(1) or real(*a, **kw))
    asyncssh.load_keypairs([str(key)])
    one_load = len(imports)
    imports.clear()
    fleet.trust(*hosts)

    async def sweep_all():
        return await _sweep_held(fleet, hosts, 2, key=None, config_file=str(config))

    rows = await sweep_all()
    assert {(r.error, r.connections) for r in rows.values()} == {(None, 2)}, rows
    assert len(hosts) > 1 and len(imports) == one_load
    rows = await sweep_all()  # another source in the same process: nothing read again
    assert {(r.error, r.connections) for r in rows.values()} == {(None, 2)} and len(imports) == one_load

    other = asyncssh.generate_private_key("ssh-ed25519")  # the file replaced on disk: read again
    key.write_bytes(other.export_private_key("openssh"))
    key.chmod(0o600)
    rows = await sweep_all()
    assert {r.error for r in rows.values()} == {"auth"}, rows


async def _sweep_held(fleet, hosts, held_count: int, **source_options) -> dict:
    """One sweep of `hosts` by a new source, each counting `held_count` held connections."""
    with ConnHolder(count=held_count) as held:
        source = fleet.source(**source_options)
        try:
            return await sweep(source, [target(i, h.port, held.port) for i, h in enumerate(hosts)])
        finally:
            await source.aclose()
