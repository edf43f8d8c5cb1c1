"""wsfleet.counts answers asyncssh's import-time liboqs lookup from the dynamic linker's cache
instead of `ldconfig -p` and gcc subprocesses (40-60 ms a one-shot command): the same answer,
without starting a process; any other name goes to find_library unchanged."""

from __future__ import annotations

import ctypes.util
import subprocess
from pathlib import Path

import pytest

import wsfleet.counts  # noqa: F401  (installs the lookup)

pytestmark = pytest.mark.skipif(not Path("/etc/ld.so.cache").exists(), reason="no dynamic linker cache here")


def real_find_library():
    closure = ctypes.util.find_library.__closure__ or ()
    (original,) = [c.cell_contents for c in closure if callable(c.cell_contents)]
    return original


def test_the_lookup_is_installed_and_gives_find_librarys_answer():
    assert getattr(ctypes.util.find_library, "wsfleet_quick", False)
    for name in ("oqs", "liboqs"):
        assert ctypes.util.find_library(name) == real_find_library()(name)


def test_no_process_is_started_when_the_cache_has_no_liboqs(monkeypatch):
    if b"liboqs.so" in Path("/etc/ld.so.cache").read_bytes():
        pytest.skip("this machine has liboqs: find_library is asked, as it should be")

    def no_processes(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[:1]}")

    monkeypatch.setattr(subprocess, "Popen", no_processes)
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    assert ctypes.util.find_library("oqs") is None and ctypes.util.find_library("liboqs") is None


def test_a_liboqs_on_ld_library_path_defers_to_find_library(tmp_path, monkeypatch):
    (tmp_path / "liboqs.so.5").write_bytes(b"")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    asked = []
    closure = ctypes.util.find_library.__closure__
    cell = next(c for c in closure if callable(c.cell_contents))
    monkeypatch.setattr(cell, "cell_contents", lambda name: asked.append(name) or f"lib{name}.so.5")
    assert ctypes.util.find_library("oqs") == "liboqs.so.5" and asked == ["oqs"]
    assert ctypes.util.find_library("ssl") == "libssl.so.5" and asked == ["oqs", "ssl"]  # other names: unchanged
