"""Theme colours as Rich styles for the roles in `view.py` (DataTable cells are Rich Text)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.color import Color

from wsfleet.tui.view import ACCENT, ERROR, MUTED, OK, WARNING


def _color(variables: dict[str, str], name: str):
    try:
        return Color.parse(variables[name]).rich_color
    except Exception:  # a user theme with an odd value: fall back to the terminal's colour
        return None


def role_styles(variables: dict[str, str], ansi: bool = False) -> dict[str, Style]:
    if ansi:
        muted = Style(dim=True)
    else:
        try:
            fg = Color.parse(variables["foreground"])
            bg = Color.parse(variables["background"])
            muted = Style(color=fg.blend(bg, 0.45).rich_color)
        except Exception:
            muted = Style(dim=True)
    return {
        "": Style(),
        OK: Style(color=_color(variables, "success")),
        WARNING: Style(color=_color(variables, "warning"), bold=True),
        ERROR: Style(color=_color(variables, "error"), bold=True),
        MUTED: muted,
        ACCENT: Style(color=_color(variables, "accent"), bold=True),
    }


def app_styles(app) -> dict[str, Style]:
    """The role styles of the app's current theme (`wsfleet-ansi` keeps the terminal's own colours)."""
    return role_styles(app.theme_variables, ansi=bool(getattr(app.current_theme, "ansi", False)))


def styled(cell: tuple[str, str], styles: dict[str, Style]) -> Text:
    text, role = cell
    return Text(text, style=styles.get(role) or "", no_wrap=True, end="")


def plotext_color(variables: dict[str, str], name: str, ansi: bool, fallback: str):
    """A colour plotext understands: an (r, g, b) tuple, or a basic name for ANSI themes."""
    if ansi:
        return fallback
    try:
        c = Color.parse(variables[name])
        return (c.r, c.g, c.b)
    except Exception:
        return fallback
