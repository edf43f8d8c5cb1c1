"""Every AWS failure becomes one sentence a person can act on (AwsError, exit 3)."""

from __future__ import annotations

import time

import botocore.exceptions as bx
import pytest
from botocore.stub import Stubber

from tests.aws.conftest import ASG, seed_fleet
from wsfleet.aws import alarms, fleet as aws_fleet, targets
from wsfleet.aws.errors import AwsCallError, aws_errors, translate
from wsfleet.aws.session import AwsSession
from wsfleet.errors import EXIT_REMOTE, AwsError


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and "Traceback" not in message


def test_access_denied_names_the_iam_action(session):
    with Stubber(session.client("autoscaling")) as stub:
        stub.add_client_error("describe_auto_scaling_groups", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(AwsError) as caught:
            aws_fleet.read_group(session, ASG)
    message = caught.value.message
    assert "autoscaling:DescribeAutoScalingGroups" in message
    assert "iam-policy.json" in message
    assert caught.value.exit_code == EXIT_REMOTE
    assert one_sentence(message)


def test_access_denied_uses_the_iam_prefix_not_the_boto3_service_name(session):
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef"
    with Stubber(session.client("elbv2")) as stub:
        stub.add_client_error("describe_target_groups", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(AwsError) as caught:
            targets.read_target_groups(session, [arn])
    assert "elasticloadbalancing:DescribeTargetGroups" in caught.value.message


def test_access_denied_names_the_identity_aws_named(session):
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/oncall/jo is not authorized to perform: "
        "cloudwatch:DescribeAlarms because no identity-based policy allows the cloudwatch:DescribeAlarms action"
    )
    with Stubber(session.client("cloudwatch")) as stub:
        stub.add_client_error("describe_alarms", service_error_code="AccessDenied", service_message=message, http_status_code=403)
        with pytest.raises(AwsError) as caught:
            alarms.read_alarms(session, ["prod-chat-high-tcp-connections"])
    assert "cloudwatch:DescribeAlarms" in caught.value.message
    assert "assumed-role/oncall/jo" in caught.value.message
    assert one_sentence(caught.value.message)


def test_throttling_that_outlasts_the_retries_says_so(session):
    with Stubber(session.client("autoscaling")) as stub:
        stub.add_client_error(
            "describe_auto_scaling_groups",
            service_error_code="Throttling",
            service_message="Rate exceeded",
            http_status_code=400,
            response_meta={"RetryAttempts": 4},
        )
        with pytest.raises(AwsCallError) as caught:
            aws_fleet.read_group(session, ASG)
    assert caught.value.kind == "throttled"
    assert "throttling" in caught.value.message and "5 attempts" in caught.value.message
    assert one_sentence(caught.value.message)


def test_expired_credentials_say_how_to_log_in_again(aws):
    session = AwsSession(seed_fleet())
    session.fleet = seed_fleet(profile="prod")  # the profile named in the sentence (no such profile on disk)
    with Stubber(session.client("autoscaling")) as stub:
        stub.add_client_error("describe_auto_scaling_groups", service_error_code="ExpiredToken", http_status_code=403)
        with pytest.raises(AwsError) as caught:
            aws_fleet.read_group(session, ASG)
    assert "aws sso login --profile prod" in caught.value.message
    assert one_sentence(caught.value.message)


def test_an_unknown_group_names_group_and_region(session):
    with pytest.raises(AwsCallError) as caught:
        aws_fleet.read_group(session, "no-such-asg")
    assert caught.value.kind == "not-found"
    assert "'no-such-asg'" in caught.value.message and "us-east-1" in caught.value.message
    assert one_sentence(caught.value.message)


def test_an_unreachable_endpoint_is_named_and_fails_fast(closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    session = AwsSession(seed_fleet(endpoint_url=url))
    started = time.monotonic()
    with pytest.raises(AwsCallError) as caught:
        aws_fleet.read_group(session, ASG)
    assert time.monotonic() - started < 3
    assert caught.value.kind == "unreachable"
    assert url in caught.value.message
    assert one_sentence(caught.value.message)


def test_no_credentials_says_to_set_a_profile_and_log_in(monkeypatch, closed_port):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    session = AwsSession(seed_fleet(endpoint_url=f"http://127.0.0.1:{closed_port}"))
    with pytest.raises(AwsCallError) as caught:
        aws_fleet.read_group(session, ASG)
    assert caught.value.kind == "credentials"
    assert "AWS_PROFILE" in caught.value.message and "aws sso login --profile" in caught.value.message
    assert one_sentence(caught.value.message)


def test_an_sso_profile_without_a_login_says_aws_sso_login(monkeypatch, tmp_path, closed_port):
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile prod]\n"
        "sso_session = corp\n"
        "sso_account_id = 123456789012\n"
        "sso_role_name = OnCall\n"
        "region = us-east-1\n"
        "[sso-session corp]\n"
        "sso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws/sso/cache token: never logged in
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    session = AwsSession(seed_fleet(profile="prod", endpoint_url=f"http://127.0.0.1:{closed_port}"))
    with pytest.raises(AwsCallError) as caught:
        aws_fleet.read_group(session, ASG)
    assert caught.value.kind == "credentials"
    assert "aws sso login --profile prod" in caught.value.message
    assert one_sentence(caught.value.message)


@pytest.mark.parametrize(
    "exc",
    [
        bx.SSOTokenLoadError(error_msg="Token for corp does not exist"),
        bx.UnauthorizedSSOTokenError(),
        bx.TokenRetrievalError(provider="sso", error_msg="the token expired"),
    ],
)
def test_expired_sso_tokens_say_aws_sso_login(exc):
    error = translate(exc, "reading Auto Scaling group prod-chat-asg", profile="prod")
    assert "aws sso login --profile prod" in error.message
    assert one_sentence(error.message)


def test_a_connect_timeout_names_the_endpoint():
    exc = bx.ConnectTimeoutError(endpoint_url="https://autoscaling.us-east-1.amazonaws.com/")
    error = translate(exc, "reading Auto Scaling group prod-chat-asg")
    assert "https://autoscaling.us-east-1.amazonaws.com/" in error.message
    assert one_sentence(error.message)


def test_other_client_errors_carry_awss_own_message_in_one_line(session):
    with Stubber(session.client("autoscaling")) as stub:
        stub.add_client_error(
            "set_desired_capacity",
            service_error_code="ValidationError",
            service_message="New SetDesiredCapacity value 40 is above max value 12 for the AutoScalingGroup.",
        )
        with pytest.raises(AwsCallError) as caught:
            aws_fleet.set_desired_capacity(session, ASG, 40)
    assert caught.value.kind == "invalid"
    assert "above max value 12" in caught.value.message
    assert "autoscaling:SetDesiredCapacity" in caught.value.message
    assert one_sentence(caught.value.message)


def test_aws_errors_leaves_other_exceptions_alone():
    with pytest.raises(KeyError):
        with aws_errors("doing nothing"):
            raise KeyError("a bug stays a bug")


def test_an_endpoint_that_stops_answering_is_a_timeout_after_one_retry():
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel's backlog), never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        session = AwsSession(seed_fleet(endpoint_url=url), read_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(AwsCallError) as caught:
            aws_fleet.read_group(session, ASG)
        assert time.monotonic() - started < 3
    finally:
        silent.close()
    assert caught.value.kind == "timeout" and url in caught.value.message
    assert one_sentence(caught.value.message)


def test_the_action_is_named_even_when_credentials_made_their_own_call_in_between():
    from wsfleet.aws.errors import note_call

    note_call(service="autoscaling", operation="DescribeAutoScalingGroups", profile="prod", region="us-east-1", endpoint_url=None)
    note_call(service="sts", operation="AssumeRole", profile="prod", region="us-east-1", endpoint_url=None)
    exc = bx.ClientError({"Error": {"Code": "AccessDenied", "Message": ""}}, "DescribeAutoScalingGroups")
    assert "autoscaling:DescribeAutoScalingGroups" in translate(exc, "reading the group").message


def test_sessions_share_parsed_service_models_without_growing_the_search_path():
    from wsfleet.aws.session import AwsSession
    from wsfleet.model import FleetConfig

    sessions = [AwsSession(FleetConfig(name=f"f{i}", asg="a", region="us-east-1")) for i in range(3)]
    loaders = {id(s._core.get_component("data_loader")) for s in sessions}
    assert len(loaders) == 1
    paths = sessions[0]._core.get_component("data_loader").search_paths
    assert len(paths) == len(set(paths))
