"""wsfleet.startup: the cyclic collector off while a command starts, back on (frozen) after.

Each case runs in a process of its own: the collector's state is the process's."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str, timeout: float = 60) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_begin_turns_the_collector_off_and_end_freezes_and_turns_it_on():
    out = _run("""
        import gc, signal
        from wsfleet import startup
        frozen = gc.get_freeze_count()  # not 0 at start on every Python (3.12: its own)
        startup.begin()
        print(gc.isenabled(), startup.in_progress(), signal.getitimer(signal.ITIMER_REAL)[0] > 0)
        startup.end()
        print(gc.isenabled(), gc.get_freeze_count() > frozen, startup.in_progress(), signal.getitimer(signal.ITIMER_REAL)[0])
        startup.end()  # idempotent
        print(gc.isenabled())
    """)
    assert out.splitlines() == ["False True True", "True True False 0.0", "True"]


def test_without_begin_end_changes_nothing():
    out = _run("""
        import gc
        from wsfleet import startup
        frozen = gc.get_freeze_count()
        startup.end()
        print(gc.isenabled(), gc.get_freeze_count() == frozen)
    """)
    assert out == "True True"


def test_the_limit_turns_it_back_on_whatever_the_command_does():
    out = _run("""
        import gc, time
        from wsfleet import startup
        frozen = gc.get_freeze_count()
        startup.LIMIT = 0.2
        startup.begin()
        deadline = time.monotonic() + 30
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.05)
        print(gc.isenabled(), gc.get_freeze_count() > frozen)
    """)
    assert out == "True True"


def test_a_forked_child_gets_its_own_limit():
    out = _run("""
        import gc, os, time
        from wsfleet import startup
        startup.begin()
        pid = os.fork()
        if pid == 0:
            startup.after_fork_in_child(0.2)
            deadline = time.monotonic() + 30
            while not gc.isenabled() and time.monotonic() < deadline:
                time.sleep(0.05)
            os._exit(0 if gc.isenabled() else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), gc.isenabled())
    """)
    assert out == "0 False"


def test_the_first_sweep_ends_the_start_up():
    """collect_sweep (counts, check) ends it once its sweep is in."""
    out = _run("""
        import asyncio, gc
        from wsfleet import startup
        from wsfleet.counts import collect_sweep
        from wsfleet.model import FleetConfig

        class Source:
            name = "fake"
            async def sweep(self, targets):
                print("during", gc.isenabled())
                return
                yield

        startup.begin()
        asyncio.run(collect_sweep(FleetConfig(name="f", asg="a"), Source(), []))
        print("after", gc.isenabled())
    """)
    assert out.splitlines() == ["during False", "after True"]


def test_the_console_script_begins_it(tmp_path):
    """`python -m wsfleet` (entry()) runs a command with the collector off: `--version`, which
    leaves without a sweep, shows it by the collector's state at exit."""
    out = _run("""
        import atexit, gc, sys
        atexit.register(lambda: print("at exit", gc.isenabled()))
        sys.argv = ["wsfleet", "--version"]
        from wsfleet.cli import entry
        try:
            entry()
        except SystemExit:
            pass
    """)
    assert out.splitlines()[-1] == "at exit False"


_DATACLASSES = """
    import dataclasses, sys
    from wsfleet import startup
    startup.begin()
    if sys.argv[1] == "no-compile":  # the second process: everything from the cache
        startup.compile = lambda *a, **k: sys.exit("compiled again")
    @dataclasses.dataclass(frozen=True)
    class Row:
        id: str
        n: int = 0
        tags: tuple = ()
    r = Row("i-1", 3)
    print(r, r == Row("i-1", 3), hash(r) == hash(Row("i-1", 3)), Row.__init__.__annotations__)
    try:
        r.n = 4
    except dataclasses.FrozenInstanceError:
        print("frozen")
"""


def _run_with(cache, *args: str) -> str:
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_DATACLASSES), *args], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_dataclasses_code_is_kept_and_behaves_as_compiled_anew(tmp_path):
    plain = subprocess.run([sys.executable, "-c", textwrap.dedent(_DATACLASSES).replace("startup.begin()", "pass"), "plain"],
                           capture_output=True, text=True, timeout=60).stdout
    first = _run_with(tmp_path, "first")
    (kept,) = (tmp_path / "wsfleet" / "dataclass-code").glob("*.marshal")
    assert kept.stat().st_mode & 0o777 == 0o600
    second = _run_with(tmp_path, "no-compile")
    assert plain == first == second and "frozen" in second  # the same class, its annotations unstringified
    assert "{'id': <class 'str'>, 'n': <class 'int'>" in second


def test_a_kept_code_file_others_can_write_is_not_used(tmp_path):
    _run_with(tmp_path, "first")
    (kept,) = (tmp_path / "wsfleet" / "dataclass-code").glob("*.marshal")
    kept.chmod(0o666)
    import pytest

    with pytest.raises(AssertionError, match="compiled again"):
        _run_with(tmp_path, "no-compile")


def test_a_block_as_at_start_up_runs_without_the_collector_then_freezes():
    """What the benches measure a first sweep with: the collector off in the block, frozen and on after."""
    out = _run("""
        import gc
        from wsfleet import startup
        frozen = gc.get_freeze_count()
        with startup.as_at_start_up():
            during = gc.isenabled()
        with startup.as_at_start_up(False):
            left_alone = gc.isenabled()
        print(during, gc.isenabled(), gc.get_freeze_count() > frozen, left_alone)
    """)
    assert out == "False True True True"
