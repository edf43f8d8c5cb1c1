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
