"""The CLI's own promises: usage errors are one sentence with exit 2, no tracebacks without -v."""

from __future__ import annotations

import os
import subprocess
import sys


def wsfleet(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wsfleet", *args],
        capture_output=True, text=True, timeout=60, cwd=cwd, env={**os.environ, **(env or {})},
    )


def test_help_lists_every_command():
    out = wsfleet("--help")
    assert out.returncode == 0
    for command in ("ui", "demo", "status", "counts", "check", "provision", "scale", "thresholds",
                    "schedule", "warm-pool", "audit", "agent-config", "doctor"):
        assert command in out.stdout


def test_unknown_command_is_a_usage_error_in_one_line():
    out = wsfleet("bogus")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "invalid choice: 'bogus'" in out.stderr


def test_missing_config_says_where_it_looked(tmp_path):
    out = wsfleet("status", cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "wsfleet.toml" in out.stderr and out.stderr.startswith("wsfleet: ")


def test_explicit_config_path_that_does_not_exist_is_exit_2(tmp_path):
    out = wsfleet("--config", str(tmp_path / "nope.toml"), "status")
    assert out.returncode == 2
    assert "nope.toml" in out.stderr and "Traceback" not in out.stderr


def test_wrong_type_in_config_names_the_dotted_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[fleets.a]\nasg = "x"\nport = "443"\n')
    out = wsfleet("--config", str(path), "status")
    assert out.returncode == 2
    assert "fleets.a.port" in out.stderr and "Traceback" not in out.stderr


def test_config_found_through_environment_variable(tmp_path):
    path = tmp_path / "env.toml"
    path.write_text('[fleets.a]\nasg = "x"\n[fleets.a.metric]\nnamespace = "Custom_NS"\n')
    out = wsfleet("agent-config", cwd=tmp_path, env={"WSFLEET_CONFIG": str(path)})
    assert out.returncode == 0, out.stderr
    assert "Custom_NS" in out.stdout
