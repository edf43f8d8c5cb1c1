"""What the demo's process environment holds: dummy AWS credentials, and none of the shell's.

The demo talks only to its own moto, never to a real account, whatever the shell exports: its
process (and a dashboard forked from it, `wsfleet.commands.demo_forked`) runs with these. A module
of its own, without moto, so a process that never imports the fleet can apply them too.
"""

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
    """Apply the demo's environment to this process; returns what it replaced (None: was unset)."""
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
