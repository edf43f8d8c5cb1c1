"""Fixtures for the AWS adapters: the seed's fleet, an in-process moto, a session on it."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from moto import mock_aws

from tests.helpers.moto_fleet import make_fleet
from tests.helpers.moto_server import moto_server  # noqa: F401  (pytest fixture)
from wsfleet.aws.session import AwsSession
from wsfleet.model import FleetConfig

REGION = "us-east-1"
ASG = "prod-chat-asg"


def seed_fleet(**changes: Any) -> FleetConfig:
    values: dict[str, Any] = {"name": "prod-chat", "asg": ASG, "region": REGION, "env": "prod", "app": "chat"}
    values.update(changes)
    return FleetConfig(**values)


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def fleet() -> FleetConfig:
    return seed_fleet()


@pytest.fixture
def session(aws, fleet) -> AwsSession:
    return AwsSession(fleet)


@pytest.fixture
def group(session) -> dict:
    """Three instances in two AZs behind an ALB target group."""
    return make_fleet(session, asg=ASG, instances=3, target_group=True)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class CallCounter:
    """Counts API operations seen by botocore on one client, independent of AwsSession.api_calls."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model=None, **_: Any) -> None:
        self.operations.append(model.name)

    def attach(self, session: AwsSession, services: tuple[str, ...]) -> "CallCounter":
        for service in services:
            session.client(service).meta.events.register("before-call", self)
        return self
