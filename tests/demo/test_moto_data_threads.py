"""wsfleet.demo.moto_data's on-demand offerings (`_Regions`) as moto's server threads use them:
a lookup that comes while another thread reads the same region's file must get the region's
offerings, never its still-empty placeholder; and a read that failed once must not turn into an
empty region for every later lookup (moto's own import would have failed, not answered [])."""

from __future__ import annotations

import threading

import pytest

from wsfleet.demo import moto_data

OFFERINGS = [{"InstanceType": "t3.micro", "Location": "us-east-1"}, {"InstanceType": "m5.large", "Location": "us-east-1"}]
WAIT = 30  # seconds: a bound on every wait, never a synchronisation by itself


class _SpyLock:
    """moto_data's lock, telling when a second thread has to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.contended = threading.Event()

    def __enter__(self):
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()


def test_a_lookup_during_another_threads_read_of_that_region_gets_its_offerings(monkeypatch):
    spy = _SpyLock()
    monkeypatch.setattr(moto_data, "_lock", spy)
    seen: list = []
    other_looked = threading.Event()  # the other thread has its answer
    spy.contended = progress = threading.Event()  # ... or it waits for the lock: either will do

    def other_thread_looks_up() -> None:
        try:
            seen.append(list(regions.get("us-east-1", [])))  # moto: [o for o in matches if ...], at once
        finally:
            other_looked.set()
            progress.set()

    def read():  # the first lookup's file read: another request for the region comes meanwhile
        other = threading.Thread(target=other_thread_looks_up, daemon=True)
        other.start()
        assert progress.wait(WAIT)
        return [dict(o) for o in OFFERINGS]

    regions = moto_data._Regions("region", {"us-east-1": []}, {"us-east-1": read})
    first = list(regions["us-east-1"])
    assert other_looked.wait(WAIT)
    assert len(first) == len(OFFERINGS)
    assert seen == [first], "the other thread got the region's empty placeholder while its file was being read"


def test_a_region_whose_read_failed_does_not_answer_empty_afterwards():
    calls = []

    def read():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the cache's disk hiccupped")
        return [dict(o) for o in OFFERINGS]

    regions = moto_data._Regions("region", {"us-east-1": []}, {"us-east-1": read})
    with pytest.raises(OSError):
        regions["us-east-1"]
    try:
        again = list(regions["us-east-1"])
    except OSError:
        return  # failing again, as loudly, is fine too
    assert again != [], "after one failed read the region silently has no offerings (moto: InvalidInstanceType)"
