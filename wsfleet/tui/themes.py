"""Themes are files: the bundled `themes/*.toml`, then the user's `<config dir>/wsfleet/themes/*.toml`.

Each file holds the keyword arguments of `textual.theme.Theme` (name, primary, …, [variables]).
A user file with the same name as a bundled theme replaces it. A broken file is skipped and
reported, never fatal: the dashboard must open during an incident.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from textual.theme import Theme

DEFAULT_THEME = "wsfleet-dark"
# The repository's themes: in a checkout or an editable install next to the package, in a
# non-editable install under <prefix>/share/wsfleet/themes (pyproject's data-files).
_CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "themes"
_INSTALLED_DIR = Path(sys.prefix) / "share" / "wsfleet" / "themes"
BUNDLED_DIR = _CHECKOUT_DIR if _CHECKOUT_DIR.is_dir() else _INSTALLED_DIR
# Short names accepted in config (`ui.theme = "light"`).
ALIASES = {"dark": "wsfleet-dark", "light": "wsfleet-light", "ansi": "wsfleet-ansi"}
# Textual's own, should the theme files be missing altogether: the dashboard still opens.
FALLBACKS = {"wsfleet-dark": "textual-dark", "wsfleet-light": "textual-light", "wsfleet-ansi": "ansi-dark"}


def user_themes_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path("wsfleet") / "themes"


@dataclass
class LoadedThemes:
    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one sentence per skipped file
    origin: dict[str, Path] = field(default_factory=dict)


def load_theme_file(path: Path) -> Theme:
    """One theme file -> Theme; ValueError with one sentence when it is not a theme."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"theme file {path} cannot be read ({exc}); fix or remove it.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"theme file {path} is not valid TOML ({exc}); fix or remove it.") from None
    if not isinstance(data.get("name"), str) or not data.get("name"):
        raise ValueError(f"theme file {path} has no `name = \"...\"`; add one.")
    if not isinstance(data.get("primary"), str):
        raise ValueError(f"theme file {path} has no `primary` colour; add one, e.g. primary = \"#5EA1FF\".")
    try:
        theme = Theme(**data)
        theme.to_color_system().generate()  # parse every colour now, not at first paint
    except TypeError as exc:
        raise ValueError(f"theme file {path} has a key Theme does not take ({exc}); remove it.") from None
    except Exception as exc:  # Textual's colour parser raises its own types
        raise ValueError(f"theme file {path} has a colour Textual cannot read ({exc}); fix it.") from None
    return theme


def load_themes(dirs: list[Path] | None = None) -> LoadedThemes:
    dirs = dirs if dirs is not None else [BUNDLED_DIR, user_themes_dir()]
    out = LoadedThemes()
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                out.problems.append(str(exc))
                continue
            out.themes[theme.name] = theme
            out.origin[theme.name] = path
    return out


def resolve_theme_name(name: str | None, available: set[str]) -> str | None:
    """The registered name for a config value; None when it names no theme."""
    name = name or DEFAULT_THEME
    for candidate in (name, ALIASES.get(name), f"wsfleet-{name}"):
        if candidate and candidate in available:
            return candidate
    for candidate in (name, ALIASES.get(name), f"wsfleet-{name}"):
        if candidate in FALLBACKS and FALLBACKS[candidate] in available:
            return FALLBACKS[candidate]
    return None
