"""Which SSH host keys to trust: the user's known_hosts plus wsfleet's own file.

`strict` trusts only keys already in those files. `accept-new` also trusts a host seen for the
first time and records its key in wsfleet's own file (like OpenSSH's StrictHostKeyChecking=
accept-new); a host whose key *differs* from a recorded one is refused under both policies.
There is deliberately no policy that skips verification.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import asyncssh
import platformdirs

from wsfleet.errors import ConfigError
from wsfleet.model import HOST_KEY_POLICIES

log = logging.getLogger(__name__)


def own_known_hosts_path() -> Path:
    return platformdirs.user_data_path("wsfleet") / "known_hosts"


def host_pattern(host: str, port: int | None) -> str:
    """How OpenSSH writes a host in known_hosts: `host` on port 22, else `[host]:port`."""
    if port in (None, 22):
        return host
    return f"[{host}]:{port}"


def _import(text: str, source: str) -> asyncssh.SSHKnownHosts:
    try:
        return asyncssh.import_known_hosts(text)
    except (ValueError, asyncssh.KeyImportError):
        pass
    good = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            asyncssh.import_known_hosts(line)
        except (ValueError, asyncssh.KeyImportError) as exc:
            log.warning("%s line %d ignored: %s", source, number, exc)
        else:
            good.append(line)
    return asyncssh.import_known_hosts("\n".join(good))


class HostKeys:
    def __init__(self, policy: str = "strict", user_file: str | os.PathLike | None = None,
                 own_file: str | os.PathLike | None = None) -> None:
        if policy not in HOST_KEY_POLICIES:
            raise ConfigError(
                f"ssh.host_keys is {policy!r}: use \"strict\" or \"accept-new\" "
                "(host keys are always verified; there is no setting that skips it)."
            )
        self.policy = policy
        self.user_file = Path(os.path.expanduser(user_file)) if user_file else Path.home() / ".ssh" / "known_hosts"
        self.own_file = Path(own_file) if own_file else own_known_hosts_path()
        self._known: asyncssh.SSHKnownHosts | None = None
        self._stamp: tuple | None = None

    def _stamp_now(self) -> tuple:
        """(mtime, size) of both files: a change means they are read again."""
        def one(path: Path):
            try:
                st = path.stat()
            except OSError:
                return None
            return (st.st_mtime_ns, st.st_size)

        return (one(self.user_file), one(self.own_file))

    def _read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        except OSError as exc:
            raise ConfigError(f"cannot read the known_hosts file {path}: {exc.strerror}; fix its permissions or set ssh.known_hosts.") from None

    def known_hosts(self) -> asyncssh.SSHKnownHosts:
        """The trusted keys now (user file + own file), re-read whenever either file changes.

        A fleet gains hosts while wsfleet runs (a scale-out, the demo rewriting its known_hosts):
        a new instance's key added by provisioning must be trusted without restarting the source.
        """
        stamp = self._stamp_now()
        if self._known is None or stamp != self._stamp:
            text = self._read(self.user_file) + "\n" + self._read(self.own_file)
            self._known = _import(text, f"{self.user_file} / {self.own_file}")
            self._stamp = stamp
        return self._known

    def has_entry(self, host: str, addr: str, port: int | None) -> bool:
        keys, ca_keys, *_ = self.known_hosts().match(host, addr, port)
        return bool(keys) or bool(ca_keys)

    def check_new(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> str | None:
        """For a key not already trusted: None to accept it (unknown host, accept-new: recorded),
        else the sentence saying why it is refused."""
        if self.has_entry(host, addr, port):
            return (
                f"the host key of {host_pattern(host, port)} ({key.get_algorithm()} {key.get_fingerprint()}) "
                f"differs from the one recorded in {self.user_file} or {self.own_file}; if the host was "
                "rebuilt, remove the old entry (ssh-keygen -R), else suspect a man-in-the-middle"
            )
        if self.policy != "accept-new":
            return (
                f"no known host key for {host_pattern(host, port)} in {self.user_file} or {self.own_file}; "
                "add it (ssh-keyscan) or set ssh.host_keys = \"accept-new\""
            )
        self._record(host, port, key)
        return None

    def _record(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        line = f"{host_pattern(host, port)} {key.export_public_key('openssh').decode().strip()}\n"
        self.own_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.own_file, "a", encoding="utf-8") as f:
            f.write(line)
        log.info("recorded new host key for %s in %s", host_pattern(host, port), self.own_file)
        self._known = None
