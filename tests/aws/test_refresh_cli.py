"""`wsfleet refresh ...` through the real CLI against stock moto (which has no refresh calls):
wrong values are exit 2 before AWS; the missing calls fail only `refresh` itself (exit 3), while
`status` says the refresh is unavailable and goes on."""

from __future__ import annotations

import json

import pytest

from tests.aws.test_status_cli import config_for, seed, wsfleet  # noqa: F401  (seed is a fixture)


@pytest.mark.parametrize("argv, words", [
    (["start", "--min-healthy", "120"], "--min-healthy 120 is out of range"),
    (["start", "--checkpoints", "50,20"], "is not strictly ascending"),
    (["start", "--max-healthy", "150"], "needs --min-healthy too"),
])
def test_wrong_refresh_options_exit_2_with_one_sentence(tmp_path, argv, words):
    # no endpoint at all: a value check that reached AWS would fail differently (exit 3)
    result = wsfleet("--config", str(config_for(tmp_path, "http://127.0.0.1:9")), "refresh", *argv, "--yes", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_refresh_status_on_an_endpoint_without_refreshes_is_exit_3(moto_server, seed, tmp_path):
    result = wsfleet("--config", str(config_for(tmp_path, moto_server.endpoint_url)), "refresh", "status", cwd=tmp_path)
    assert result.returncode == 3
    assert "does not implement DescribeInstanceRefreshes" in result.stderr and "Traceback" not in result.stderr


def test_status_goes_on_when_refreshes_are_unavailable(moto_server, seed, tmp_path):
    config = str(config_for(tmp_path, moto_server.endpoint_url))
    doc = json.loads(wsfleet("--config", config, "status", "--format", "json", cwd=tmp_path).stdout)
    assert doc["instance_refresh"] is None and "does not implement" in doc["instance_refresh_unavailable"]
    assert doc["problems"] == []
    assert all(i["launch_template_version"] == "1" for i in doc["group"]["instances"])
    table = wsfleet("--config", config, "status", cwd=tmp_path)
    assert table.returncode == 0 and "refresh unavailable from this endpoint" in table.stdout
