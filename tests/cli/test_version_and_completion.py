"""`wsfleet --version`, and `wsfleet completion SHELL` for bash, zsh and fish."""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import subprocess

import pytest

from tests.cli.test_cli_basics import wsfleet
from tests.packaging.blocked import run_without
from wsfleet import UNKNOWN_VERSION, installed_version
from wsfleet.cli import COMPLETION_SHELLS, build_parser


def _every_command_path(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _every_command_path(sub, (*prefix, name))


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_installed_metadata_version(flag):
    out = wsfleet(flag)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"wsfleet {importlib.metadata.version('wsfleet')}\n"


def test_version_wins_over_a_subcommand_and_reads_no_config(tmp_path):
    out = wsfleet("--config", str(tmp_path / "missing.toml"), "--version", "status")
    assert out.returncode == 0 and out.stdout.startswith("wsfleet ")


def test_version_without_installed_metadata_is_a_placeholder(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert installed_version() == UNKNOWN_VERSION == "0+unknown"


def test_package_exposes_version_attribute():
    import wsfleet as package

    assert package.__version__ == importlib.metadata.version("wsfleet")


def test_bash_completion_names_the_subcommands():
    out = wsfleet("completion", "bash")
    assert out.returncode == 0, out.stderr
    for command in ("refresh", "doctor", "agent-config", "warm-pool", "completion"):
        assert command in out.stdout


def test_bash_completion_covers_every_command_in_the_parser():
    script = wsfleet("completion", "bash").stdout
    missing = [" ".join(path) for path in _every_command_path(build_parser()) if path[-1] not in script]
    assert missing == []


def _bash_complete(script_path, words: list[str]) -> list[str]:
    """What the generated script offers for `words` (the last one being typed), run by bash itself."""
    quoted = " ".join(f"'{w}'" for w in words)
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c",
         f'source "$1"; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _shtab_wsfleet; printf "%s\\n" "${{COMPREPLY[@]}}"',
         "bash", str(script_path)],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory):
    path = tmp_path_factory.mktemp("completion") / "wsfleet.bash"
    out = wsfleet("completion", "bash")
    assert out.returncode == 0, out.stderr
    path.write_text(out.stdout)
    return path


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_subcommands_options_and_choices(bash_script):
    assert _bash_complete(bash_script, ["wsfleet", "re"]) == ["refresh", "rebalance"]
    assert _bash_complete(bash_script, ["wsfleet", "refresh", ""]) == ["status", "start", "cancel", "rollback"]
    assert "--cron" in _bash_complete(bash_script, ["wsfleet", "schedule", "put", "x", "--"])
    assert _bash_complete(bash_script, ["wsfleet", "counts", "--source", ""]) == ["ssh", "ssm", "cloudwatch"]
    assert _bash_complete(bash_script, ["wsfleet", "completion", ""]) == list(COMPLETION_SHELLS)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_file_names_after_config(bash_script, tmp_path):
    (tmp_path / "fleet-a.toml").write_text("")
    assert _bash_complete(bash_script, ["wsfleet", "--config", str(tmp_path / "fleet-")]) == [str(tmp_path / "fleet-a.toml")]


@pytest.mark.parametrize("shell, marker", [("zsh", "#compdef wsfleet"), ("fish", "complete -c wsfleet")])
def test_zsh_and_fish_scripts_are_generated(shell, marker):
    out = wsfleet("completion", shell)
    assert out.returncode == 0, out.stderr
    assert marker in out.stdout and "refresh" in out.stdout and "doctor" in out.stdout


def test_unknown_shell_is_a_usage_error_in_one_sentence():
    out = wsfleet("completion", "ksh")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("wsfleet: ")
    assert "'ksh'" in out.stderr and "bash" in out.stderr and "fish" in out.stderr


def test_missing_shell_name_is_a_usage_error():
    out = wsfleet("completion")
    assert out.returncode == 2 and out.stderr.count("\n") == 1


def test_completion_without_shtab_says_how_to_install_it():
    out = run_without({"shtab"}, "from wsfleet.cli import main\nsys.exit(main(['completion', 'bash']))")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and "pip install shtab" in out.stderr and "Traceback" not in out.stderr


def test_no_other_command_imports_shtab():
    out = run_without(set(), "from wsfleet.cli import main\nmain(['--help'])\n")
    assert out.returncode == 0
    out = run_without({"shtab"}, "from wsfleet.cli import main\nsys.exit(main(['agent-config']))")
    assert out.returncode == 0, out.stderr
