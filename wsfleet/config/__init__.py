"""The TOML configuration: find it, read it, check every value, build the model's dataclasses.

The one I/O here is reading the config file. Every wrong value is refused with one ConfigError
sentence in the form "<file>: <dotted.key>: <problem>; <what is allowed>." so a person can go
straight to the line. Thresholds and step bounds are absolute connection counts (DESIGN).

Defaults are the seed's values (the model's dataclass defaults), with two conveniences:
`datapoints_to_alarm` defaults to `evaluation_periods` (as in AWS when it is left out), and when
`scale_out.threshold` is set without `steps`, the seed's steps move with it, keeping their
widths (rule 2).

Each section's rules live in their own module (fleet, counts, scaling, warm_pool, schedule, doctor)
over the shared getters in `reader`; `_Parser` at the end composes them.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path

from platformdirs import user_config_path

from wsfleet.config.counts import CountsSection
from wsfleet.config.doctor import DoctorSection
from wsfleet.config.fleet import FleetSection
from wsfleet.config.scaling import ScalingSection
from wsfleet.config.schedule import ScheduleSection
from wsfleet.config.warm_pool import WarmPoolSection
from wsfleet.errors import ConfigError
from wsfleet.model import AppConfig, FleetConfig

CONFIG_ENV = "WSFLEET_CONFIG"
LOCAL_CONFIG = "wsfleet.toml"
EXAMPLE_HINT = "copy config/wsfleet.example.toml from the wsfleet repository, or try `wsfleet demo`"


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


class _Parser(FleetSection, CountsSection, ScalingSection, WarmPoolSection, ScheduleSection, DoctorSection):
    """Walks the TOML document; `path` is the dotted key of the table being read."""
