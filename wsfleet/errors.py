"""The one exception type that crosses layers: a sentence a person can act on, and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDING = 1  # the check found a problem (imbalance, doctor finding)
EXIT_USAGE = 2  # usage or config error, refused confirmation, read-only refusal
EXIT_REMOTE = 3  # AWS or SSH failure


class WsfleetError(Exception):
    """An error shown to the user as one sentence (what failed, and what to do)."""

    exit_code = EXIT_REMOTE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(WsfleetError):
    """A wrong value in the config file or on the command line."""

    exit_code = EXIT_USAGE


class UsageError(WsfleetError):
    exit_code = EXIT_USAGE


class ReadOnlyError(WsfleetError):
    exit_code = EXIT_USAGE


class AwsError(WsfleetError):
    exit_code = EXIT_REMOTE


class RemoteError(WsfleetError):
    """SSH/SSM failure that stops a whole command (per-host failures are values, not this)."""

    exit_code = EXIT_REMOTE
