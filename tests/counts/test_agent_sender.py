"""`wsfleet agent-config --sender`: the instance-side sender, run here under /bin/sh (dash on this
machine: POSIX sh) against a loopback port holding K real connections, with a UDP socket standing
in for the CloudWatch agent's StatsD listener. It must send exactly K, in the StatsD gauge form the
agent parses, under the configured name; and its `install` writes a timer (or a cron line) whole."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers.conn_holder import ConnHolder
from wsfleet.agent_sender import SCRIPT_PATH, sender_script
from wsfleet.config import parse_config, select_fleet

pytestmark = pytest.mark.skipif(shutil.which("ss") is None and not Path("/proc/net/tcp").exists(), reason="neither ss nor /proc/net/tcp")


class Listener:
    """A UDP socket on 127.0.0.1 playing the agent's StatsD listener."""

    def __enter__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def receive(self, n: int = 1) -> list[str]:
        return [self.sock.recvfrom(65535)[0].decode() for _ in range(n)]

    def nothing_more(self) -> bool:
        self.sock.settimeout(0.3)
        try:
            self.sock.recvfrom(65535)
            return False
        except socket.timeout:
            return True


def write_script(tmp_path: Path, port: int, name: str = "Established") -> Path:
    fleet = select_fleet(parse_config(f'[fleets.chat]\nasg = "chat-asg"\nport = {port}\n[fleets.chat.metric]\nname = "{name}"\n'), None)
    path = tmp_path / "wsfleet-count-sender"
    path.write_text(sender_script(fleet, "test"))
    return path


def run(script: Path, *args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", str(script), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def bin_without_bash(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    """A PATH of the tools the script needs, without bash; `extra` are (name, sh text) stand-ins."""
    directory = tmp_path / "bin"
    directory.mkdir()
    stand_ins = dict(extra)
    for tool in ("ss", "cat", "awk", "mkdir", "dirname", "cp", "chmod", "mv", "sleep", "python3"):
        found = shutil.which(tool)
        if found and tool not in stand_ins:  # never a symlink where a stand-in goes: writing it would overwrite the real tool
            (directory / tool).symlink_to(found)
    for name, text in stand_ins.items():
        path = directory / name
        assert not path.is_symlink()
        path.write_text("#!/bin/sh\n" + text)
        path.chmod(0o755)
    return directory


@pytest.mark.parametrize("k", [0, 1, 37])
def test_the_sender_sends_exactly_the_connections_held_on_the_port(tmp_path, k):
    with ConnHolder(count=k) as held, Listener() as agent:
        script = write_script(tmp_path, held.port)
        out = run(script, env={"WSFLEET_STATSD_PORT": str(agent.port)})
        assert out.returncode == 0, out.stderr
        assert agent.receive() == [f"Established:{k}|g"]  # a gauge, no tags: the agent adds the dimensions
        assert agent.nothing_more()


def test_the_count_is_the_ssh_sources_count_text(tmp_path):
    from wsfleet.counts.command import count_command

    with ConnHolder(count=5) as held:
        script = write_script(tmp_path, held.port)
        assert count_command(held.port) in script.read_text()
        printed = run(script, "print")
        assert printed.returncode == 0 and printed.stdout == "5\n"


def test_without_bash_it_sends_through_nc(tmp_path):
    # nc's stand-in records its arguments and forwards stdin as one datagram (python3 plays the network)
    nc = ('printf "%s\\n" "$*" > "$NC_ARGS"\n'
          'exec python3 -c "import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto('
          'sys.stdin.buffer.read(), (sys.argv[1], int(sys.argv[2])))" "$4" "$5"\n')
    path = bin_without_bash(tmp_path, ("nc", nc))
    with ConnHolder(count=3) as held, Listener() as agent:
        script = write_script(tmp_path, held.port)
        out = run(script, env={"WSFLEET_STATSD_PORT": str(agent.port), "PATH": str(path), "NC_ARGS": str(tmp_path / "nc-args")})
        assert out.returncode == 0, out.stderr
        assert agent.receive() == ["Established:3|g"]
    assert (tmp_path / "nc-args").read_text() == f"-u -w 1 127.0.0.1 {agent.port}\n"


def test_with_no_way_to_send_udp_it_says_so_and_fails(tmp_path):
    path = bin_without_bash(tmp_path)
    with ConnHolder(count=2) as held:
        out = run(write_script(tmp_path, held.port), env={"PATH": str(path)})
    assert out.returncode == 1
    assert out.stderr == "wsfleet-count-sender: no way to send UDP here: install bash, socat or nc\n"


def test_minute_sends_six_samples_ten_seconds_apart(tmp_path):
    sleep = 'echo "$1" >> "$SLEEPS"\n'  # instant: the loop's pacing is what is checked
    path = bin_without_bash(tmp_path, ("sleep", sleep))
    (path / "bash").symlink_to(shutil.which("bash"))
    with ConnHolder(count=4) as held, Listener() as agent:
        out = run(write_script(tmp_path, held.port), "minute",
                  env={"WSFLEET_STATSD_PORT": str(agent.port), "PATH": str(path), "SLEEPS": str(tmp_path / "sleeps")})
        assert out.returncode == 0, out.stderr
        assert agent.receive(6) == ["Established:4|g"] * 6 and agent.nothing_more()
    assert (tmp_path / "sleeps").read_text().split() == ["10"] * 5


def test_an_unknown_subcommand_is_one_sentence_and_sends_nothing(tmp_path):
    with Listener() as agent:
        out = run(write_script(tmp_path, 8080), "sned", env={"WSFLEET_STATSD_PORT": str(agent.port)})
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "unknown command 'sned'" in out.stderr
        assert agent.nothing_more()


def test_install_without_systemd_writes_the_cron_line_and_the_script(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    with ConnHolder(count=1) as held:
        script = write_script(tmp_path, held.port)
        out = run(script, "install", env={"WSFLEET_ROOT": str(root)})
    assert out.returncode == 0, out.stderr
    assert "no systemd here" in out.stdout
    assert (root / "etc/cron.d/wsfleet-count-sender").read_text() == f"* * * * * root {SCRIPT_PATH} minute\n"
    installed = root / SCRIPT_PATH.lstrip("/")
    assert installed.read_text() == script.read_text() and stat.S_IMODE(installed.stat().st_mode) == 0o755
    assert not list(root.rglob("*.tmp.*"))  # written whole: no temporary left


def test_install_with_systemd_writes_the_timer_and_starts_it(tmp_path):
    root = tmp_path / "root"
    (root / "run/systemd/system").mkdir(parents=True)
    path = bin_without_bash(tmp_path, ("systemctl", 'echo "$*" >> "$CALLS"\n'))
    (path / "bash").symlink_to(shutil.which("bash"))
    with ConnHolder(count=1) as held:
        out = run(write_script(tmp_path, held.port), "install",
                  env={"WSFLEET_ROOT": str(root), "PATH": str(path), "CALLS": str(tmp_path / "calls")})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "calls").read_text().splitlines() == ["daemon-reload", "enable --now wsfleet-count-sender.timer"]
    timer = (root / "etc/systemd/system/wsfleet-count-sender.timer").read_text()
    service = (root / "etc/systemd/system/wsfleet-count-sender.service").read_text()
    assert "OnUnitActiveSec=10s" in timer and "WantedBy=timers.target" in timer and timer.startswith("[Unit]")
    assert f"ExecStart={SCRIPT_PATH}" in service and "Type=oneshot" in service and "[Timer]" not in service
    assert not (root / "etc/cron.d").exists()


def test_the_cli_prints_the_sender_and_how_to_install_it(tmp_path, capsys):
    from wsfleet.cli import main

    config = tmp_path / "wsfleet.toml"
    config.write_text('[fleets.chat]\nasg = "chat-asg"\nport = 8080\n')
    assert main(["--config", str(config), "agent-config", "--sender"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("#!/bin/sh\n") and "port 8080" in out and "TCPconnections" in out
    assert f"save this as {SCRIPT_PATH}" in err and "install" in err
