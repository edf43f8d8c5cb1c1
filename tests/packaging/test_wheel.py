"""`python -m build` makes an sdist and a wheel that work when installed non-editable.

The build runs offline (`--no-isolation`: the backend comes from the test extra), the wheel is
built from the sdist (so the sdist is complete), and it is installed with `--no-deps --no-index`
into a fresh venv. The dependencies come from this environment through a `.pth` line, so nothing
is downloaded (the network rule); which packages a fresh install pulls from an index is measured
by hand (README, Install) and the declared lists are checked against the imports in
test_dependencies.py. Then the installed copy, away from the checkout, must find its themes, its
stylesheet and its config examples.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
THEMES = sorted(p.name for p in (ROOT / "themes").glob("*.toml"))
CONFIG_EXAMPLES = sorted(p.name for p in (ROOT / "config").iterdir() if p.is_file())

pytestmark = pytest.mark.timeout(240)  # a build and an install: seconds here, more on a loaded machine

_NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.pyc",
                                     ".venv*", "snapshot_report.html")


def _clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH, so nothing from the checkout leaks in."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}


def _run(args, *, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=_clean_env())


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE)  # build in a copy: the checkout stays untouched
    out = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", work / "dist", src], cwd=work, timeout=180)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    built = {p.suffix if p.suffix == ".whl" else ".tar.gz": p for p in (work / "dist").iterdir()}
    assert set(built) == {".whl", ".tar.gz"}, built
    return built


@pytest.fixture(scope="module")
def venv(dists, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "venv"
    out = _run([sys.executable, "-m", "venv", "--without-pip", root])
    assert out.returncode == 0, out.stderr
    python = root / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # the dependencies, from here: listed after the venv's own site-packages, and their .pth files
    # (an editable wsfleet among them) are not run
    here = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_test_dependencies.pth").write_text("".join(f"{p}\n" for p in here))
    out = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps", "--no-cache-dir",
                dists[".whl"]], timeout=180)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return root


def _in_venv(venv: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    return _run([venv / "bin" / args[0], *args[1:]], cwd=cwd)


def _python(venv: Path, code: str, cwd: Path) -> dict:
    out = _in_venv(venv, "python", "-c", code, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_sdist_has_the_license_themes_config_examples_and_the_suite(dists):
    with tarfile.open(dists[".tar.gz"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    expected = {"LICENSE", "README.md", "pyproject.toml", "wsfleet/tui/wsfleet.tcss", "tests/configs/minimal.toml"}
    expected |= {f"themes/{t}" for t in THEMES} | {f"config/{c}" for c in CONFIG_EXAMPLES}
    assert expected - names == set()
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_wheel_carries_the_stylesheet_themes_config_and_license(dists):
    with zipfile.ZipFile(dists[".whl"]) as whl:
        names = set(whl.namelist())
    data = f"wsfleet-{VERSION}.data/data/share/wsfleet"
    expected = {"wsfleet/tui/wsfleet.tcss", f"wsfleet-{VERSION}.dist-info/licenses/LICENSE"}
    expected |= {f"{data}/themes/{t}" for t in THEMES} | {f"{data}/config/{c}" for c in CONFIG_EXAMPLES}
    assert expected - names == set()
    assert not [n for n in names if n.startswith(("tests/", "wsfleet/tests"))]


def test_wheel_metadata_is_a_published_tools(dists):
    with zipfile.ZipFile(dists[".whl"]) as whl:
        meta = email.message_from_bytes(whl.read(f"wsfleet-{VERSION}.dist-info/METADATA"))
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["License-Expression"] == "MIT"
    classifiers = set(meta.get_all("Classifier"))
    assert {"Environment :: Console", "Topic :: System :: Monitoring", "Operating System :: POSIX",
            "Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12",
            "Programming Language :: Python :: 3.13"} <= classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    assert all(u.startswith("https://github.com/wsfleet/wsfleet") for u in urls.values())
    assert {"demo", "test"} <= set(meta.get_all("Provides-Extra"))
    requires = meta.get_all("Requires-Dist")
    assert not [r for r in requires if r.startswith("moto") and "extra ==" not in r]


def test_installed_copy_is_the_wheel_not_the_checkout(venv, tmp_path):
    found = _python(venv, "import json, wsfleet, importlib.metadata as m; d = m.distribution('wsfleet'); "
                    "print(json.dumps({'file': wsfleet.__file__, 'direct_url': d.read_text('direct_url.json')}))", tmp_path)
    assert Path(found["file"]).is_relative_to(venv)
    assert json.loads(found["direct_url"]).get("dir_info", {}).get("editable") is not True


def test_installed_version_comes_from_the_metadata(venv, tmp_path):
    for flag in ("--version", "-V"):
        out = _in_venv(venv, "wsfleet", flag, cwd=tmp_path)
        assert (out.returncode, out.stdout) == (0, f"wsfleet {VERSION}\n"), out.stderr


def test_themes_load_through_the_packages_loader(venv, tmp_path):
    found = _python(venv, """
import json, sys
from wsfleet.tui import themes
loaded = themes.load_themes()
print(json.dumps({"dir": str(themes.BUNDLED_DIR), "prefix": sys.prefix, "themes": sorted(loaded.themes),
                  "origins": sorted(str(p) for p in loaded.origin.values()), "problems": loaded.problems,
                  "light": themes.resolve_theme_name("light", set(loaded.themes))}))
""", tmp_path)
    assert found["dir"] == str(Path(found["prefix"]) / "share" / "wsfleet" / "themes")
    assert {"wsfleet-dark", "wsfleet-light", "wsfleet-ansi"} <= set(found["themes"])
    assert all(Path(o).is_relative_to(venv) for o in found["origins"])
    assert found["problems"] == [] and found["light"] == "wsfleet-light"


def test_stylesheet_is_found_and_parses_with_every_bundled_theme(venv, tmp_path):
    found = _python(venv, """
import json
from wsfleet.tui.app import WsfleetApp
class NoFleets:
    app_config = None
    def default_name(self, fleet):
        return "none"
app = WsfleetApp(NoFleets(), poll=False)
rules = {}
for name in sorted(app.loaded_themes.themes):
    app.theme = name
    sheet = app.stylesheet.copy()
    sheet.read_all(app.css_path)
    sheet.set_variables(app.get_css_variables())
    sheet.parse()  # raises on a missing file or an unresolved $variable
    rules[name] = len(sheet.rules)
print(json.dumps({"css": [str(p) for p in app.css_path], "rules": rules, "theme": app.initial_theme}))
""", tmp_path)
    assert [Path(p).name for p in found["css"]] == ["wsfleet.tcss"]
    assert all(Path(p).is_relative_to(venv) and Path(p).is_file() for p in found["css"])
    assert set(found["rules"]) >= {"wsfleet-dark", "wsfleet-light", "wsfleet-ansi"} and min(found["rules"].values()) > 0
    assert found["theme"] == "wsfleet-dark"


def test_config_examples_are_installed_and_usable(venv, tmp_path):
    config = venv / "share" / "wsfleet" / "config"
    assert sorted(p.name for p in config.iterdir()) == CONFIG_EXAMPLES
    example = config / "wsfleet.example.toml"
    out = _in_venv(venv, "wsfleet", "--config", example, "agent-config", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    namespace = next(iter(tomllib.loads(example.read_text())["fleets"].values()))["metric"]["namespace"]
    assert json.loads(out.stdout)["metrics"]["namespace"] == namespace
    # with no config at all, agent-config prints the shipped template, byte for byte
    out = _in_venv(venv, "wsfleet", "agent-config", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == (config / "cloudwatch-agent.json").read_text()
    policy = json.loads((config / "iam-policy.json").read_text())
    assert {s["Sid"] for s in policy["Statement"]} >= {"WsfleetRead", "WsfleetWrite"}


def test_installed_completion_and_usage_errors(venv, tmp_path):
    out = _in_venv(venv, "wsfleet", "completion", "bash", cwd=tmp_path)
    assert out.returncode == 0 and "refresh" in out.stdout and "doctor" in out.stdout
    out = _in_venv(venv, "wsfleet", "completion", "ksh", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
