"""One AWS session per fleet: botocore clients with the fleet's profile, region and endpoint.

Credentials come from botocore's own chain (env, profiles, SSO, assume-role, instance roles):
wsfleet never reads or stores a secret. Every client shares one retry policy (adaptive mode,
so throttling slows us down instead of failing) and one API-call counter, which is how the
dashboard proves its refresh costs the same number of calls for 5 instances as for 500.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.exceptions
import botocore.loaders
import botocore.session
from botocore.config import Config

from wsfleet.aws import errors as _errors
from wsfleet.aws.models import TrimmingLoader
from wsfleet.errors import ConfigError
from wsfleet.model import FleetConfig

DEFAULT_MAX_ATTEMPTS = 5  # attempts per call, the first included; throttled calls wait between them
CONNECT_TIMEOUT = 3.0  # seconds: an endpoint that does not accept a connection by then is down
READ_TIMEOUT = 20.0
# A refused or timed-out connection (or an endpoint that stops answering) is retried once, then
# reported. botocore's own policy retries it like a throttle (five attempts with backoff, 10-25 s
# measured against a closed loopback port), which leaves an on-call engineer staring at a frozen screen.
CONNECT_ATTEMPTS = 2
CONNECT_RETRY_DELAY = 0.2
_FAIL_FAST = (botocore.exceptions.ConnectionError, botocore.exceptions.ReadTimeoutError)

_UNSET = object()

# botocore parses its JSON service models once per session; the dashboard keeps a session per
# fleet and the demo has its own, so they share one loader (thread-safe: reads and a cache).
_LOADER_LOCK = threading.Lock()
_SHARED_LOADER: botocore.loaders.Loader | None = None
_SESSION_LOADER: TrimmingLoader | None = None


def _shared_loader() -> botocore.loaders.Loader:
    global _SHARED_LOADER
    with _LOADER_LOCK:
        if _SHARED_LOADER is None:
            from wsfleet.parsed_json import BotocoreFiles

            _SHARED_LOADER = botocore.loaders.create_loader()
            _SHARED_LOADER.file_loader = BotocoreFiles()  # each JSON file parsed once, then read back in marshal form
        paths = _SHARED_LOADER.search_paths  # boto3 appends its data dir once per session
        paths[:] = list(dict.fromkeys(paths))
        return _SHARED_LOADER


def _session_loader() -> TrimmingLoader:
    """What every AwsSession loads models with: the shared loader, with EC2's client made from the
    operations wsfleet calls (wsfleet.aws.models: 3 ms to create here, not 60)."""
    global _SESSION_LOADER
    base = _shared_loader()
    with _LOADER_LOCK:
        if _SESSION_LOADER is None:
            _SESSION_LOADER = TrimmingLoader(base)
        return _SESSION_LOADER


def share_data_loader() -> None:
    """Every botocore session made from now on in this process (with the default data path) shares
    the one loader, so each JSON model is parsed once. For the demo, whose process also holds moto:
    moto makes a fresh boto3 Session for each region list it builds (three at `import moto.ec2`, one
    per backend in the server), and each parsed endpoints.json and the 3 MB ec2 model again --
    six parses of each before the first count. Idempotent."""
    original = botocore.session.create_loader
    if getattr(original, "wsfleet_shared", False):
        return

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return _shared_loader() if search_path_string is None else original(search_path_string)

    create_loader.wsfleet_shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = create_loader


class AwsSession:
    """The fleet's AWS access: cached clients, the caller's identity, and a count of API calls."""

    def __init__(
        self,
        fleet: FleetConfig,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.fleet = fleet
        try:
            # botocore itself, not boto3: wsfleet makes clients only (no resources, no S3 transfers),
            # and importing boto3 costs ~0.1 s more (s3transfer) on every one-shot command
            core = botocore.session.Session(profile=fleet.profile)
            core.register_component("data_loader", _session_loader())
            core.get_scoped_config()  # an unknown profile raises here, not at the first call
            if fleet.region:
                core.set_config_variable("region", fleet.region)
            self._core = core
        except botocore.exceptions.ProfileNotFound:
            raise ConfigError(
                f"AWS profile {fleet.profile!r} of fleet {fleet.name!r} is not in your AWS config: "
                f"fix `profile` in the fleet config, pass --profile, or create it with `aws configure sso`."
            ) from None
        self._config = Config(
            # total attempts, first one included (Config's "max_attempts" would count retries only)
            retries={"mode": "adaptive", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra="wsfleet",
            # botocore gzips request bodies over 10 KB (PutMetricData); moto and LocalStack can't read them
            disable_request_compression=bool(fleet.endpoint_url),
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()  # creating clients
        self._count_lock = threading.Lock()  # the call counter (its hook may run while a client is made)
        self._calls = 0
        self._identity: Any = _UNSET
        # Registered on the session, so every client created from it inherits both hooks; on the
        # most specific wildcard node and first, so they run before botocore's per-service retry
        # handler and before a test's Stubber answers the call.
        events = core.get_component("event_emitter")
        events.register_first("before-call.*.*", self._before_call)
        events.register_first("needs-retry.*.*", self._fail_fast_on_connection_errors)

    # ------------------------------------------------------------------ identity of the session

    @property
    def region(self) -> str | None:
        return self._core.get_config_variable("region")

    @property
    def profile(self) -> str | None:
        return self.fleet.profile

    @property
    def endpoint_url(self) -> str | None:
        return self.fleet.endpoint_url

    @property
    def api_calls(self) -> int:
        """API operations made through this session so far (retries of one call count once)."""
        return self._calls

    # ------------------------------------------------------------------ clients

    def client(self, service: str) -> Any:
        """The cached botocore client for `service` ("autoscaling", "cloudwatch", "ec2", "elbv2", ...)."""
        client = self._clients.get(service)
        if client is not None:
            return client
        with self._lock:  # botocore sessions are not thread-safe; clients are
            client = self._clients.get(service)
            if client is None:
                if self.region is None:
                    raise ConfigError(
                        f"no AWS region for fleet {self.fleet.name!r}: set `region` in the fleet config, "
                        f"pass --region, or set AWS_REGION."
                    )
                with _errors.aws_errors(f"creating the {service} client", profile=self.profile):
                    client = self._core.create_client(service, endpoint_url=self.endpoint_url, config=self._config)
                self._clients[service] = client
        return client

    # ------------------------------------------------------------------ STS

    def account_id(self) -> str | None:
        """The AWS account the credentials belong to; None when STS cannot say (cached either way)."""
        identity = self._caller_identity()
        return identity.get("Account") if identity else None

    def caller_arn(self) -> str | None:
        """The caller's ARN (user, or assumed role); None when STS cannot say (cached either way)."""
        identity = self._caller_identity()
        return identity.get("Arn") if identity else None

    def _caller_identity(self) -> dict | None:
        if self._identity is _UNSET:
            try:
                self._identity = self.client("sts").get_caller_identity()
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, ConfigError):
                self._identity = None  # identity is decoration: never fail a read because of it
        return self._identity

    # ------------------------------------------------------------------ botocore hooks

    def _before_call(self, model=None, **_: Any) -> None:
        with self._count_lock:
            self._calls += 1
        if model is not None:
            _errors.note_call(
                service=model.service_model.service_name,
                operation=model.name,
                profile=self.profile,
                region=self.region,
                endpoint_url=self.endpoint_url,
            )

    def _fail_fast_on_connection_errors(self, caught_exception=None, attempts: int = 1, **_: Any) -> float | None:
        if isinstance(caught_exception, _FAIL_FAST):
            if attempts >= CONNECT_ATTEMPTS:
                raise caught_exception
            return CONNECT_RETRY_DELAY
        return None  # anything else: botocore's adaptive policy decides

    def __repr__(self) -> str:
        return f"AwsSession(fleet={self.fleet.name!r}, region={self.region!r}, endpoint_url={self.endpoint_url!r})"
