"""The TOML configuration: find it, read it, check every value, build the model's dataclasses.

The one I/O here is reading the config file. Every wrong value is refused with one ConfigError
sentence in the form "<file>: <dotted.key>: <problem>; <what is allowed>." so a person can go
straight to the line. Thresholds and step bounds are absolute connection counts (DESIGN).

Defaults are the seed's values (the model's dataclass defaults), with two conveniences:
`datapoints_to_alarm` defaults to `evaluation_periods` (as in AWS when it is left out), and when
`scale_out.threshold` is set without `steps`, the seed's steps move with it, keeping their
widths (rule 2).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from platformdirs import user_config_path

from wsfleet import cron
from wsfleet.errors import ConfigError
from wsfleet.model import (
    ADDRESS_KINDS,
    COUNT_SOURCES,
    HOST_KEY_POLICIES,
    POOL_STATES,
    TREAT_MISSING_DATA,
    AppConfig,
    CountsConfig,
    DoctorConfig,
    FleetConfig,
    MetricSpec,
    ScaleInConfig,
    ScaleOutConfig,
    ScheduledActionConfig,
    SshConfig,
    SshHost,
    StepRange,
    UiConfig,
    WarmPoolConfig,
)
from wsfleet.scaling import shift_steps, step_problems

CONFIG_ENV = "WSFLEET_CONFIG"
LOCAL_CONFIG = "wsfleet.toml"
EXAMPLE_HINT = "copy config/wsfleet.example.toml from the wsfleet repository, or try `wsfleet demo`"

STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
)  # CloudWatch's StandardUnit values
NAME_PLACEHOLDERS = ("env", "app", "asg")
MAX_ALARM_SPAN = 86400  # AWS: period x evaluation periods cannot exceed one day


class ConfigNotFoundError(ConfigError):
    """No config file in any of the places searched (commands with sensible defaults catch this)."""

    def __init__(self, message: str, searched: list[Path]) -> None:
        super().__init__(message)
        self.searched = searched


# --------------------------------------------------------------------------- finding the file


def config_search_paths() -> list[Path]:
    """Where `load_config()` looks when no path is given, first found wins.

    $WSFLEET_CONFIG (when set), ./wsfleet.toml, then the user config dir's config.toml.
    """
    paths: list[Path] = []
    env = os.environ.get(CONFIG_ENV)
    if env:
        paths.append(Path(env).expanduser())
    paths.append(Path.cwd() / LOCAL_CONFIG)
    paths.append(user_config_path("wsfleet") / "config.toml")
    return paths


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Read and check the config: `path` (e.g. --config), else the first file of config_search_paths().

    A path given explicitly (argument or $WSFLEET_CONFIG) must exist. When none of the default
    places holds a file, ConfigNotFoundError names every place searched.
    """
    if path is not None:
        return _load_file(Path(path).expanduser(), "--config")
    env = os.environ.get(CONFIG_ENV)
    if env:
        return _load_file(Path(env).expanduser(), f"${CONFIG_ENV}")
    searched = config_search_paths()
    for candidate in searched:
        if candidate.is_file():
            return _load_file(candidate, "")
    places = ", ".join(str(p) for p in searched)
    raise ConfigNotFoundError(
        f"no config file found (searched {places}); pass --config PATH, set ${CONFIG_ENV}, or {EXAMPLE_HINT}.",
        searched,
    )


def _load_file(path: Path, given_by: str) -> AppConfig:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        by = f" (given by {given_by})" if given_by else ""
        raise ConfigError(f"{path}: config file not found{by}; check the path, or {EXAMPLE_HINT}.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file; point to the .toml file itself.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc}); check its permissions.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the config file as UTF-8.") from None
    return parse_config(text, str(path))


# --------------------------------------------------------------------------- choosing a fleet


def select_fleet(app: AppConfig, name: str | None) -> FleetConfig:
    """The fleet `name` (e.g. --fleet), else `default_fleet`, else the only one."""
    where = app.path or "config"
    names = sorted(app.fleets)
    if name is not None:
        if name in app.fleets:
            return app.fleets[name]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        raise ConfigError(f'{where}: no fleet named "{name}"; {hint}the fleets are: {", ".join(names)}.')
    if app.default_fleet is not None:
        return app.fleets[app.default_fleet]
    if len(app.fleets) == 1:
        return next(iter(app.fleets.values()))
    raise ConfigError(
        f"{where}: several fleets ({', '.join(names)}) and no default_fleet; pick one with --fleet NAME "
        f'or set default_fleet = "{names[0]}" at the top of the file.'
    )


# --------------------------------------------------------------------------- parsing


def parse_config(text: str, source: str = "<string>") -> AppConfig:
    """Parse and check config text; `source` names it in errors (and anchors relative paths when it is a file)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_error(source, str(exc))) from None
    base = None if source.startswith("<") else Path(source).expanduser().resolve().parent
    return _Parser(source, base).app(data)


def _syntax_error(source: str, message: str) -> str:
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    problem = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message).rstrip(".")
    if match:
        where = f"line {match[1]}, column {match[2]}"
    elif "end of document" in message:
        where = "end of file"
    else:
        where = "TOML"
    problem = problem[:1].lower() + problem[1:]
    return f"{source}: {where}: invalid TOML: {problem}; fix the syntax (strings in quotes, one key = value a line, [tables] in brackets)."


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


class _Parser:
    """Walks the TOML document; `path` is the dotted key of the table being read."""

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

    # ------------------------------------------------------------------ the document

    def app(self, data: dict[str, Any]) -> AppConfig:
        root = self.table(data, (), ("fleets", "default_fleet", "audit_log", "ui"))
        fleets_data = root.get("fleets")
        if fleets_data is None:
            raise self.fail(("fleets",), "no fleet is defined", 'add a [fleets.NAME] table with at least asg = "your-asg-name"')
        if not isinstance(fleets_data, dict):
            raise self.fail(("fleets",), f"is {_toml_type(fleets_data)}", "it must be tables: [fleets.NAME]")
        if not fleets_data:
            raise self.fail(("fleets",), "no fleet is defined", 'add a [fleets.NAME] table with at least asg = "your-asg-name"')
        fleets = {name: self.fleet(name, body) for name, body in fleets_data.items()}
        default = self.string(root, (), "default_fleet", None)
        if default is not None and default not in fleets:
            close = difflib.get_close_matches(default, list(fleets), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise self.fail(("default_fleet",), f'"{default}" is not a fleet in this file{hint}', f"name one of: {', '.join(sorted(fleets))}")
        return AppConfig(
            fleets=fleets,
            default_fleet=default,
            audit_log=self.file_path(root, (), "audit_log", None),
            ui=self.ui(root.get("ui", {})),
            path=None if self.source.startswith("<") else self.source,
        )

    def ui(self, data: Any) -> UiConfig:
        path = ("ui",)
        t = self.table(data, path, ("theme", "scale_step", "keymap"))
        keymap_data = t.get("keymap", {})
        if not isinstance(keymap_data, dict):
            raise self.fail(path + ("keymap",), f"is {_toml_type(keymap_data)}", 'it must be a table of binding id = "keys", e.g. scale_out = "o"')
        keymap: dict[str, str] = {}
        for binding, keys in keymap_data.items():
            if not re.match(r"^[A-Za-z0-9_.-]+$", binding):
                raise self.fail(path + ("keymap", binding), "is not a binding id", "binding ids are letters, digits, _ . and -, e.g. scale_out")
            keymap[binding] = self.string(keymap_data, path + ("keymap",), binding, allowed='write the keys in quotes, e.g. "ctrl+o" or "o,ctrl+o"')
        defaults = UiConfig()
        return UiConfig(
            theme=self.string(t, path, "theme", defaults.theme),
            keymap=keymap,
            scale_step=self.integer(t, path, "scale_step", defaults.scale_step, low=1),
        )

    def fleet(self, name: str, data: Any) -> FleetConfig:
        path = ("fleets", name)
        allowed = tuple(f.name for f in fields(FleetConfig) if f.name != "name")
        t = self.table(data, path, allowed, what=f"a table: [fleets.{name}]")
        d = FleetConfig(name=name, asg="-")
        asg = self.string(t, path, "asg", allowed='write the Auto Scaling group name in quotes, e.g. asg = "prod-chat-asg"')
        if len(asg) > 255:
            raise self.fail(path + ("asg",), "is longer than 255 characters", "Auto Scaling group names are 1 to 255 characters")
        region = self.string(t, path, "region", None, allowed='write an AWS region name in quotes, e.g. "us-east-1"')
        if region is not None and not re.match(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$", region):
            raise self.fail(path + ("region",), f'"{region}" is not an AWS region name', 'write one like "us-east-1" or "eu-central-1"')
        endpoint = self.string(t, path, "endpoint_url", None, allowed='write a URL in quotes, e.g. "http://127.0.0.1:5000"')
        if endpoint is not None:
            self.check_url(path + ("endpoint_url",), endpoint)
        scale_out = self.scale_out(t.get("scale_out", {}), path + ("scale_out",))
        scale_in = self.scale_in(t.get("scale_in", {}), path + ("scale_in",))
        if scale_in.threshold >= scale_out.threshold:
            where = path + ("scale_in", "threshold")
            raise self.fail(
                where,
                f"{_show(scale_in.threshold)} is not below the scale-out threshold {_show(scale_out.threshold)}",
                "the low (scale-in) threshold must be lower than the high (scale-out) one, or the group scales in and out at once",
            )
        return FleetConfig(
            name=name,
            asg=asg,
            region=region,
            profile=self.string(t, path, "profile", None),
            endpoint_url=endpoint,
            env=self.string(t, path, "env", d.env),
            app=self.string(t, path, "app", d.app),
            port=self.integer(t, path, "port", d.port, low=1, high=65535, allowed="a TCP port from 1 to 65535"),
            capacity=self.integer(t, path, "capacity", d.capacity, low=1, allowed="a whole number of connections of at least 1 (the per-instance ceiling)"),
            metric=self.metric(t.get("metric", {}), path + ("metric",)),
            counts=self.counts(t.get("counts", {}), path + ("counts",)),
            ssh=self.ssh(t.get("ssh", {}), path + ("ssh",)),
            scale_out=scale_out,
            scale_in=scale_in,
            warm_pool=None if "warm_pool" not in t else self.warm_pool(t["warm_pool"], path + ("warm_pool",)),
            schedule=self.schedule(t.get("schedule", []), path + ("schedule",)),
            doctor=self.doctor(t.get("doctor", {}), path + ("doctor",)),
        )

    def check_url(self, path: tuple[str, ...], url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise self.fail(path, f'"{url}" is not an http(s) URL', 'write one like "http://127.0.0.1:5000" or "https://localhost:4566"')
        try:
            parsed.port
        except ValueError:
            raise self.fail(path, f'"{url}" has a bad port', "ports are 1 to 65535") from None

    def metric(self, data: Any, path: tuple[str, ...]) -> MetricSpec:
        d = MetricSpec()
        t = self.table(data, path, tuple(f.name for f in fields(MetricSpec)))
        namespace = self.string(t, path, "namespace", d.namespace)
        if namespace.startswith("AWS/"):
            raise self.fail(path + ("namespace",), f'"{namespace}" is an AWS namespace', 'custom metrics need their own namespace, e.g. "TCP_Connections"')
        if len(namespace) > 255:
            raise self.fail(path + ("namespace",), "is longer than 255 characters", "CloudWatch namespaces are 1 to 255 characters")
        return MetricSpec(
            namespace=namespace,
            name=self.string(t, path, "name", d.name),
            statistic=self.choice(t, path, "statistic", STATISTICS, d.statistic),
            dimension=self.string(t, path, "dimension", d.dimension),
            unit=self.choice(t, path, "unit", UNITS, d.unit, allowed='use a CloudWatch unit such as "Count", "Count/Second" or "None" (StandardUnit)'),
        )

    def counts(self, data: Any, path: tuple[str, ...]) -> CountsConfig:
        d = CountsConfig()
        t = self.table(data, path, tuple(f.name for f in fields(CountsConfig)))
        return CountsConfig(
            source=self.choice(t, path, "source", COUNT_SOURCES, d.source),
            interval=self.number(t, path, "interval", d.interval, positive=True, allowed="a number of seconds above 0"),
            timeout=self.number(t, path, "timeout", d.timeout, positive=True, allowed="a number of seconds above 0"),
            concurrency=self.integer(t, path, "concurrency", d.concurrency, low=1, allowed="a whole number of hosts of at least 1"),
            max_skew=self.number(t, path, "max_skew", d.max_skew, low=1.0, allowed="a number of at least 1.0 (the largest acceptable max/mean)"),
        )

    def doctor(self, data: Any, path: tuple[str, ...]) -> DoctorConfig:
        d = DoctorConfig()
        t = self.table(data, path, tuple(f.name for f in fields(DoctorConfig)))
        return DoctorConfig(
            silent_after=self.number(
                t, path, "silent_after", d.silent_after, positive=True,
                allowed="a number of seconds above 0 (how long a connection may carry no data before doctor counts it as left behind)",
            ),
        )

    def ssh(self, data: Any, path: tuple[str, ...]) -> SshConfig:
        d = SshConfig()
        t = self.table(data, path, tuple(f.name for f in fields(SshConfig)))
        port = self.integer(t, path, "port", d.port, low=1, high=65535, allowed="a TCP port from 1 to 65535")
        return SshConfig(
            user=self.string(t, path, "user", d.user),
            key=self.file_path(t, path, "key", d.key),
            address=self.choice(t, path, "address", ADDRESS_KINDS, d.address),
            port=port,
            jump_host=self.string(t, path, "jump_host", d.jump_host, allowed='write a host in quotes, e.g. "bastion.example.com" or "user@bastion:2222"'),
            known_hosts=self.file_path(t, path, "known_hosts", d.known_hosts),
            host_keys=self.choice(t, path, "host_keys", HOST_KEY_POLICIES, d.host_keys),
            config_file=self.file_path(t, path, "config_file", d.config_file),
            hosts=self.ssh_hosts(t.get("hosts", {}), path + ("hosts",), port),
        )

    def ssh_hosts(self, data: Any, path: tuple[str, ...], default_port: int) -> dict[str, SshHost]:
        if not isinstance(data, dict):
            raise self.fail(path, f"is {_toml_type(data)}", 'it must be a table of instance id = "host:port"')
        hosts: dict[str, SshHost] = {}
        for instance_id, value in data.items():
            where = path + (instance_id,)
            if not re.match(r"^i-[0-9a-zA-Z]+$", instance_id):
                raise self.fail(where, f'"{instance_id}" is not an EC2 instance id', 'keys are instance ids such as "i-0abc1234"')
            if isinstance(value, str):
                host, port = self.host_port(where, value, default_port)
                hosts[instance_id] = SshHost(host=host, port=port)
            elif isinstance(value, dict):
                entry = self.table(value, where, ("address", "service_port"))
                address = self.string(entry, where, "address", allowed='write "host:port" in quotes, e.g. "127.0.0.1:2202"')
                host, port = self.host_port(where + ("address",), address, default_port)
                service_port = self.integer(entry, where, "service_port", None, low=1, high=65535, allowed="a TCP port from 1 to 65535")
                hosts[instance_id] = SshHost(host=host, port=port, service_port=service_port)
            else:
                raise self.fail(where, f"is {_toml_type(value)} ({_show(value)})", 'write "host:port", or a table { address = "host:port", service_port = N }')
        return hosts

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

    def alarm_common(self, t: dict[str, Any], path: tuple[str, ...], d: Any) -> dict[str, Any]:
        period = self.integer(t, path, "period", d.period, low=1, allowed="10, 30 or a multiple of 60 (seconds)")
        if period not in (10, 30) and period % 60:
            raise self.fail(path + ("period",), f"{period} seconds is not an alarm period CloudWatch accepts", "use 10, 30 or a multiple of 60 (seconds)")
        evaluation_periods = self.integer(t, path, "evaluation_periods", d.evaluation_periods, low=1, allowed="a whole number of periods of at least 1")
        if period * evaluation_periods > MAX_ALARM_SPAN:
            raise self.fail(
                path + ("evaluation_periods",),
                f"{evaluation_periods} periods of {period} s span {period * evaluation_periods} s",
                f"period x evaluation_periods cannot exceed one day ({MAX_ALARM_SPAN} s)",
            )
        datapoints = self.integer(t, path, "datapoints_to_alarm", evaluation_periods, low=1, allowed=f"a whole number from 1 to evaluation_periods ({evaluation_periods})")
        if datapoints > evaluation_periods:
            raise self.fail(
                path + ("datapoints_to_alarm",),
                f"{datapoints} is more than evaluation_periods ({evaluation_periods})",
                f"the alarm needs M of N datapoints: use a whole number from 1 to {evaluation_periods}",
            )
        return dict(
            period=period,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=self.choice(t, path, "treat_missing_data", TREAT_MISSING_DATA, d.treat_missing_data),
            alarm_name=self.name_template(t, path, "alarm_name", d.alarm_name),
            policy_name=self.name_template(t, path, "policy_name", d.policy_name),
        )

    def scale_out(self, data: Any, path: tuple[str, ...]) -> ScaleOutConfig:
        d = ScaleOutConfig()
        t = self.table(data, path, tuple(f.name for f in fields(ScaleOutConfig)))
        threshold = self.number(t, path, "threshold", d.threshold, positive=True, allowed="a number of connections above 0 (absolute, per instance on average)")
        common = self.alarm_common(t, path, d)
        if "steps" in t:
            steps = self.steps(t["steps"], path + ("steps",))
        else:
            steps = shift_steps(d.threshold, threshold, d.steps)  # rule 2: the seed's widths move with the threshold
        for index, field_name, sentence in step_problems(threshold, steps):
            where = path + ("steps",) if index is None else path + ("steps", f"[{index}]") + ((field_name,) if field_name else ())
            raise ConfigError(f"{self.source}: {_key(where)}: {sentence}.")  # the sentence says what is allowed
        return ScaleOutConfig(
            threshold=threshold,
            warmup=self.integer(t, path, "warmup", d.warmup, low=0, allowed="a whole number of seconds of at least 0"),
            steps=steps,
            **common,
        )

    def steps(self, data: Any, path: tuple[str, ...]) -> tuple[StepRange, ...]:
        shape = "a list of { from = N, to = N, add = N }, the last without `to`"
        if not isinstance(data, list):
            raise self.fail(path, f"is {_toml_type(data)}", f"it must be {shape}")
        steps: list[StepRange] = []
        for i, item in enumerate(data):
            where = path + (f"[{i}]",)
            t = self.table(item, where, ("from", "to", "add"), what="a table { from = N, to = N, add = N }")
            lower = self.number(t, where, "from", allowed="a number of connections (absolute)")
            upper = self.number(t, where, "to", None, allowed="a number of connections (absolute); leave it out on the last step")
            add = self.integer(t, where, "add", low=1, allowed="a whole number of instances of at least 1")
            steps.append(StepRange(lower=lower, upper=upper, add=add))
        return tuple(steps)

    def scale_in(self, data: Any, path: tuple[str, ...]) -> ScaleInConfig:
        d = ScaleInConfig()
        t = self.table(data, path, tuple(f.name for f in fields(ScaleInConfig)))
        threshold = self.number(t, path, "threshold", d.threshold, positive=True, allowed="a number of connections above 0 (absolute, per instance on average)")
        return ScaleInConfig(
            threshold=threshold,
            remove=self.integer(t, path, "remove", d.remove, low=1, allowed="a whole number of instances of at least 1"),
            cooldown=self.integer(t, path, "cooldown", d.cooldown, low=0, allowed="a whole number of seconds of at least 0"),
            **self.alarm_common(t, path, d),
        )

    def warm_pool(self, data: Any, path: tuple[str, ...]) -> WarmPoolConfig:
        d = WarmPoolConfig()
        t = self.table(data, path, tuple(f.name for f in fields(WarmPoolConfig)))
        return WarmPoolConfig(
            min_size=self.integer(t, path, "min_size", d.min_size, low=0, allowed="a whole number of instances of at least 0"),
            max_prepared_capacity=self.integer(
                t, path, "max_prepared_capacity", d.max_prepared_capacity, low=0,
                allowed="a whole number of instances of at least 0, or leave it out for the group's max size",
            ),
            pool_state=self.choice(t, path, "pool_state", POOL_STATES, d.pool_state),
            reuse_on_scale_in=self.boolean(t, path, "reuse_on_scale_in", d.reuse_on_scale_in),
        )

    def schedule(self, data: Any, path: tuple[str, ...]) -> tuple[ScheduledActionConfig, ...]:
        if not isinstance(data, list):
            raise self.fail(path, f"is {_toml_type(data)}", f"write each scheduled action as [[{_key(path)}]]")
        actions: list[ScheduledActionConfig] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(data):
            action = self.scheduled_action(item, path + (f"[{i}]",))
            if action.name in seen:
                raise self.fail(path + (f"[{i}]", "name"), f'"{action.name}" is also the name of schedule[{seen[action.name]}]', "give every scheduled action its own name")
            seen[action.name] = i
            actions.append(action)
        return tuple(actions)

    def scheduled_action(self, data: Any, path: tuple[str, ...]) -> ScheduledActionConfig:
        t = self.table(data, path, tuple(f.name for f in fields(ScheduledActionConfig)))
        name = self.string(t, path, "name", allowed='give the action a name in quotes, e.g. name = "weekday-morning"')
        if len(name) > 255:
            raise self.fail(path + ("name",), "is longer than 255 characters", "scheduled action names are 1 to 255 characters")
        recurrence = self.string(t, path, "recurrence", None, allowed='write a 5-field cron expression in quotes, e.g. "0 7 * * MON-FRI"')
        if recurrence is not None:
            self.wrap(path + ("recurrence",), lambda: cron.parse_cron(recurrence))
        time_zone = self.string(t, path, "time_zone", None, allowed='write an IANA time zone in quotes, e.g. "Europe/Berlin"')
        if time_zone is not None:
            self.wrap(path + ("time_zone",), lambda: cron.zone(time_zone))
        sizes = {k: self.integer(t, path, k, None, low=0, allowed="a whole number of instances of at least 0") for k in ("min_size", "max_size", "desired_capacity")}
        start = self.moment(t, path, "start_time")
        end = self.moment(t, path, "end_time")
        if all(v is None for v in sizes.values()):
            raise self.fail(path, "sets no capacity", "give at least one of min_size, max_size, desired_capacity")
        if recurrence is None and start is None:
            raise self.fail(path, "has neither recurrence nor start_time", 'give recurrence = "0 7 * * MON-FRI" (repeating) or start_time (once)')
        low, high, desired = sizes["min_size"], sizes["max_size"], sizes["desired_capacity"]
        if low is not None and high is not None and low > high:
            raise self.fail(path + ("min_size",), f"{low} is above max_size {high}", "min_size must not exceed max_size")
        if desired is not None and ((low is not None and desired < low) or (high is not None and desired > high)):
            span = f"{low if low is not None else 0}..{high if high is not None else 'max'}"
            raise self.fail(path + ("desired_capacity",), f"{desired} is outside min_size..max_size ({span})", "desired_capacity must lie within min_size and max_size")
        if start is not None and end is not None and end <= start:
            raise self.fail(path + ("end_time",), f"{end.isoformat()} is not after start_time {start.isoformat()}", "end_time must be later than start_time")
        return ScheduledActionConfig(name=name, recurrence=recurrence, time_zone=time_zone, start_time=start, end_time=end, **sizes)

    def moment(self, t: dict[str, Any], path: tuple[str, ...], key: str) -> datetime | None:
        """A TOML date-time or an ISO 8601 string; without an offset it is taken as UTC (as AWS does)."""
        if key not in t:
            return None
        value = t[key]
        allowed = "write a date-time such as 2026-12-24T07:00:00Z (without an offset it is UTC)"
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.fail(path + (key,), f'"{value}" is not an ISO 8601 date-time', allowed) from None
        if not isinstance(value, datetime):
            raise self.fail(path + (key,), f"is {_toml_type(value)} ({_show(value)})", allowed)
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)

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
