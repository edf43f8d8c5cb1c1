"""The demo's environment: dummy credentials for its own moto, nothing of the shell's AWS identity.
Light on purpose: the dashboard's process sets it without importing the demo's stack."""

from __future__ import annotations

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    # moto parses ~2 MB of AMI data on its first EC2 call (~0.4 s); the demo's launch template
    # names one AMI and moto does not check that it exists
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
CLEARED_ENV = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
