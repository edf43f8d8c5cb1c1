"""`wsfleet.beside.Beside`: results in order from a forked process or a thread, errors as sentences."""

from __future__ import annotations

import asyncio
import os

import pytest

from wsfleet.beside import Beside
from wsfleet.errors import EXIT_USAGE, ConfigError, WsfleetError


def _work(fail: BaseException | None = None):
    def work():
        yield {"pid": os.getpid(), "n": 1}
        if fail is not None:
            raise fail
        yield ("two", 2)
    return work


@pytest.mark.parametrize("fork", [True, False])
def test_results_arrive_in_order_from_the_process_or_thread(fork):
    beside = Beside(_work(), fork=fork)
    beside.start()
    try:
        first = beside.next_blocking()
        second = asyncio.run(beside.next())
    finally:
        beside.close()
    assert beside.forked is False  # close() reaped the child
    assert first["n"] == 1 and second == ("two", 2)
    assert (first["pid"] != os.getpid()) is fork  # forked: the work ran in another process


@pytest.mark.parametrize("fork", [True, False])
def test_an_error_in_the_work_keeps_its_sentence_and_exit_code(fork):
    beside = Beside(_work(ConfigError("fleet x has no region: set one.")), fork=fork)
    beside.start()
    try:
        assert beside.next_blocking()["n"] == 1
        with pytest.raises(WsfleetError) as caught:
            beside.next_blocking()
    finally:
        beside.close()
    assert caught.value.message == "fleet x has no region: set one." and caught.value.exit_code == EXIT_USAGE


def test_a_bug_in_the_forked_work_is_a_runtime_error_naming_it():
    beside = Beside(_work(KeyError("boom")), fork=True)
    beside.start()
    try:
        beside.next_blocking()
        with pytest.raises(RuntimeError, match="KeyError"):
            beside.next_blocking()
    finally:
        beside.close()


def test_a_process_that_runs_other_threads_is_not_forked():
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait, args=(10,))
    other.start()
    try:
        beside = Beside(_work())  # the default: fork only when it is safe
        beside.start()
        try:
            assert beside.next_blocking()["pid"] == os.getpid()
        finally:
            beside.close()
    finally:
        release.set()
        other.join()
