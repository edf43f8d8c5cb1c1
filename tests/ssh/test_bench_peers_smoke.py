"""The peers bench (tests/bench/peers.py) on its cheapest row: OpenSSH + xargs on two real sshd
hosts, no delay. Its numbers are only worth something if every answer is checked: a row whose hosts
count other than the bench expects must say so."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.bench.peers import PeerHosts, check, row_xargs
from tests.helpers.sshd import sshd_path


@pytest.fixture
def two_hosts():
    if sshd_path() is None or shutil.which("ssh") is None:
        if os.environ.get("CI"):
            pytest.fail("sshd and ssh are required under CI (install openssh-server and openssh-client)")
        pytest.skip("OpenSSH is not installed")
    with PeerHosts(2, rtt_ms=0, held=3, key_type="ed25519") as hosts:
        yield hosts


def test_the_xargs_row_reports_right_answers_right_and_a_wrong_count_as_wrong(two_hosts):
    names = two_hosts.names[:2]
    run = row_xargs(two_hosts, 2, timeout=15)
    assert run.answers == {"h0": "3", "h1": "3"}
    assert check(run, names, 3) == ""

    two_hosts.holder.add(1)  # the hosts now hold 4; the bench still expects 3
    run = row_xargs(two_hosts, 2, timeout=15)
    note = check(run, names, 3)
    assert note.startswith("2 of 2 answers wrong") and "'4'" in note


def test_a_host_that_does_not_answer_is_reported_not_skipped(two_hosts):
    run = row_xargs(two_hosts, 1, timeout=15)  # only h0 is asked
    assert "1 of 2 answers wrong" in check(run, two_hosts.names[:2], 3) and "no answer" in check(run, two_hosts.names[:2], 3)
