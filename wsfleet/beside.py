"""Run blocking work beside the caller, on the other core when there is one: `Beside`.

A one-shot `wsfleet counts` has two CPU-bound starts that do not need each other: botocore (its
import, its service models, the AWS reads) and asyncssh (its import, every SSH handshake). In one
process they take turns on one interpreter lock; in two, they run at once. So `Beside` forks a
child for the work where it safely can (POSIX, and the process has no other thread yet: a fork
copies no thread, and a lock held by one would stay held in the child), and runs it in a thread
otherwise (Windows, or a caller such as a test that already runs threads). Either way the caller
gets the work's results in order, through `await beside.next()`; an exception in the work is
raised there instead (a WsfleetError with its sentence and exit code; anything else as a
RuntimeError naming it). Results cross the fork pickled, through a pipe.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import sys
import threading
from typing import Any, Callable, Iterator

from wsfleet.errors import WsfleetError

_HEADER = struct.Struct("!I")


class _Failed:
    """The work's exception, as it crosses the pipe."""

    def __init__(self, exc: BaseException) -> None:
        self.type_name = type(exc).__name__
        self.message = getattr(exc, "message", None) or str(exc)
        self.exit_code = getattr(exc, "exit_code", None)
        self.wsfleet = isinstance(exc, WsfleetError)

    def exception(self) -> BaseException:
        if self.wsfleet:
            return WsfleetError(self.message, exit_code=self.exit_code)
        return RuntimeError(f"{self.type_name}: {self.message}")


class Beside:
    """`work()`'s results, produced beside the caller (see the module doc). `start()` before the
    caller's own work, `next()` for each result, `close()` at the end, always."""

    def __init__(self, work: Callable[[], Iterator[Any]], *, fork: bool | None = None, verbose: bool = False) -> None:
        self._work = work
        self._verbose = verbose
        self._fork = (hasattr(os, "fork") and threading.active_count() == 1) if fork is None else fork
        self._pid: int | None = None
        self._fd: int | None = None
        self._queue: queue.Queue | None = None

    @property
    def forked(self) -> bool:
        return self._pid is not None

    def start(self) -> None:
        if self._fork:
            read_fd, write_fd = os.pipe()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child: run the work, send each result, leave without the parent's exit handlers
                import signal

                from wsfleet import startup

                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends the child
                startup.after_fork_in_child()  # its own limit for the collector's start-up pause
                os.close(read_fd)
                try:
                    with os.fdopen(write_fd, "wb") as out:
                        for item in self._results():
                            data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
                            out.write(_HEADER.pack(len(data)) + data)
                            out.flush()
                    sys.stderr.flush()
                finally:
                    startup.save_dataclass_code()  # what its imports compiled (it leaves without atexit)
                    os._exit(0)
            os.close(write_fd)
            self._pid, self._fd = pid, read_fd
        else:
            self._queue = queue.Queue()
            threading.Thread(target=self._into_queue, name="wsfleet-beside", daemon=True).start()

    def _results(self) -> Iterator[Any]:
        try:
            yield from self._work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, in order
            if self._verbose and not isinstance(exc, WsfleetError):
                import traceback

                traceback.print_exc()
            yield _Failed(exc) if self._fork else exc

    def _into_queue(self) -> None:
        assert self._queue is not None
        for item in self._results():
            self._queue.put(item)

    def _receive(self) -> Any:
        if self._queue is not None:
            return self._queue.get()
        header = self._read_exactly(_HEADER.size)
        return pickle.loads(self._read_exactly(_HEADER.unpack(header)[0]))

    def _read_exactly(self, n: int) -> bytes:
        assert self._fd is not None
        chunks, left = [], n
        while left:
            chunk = os.read(self._fd, left)
            if not chunk:
                raise RuntimeError("the AWS reader process ended without an answer")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    async def next(self) -> Any:
        """The work's next result; its exception raised here."""
        import asyncio

        return _unwrap(await asyncio.get_running_loop().run_in_executor(None, self._receive))

    def next_blocking(self) -> Any:
        """`next()` outside an event loop."""
        return _unwrap(self._receive())

    def stop(self) -> None:
        """End the forked work now (a pending `next()` then fails at once); a thread runs to its end."""
        if self._pid is not None:
            import signal

            pid, self._pid = self._pid, None
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def close(self) -> None:
        self.stop()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _unwrap(item: Any) -> Any:
    """A received result, or its exception raised (a forked side's arrives as `_Failed`)."""
    if isinstance(item, _Failed):
        raise item.exception()
    if isinstance(item, BaseException):
        raise item
    return item
