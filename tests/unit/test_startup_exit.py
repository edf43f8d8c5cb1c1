"""wsfleet.startup's SIGALRM limit and the process's exit: a command that ends, by the usual exit,
shortly before the limit must not be killed by the alarm while the interpreter tears down.

CPython sets the handlers back to SIG_DFL (`_PySignal_Fini`) after the atexit handlers and before
it frees the modules, 40 ms for `counts`, ~150 ms for the demo's stack here. An ITIMER_REAL still
armed then ends the process with SIGALRM: exit 142 and "Alarm clock" from the shell, for a command
that succeeded (e.g. a `provision` whose prompt was answered after 9.9 s: no sweep ends it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_a_command_ending_just_before_the_limit_exits_with_its_own_status(tmp_path):
    code = textwrap.dedent("""
        import os, sys, time
        from wsfleet import startup
        startup.LIMIT = 2.0
        t0 = time.monotonic()

        class SlowTeardown:  # the module teardown of a big import set, made longer than the limit's rest
            def __del__(self):
                while time.monotonic() < t0 + startup.LIMIT + 1.5:
                    time.sleep(0.05)
                os.write(1, b"teardown done\\n")

        keep = SlowTeardown()  # a module global: freed as the interpreter tears down
        sys.argv = ["wsfleet", "--version"]
        from wsfleet.cli import entry
        entry()
    """)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, f"exit {done.returncode} (-14: SIGALRM during teardown); stderr: {done.stderr}"
    assert done.stdout.splitlines()[-1] == "teardown done"
