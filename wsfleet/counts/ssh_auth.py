"""Public-key login in one round trip instead of three, for wsfleet's own SSH connections.

asyncssh, like OpenSSH's client, spends two round trips before it authenticates: a `none` request
(to learn which methods the server allows) and, for each key, a query without a signature (to
learn whether the server would take that key). RFC 4252 allows a client to skip both: start with
`publickey` and send the signature at once (section 7: "the client MAY ... send the signature
directly"); paramiko has always done so. A server that doesn't take the key, or doesn't allow
public keys, answers as it would have anyway: USERAUTH_FAILURE with the methods it allows, and
asyncssh goes on from there as usual (the next key, the agent).

On a fleet each new connection (first sweep, reconnect, bastion) saves two round trips of about
eight, and sshd does two fewer auth requests (measured here against OpenSSH 9.2: 16 instead of
19 ms of sshd CPU for a login plus one exec).

Not for every key: a key held by the SSH agent is still queried first, so the agent isn't asked
to sign for keys the server will refuse, and a security key (`sk-` algorithms) is never asked for
a touch the server will refuse. Not when there is no key to offer: `none` follows, and from the
server's answer on it is the stock flow (a server that needs no auth still lets us in). Not when
the user's settings put another method first (`PreferredAuthentications`, `PubkeyAuthentication
no`, GSS, host-based). Only connections whose client object asks for it (`enable`, as
`SignFirstClient` does) use this; every other asyncssh connection in the process keeps the stock
behaviour.

This leans on two asyncssh internals (the client's first method list and the public-key auth's
start); `install()` checks both and leaves asyncssh as it is when either is missing, so an
asyncssh release that changes them costs the round trips, not the login.
"""

from __future__ import annotations

import logging

import asyncssh

log = logging.getLogger(__name__)

_FLAG = "_wsfleet_sign_first"
_installed: bool | None = None


def install() -> bool:
    """Put the sign-first public-key auth in asyncssh's method table (once). False when this
    asyncssh lacks what it needs; then nothing changes."""
    global _installed
    if _installed is not None:
        return _installed
    try:
        from asyncssh import auth
        from asyncssh.packet import Boolean, String

        from asyncssh.connection import SSHClientConnection
        from asyncssh.public_key import SSHLocalKeyPair

        stock = auth._client_auth_handlers[b"publickey"]
        _ = (stock._start, stock._send_signed_request, auth.ClientAuth.send_request,  # all there?
             SSHClientConnection.public_key_auth_requested, SSHClientConnection.try_next_auth)
    except (ImportError, AttributeError, KeyError):
        log.info("asyncssh has no sign-first hook here; public-key logins take the stock round trips")
        _installed = False
        return False

    class _SignFirstPublicKeyAuth(stock):
        async def _start(self) -> None:
            if not getattr(self._conn, _FLAG, False):
                return await super()._start()
            self._keypair = await self._conn.public_key_auth_requested()
            if self._keypair is None:
                self._conn.try_next_auth(next_method=True)
            elif isinstance(self._keypair, SSHLocalKeyPair) and not self._keypair.algorithm.startswith(b"sk-"):
                await self._send_signed_request()  # a key file's key (not the agent's, not a security key)
            else:  # the stock query, unsigned
                await self.send_request(Boolean(False), String(self._keypair.algorithm), String(self._keypair.public_data))

    auth._client_auth_handlers[b"publickey"] = _SignFirstPublicKeyAuth
    _installed = True
    return True


def _publickey_goes_first(conn) -> bool:
    """Would asyncssh's first real method here be `publickey` anyway? (Public-key auth on, and no
    method the user prefers before it is in use: GSS, host-based, keyboard-interactive, password.)"""
    if not getattr(conn, "_public_key_auth", False):
        return False
    preferred = list(getattr(conn, "_preferred_auth", ()))
    if b"publickey" not in preferred:
        return False
    before = set(preferred[:preferred.index(b"publickey")])
    in_use = {
        b"gssapi-keyex": getattr(conn, "_gss_kex_auth", True),
        b"gssapi-with-mic": getattr(conn, "_gss_mic_auth", True),
        b"hostbased": getattr(conn, "_host_based_auth", True) and bool(getattr(conn, "_client_host_keys", True)),
    }
    return not any(in_use.get(method, True) for method in before)


def enable(conn) -> bool:
    """Called from the client object's `begin_auth`: this connection starts with `publickey`, then
    `none` (which only runs if there is no key to offer, and brings back the stock flow), and signs
    local keys at once. False, and nothing changed, when the hook isn't available or the user's
    settings put another method first."""
    if not install() or getattr(conn, "_auth_methods", None) != [b"none"] or not _publickey_goes_first(conn):
        return False
    conn._auth_methods = [b"publickey", b"none"]
    setattr(conn, _FLAG, True)
    return True


class SignFirstClient(asyncssh.SSHClient):
    """An asyncssh client object whose connection logs in the one-round-trip way (`enable`)."""

    def connection_made(self, conn) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> None:
        self.sign_first = enable(self._conn)
