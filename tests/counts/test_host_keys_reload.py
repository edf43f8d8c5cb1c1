"""known_hosts is re-read when it changes: a host added while wsfleet runs is trusted at once."""

from __future__ import annotations

import asyncssh

from wsfleet.counts.host_keys import HostKeys


def _line(port: int, key: asyncssh.SSHKey) -> str:
    return f"[127.0.0.1]:{port} {key.export_public_key('openssh').decode().strip()}\n"


def test_a_host_added_to_known_hosts_after_start_is_trusted_without_restarting(tmp_path):
    known = tmp_path / "known_hosts"
    first, second = asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key("ssh-ed25519")
    known.write_text(_line(2201, first))
    keys = HostKeys("strict", user_file=known, own_file=tmp_path / "own")
    assert keys.has_entry("127.0.0.1", "127.0.0.1", 2201)
    assert not keys.has_entry("127.0.0.1", "127.0.0.1", 2202)

    with open(known, "a") as f:  # a scale-out: the new instance's key is provisioned
        f.write(_line(2202, second))
    assert keys.has_entry("127.0.0.1", "127.0.0.1", 2202)


def test_a_key_removed_from_known_hosts_is_no_longer_trusted(tmp_path):
    known = tmp_path / "known_hosts"
    key = asyncssh.generate_private_key("ssh-ed25519")
    known.write_text(_line(2201, key))
    keys = HostKeys("strict", user_file=known, own_file=tmp_path / "own")
    assert keys.has_entry("127.0.0.1", "127.0.0.1", 2201)
    known.write_text("")
    assert not keys.has_entry("127.0.0.1", "127.0.0.1", 2201)
