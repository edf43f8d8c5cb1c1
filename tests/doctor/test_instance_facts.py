"""The facts script run for real on this machine (real sockets, real /proc), and its parser."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from wsfleet.instance_facts import FactsParseError, facts_command, nginx_seconds, parse_facts, remote_command


@pytest.fixture
def service():
    """A listening socket with 3 ESTABLISHED and 2 CLOSE_WAIT connections on it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    clients, accepted = [], []
    for _ in range(5):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = server.accept()
        clients.append(c)
        accepted.append(a)
    for c in clients[:2]:  # the peer hangs up; our side never closes: CLOSE_WAIT
        c.close()
    time.sleep(0.05)
    yield port
    for s in clients[2:] + accepted + [server]:
        s.close()


def run_script(port: int, env: dict | None = None, silent_after: float | None = None) -> str:
    done = subprocess.run(["/bin/sh", "-c", facts_command(port, silent_after)], capture_output=True, text=True, timeout=20, env=env)
    return done.stdout


def test_the_script_reads_this_process_as_the_service(service):
    f = parse_facts("i-local", run_script(service))
    assert f.listening is True
    assert f.service_pids == (os.getpid(),)
    assert f.open_files == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert f.established == 3
    assert f.close_wait == 2
    lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    assert f.port_range == (int(lo), int(hi))


def test_the_remote_form_runs_in_a_plain_sh(service):
    done = subprocess.run(["bash", "-c", remote_command(service)], capture_output=True, text=True, timeout=20)
    assert parse_facts("i-local", done.stdout).close_wait == 2


def test_nothing_listening_is_read_as_such():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    f = parse_facts("i-local", run_script(port))
    assert f.listening is False and f.service_pids == () and f.open_files is None


def _bin_without(tmp_path: Path, missing: set[str], extra: dict[str, str] | None = None) -> dict:
    """An environment whose PATH holds the usual tools except `missing`, plus scripts in `extra`."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("sh", "cat", "awk", "sort", "uniq", "grep", "wc", "cut", "head", "ss", "printf"):
        real = shutil.which(tool)
        if real and tool not in missing:
            (bindir / tool).symlink_to(real)
    for name, text in (extra or {}).items():
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    return {"PATH": str(bindir), "LC_ALL": "C"}


def test_without_ss_the_states_come_from_proc(service, tmp_path):
    f = parse_facts("i-minimal", run_script(service, env=_bin_without(tmp_path, {"ss"})))
    assert f.listening is True
    assert (f.established, f.close_wait) == (3, 2)
    assert f.service_pids == ()  # no ss, no owner: the open-files check says it could not see


NGINX_T = """#!/bin/sh
[ "$1" = "-T" ] || exit 2
cat <<'CONF'
nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
# configuration file /etc/nginx/nginx.conf:
http {
    # keepalive_timeout 5;
    keepalive_timeout 65;
    server {
        location /ws { keepalive_timeout 1m 60s; }
    }
}
CONF
"""


def test_nginx_keepalive_timeouts_are_read_from_nginx_T(service, tmp_path):
    f = parse_facts("i-nginx", run_script(service, env=_bin_without(tmp_path, set(), {"nginx": NGINX_T})))
    assert f.nginx_present and f.nginx_readable
    assert f.nginx_keepalive == (65.0, 60.0)  # the commented one is not read


def test_nginx_that_cannot_dump_its_config_is_present_but_unreadable(service, tmp_path):
    failing = "#!/bin/sh\necho 'nginx: [emerg] open() \"/run/nginx.pid\" failed (13: Permission denied)' >&2\nexit 1\n"
    f = parse_facts("i-nginx", run_script(service, env=_bin_without(tmp_path, set(), {"nginx": failing})))
    assert f.nginx_present and not f.nginx_readable and f.nginx_keepalive == ()


def test_no_nginx_is_absent(service, tmp_path):
    f = parse_facts("i-plain", run_script(service, env=_bin_without(tmp_path, set())))
    assert not f.nginx_present


@pytest.mark.parametrize("text", ["", "@@ listen\nLISTEN 0 128 0.0.0.0:443\n", "Last login: Mon\nwelcome\n"])
def test_cut_or_foreign_output_is_a_parse_error(text):
    with pytest.raises(FactsParseError):
        parse_facts("i-x", text)


def test_login_noise_before_the_sections_is_ignored():
    out = "motd: welcome\n@@ listen\n@@ established\n0\n@@ close-wait\n0\n@@ limits\n@@ port-range\n10000 65535\n@@ nginx\nabsent\n@@ end\n"
    f = parse_facts("i-x", out)
    assert f.listening is False and f.port_range == (10000, 65535)


def test_unlimited_open_files():
    out = "@@ listen\nLISTEN 0 128 0.0.0.0:443 0.0.0.0:* users:((\"app\",pid=7,fd=3))\n@@ limits\npid 7\nMax open files            unlimited            unlimited            files\n@@ port-range\n@@ nginx\nabsent\n@@ end\n"
    f = parse_facts("i-x", out)
    assert f.open_files is None and f.open_files_unlimited


def test_the_lowest_soft_limit_among_the_listeners_counts():
    out = (
        "@@ listen\nLISTEN 0 511 0.0.0.0:443 0.0.0.0:* users:((\"nginx\",pid=10,fd=6),(\"nginx\",pid=11,fd=6))\n"
        "@@ limits\npid 10\nMax open files 1048576 1048576 files\npid 11\nMax open files 1024 4096 files\n@@ port-range\n@@ end\n"
    )
    f = parse_facts("i-x", out)
    assert f.service_pids == (10, 11) and f.open_files == 1024


@pytest.mark.parametrize("text,seconds", [("65", 65), ("75s", 75), ("1m", 60), ("1m30s", 90), ("500ms", 0.5), ("0", 0), ("65;", 65)])
def test_nginx_times(text, seconds):
    assert nginx_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "$var"])
def test_not_nginx_times(text):
    assert nginx_seconds(text) is None


@pytest.mark.parametrize("port", [0, 70000, "443; rm -rf /", True, 443.0])
def test_only_an_int_port_goes_into_the_script(port):
    with pytest.raises(ValueError):
        facts_command(port)


def test_upstream_keepalive_timeout_is_not_the_clients():
    from wsfleet.instance_facts import client_keepalive_timeouts

    conf = """
    http {
        keepalive_timeout 65s; # client side
        upstream app { server 127.0.0.1:9000; keepalive 32; keepalive_timeout 30s; }
        server { listen 443; location / { add_header X-Note "a;b{#"; keepalive_timeout 70; } }
    }
    """
    assert client_keepalive_timeouts(conf) == ["65s", "70"]


def test_output_cut_inside_the_nginx_dump_keeps_the_other_facts():
    out = (
        "@@ listen\nLISTEN 0 511 0.0.0.0:443 0.0.0.0:*\n@@ established\n12\n@@ close-wait\n1\n@@ limits\n"
        "@@ port-range\n10000 65535\n@@ nginx\nrc 0\nhttp {\n keepalive_timeout 65;\n server { lis"
    )
    f = parse_facts("i-x", out)
    assert (f.established, f.close_wait, f.port_range) == (12, 1, (10000, 65535))
    assert f.nginx_present and not f.nginx_readable


SS_WITH_TIMERS = """#!/bin/sh
case "$*" in
  *-Htni*) cat <<'OUT'
0      0      127.0.0.1:443 127.0.0.1:50001
	 cubic wscale:7,7 rto:204 rtt:0.01/0.005 lastsnd:1000 lastrcv:70000 lastack:1000
0      0      127.0.0.1:443 127.0.0.1:50002
	 cubic wscale:7,7 rto:204 rtt:0.01/0.005 lastsnd:400000 lastrcv:500000 lastack:400000
0      0      127.0.0.1:443 127.0.0.1:50003
	 cubic wscale:7,7 rto:204 rtt:0.01/0.005 lastsnd:4000000 lastrcv:3700000 lastack:3700000
0      0      127.0.0.1:443 127.0.0.1:50004
	 cubic wscale:7,7 rto:204 rtt:0.01/0.005 lastsnd:5 lastrcv:5 lastack:5
0      0      127.0.0.1:443 127.0.0.1:50005
	 cubic wscale:7,7 rto:204 rtt:0.01/0.005 lastrcv:4000000 lastack:5
0      0      127.0.0.1:443 127.0.0.1:50006
	 cubic wscale:7,7 rto:204 rtt:0.01/0.005 lastsnd:4000000
OUT
  ;;
  *) exec @REAL@ "$@" ;;
esac
"""


def test_silent_connections_count_the_quieter_direction(service, tmp_path):
    """Silent = no data either way: a connection the server still writes to is not silent. ss leaves
    out a timer that is 0, so 50005 (sent this millisecond) and 50006 (received) are not silent."""
    fake = SS_WITH_TIMERS.replace("@REAL@", shutil.which("ss"))
    f = parse_facts("i-x", run_script(service, env=_bin_without(tmp_path, {"ss"}, {"ss": fake})))
    assert f.silent == (2, 2, 1)
    assert (f.established, f.close_wait) == (3, 2)  # the real ss still answers the other questions


@pytest.mark.parametrize(("silent_after", "over"), [(65, 2), (0.5, 3), (3600, 1), (4000, 0)])
def test_the_fleets_silence_threshold_adds_its_own_count(service, tmp_path, silent_after, over):
    """doctor.silent_after (seconds) becomes one more count, at that threshold, of the quieter direction."""
    fake = SS_WITH_TIMERS.replace("@REAL@", shutil.which("ss"))
    f = parse_facts("i-x", run_script(service, env=_bin_without(tmp_path, {"ss"}, {"ss": fake}), silent_after=silent_after))
    assert f.silent == (2, 2, 1) and f.silent_over == over


def test_without_a_threshold_the_script_is_unchanged_and_has_no_extra_count(service):
    assert facts_command(service) == facts_command(service, None) and "d++" not in facts_command(service)
    assert parse_facts("i-local", run_script(service)).silent_over is None
    assert parse_facts("i-local", run_script(service, silent_after=20)).silent_over == 0  # fresh connections


@pytest.mark.parametrize("bad", [0, -1, True, "20", float("nan")])
def test_the_threshold_put_in_the_script_is_a_positive_number(bad):
    with pytest.raises(ValueError):
        facts_command(443, bad)


def test_fresh_connections_are_not_silent(service):
    f = parse_facts("i-local", run_script(service))
    assert f.silent == (0, 0, 0)
