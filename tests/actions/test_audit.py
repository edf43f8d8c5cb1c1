"""The audit log: one whole JSON line per attempted write, read back newest last."""

import json
import os

import pytest

from wsfleet.audit import AuditLog, default_audit_path
from wsfleet.errors import ConfigError
from wsfleet.model import AppConfig


def test_default_path_is_in_the_user_log_dir():
    path = default_audit_path()
    assert path.name == "audit.jsonl"
    assert "wsfleet" in str(path)
    assert str(path).startswith(os.environ["XDG_STATE_HOME"])


def test_config_overrides_the_path(tmp_path):
    log = AuditLog.for_config(AppConfig(fleets={}, audit_log=str(tmp_path / "a.jsonl")))
    assert log.path == tmp_path / "a.jsonl"
    assert AuditLog.for_config(AppConfig(fleets={})).path == default_audit_path()


def test_append_writes_one_json_line_each(tmp_path):
    log = AuditLog(tmp_path / "sub" / "audit.jsonl")
    log.append({"action": "scale out", "after": {"desired": 5}, "note": "two\nlines"})
    log.append({"action": "scale in", "after": {"desired": 4}})
    lines = (tmp_path / "sub" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["note"] == "two\nlines"
    assert [e["action"] for e in log.recent(10)] == ["scale out", "scale in"]


def test_recent_returns_the_last_n_and_skips_broken_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(5):
        log.append({"i": i})
    with path.open("a") as f:
        f.write('{"i": 99, "trunc')  # a torn line from some other writer
    assert [e["i"] for e in log.recent(2)] == [3, 4]
    assert log.recent(0) == []


def test_missing_log_reads_as_empty(tmp_path):
    assert AuditLog(tmp_path / "none.jsonl").recent() == []


def test_unwritable_log_is_refused_before_writing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    log = AuditLog(blocker / "audit.jsonl")  # parent is a file
    with pytest.raises(ConfigError, match="audit log"):
        log.check_writable()
