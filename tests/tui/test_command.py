"""`wsfleet ui` as a user starts it: config problems and a missing terminal are one sentence, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def wsfleet(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wsfleet", *args], capture_output=True, text=True, timeout=60, cwd=cwd, stdin=subprocess.DEVNULL)


def test_without_a_terminal_the_dashboard_says_what_to_use_instead(tmp_path):
    out = wsfleet("--config", str(CONFIGS / "minimal.toml"), "ui", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr == "wsfleet: the dashboard needs a terminal; in scripts use `wsfleet status`, `wsfleet counts` or `wsfleet check`.\n"


def test_an_unknown_theme_in_the_config_is_one_sentence(tmp_path):
    config = tmp_path / "wsfleet.toml"
    config.write_text((CONFIGS / "minimal.toml").read_text() + '\n[ui]\ntheme = "neon"\n')
    out = wsfleet("--config", str(config), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("wsfleet: ui.theme 'neon' is not a theme; use one of ")
    assert out.stderr.count("\n") == 1


def test_a_destructive_key_on_a_ctrl_chord_is_refused(tmp_path):
    config = tmp_path / "wsfleet.toml"
    config.write_text((CONFIGS / "minimal.toml").read_text() + '\n[ui.keymap]\nscale_in = "ctrl+d"\n')
    out = wsfleet("--config", str(config), "ui", cwd=tmp_path)
    assert out.returncode == 2
    assert "ui.keymap.scale_in: 'ctrl+d' is a ctrl chord" in out.stderr


def test_an_unknown_fleet_is_one_sentence(tmp_path):
    out = wsfleet("--config", str(CONFIGS / "minimal.toml"), "--fleet", "nope", "ui", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("wsfleet: ") and "nope" in out.stderr and out.stderr.count("\n") == 1
