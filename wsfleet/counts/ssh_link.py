"""One host's kept SSH connection (`_Link`): the count loop's channel, the client object (host keys,
publickey first), reconnect backoff, keys and ciphers loaded once, a failure classified as a row's error."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass, field

import asyncssh

from wsfleet.counts import ssh_auth
from wsfleet.counts.base import address_of
from wsfleet.counts.command import BEGIN, END, FIRST_SEQ
from wsfleet.counts.host_keys import HostKeys
from wsfleet.errors import ConfigError
from wsfleet.model import CountTarget, SshConfig

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0
_MAX_LINES = 64


class _Failure(Exception):
    """A classified failure: the row's error kind and a sentence for its detail."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class _ReaderGone(Exception):
    """The count loop's channel closed before it answered."""


class _CountReader(asyncssh.SSHClientSession):
    """Client side of the reader loop: send a sequence number, collect lines between its markers."""

    def __init__(self) -> None:
        self._buffer = b""
        self._stderr: deque[bytes] = deque(maxlen=16)
        # the loop's unasked first answer (FIRST_SEQ): awaited by first_answer()
        self._waiter: asyncio.Future | None = asyncio.get_running_loop().create_future()
        self._waiter.add_done_callback(_retrieved)
        self._seq = FIRST_SEQ
        self._collecting = False
        self._lines: list[str] = []
        self.closed = False
        self.exit_status: int | None = None
        self._channel: asyncssh.SSHClientChannel | None = None

    def connection_made(self, chan) -> None:
        self._channel = chan

    def data_received(self, data, datatype) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self._stderr.append(data[-512:])
            return
        self._buffer += data
        while True:
            cut = self._buffer.find(b"\n")
            if cut < 0:
                if len(self._buffer) > 65536:  # a runaway line: keep the tail only
                    self._buffer = self._buffer[-4096:]
                return
            line, self._buffer = self._buffer[:cut], self._buffer[cut + 1:]
            self._line(line.decode("utf-8", "replace").rstrip("\r"))

    def _line(self, line: str) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if line == f"{BEGIN} {self._seq}":
            self._collecting, self._lines = True, []
        elif not self._collecting:
            return  # start-up noise, or an answer to an earlier request
        elif line.startswith(f"{END} {self._seq} "):
            status = line.rsplit(" ", 1)[-1]
            waiter.set_result(("\n".join(self._lines), int(status) if status.isdigit() else 255, self.stderr()))
        elif len(self._lines) < _MAX_LINES:
            self._lines.append(line)

    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace").strip()[-300:]

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(_ReaderGone(str(exc) if exc else "channel closed"))

    async def first_answer(self) -> tuple[str, int, str]:
        """The count the loop sends by itself as it starts."""
        assert self._waiter is not None and self._seq == FIRST_SEQ
        try:
            return await self._waiter
        finally:
            self._waiter = None

    async def ask(self, seq: int) -> tuple[str, int, str]:
        assert self._channel is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._seq, self._collecting, self._lines = seq, False, []
        self._stderr.clear()
        self._channel.write(f"{seq}\n".encode())
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()


def _retrieved(future: asyncio.Future) -> None:
    """Mark a reader's outcome as seen: a first answer nobody waits for any more (its sweep timed
    out) must not log 'exception was never retrieved' when its channel closes."""
    if not future.cancelled():
        future.exception()


class _HostClient(ssh_auth.SignFirstClient):  # publickey first, a key file's key signed at once: two round trips fewer
    def __init__(self, host_keys: HostKeys) -> None:
        self._host_keys = host_keys
        self.lost = False
        self.refusal: str | None = None  # why this connection's host key was refused

    def validate_host_public_key(self, host, addr, port, key) -> bool:
        self.refusal = self._host_keys.check_new(host, addr, port, key)
        return self.refusal is None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


@dataclass
class _Backoff:
    failures: int = 0
    retry_at: float = 0.0
    last: _Failure | None = None

    def failed(self, failure: _Failure, now: float) -> None:
        self.failures += 1
        self.last = failure
        self.retry_at = now + min(BACKOFF_BASE_S * 2 ** (self.failures - 1), BACKOFF_MAX_S)

    def succeeded(self) -> None:
        self.failures, self.retry_at, self.last = 0, 0.0, None

    def waiting(self, now: float) -> float:
        return self.retry_at - now if self.last is not None and self.retry_at > now else 0.0


@dataclass
class _Link:
    """What wsfleet keeps for one host between sweeps."""

    conn: asyncssh.SSHClientConnection | None = None
    client: _HostClient | None = None
    reader: _CountReader | None = None
    reader_port: int | None = None
    reader_is_perl: bool = False
    no_perl: bool = False  # this host's shell could not start perl: open the sh loop (kept across reconnects)
    backoff: _Backoff = field(default_factory=_Backoff)

    @property
    def dropped(self) -> bool:
        return self.client is not None and self.client.lost

    def connected(self) -> bool:
        return self.conn is not None and not self.dropped

    def ready_for(self, port: int) -> bool:
        return self.connected() and self.reader is not None and not self.reader.closed and self.reader_port == port

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.conn is not None:
            self.conn.close()
        self.conn, self.client, self.reader, self.reader_port = None, None, None, None


def parse_jump_host(spec: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` (IPv6 as `[addr]:port`) -> (user, host, port)."""
    text = spec.strip()
    user = None
    if "@" in text:
        user, text = text.rsplit("@", 1)
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = int(p)
    else:
        host = text
    if not host or (port is not None and not 1 <= port <= 65535):
        raise ValueError(spec)
    return user or None, host, port


def _config_keywords(ssh: SshConfig) -> frozenset[str]:
    """The keywords (lower case) the ssh config file sets: `ssh.config_file`, else ~/.ssh/config.
    Read once per source; asyncssh applies the file itself, this only tells wsfleet what not to override."""
    config = os.path.expanduser(ssh.config_file) if ssh.config_file else os.path.expanduser("~/.ssh/config")
    try:
        with open(config, encoding="utf-8", errors="replace") as f:
            words = (re.split(r"[\s=]", line.strip(), maxsplit=1)[0].lower() for line in f)
            return frozenset(w for w in words if w and not w.startswith("#"))
    except OSError:
        return frozenset()


def _cipher_preference(config_keywords: frozenset[str]) -> list[str] | None:
    """AES-GCM first, then the rest of asyncssh's defaults; None (asyncssh's own order) when the ssh
    config names Ciphers, which then wins.

    A count is a few small packets, and asyncssh's chacha20-poly1305 builds three cipher contexts
    for each one where AES-GCM makes one call: on a 200-host first sweep the client's CPU went from
    0.39 s to 0.31 s, and each warm request's two packets (asyncssh sends an SSH_MSG_IGNORE before
    every data packet) cost a quarter less."""
    if "ciphers" in config_keywords:
        return None
    try:
        from asyncssh.encryption import get_default_encryption_algs
        defaults = [alg.decode("ascii") for alg in get_default_encryption_algs()]
    except (ImportError, AttributeError):  # an asyncssh without it: keep its own order
        return None
    first = [alg for alg in _PREFERRED_CIPHERS if alg in defaults]
    return first + [alg for alg in defaults if alg not in first] if first else None


_PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


def _own_private_file(path: str) -> bool:
    """Whether `path` is the user's own private key file: owned by them, readable by no one else
    (what OpenSSH demands of a private key). Such a key skips cryptography's RSA key validation,
    which exists for keys from elsewhere and took 20 ms a load here for an EC2 key pair's .pem
    (RSA 2048; 0.3 ms without). Any other file, say one a cloned repository's
    config points at, is validated: cryptography warns that OpenSSL may misbehave on a malformed
    RSA key loaded without the check."""
    try:
        st = os.stat(path)
    except OSError:
        return False  # load_keypairs says why
    getuid = getattr(os, "getuid", None)  # POSIX; elsewhere: validate
    return getuid is not None and st.st_uid == getuid() and not st.st_mode & 0o077


def _load_client_keys(ssh: SshConfig, config_keywords: frozenset[str]):
    """Load keys once for all connections.

    `ssh.key` -> that key (plus its -cert.pub), always. Without it, the default identities are
    loaded once too, unless an ssh config file names IdentityFile (then asyncssh resolves the key
    per host, as OpenSSH does). The agent is used in every case when SSH_AUTH_SOCK is set.
    """
    if ssh.key:
        path = os.path.expanduser(ssh.key)
        try:
            key = _read_private_key(path)
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            raise ConfigError(
                f"ssh.key {ssh.key}: cannot load it ({_reason(exc)}); give an unencrypted private key, "
                "or leave ssh.key out and use the SSH agent."
            ) from None
        try:
            return _with_certificate(key, path)
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            raise ConfigError(
                f"ssh.key {ssh.key}: its certificate {path}-cert.pub cannot be used ({_reason(exc)}); "
                "replace it with the one signed for this key, or remove it."
            ) from None
    if "identityfile" in config_keywords:
        install_key_cache()  # asyncssh resolves the key per host: each file is still read once
        return ()
    return _load_default_keys()


def _read_private_key(path: str):
    # Read here, not by load_keypairs(path): without a .pub beside the key, that reads the private
    # file a second time as a public key, validating an RSA key on each pass whatever it was asked
    # (40 ms of every command here for an EC2 .pem, RSA 2048).
    return asyncssh.read_private_key(path, unsafe_skip_rsa_key_validation=_own_private_file(path))


def _with_certificate(key, path: str) -> list:
    """`key` alone, or with the `-cert.pub` beside its file first and then alone (as OpenSSH offers it)."""
    cert = path + "-cert.pub"
    return asyncssh.load_keypairs([(key, cert)] if os.path.exists(cert) else [key])


def _load_default_keys() -> list:
    """The default identities (~/.ssh/id_ed25519, id_ecdsa, id_rsa ..., in asyncssh's order), each
    read as `ssh.key` is. One that cannot be used (encrypted: the agent holds it, if anything;
    unreadable, a format asyncssh does not read) is left out, as OpenSSH's client does, instead of
    failing the command."""
    paths = _default_key_paths()
    if paths is None:  # an asyncssh without its list: its own loader, which validates
        from asyncssh.public_key import load_default_keypairs

        try:
            return list(load_default_keypairs())
        except (OSError, asyncssh.KeyImportError, ValueError):
            return []
    keys: list = []
    for path in paths:
        if not os.path.exists(path):
            continue
        try:
            keys.extend(_with_certificate(_read_private_key(path), path))
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            log.info("default key %s left out: %s", path, _reason(exc))
    return keys


# ---------------------------------------------------------------- keys asyncssh loads per connection

_key_cache: dict[tuple, list] = {}
_key_cache_lock = threading.Lock()  # asyncssh builds a connection's options on an executor thread
_key_cache_installed: bool | None = None


def install_key_cache() -> bool:
    """Make the key files asyncssh loads for each connection (the ssh config's IdentityFile, and
    the default identities for a host that has none) load once a process instead.

    With the key in the ssh config rather than in `ssh.key`, asyncssh read and validated it again
    for every connection: 63 ms of client CPU a host here for an RSA 2048 key without a .pub (the
    private file read twice, each pass validated), 27x the rest of a login, so 100 hosts cost 6 s of
    CPU before their first count. Entries are keyed by the files' identity (inode, size, mtime of
    the key, its .pub and -cert.pub), so a key replaced on disk is read again; calls with a
    passphrase, key objects or other options pass through untouched. A key file that is the user's
    own (`_own_private_file`) is read without the RSA check, as `ssh.key` is. False, and asyncssh as
    it is, when its loaders are not where this expects them."""
    global _key_cache_installed
    if _key_cache_installed is not None:
        return _key_cache_installed
    try:
        import inspect

        from asyncssh import connection

        stock_load, stock_defaults = connection.load_keypairs, connection.load_default_keypairs
        if "unsafe_skip_rsa_key_validation" not in inspect.signature(stock_load).parameters:
            raise AttributeError("load_keypairs has no unsafe_skip_rsa_key_validation")
    except (ImportError, AttributeError, TypeError, ValueError):
        _key_cache_installed = False
        return False

    def load_keypairs(keylist, passphrase=None, certlist=(), skip_public=False, ignore_encrypted=False,
                      unsafe_skip_rsa_key_validation=None, loop=None):
        files = _key_paths(keylist)
        certs = _key_paths(certlist) if certlist else []
        if passphrase is not None or unsafe_skip_rsa_key_validation is not None or not files or certs is None:
            return stock_load(keylist, passphrase, certlist, skip_public, ignore_encrypted,
                              unsafe_skip_rsa_key_validation, loop=loop)
        key = ("files", _identities(files), _identities(certs), bool(skip_public), bool(ignore_encrypted))
        return _cached(key, lambda: stock_load(keylist, None, certlist, skip_public, ignore_encrypted,
                                               all(_own_private_file(f) for f in files) or None, loop=loop))

    def load_default_keypairs(passphrase=None, certlist=()):
        paths = _default_key_paths()
        if passphrase is not None or certlist or paths is None:
            return stock_defaults(passphrase, certlist)
        return _cached(("defaults", _identities(paths)), _load_default_keys)

    connection.load_keypairs, connection.load_default_keypairs = load_keypairs, load_default_keypairs
    _key_cache_installed = True
    return True


def _key_paths(items) -> list[str] | None:
    """`items` as file paths, or None when it holds anything else (key objects, bytes)."""
    if isinstance(items, (str, os.PathLike)):
        items = [items]
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, (str, os.PathLike)) for i in items):
        return None
    return [os.path.expanduser(os.fspath(i)) for i in items]


def _identities(paths: list[str]) -> tuple:
    def stat(path: str):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns
    return tuple((p, stat(p), stat(p + ".pub"), stat(p + "-cert.pub")) for p in paths)


def _cached(key: tuple, load) -> list:
    with _key_cache_lock:  # held while loading: the first sweep's connections must not each load it
        keys = _key_cache.get(key)
        if keys is None:
            keys = _key_cache[key] = list(load())  # a file that cannot be read raises, and is tried again
    return list(keys)


def _default_key_paths() -> list[str] | None:
    """asyncssh's default identity files (~/.ssh/...), in its order (None: this asyncssh has no such list)."""
    try:
        from asyncssh.public_key import _DEFAULT_KEY_FILES  # (file name, usable with this asyncssh)
        names = [name for name, usable in _DEFAULT_KEY_FILES if usable]
    except (ImportError, TypeError, ValueError):
        return None
    return [os.path.join(os.path.expanduser("~"), ".ssh", name) for name in names]


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _classify(exc: BaseException, target: CountTarget, timeout: float) -> _Failure:
    where = address_of(target)
    if isinstance(exc, _Failure):
        return exc
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return _Failure("timeout", f"no answer from {where} within {timeout:g} s (counts.timeout)")
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return _Failure("host-key", f"host key of {where} refused: {exc}")
    if isinstance(exc, asyncssh.PermissionDenied):
        return _Failure("auth", f"{where} refused every key offered (check ssh.user, ssh.key or the agent): {exc.reason}")
    if isinstance(exc, ConnectionRefusedError):
        return _Failure("refused", f"{where} refused the TCP connection (is sshd running on that port?)")
    if isinstance(exc, socket.gaierror):
        return _Failure("not-found", f"cannot resolve {target.host}: {exc.strerror}")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return _Failure("refused", f"the jump host could not reach {where}: {exc.reason}")
    if isinstance(exc, asyncssh.DisconnectError):
        return _Failure("refused", f"{where} closed the SSH connection: {exc.reason}")
    if isinstance(exc, (OSError, EOFError)):
        return _Failure("refused", f"cannot connect to {where}: {getattr(exc, 'strerror', None) or exc}")
    return _Failure("refused", f"cannot connect to {where}: {type(exc).__name__}: {exc}")
