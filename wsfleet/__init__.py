"""wsfleet: live connection counts and safe scaling for a WebSocket fleet in an AWS Auto Scaling group."""

from __future__ import annotations

# Not installed (run from a checkout with PYTHONPATH): a PEP 440 local version that sorts below any release.
UNKNOWN_VERSION = "0+unknown"


def installed_version() -> str:
    """The version in the installed package's metadata (read on demand: it costs a scan of sys.path)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wsfleet")
    except PackageNotFoundError:
        return UNKNOWN_VERSION


def __getattr__(name: str) -> str:
    if name == "__version__":
        return installed_version()
    raise AttributeError(f"module 'wsfleet' has no attribute {name!r}")
