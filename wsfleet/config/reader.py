"""The primitives every config section reads with: typed getters that refuse a wrong value in one sentence.

Each refusal is a ConfigError "<file>: <dotted.key>: <problem>; <what is allowed>." (see wsfleet.config).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from wsfleet.errors import ConfigError

NAME_PLACEHOLDERS = ("env", "app", "asg")


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(parts: tuple[str, ...]) -> str:
    out = ""
    for part in parts:
        if part.startswith("["):
            out += part
            continue
        piece = part if _BARE_KEY.match(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += ("." if out else "") + piece
    return out


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, (date, time)):
        return "a date" if isinstance(value, date) else "a time"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_MISSING = object()


class Reader:
    """The getters and checks every section reads with; `path` is the dotted key of the table being read."""

    def __init__(self, source: str, base: Path | None) -> None:
        self.source = source
        self.base = base

    # ------------------------------------------------------------------ error helpers

    def fail(self, path: tuple[str, ...], problem: str, allowed: str) -> ConfigError:
        where = _key(path) if path else "(top level)"
        return ConfigError(f"{self.source}: {where}: {problem}; {allowed}.")

    def table(self, data: Any, path: tuple[str, ...], allowed: tuple[str, ...], *, what: str = "a table") -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(path, f"is {_toml_type(data)}", f"it must be {what}")
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                raise self.fail(path + (key,), f"unknown key{hint}", f"the keys allowed here are: {', '.join(allowed)}")
        return data

    # ------------------------------------------------------------------ typed getters

    def get(self, t: dict[str, Any], path: tuple[str, ...], key: str, default: Any = _MISSING) -> Any:
        if key in t:
            return t[key]
        if default is _MISSING:
            raise self.fail(path + (key,), "is missing", "this key is required")
        return default

    def string(self, t, path, key, default: Any = _MISSING, *, allowed: str = "write it as text in quotes") -> Any:
        value = self.get(t, path, key, default)
        if key not in t:
            return value
        if not isinstance(value, str):
            raise self.fail(path + (key,), f"is {_toml_type(value)} ({_show(value)})", allowed)
        if not value.strip():
            raise self.fail(path + (key,), "is empty", allowed)
        return value

    def integer(self, t, path, key, default: Any = _MISSING, *, low: int | None = None, high: int | None = None, allowed: str | None = None) -> Any:
        value = self.get(t, path, key, default)
        if key not in t:
            return value
        allowed = allowed or _range_text("a whole number", low, high)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path + (key,), f"is {_toml_type(value)} ({_show(value)})", allowed)
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(path + (key,), f"{value} is out of range", allowed)
        return value

    def number(self, t, path, key, default: Any = _MISSING, *, positive: bool = False, low: float | None = None, allowed: str | None = None) -> Any:
        value = self.get(t, path, key, default)
        if key not in t:
            return value
        allowed = allowed or ("a number above 0" if positive else _range_text("a number", low, None))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(path + (key,), f"is {_toml_type(value)} ({_show(value)})", allowed)
        if (positive and value <= 0) or (low is not None and value < low):
            raise self.fail(path + (key,), f"{_show(value)} is out of range", allowed)
        return int(value) if isinstance(value, float) and value.is_integer() else value

    def boolean(self, t, path, key, default: Any = _MISSING) -> Any:
        value = self.get(t, path, key, default)
        if key in t and not isinstance(value, bool):
            raise self.fail(path + (key,), f"is {_toml_type(value)} ({_show(value)})", "write true or false (no quotes)")
        return value

    def choice(self, t, path, key, choices: tuple[str, ...], default: Any = _MISSING, *, allowed: str | None = None) -> Any:
        value = self.get(t, path, key, default)
        if key not in t:
            return value
        allowed = allowed or "use one of " + ", ".join(f'"{c}"' for c in choices)
        if not isinstance(value, str):
            raise self.fail(path + (key,), f"is {_toml_type(value)} ({_show(value)})", allowed)
        if value not in choices:
            close = [c for c in choices if c.lower() == value.lower()] or difflib.get_close_matches(value, choices, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise self.fail(path + (key,), f'"{value}" is not a valid value{hint}', allowed)
        return value

    def file_path(self, t, path, key, default: Any = _MISSING) -> Any:
        value = self.string(t, path, key, default, allowed="write a file path in quotes; ~ is your home directory")
        if key not in t:
            return value
        expanded = Path(os.path.expanduser(value))
        if not expanded.is_absolute() and self.base is not None:
            expanded = self.base / expanded  # relative to the config file, not to wherever wsfleet runs
        return str(expanded)

    def name_template(self, t, path, key, default: str) -> str:
        value = self.string(t, path, key, default)
        if key in t:
            try:
                value.format(**{p: "x" for p in NAME_PLACEHOLDERS})
            except (KeyError, IndexError, ValueError) as exc:
                raise self.fail(path + (key,), f"has a bad placeholder ({exc})", "use only {env}, {app} and {asg} in braces") from None
        return value

    # ------------------------------------------------------------------ checks

    def check_url(self, path: tuple[str, ...], url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise self.fail(path, f'"{url}" is not an http(s) URL', 'write one like "http://127.0.0.1:5000" or "https://localhost:4566"')
        try:
            parsed.port
        except ValueError:
            raise self.fail(path, f'"{url}" has a bad port', "ports are 1 to 65535") from None

    def host_port(self, path: tuple[str, ...], text: str, default_port: int) -> tuple[str, int]:
        allowed = 'write "host:port", e.g. "127.0.0.1:2201" or "[::1]:2201"'
        match = re.match(r"^\[(?P<v6>[0-9A-Fa-f:.%a-z]+)\](?::(?P<p6>[^:]*))?$", text) or re.match(r"^(?P<host>[^:\s\[\]]+)(?::(?P<port>[^:]*))?$", text)
        if not match:
            raise self.fail(path, f'"{text}" is not host:port', allowed)
        host = match.groupdict().get("v6") or match.groupdict().get("host")
        port_text = match.groupdict().get("p6") if match.groupdict().get("v6") else match.groupdict().get("port")
        if port_text is None:
            return host, default_port
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise self.fail(path, f'"{text}" has port "{port_text}"', "ports are 1 to 65535")
        return host, int(port_text)

    def wrap(self, path: tuple[str, ...], check: Callable[[], Any]) -> Any:
        """Run a check whose ConfigError already says what is wrong and what to do; add file and key."""
        try:
            return check()
        except ConfigError as exc:
            raise ConfigError(f"{self.source}: {_key(path)}: {str(exc).rstrip('.')}.") from None


def _range_text(kind: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}"
    if low is not None:
        return f"{kind} of at least {low}"
    if high is not None:
        return f"{kind} of at most {high}"
    return kind
