"""Python's cyclic garbage collector stays off while a command starts.

Starting up allocates hundreds of thousands of objects that live as long as the process: modules,
classes, botocore's and moto's models, Textual's widgets. CPython collects its youngest
generation every 700 new objects and, as the heap grows, traverses all of it again and again,
finding almost nothing to free: in `wsfleet demo` here, 890 collections (6 of them full, which
took 300 ms alone) cost 0.38-0.41 s of the 1.7 s to the first counts on screen. Reference
counting frees nearly everything a start-up discards; only garbage in reference cycles waits.

`begin()` (first thing in `wsfleet.cli.entry`, the console script) turns the collector off. `end()`
moves every object alive into the permanent generation (`gc.freeze()`: later collections never
traverse them again, so the long-lived start-up heap costs nothing from then on) and turns the
collector back on. It is called where a command has started: after the first SSH sweep of any
command (the dashboard's first counts, `counts`, `check`), once the headless demo serves, and at
the latest `LIMIT` seconds after `begin()` (a SIGALRM timer, since a thread would keep
`wsfleet.beside` from forking). The cycles a start-up leaves behind stay in memory: 18,000 of the
demo's 390,000 objects here, a few MB, once.

`begin()` also gives `dataclasses` a cache of the code it compiles (`_keep_dataclass_code`): each
dataclass's `__init__`, `__repr__`, `__eq__`... is Python source that `dataclasses` compiles anew
in every process, ~0.4 ms a class here, and `wsfleet counts` alone imports 46 dataclasses (their
creation took 37-47 ms of its 200 ms of imports). The same source always compiles to the same
code, so the code is kept, by its source text, in the user cache dir for this Python (its bytecode
magic number), and read back in one file; imports for `counts` went from ~198 to ~170 ms.

Only the console script begins: `main()` called in a process of its own choosing (the tests) keeps
its collector and its dataclasses as they are, and `end()` is then a no-op.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import threading
from pathlib import Path
from typing import Iterator

LIMIT = 10.0  # seconds: the collector is back on by then, whatever the command does

_lock = threading.RLock()  # re-entrant: the alarm's handler runs end() in the main thread
_began = False
_ended = False


def begin() -> None:
    """Turn the collector off until `end()` (at most LIMIT seconds). Main thread only; once."""
    global _began
    with _lock:
        if _began or not gc.isenabled():
            return
        _began = True
    gc.disable()
    _arm(LIMIT)
    import atexit

    atexit.register(_disarm)
    _keep_dataclass_code()


def _arm(seconds: float) -> None:
    if not hasattr(signal, "setitimer"):
        return
    try:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
    except ValueError:  # not the main thread
        return
    if previous not in (signal.SIG_DFL, signal.SIG_IGN, None, _on_alarm):  # someone else's: leave it theirs
        signal.signal(signal.SIGALRM, previous)
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _on_alarm(signum: int, frame: object) -> None:
    end()


def _disarm() -> None:
    """At exit: no alarm left. CPython puts SIGALRM back to SIG_DFL after the atexit handlers and
    before it frees the modules (40-170 ms here): an alarm then would kill a command that succeeded
    (exit 142, "Alarm clock")."""
    if hasattr(signal, "setitimer") and signal.getsignal(signal.SIGALRM) is _on_alarm:
        signal.setitimer(signal.ITIMER_REAL, 0)


def in_progress() -> bool:
    """Whether a start-up is under way: begun, not ended."""
    return _began and not _ended


def end() -> None:
    """Freeze what the start-up made and turn the collector back on. Any thread; idempotent; a
    no-op when `begin()` was not called in this process."""
    global _ended
    with _lock:
        if not _began or _ended:
            return
        _ended = True
    _collector_back()
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)
        if signal.getsignal(signal.SIGALRM) is _on_alarm:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)


def _collector_back() -> None:
    gc.freeze()  # every object alive now: never traversed again
    gc.enable()


@contextlib.contextmanager
def as_at_start_up(enabled: bool = True) -> Iterator[None]:
    """A block run with the collector as a command's start-up has it: off, then what lived frozen
    and the collector on. For a bench that measures a first sweep in a process of its own, as the
    console script runs one; `enabled=False` (or a collector already off) leaves it as it is."""
    if not enabled or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        _collector_back()


def after_fork_in_child(seconds: float = LIMIT) -> None:
    """In a forked child (interval timers are not inherited): the collector is still off when the
    parent's start-up was under way; give the child its own limit."""
    if in_progress():
        _arm(seconds)


# ------------------------------------------------------------------ dataclasses' compiled code

_CODE_LIMIT = 4000  # entries; more (sources that keep changing, e.g. a developer's edits) start over
_codes: dict[str, object] = {}
_new_codes: dict[str, object] = {}


def code_cache_path() -> Path:
    import importlib.util
    import sys

    import platformdirs

    tag = f"{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}"
    return platformdirs.user_cache_path("wsfleet") / "dataclass-code" / f"{tag}.marshal"


def _read_codes(path: Path) -> dict:
    """The kept code, when the file is this user's own and writable by no one else; else none."""
    import marshal

    from wsfleet.files import read_private

    try:
        codes = marshal.loads(read_private(path))
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(codes, dict):
        return {}
    code_type = type(_read_codes.__code__)
    return {k: v for k, v in codes.items() if type(k) is str and type(v) is code_type}


def _keep_dataclass_code() -> None:
    """`dataclasses` compiles its generated methods through a cache (see the module doc). It calls
    `exec(source, globals, namespace)` by name in 3.11, 3.12 and 3.13 alike: a module global of that
    name, which compiles the source as `exec` would (no future flags, `<string>`), takes its place."""
    import atexit
    import builtins
    import dataclasses

    if getattr(getattr(dataclasses, "exec", None), "wsfleet_kept", False):
        return
    try:
        path = code_cache_path()
    except Exception:  # noqa: BLE001 - no cache dir to name: dataclasses as they are
        return
    _codes.update(_read_codes(path))
    real_exec = builtins.exec

    def exec(source, globals=None, locals=None, /):  # noqa: A001 - dataclasses' name for it
        if type(source) is str:
            code = _codes.get(source)
            if code is None:
                code = _codes[source] = _new_codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
            source = code
        return real_exec(source, globals, locals)

    exec.wsfleet_kept = True  # type: ignore[attr-defined]
    dataclasses.exec = exec  # type: ignore[attr-defined]
    atexit.register(save_dataclass_code)


def save_dataclass_code() -> None:
    """Keep what this process compiled that the cache did not have (at exit; a forked child before
    it leaves). Merged with what another process kept meanwhile; a failure costs only the time."""
    import marshal

    from wsfleet.files import remove_superseded, write_private

    if not _new_codes:
        return
    try:
        path = code_cache_path()
        kept = _read_codes(path)
        if len(kept) + len(_new_codes) > _CODE_LIMIT:
            kept = {}
        kept.update(_new_codes)
        write_private(path, marshal.dumps(kept))
        _new_codes.clear()
        remove_superseded(path, lambda name: False)  # one file a Python: only a killed write's leftovers
    except Exception:  # noqa: BLE001 - an unwritable cache, an unmarshallable code: next time, again
        pass
