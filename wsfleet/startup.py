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

Only the console script begins: `main()` called in a process of its own choosing (the tests) keeps
its collector as it is, and `end()` is then a no-op.
"""

from __future__ import annotations

import gc
import signal
import threading

LIMIT = 10.0  # seconds: the collector is back on by then, whatever the command does

_lock = threading.Lock()
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
    gc.freeze()
    gc.enable()
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)
        if signal.getsignal(signal.SIGALRM) is _on_alarm:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)


def after_fork_in_child(seconds: float = LIMIT) -> None:
    """In a forked child (interval timers are not inherited): the collector is still off when the
    parent's start-up was under way; give the child its own limit."""
    if in_progress():
        _arm(seconds)
