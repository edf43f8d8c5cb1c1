"""The demo's AWS identity: dummy credentials for its own moto, never a real account's.

Light on purpose (no moto, boto3 or asyncssh): the dashboard's process sets it too when the demo
fleet runs in a process of its own (`wsfleet demo` with the dashboard)."""

from __future__ import annotations

import os

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    # moto parses ~2 MB of AMI data on its first EC2 call (~0.4 s); the demo's launch template
    # names one AMI and moto does not check that it exists
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
CLEARED_ENV = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def isolate() -> dict[str, str | None]:
    """Replace the process's AWS credentials with the demo's dummies; returns what to restore."""
    saved = {key: os.environ.get(key) for key in (*DUMMY_ENV, *CLEARED_ENV)}
    for key in CLEARED_ENV:
        os.environ.pop(key, None)
    os.environ.update(DUMMY_ENV)
    return saved


def restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
