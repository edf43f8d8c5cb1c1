"""`wsfleet doctor` with its instance checks, as a user runs it: moto's server for AWS, a real
OpenSSH sshd on loopback for the instances (each moto instance mapped to one of its ports), and a
real service socket on this machine whose clients hung up without the service closing (CLOSE_WAIT)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import socket

import pytest

from tests.helpers.asyncssh_hosts import closed_port, write_client_key
from tests.helpers.moto_fleet import make_fleet, write_config
from tests.helpers.moto_server import moto_server  # noqa: F401  (pytest fixture)
from tests.helpers.sshd import sshd  # noqa: F401  (pytest fixture)

ASG = "prod-chat-asg"


@pytest.fixture
def client_key(tmp_path):
    return write_client_key(tmp_path)


@pytest.fixture
def leaky_service():
    """A service port holding 2 ESTABLISHED and 5 CLOSE_WAIT connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    pairs = []
    for _ in range(7):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = server.accept()
        pairs.append((c, a))
    for c, _ in pairs[:5]:
        c.close()
    time.sleep(0.05)
    yield port
    for c, a in pairs:
        c.close()
        a.close()
    server.close()


def doctor(cfg: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wsfleet", "--config", cfg, "doctor", "--format", "json", *args],
                          capture_output=True, text=True, timeout=90, env={**os.environ, "COLUMNS": "100"})


def test_doctor_reads_the_instances_over_real_sshd(moto_server, sshd, client_key, leaky_service, tmp_path):
    key_path, _ = client_key
    built = make_fleet(None, asg=ASG, instances=3, endpoint_url=moto_server.endpoint_url)
    a, b, c = built["instance_ids"]
    (tmp_path / "known_hosts").write_text(sshd.known_hosts_lines())
    (tmp_path / "ssh_config").write_text("")
    cfg = str(write_config(
        tmp_path, moto_server.endpoint_url, ASG, fleet="prod-chat", env="prod", app="chat",
        capacity=200,  # the demo's scale: 5 CLOSE_WAIT sockets are over 1% of it
        counts={"timeout": 5},
        ssh={
            "user": sshd.user, "key": str(key_path), "known_hosts": str(tmp_path / "known_hosts"),
            "host_keys": "strict", "config_file": str(tmp_path / "ssh_config"),
            "hosts": {
                a: {"address": f"127.0.0.1:{sshd.ports[0]}", "service_port": leaky_service},
                b: {"address": f"127.0.0.1:{sshd.ports[1]}", "service_port": leaky_service},
                c: f"127.0.0.1:{closed_port()}",
            },
        },
    ))
    done = doctor(cfg)
    assert done.returncode == 1, done.stderr  # no alarms yet: errors
    findings = {}
    for f in json.loads(done.stdout)["findings"]:
        findings.setdefault(f["check"], []).append(f)

    (reach,) = findings["instance-reach"]
    assert reach["severity"] == "warning" and c in reach["found"] and "refused" in reach["found"]
    (close_wait,) = findings["close-wait"]
    assert close_wait["severity"] == "warning" and f"{a} (5)" in close_wait["found"] and f"{b} (5)" in close_wait["found"]
    assert [f["severity"] for f in findings["service-listening"]] == ["ok"]
    (open_files,) = findings["open-files"]  # this machine's limit (20,000) is 100x the ceiling of 200
    assert open_files["severity"] == "ok"
    assert findings["port-range"][0]["severity"] == "ok"

    skipped = doctor(cfg, "--no-instances")
    checks = {f["check"] for f in json.loads(skipped.stdout)["findings"]}
    assert "close-wait" not in checks and "open-files" not in checks
