"""The remote count command, run for real on this machine against held connections, and its parser."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.helpers.conn_holder import ConnHolder, ipv6_available
from wsfleet.counts.command import (
    BEGIN,
    END,
    CountParseError,
    count_command,
    parse_count,
    reader_command,
)


def run_count(port: int, *, path: str | None = None) -> str:
    env = {"PATH": path if path is not None else os.environ["PATH"]}
    done = subprocess.run(["/bin/sh", "-c", count_command(port)], capture_output=True, text=True, env=env, timeout=20)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def path_without_ss(tmp_path):
    """A PATH with the tools a minimal image has, but no `ss`: forces the /proc/net/tcp reader."""
    for tool in ("cat", "awk"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, tmp_path / tool)
    return str(tmp_path)


@pytest.mark.parametrize("bad", [0, -1, 65536, "443", 443.0, True, None, "443; rm -rf /"])
def test_count_command_accepts_only_an_integer_port(bad):
    with pytest.raises(ValueError, match="1 to 65535"):
        count_command(bad)


def test_count_command_is_fixed_text_with_only_the_port_put_in():
    a, b = count_command(443), count_command(8443)
    assert a.replace(":443 ", ":PORT ").replace(":01BB$", ":HEX$") == b.replace(":8443 ", ":PORT ").replace(":20FB$", ":HEX$")


@pytest.mark.parametrize("text, value", [("7\n", 7), ("0", 0), ("  20000 \n", 20000), ("      13\n", 13)])
def test_parse_count_reads_one_non_negative_integer(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["", "\n", "-1", "7 8", "7\n8\n", "1.5", "+7", "abc", "\u0663", "40013 sockets"])
def test_parse_count_rejects_anything_else(text):
    with pytest.raises(CountParseError):
        parse_count(text)


def test_ss_counts_exactly_the_held_connections():
    with ConnHolder(count=37) as held:
        assert parse_count(run_count(held.port)) == 37
        held.set_count(5)
        assert parse_count(run_count(held.port)) == 5
        held.set_count(0)
        assert parse_count(run_count(held.port)) == 0


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback")
def test_ipv4_and_ipv6_connections_are_both_counted(path_without_ss):
    with ConnHolder(count=11, ipv6=6) as held:
        assert parse_count(run_count(held.port)) == 17
        assert parse_count(run_count(held.port, path=path_without_ss)) == 17


def test_without_ss_the_proc_reader_counts_exactly(path_without_ss):
    with ConnHolder(count=23) as held:
        assert parse_count(run_count(held.port, path=path_without_ss)) == 23


def test_thousands_of_connections_counted_exactly_both_ways(path_without_ss):
    with ConnHolder(count=3000) as held:
        assert parse_count(run_count(held.port)) == 3000
        assert parse_count(run_count(held.port, path=path_without_ss)) == 3000


def test_other_ports_are_not_counted():
    with ConnHolder(count=4) as a, ConnHolder(count=9) as b:
        assert parse_count(run_count(a.port)) == 4
        assert parse_count(run_count(b.port)) == 9


def test_no_ss_and_no_proc_is_a_failed_command_not_zero(tmp_path):
    # a PATH without ss; /proc is always there on Linux, so check the branch by its message instead
    done = subprocess.run(["/bin/sh", "-c", count_command(443).replace("/proc/net/tcp ]", "/nonexistent ]")],
                          capture_output=True, text=True, env={"PATH": str(tmp_path)})
    assert done.returncode != 0 and done.stdout == ""
    assert "neither ss nor /proc/net/tcp" in done.stderr


def test_reader_loop_answers_each_request_with_a_fresh_count():
    with ConnHolder(count=3) as held:
        proc = subprocess.Popen(["/bin/sh", "-c", "echo start-up noise; " + reader_command(held.port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            def ask(seq: int) -> list[str]:
                proc.stdin.write(f"{seq}\n")
                proc.stdin.flush()
                lines = []
                while True:
                    line = proc.stdout.readline().rstrip("\n")
                    lines.append(line)
                    if line.startswith(f"{END} {seq} "):
                        return lines
            first = ask(1)
            assert first[-3:] == [f"{BEGIN} 1", "3", f"{END} 1 0"]
            held.set_count(8)
            assert parse_count(ask(2)[-2]) == 8
        finally:
            proc.stdin.close()
            assert proc.wait(timeout=5) == 0
