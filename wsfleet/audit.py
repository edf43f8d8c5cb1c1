"""The audit log: one JSON line per attempted write to AWS, appended, never rewritten.

Where: the config's top-level `audit_log`, else platformdirs' user log dir / audit.jsonl. Each line
goes out in ONE `os.write` on a file opened with O_APPEND, so a crash or a second wsfleet process
can never leave half a line or interleave two. Reading skips a line that is not JSON (a disk that
filled up) instead of failing the whole command.
"""

from __future__ import annotations

import json
import os
from collections import deque
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from wsfleet.errors import ConfigError
from wsfleet.model import AppConfig


def default_audit_path() -> Path:
    from platformdirs import user_log_path

    return user_log_path("wsfleet") / "audit.jsonl"


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    return str(value)


def encode_line(entry: Mapping[str, Any]) -> bytes:
    """One audit line: compact JSON, no raw newlines inside (json escapes them), one trailing newline."""
    return (json.dumps(entry, default=_json_default, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class AuditLog:
    """Append-only JSON lines at `path`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    @classmethod
    def for_config(cls, app: AppConfig | None) -> "AuditLog":
        configured = getattr(app, "audit_log", None) if app is not None else None
        return cls(configured if configured else default_audit_path())

    def check_writable(self) -> None:
        """Fail before a write to AWS, not after it, when the log cannot be appended to."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.close(fd)
        except OSError as exc:
            raise ConfigError(
                f"cannot append to the audit log {self.path} ({exc.strerror or exc}); "
                "fix its permissions or set `audit_log` in the config to a writable path."
            ) from None

    def append(self, entry: Mapping[str, Any]) -> None:
        data = encode_line(entry)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, data)
                if written != len(data):  # a full disk: say so rather than pretend
                    raise OSError(28, f"only {written} of {len(data)} bytes written")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ConfigError(
                f"could not append to the audit log {self.path} ({exc.strerror or exc}); "
                "the AWS change itself was made — note it by hand, and fix the log's path or permissions."
            ) from None

    def entries(self) -> Iterable[dict[str, Any]]:
        try:
            with self.path.open("r", encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(entry, dict):
                        yield entry
        except FileNotFoundError:
            return

    def recent(self, n: int = 20) -> list[dict[str, Any]]:
        """The last `n` entries, oldest first."""
        if n <= 0:
            return []
        return list(deque(self.entries(), maxlen=n))
