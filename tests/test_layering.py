"""Import hygiene (DESIGN: architecture): the layers only import downwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wsfleet"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(under: Path = PACKAGE):
    return sorted(p for p in under.rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


def test_nothing_outside_tui_imports_textual():
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in _modules()
        if "tui" not in p.relative_to(PACKAGE).parts[:1]
        and any(_top(n) == "textual" for n in _imports(p))
    ]
    assert offenders == []


def test_tui_never_talks_to_aws_or_ssh_directly():
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in _modules(PACKAGE / "tui")
        if any(_top(n) in ("boto3", "botocore", "asyncssh") for n in _imports(p))
    ]
    assert offenders == []


@pytest.mark.parametrize("module", ["model/", "scaling.py", "balance.py", "errors.py"])
def test_pure_core_does_no_io(module):
    """A module, or every module of a package (`model/`)."""
    path = PACKAGE / module
    if not path.exists():
        pytest.fail(f"{module} is missing")
    files = _modules(path) if path.is_dir() else [path]
    if not files:
        pytest.fail(f"{module} has no modules")
    forbidden = {"boto3", "botocore", "asyncssh", "socket", "subprocess", "textual", "websockets", "requests"}
    offenders = {str(p.relative_to(PACKAGE.parent)): sorted({_top(n) for n in _imports(p)} & forbidden) for p in files}
    assert {name: tops for name, tops in offenders.items() if tops} == {}


def test_the_layer_check_sees_a_textual_import(tmp_path):
    """The checker itself: a module importing textual is seen (so the tests above can fail)."""
    sample = tmp_path / "x.py"
    sample.write_text("from textual.app import App\n")
    assert "textual.app" in _imports(sample)


# What only the `demo` extra installs (moto, its server mode's flask/flask-cors/pyyaml, moto's
# werkzeug, the demo instances' websockets): a core install has none of them.
DEMO_EXTRA_IMPORTS = {"moto", "flask", "flask_cors", "yaml", "websockets", "werkzeug"}


def _outside_demo():
    return [p for p in _modules() if p.relative_to(PACKAGE).parts[0] != "demo"]


def test_core_never_imports_moto_flask_or_the_demo_servers():
    """Not at module level and not inside a function: `wsfleet demo` looks the extra up by name."""
    offenders = {
        str(p.relative_to(PACKAGE.parent)): sorted(n for n in _imports(p) if _top(n) in DEMO_EXTRA_IMPORTS)
        for p in _outside_demo()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_demo_command_reaches_into_the_demo_package():
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in _outside_demo()
        if p not in (PACKAGE / "commands" / "demo.py", PACKAGE / "commands" / "demo_forked.py")
        and any(n == "wsfleet.demo" or n.startswith("wsfleet.demo.") for n in _imports(p))
    ]
    assert offenders == []


def test_the_layer_check_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def start():\n    from moto.server import ThreadedMotoServer\n")
    assert "moto.server" in _imports(sample)
