"""AwsSession: one boto3 session per fleet, cached clients, adaptive retries, a call counter."""

from __future__ import annotations

import time

import pytest

from tests.aws.conftest import seed_fleet
from wsfleet.aws.session import AwsSession
from wsfleet.errors import ConfigError


def test_clients_are_cached_per_service(session):
    assert session.client("autoscaling") is session.client("autoscaling")
    assert session.client("autoscaling") is not session.client("cloudwatch")


def test_every_client_uses_the_fleets_region_and_endpoint(aws):
    session = AwsSession(seed_fleet(region="eu-west-1", endpoint_url="http://127.0.0.1:5999"))
    for service in ("autoscaling", "cloudwatch", "ec2", "elbv2", "sts"):
        client = session.client(service)
        assert client.meta.region_name == "eu-west-1"
        assert client.meta.endpoint_url == "http://127.0.0.1:5999"


def test_clients_retry_adaptively_and_connect_with_a_short_timeout(session):
    config = session.client("autoscaling").meta.config
    assert config.retries["mode"] == "adaptive"
    assert config.retries["total_max_attempts"] == 5
    assert config.connect_timeout <= 5


def test_api_calls_counts_each_operation_once(session):
    before = session.api_calls
    session.client("autoscaling").describe_auto_scaling_groups()
    session.client("cloudwatch").describe_alarms()
    session.client("autoscaling").describe_policies()
    assert session.api_calls - before == 3


def test_account_id_and_caller_arn_come_from_sts_once(session):
    assert session.account_id() == "123456789012"  # moto's account
    assert session.caller_arn().startswith("arn:aws:")
    calls = session.api_calls
    assert session.account_id() == "123456789012"
    assert session.api_calls == calls  # cached


def test_account_id_is_none_when_sts_cannot_be_reached(closed_port):
    session = AwsSession(seed_fleet(endpoint_url=f"http://127.0.0.1:{closed_port}"))
    assert session.account_id() is None
    assert session.caller_arn() is None


def test_an_unreachable_endpoint_fails_within_seconds_not_after_every_retry(closed_port):
    session = AwsSession(seed_fleet(endpoint_url=f"http://127.0.0.1:{closed_port}"))
    started = time.monotonic()
    with pytest.raises(Exception):
        session.client("autoscaling").describe_auto_scaling_groups()
    assert time.monotonic() - started < 3  # botocore's own policy took 10-25 s here


def test_unknown_profile_is_a_config_error_naming_it():
    with pytest.raises(ConfigError) as caught:
        AwsSession(seed_fleet(profile="no-such-profile"))
    assert "no-such-profile" in caught.value.message
    assert "--profile" in caught.value.message


def test_no_region_anywhere_is_a_config_error(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    session = AwsSession(seed_fleet(region=None))
    with pytest.raises(ConfigError) as caught:
        session.client("autoscaling")
    assert "region" in caught.value.message and "--region" in caught.value.message


def test_region_falls_back_to_botocores_chain(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert AwsSession(seed_fleet(region=None)).region == "ap-southeast-2"
