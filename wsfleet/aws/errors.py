"""botocore failures -> one sentence a person can act on (what failed, and what to do).

Every adapter wraps its calls in `aws_errors("reading ...")`. The sentence names the IAM action
on AccessDenied (service:Operation, as a policy spells it), says how to log in when credentials are
missing or the SSO token expired, names the endpoint that could not be reached, and says when AWS
kept throttling after the retries ran out.

Which call failed is known from the session's `before-call` hook (`note_call`), kept per thread:
ClientError carries the operation name but not the service.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import botocore.exceptions as bx

from wsfleet.errors import AwsError, ConfigError, WsfleetError

IAM_POLICY_FILE = "config/iam-policy.json"

# boto3 service name -> the prefix IAM policies use for it
_IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "monitoring": "cloudwatch"}

_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "AuthFailure",
    "InvalidAccessKeyId",
}
_SSO_EXPIRED = tuple(
    getattr(bx, name)
    for name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError", "SSOError")
    if hasattr(bx, name)
)

ErrorKind = str  # access-denied | throttled | credentials | unreachable | timeout | not-found | invalid | other


class AwsCallError(AwsError):
    """An AwsError that also says which call failed and how, for code that needs to branch on it."""

    def __init__(self, message: str, *, kind: ErrorKind, code: str | None = None, action: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.action = action


@dataclass(frozen=True)
class _Call:
    service: str
    operation: str
    profile: str | None
    region: str | None
    endpoint_url: str | None


_last = threading.local()


def note_call(*, service: str, operation: str, profile: str | None, region: str | None, endpoint_url: str | None) -> None:
    """Remember the call this thread is about to make (the session's before-call hook calls this).

    Kept per operation too: fetching credentials (assume-role) makes its own STS call in between.
    """
    call = _Call(service, operation, profile, region, endpoint_url)
    _last.call = call
    if not hasattr(_last, "by_operation"):
        _last.by_operation = {}
    _last.by_operation[operation] = call


def _noted(operation: str | None = None) -> _Call | None:
    if operation is not None:
        found = getattr(_last, "by_operation", {}).get(operation)
        if found is not None:
            return found
    return getattr(_last, "call", None)


def iam_action(service: str, operation: str) -> str:
    """The IAM action for a boto3 service and operation: ("elbv2", "DescribeTargetGroups") ->
    "elasticloadbalancing:DescribeTargetGroups"."""
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


@contextmanager
def aws_errors(doing: str, *, profile: str | None = None, region: str | None = None) -> Iterator[None]:
    """Turn any botocore/boto3 failure inside the block into one WsfleetError sentence.

    `doing` completes "... while {doing}", e.g. "reading Auto Scaling group prod-chat-asg".
    """
    try:
        yield
    except WsfleetError:
        raise
    except (bx.BotoCoreError, bx.ClientError) as exc:
        raise translate(exc, doing, profile=profile, region=region) from exc


def translate(exc: BaseException, doing: str, *, profile: str | None = None, region: str | None = None) -> WsfleetError:
    """The sentence for one botocore exception (see the module docstring)."""
    call = _noted(getattr(exc, "operation_name", None))
    if profile is None and call is not None:
        profile = call.profile
    if isinstance(exc, bx.ClientError):
        return _client_error(exc, doing, call, profile)
    return _botocore_error(exc, doing, call, profile, region)


def group_not_found(asg: str, region: str | None) -> AwsCallError:
    return AwsCallError(
        f"Auto Scaling group {asg!r} was not found in region {region or '(none)'}: check `asg` and `region` "
        f"in the fleet config, or --region/--profile if it lives in another region or account.",
        kind="not-found",
    )


# ----------------------------------------------------------------------------- ClientError


def _client_error(exc: bx.ClientError, doing: str, call: _Call | None, profile: str | None) -> AwsCallError:
    error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(error.get("Code") or "Unknown")
    message = _one_line(str(error.get("Message") or ""))
    operation = getattr(exc, "operation_name", None) or (call.operation if call else "UnknownOperation")
    action = _action_for(operation, message, call)
    login = _login_hint(profile)

    if code in _ACCESS_DENIED:
        who = re.search(r"User: (\S+) is not authorized", message)
        whom = f"the identity {who.group(1)}" if who else "your AWS identity"
        return AwsCallError(
            f"AWS denied {action} while {doing}: allow {action} for {whom} ({IAM_POLICY_FILE} lists every action wsfleet uses).",
            kind="access-denied",
            code=code,
            action=action,
        )
    if code in _THROTTLED:
        attempts = (exc.response.get("ResponseMetadata") or {}).get("RetryAttempts", 0) + 1
        return AwsCallError(
            f"AWS kept throttling {action} while {doing} ({attempts} attempts): wait a minute and retry, "
            f"or lengthen the refresh interval.",
            kind="throttled",
            code=code,
            action=action,
        )
    if code in _EXPIRED:
        return AwsCallError(
            f"the AWS credentials expired while {doing}: {login}, then retry.", kind="credentials", code=code, action=action
        )
    if code in _BAD_CREDENTIALS:
        return AwsCallError(
            f"AWS rejected the credentials ({code}) while {doing}: check which identity `aws sts get-caller-identity` "
            f"shows, or {login}.",
            kind="credentials",
            code=code,
            action=action,
        )
    kind = "not-found" if "NotFound" in code or "not found" in message.lower() else "invalid" if "Validation" in code else "other"
    detail = f": {message}" if message else ""
    return AwsCallError(
        f"AWS refused {action} ({code}) while {doing}{_sentence_tail(detail)}", kind=kind, code=code, action=action
    )


def _action_for(operation: str, message: str, call: _Call | None) -> str:
    named = re.search(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)", message)
    if named:
        return named.group(1)
    if call is not None and call.operation == operation:
        return iam_action(call.service, operation)
    return operation


# ----------------------------------------------------------------------------- BotoCoreError


def _botocore_error(
    exc: BaseException, doing: str, call: _Call | None, profile: str | None, region: str | None
) -> WsfleetError:
    login = _login_hint(profile)
    if isinstance(exc, bx.NoCredentialsError):
        return AwsCallError(
            f"no AWS credentials were found while {doing}: set AWS_PROFILE (or `profile` in the fleet config) "
            f"and {login}, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
            kind="credentials",
        )
    if _SSO_EXPIRED and isinstance(exc, _SSO_EXPIRED):
        return AwsCallError(
            f"the AWS SSO session{_of_profile(profile)} has expired or was never started ({doing} failed): "
            f"{login}, then retry.",
            kind="credentials",
        )
    if isinstance(exc, bx.PartialCredentialsError):
        return AwsCallError(
            f"the AWS credentials are incomplete ({_one_line(str(exc))}) while {doing}: fix them, or {login}.",
            kind="credentials",
        )
    if isinstance(exc, bx.CredentialRetrievalError):
        return AwsCallError(
            f"could not get AWS credentials ({_one_line(str(exc))}) while {doing}: check the profile's "
            f"role or credential process, or {login}.",
            kind="credentials",
        )
    if isinstance(exc, bx.ProfileNotFound):
        missing = getattr(exc, "kwargs", {}).get("profile") or profile
        return ConfigError(
            f"AWS profile {missing!r} was not found while {doing}: fix `profile` in the fleet config or pass --profile."
        )
    if isinstance(exc, bx.NoRegionError):
        return ConfigError(f"no AWS region is set ({doing}): set `region` in the fleet config, pass --region, or set AWS_REGION.")
    if isinstance(exc, bx.ConnectTimeoutError):
        url = _url(exc, call)
        return AwsCallError(
            f"the AWS endpoint {url} did not accept a connection in time while {doing}: check endpoint_url/--endpoint-url, "
            f"the network and any proxy, then retry.",
            kind="unreachable",
        )
    if isinstance(exc, bx.ConnectionError):  # EndpointConnectionError, ConnectionClosedError, ProxyConnectionError
        url = _url(exc, call)
        return AwsCallError(
            f"could not connect to the AWS endpoint {url} while {doing}: check endpoint_url/--endpoint-url, "
            f"the network and any proxy, then retry.",
            kind="unreachable",
        )
    if isinstance(exc, bx.ReadTimeoutError):
        url = _url(exc, call)
        return AwsCallError(
            f"the AWS endpoint {url} did not answer in time while {doing}: retry, or check the network.", kind="timeout"
        )
    if isinstance(exc, bx.ParamValidationError):
        return AwsCallError(
            f"wsfleet built a request AWS would refuse while {doing} ({_one_line(str(exc))}): check the values given.",
            kind="invalid",
        )
    return AwsCallError(f"an AWS request failed while {doing}: {_one_line(str(exc)).rstrip('.')}.", kind="other")


# ----------------------------------------------------------------------------- wording


def _login_hint(profile: str | None) -> str:
    return f"run `aws sso login --profile {profile}`" if profile else "run `aws sso login --profile NAME` (or `aws configure`)"


def _of_profile(profile: str | None) -> str:
    return f" of profile {profile}" if profile else ""


def _url(exc: BaseException, call: _Call | None) -> str:
    url = getattr(exc, "kwargs", {}).get("endpoint_url") or (call.endpoint_url if call else None)
    return str(url) if url else "(default endpoint)"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _sentence_tail(detail: str) -> str:
    detail = detail.rstrip()
    return detail if detail.endswith((".", "!", "?")) else detail + "."
