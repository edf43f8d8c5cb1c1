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
    FIRST_SEQ,
    CountParseError,
    count_command,
    parse_count,
    reader_command,
    sh_reader_command,
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
            assert first[-6:-3] == [f"{BEGIN} {FIRST_SEQ}", "3", f"{END} {FIRST_SEQ} 0"]  # sent unasked
            held.set_count(8)
            assert parse_count(ask(2)[-2]) == 8
        finally:
            proc.stdin.close()
            assert proc.wait(timeout=5) == 0


# ---------------------------------------------------------------- the count loop's three ways to count


class Loop:
    """`reader_command` run locally (as sshd would run it), driven one request at a time."""

    def __init__(self, port: int, env: dict | None = None, make=reader_command) -> None:
        self.proc = subprocess.Popen(["/bin/sh", "-c", make(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self.seq = FIRST_SEQ

    def _answer(self, seq: int) -> tuple[str, int]:
        lines = []
        while True:
            line = self.proc.stdout.readline()
            assert line, f"the loop ended: {self.proc.stderr.read()}"
            line = line.rstrip("\n")
            if line.startswith(f"{END} {seq} "):
                begin = lines.index(f"{BEGIN} {seq}")
                return "\n".join(lines[begin + 1:]), int(line.rsplit(" ", 1)[1])
            lines.append(line)

    def first(self) -> int:
        output, status = self._answer(FIRST_SEQ)
        assert status == 0
        return parse_count(output)

    def ask(self) -> tuple[str, int]:
        self.seq += 1
        self.proc.stdin.write(f"{self.seq}\n")
        self.proc.stdin.flush()
        return self._answer(self.seq)

    def count(self) -> int:
        output, status = self.ask()
        assert status == 0, self.proc.stderr
        return parse_count(output)

    def close(self) -> int:
        self.proc.stdin.close()
        status = self.proc.wait(timeout=10)
        self.stderr = self.proc.stderr.read()
        return status


def assert_counts(first: int, then: int, **loop) -> None:
    """A count loop on a port holding `first` connections answers `first` unasked, then `then`
    after the count changes, and ends cleanly when its input closes."""
    with ConnHolder(count=first) as held:
        counting = Loop(held.port, **loop)
        try:
            assert counting.first() == first
            held.set_count(then)
            assert counting.count() == then
        finally:
            assert counting.close() == 0


@pytest.fixture
def perl_hooks(tmp_path):
    """PERL5OPT modules that break one thing in the count loop's perl (a kernel or sandbox without
    it), each logging what it saw to `tmp_path/log`."""
    log = tmp_path / "log"
    (tmp_path / "wsfleet_no_one_walk.pm").write_text(
        "package wsfleet_no_one_walk;\n"
        "BEGIN { *CORE::GLOBAL::send = sub { my $type = unpack('x4S', $_[1]);\n"
        f"  open(my $f, '>>', '{log}'); print $f \"$type\\n\"; close $f;\n"
        "  if ($type == 18) { $! = 22; return undef } return CORE::send($_[0], $_[1], $_[2]) }; }\n1;\n")
    (tmp_path / "wsfleet_no_netlink.pm").write_text(
        "package wsfleet_no_netlink;\n"
        "BEGIN { *CORE::GLOBAL::socket = sub { $! = 13; return 0 }; }\n1;\n")
    (tmp_path / "wsfleet_fails_later.pm").write_text(
        "package wsfleet_fails_later;\nmy $sent = 0;\n"
        "BEGIN { *CORE::GLOBAL::send = sub { if (++$sent > 1) { $! = 105; return undef }"
        " return CORE::send($_[0], $_[1], $_[2]) }; }\n1;\n")
    return tmp_path


def hooked(hooks, module: str) -> dict:
    return {"PERL5LIB": str(hooks), "PERL5OPT": f"-M{module}"}


needs_perl = pytest.mark.skipif(shutil.which("perl") is None, reason="no perl on this machine")


@needs_perl
@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback")
def test_the_perl_loop_counts_ipv4_and_ipv6_exactly_as_ss_does():
    with ConnHolder(count=11, ipv6=6) as held, ConnHolder(count=4) as other:
        loop = Loop(held.port)
        try:
            assert loop.first() == 17 == parse_count(run_count(held.port))
            held.set_count(2)
            assert loop.count() == 2 == parse_count(run_count(held.port))
            assert Loop(other.port).first() == 4  # another port's connections are not counted
        finally:
            assert loop.close() == 0
    assert "perl" in reader_command(held.port)


@needs_perl
def test_the_perl_loop_counts_thousands_exactly_over_many_netlink_reads():
    assert_counts(3000, 2999)


def test_without_perl_the_perl_loop_ends_at_once_and_the_sh_loop_counts_with_ss(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ss", "cat", "awk"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    env = {"PATH": str(bin_dir)}
    ended = subprocess.run(["/bin/sh", "-c", reader_command(443)], input="1\n", capture_output=True, text=True,
                           env=env, timeout=10)
    assert ended.returncode == 127 and ended.stdout == ""  # what the ssh source takes as "no perl here"
    assert_counts(5, 9, env=env, make=sh_reader_command)


@needs_perl
def test_when_the_one_walk_request_is_refused_perl_asks_per_family(perl_hooks):
    assert_counts(6, 3, env=hooked(perl_hooks, "wsfleet_no_one_walk"))
    sent = (perl_hooks / "log").read_text().split()
    assert sent[0] == "18" and set(sent[1:]) == {"20"} and len(sent) == 5  # probe: 18 refused, 20+20; then 20+20


@needs_perl
def test_when_netlink_is_refused_perl_hands_over_to_the_sh_loop(perl_hooks, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "ss-calls"
    (bin_dir / "ss").write_text(f'#!/bin/sh\necho ss >> {calls}\nexec {shutil.which("ss")} "$@"\n')
    (bin_dir / "ss").chmod(0o755)
    env = hooked(perl_hooks, "wsfleet_no_netlink") | {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    assert_counts(4, 7, env=env)
    assert calls.read_text().split() == ["ss", "ss"]  # the sh loop's ss answered both


@needs_perl
def test_a_netlink_failure_after_start_is_a_failed_answer_not_a_number(perl_hooks):
    with ConnHolder(count=2) as held:
        loop = Loop(held.port, env=hooked(perl_hooks, "wsfleet_fails_later"))
        try:
            assert loop.first() == 2
            output, status = loop.ask()
            assert (output, status) == ("", 1)
        finally:
            assert loop.close() == 0
    assert "netlink sock_diag" in loop.stderr and "No buffer space" in loop.stderr
