"""The core install is the dashboard and the CLI; the demo's moto and servers are the `demo` extra.

Checked three ways: what pyproject declares covers what the code imports (core code against the
core dependencies, the demo against core + demo); a process in which the extra is missing still
imports every core module; and `wsfleet demo` there says in one sentence how to install it (exit 2).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.packaging.blocked import ROOT, run_without
from wsfleet.commands.demo import DEMO_EXTRA_MODULES

PACKAGE = ROOT / "wsfleet"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Import names the demo extra brings, with moto's own werkzeug: none of them in a core module.
DEMO_ONLY_IMPORTS = {"moto", "flask", "flask_cors", "yaml", "websockets", "werkzeug"}


def _third_party_imports(paths: list[Path]) -> dict[str, set[str]]:
    """top-level import name -> the files importing it (module level and inside functions)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "wsfleet" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _core_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "demo")


def _demo_files() -> list[Path]:
    return sorted((PACKAGE / "demo").rglob("*.py"))


@cache
def _closure(requirements: tuple[str, ...]) -> frozenset[str]:
    """Every distribution these requirements install here, transitively (markers evaluated)."""
    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        if name == "wsfleet":  # the self-reference `wsfleet[demo]` of the test extra
            for e in req.extras:
                todo.extend((Requirement(r), "") for r in PROJECT["optional-dependencies"][e])
            continue
        try:
            dist_requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: it can only be a platform-specific leaf
        for extra_name in ("", *req.extras):
            todo.extend((Requirement(r), extra_name) for r in dist_requires)
    return frozenset(k.split("[")[0] for k in seen)


def _undeclared(imports: dict[str, set[str]], declared: frozenset[str]) -> dict[str, list[str]]:
    providers = importlib.metadata.packages_distributions()
    return {
        top: sorted(files)
        for top, files in imports.items()
        if not {canonicalize_name(d) for d in providers.get(top, [])} & declared
    }


CORE = tuple(PROJECT["dependencies"])
DEMO = tuple(PROJECT["optional-dependencies"]["demo"])


def _direct(requirements: tuple[str, ...]) -> frozenset[str]:
    return frozenset(canonicalize_name(Requirement(r).name) for r in requirements)


def test_every_core_import_is_declared_as_a_core_dependency():
    """Declared directly, not left to arrive with another package (botocore with boto3, …)."""
    assert _undeclared(_third_party_imports(_core_files()), _direct(CORE)) == {}


def test_every_demo_import_is_declared_as_a_core_or_demo_dependency():
    assert _undeclared(_third_party_imports(_demo_files()), _direct(CORE + DEMO)) == {}


def test_the_core_install_brings_no_moto_flask_or_websockets():
    assert _closure(CORE) & {"moto", "flask", "flask-cors", "pyyaml", "websockets", "werkzeug"} == set()


def test_demo_extra_is_plain_moto_without_its_server_extra():
    moto = [Requirement(r) for r in DEMO if canonicalize_name(Requirement(r).name) == "moto"]
    assert len(moto) == 1 and moto[0].extras == set()


def test_test_extra_includes_the_demo_extra():
    assert "wsfleet[demo]" in [str(Requirement(r)) for r in PROJECT["optional-dependencies"]["test"]]


def test_the_demo_command_looks_for_exactly_what_the_demo_extra_installs():
    providers = importlib.metadata.packages_distributions()
    demo_dists = {canonicalize_name(Requirement(r).name) for r in DEMO}
    for module in DEMO_EXTRA_MODULES:
        assert {canonicalize_name(d) for d in providers.get(module, [])} & demo_dists, module
    demo_imports = set(_third_party_imports(_demo_files()))
    assert demo_imports - set(_third_party_imports(_core_files())) <= set(DEMO_EXTRA_MODULES)


def test_every_core_module_imports_without_the_demo_extra():
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _core_files() if p.name != "__main__.py"
    )
    code = f"""
import json, importlib, wsfleet
failed = {{}}
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = repr(exc)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED or m.startswith("wsfleet.demo"))
print(json.dumps({{"failed": failed, "leaked": leaked, "file": wsfleet.__file__}}))
"""
    out = run_without(DEMO_ONLY_IMPORTS, code)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["file"].startswith(str(PACKAGE))
    assert report == {"failed": {}, "leaked": [], "file": report["file"]}


@pytest.mark.parametrize("missing", ["moto", "flask", "websockets"])
def test_demo_without_the_extra_names_the_install_command_and_exits_2(missing, tmp_path):
    out = run_without({missing}, "from wsfleet.cli import main\nsys.exit(main(['demo', '--no-ui', '--seconds', '1']))", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("wsfleet: ")
    assert "pip install 'wsfleet[demo]'" in out.stderr and f"{missing} is not installed" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_other_commands_work_without_the_extra(tmp_path):
    config = tmp_path / "wsfleet.toml"
    config.write_text('[fleets.a]\nasg = "x"\n[fleets.a.metric]\nnamespace = "Core_Only"\n')
    out = run_without(DEMO_ONLY_IMPORTS, f"from wsfleet.cli import main\nsys.exit(main(['--config', {str(config)!r}, 'agent-config']))")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["metrics"]["namespace"] == "Core_Only"
