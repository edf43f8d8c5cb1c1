"""Least-privilege IAM policy documents for configured fleets (pure: no I/O, no AWS call).

Reads stay on Resource "*" (Describe*/Get* of Auto Scaling, CloudWatch, EC2, ELB and STS take no
resource ARNs); writes are scoped to each fleet's group ARN, its two alarm names, its document and
instances. The account is rarely in the config, so it is "*" unless given: the command works offline.
"""

from __future__ import annotations

import re

from wsfleet.model import FleetConfig

MANAGED_POLICY_LIMIT = 6144  # IAM's size limit for a managed policy, in characters (whitespace excluded)
SSM_DOCUMENT = "AWS-RunShellScript"  # the one document wsfleet.counts.ssm sends

READS = (
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes", "autoscaling:DescribePolicies",
    "autoscaling:DescribeScalingActivities", "autoscaling:DescribeScheduledActions", "autoscaling:DescribeWarmPool",
    "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplates",
    "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups", "ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation",
    "ssm:ListCommandInvocations", "sts:GetCallerIdentity",
)
# every one supports the autoScalingGroup resource type (service authorization reference)
GROUP_WRITES = (
    "autoscaling:CancelInstanceRefresh", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteScheduledAction",
    "autoscaling:DeleteTags", "autoscaling:EnterStandby", "autoscaling:ExitStandby", "autoscaling:PutScalingPolicy",
    "autoscaling:PutScheduledUpdateGroupAction", "autoscaling:PutWarmPool", "autoscaling:ResumeProcesses",
    "autoscaling:RollbackInstanceRefresh", "autoscaling:SetDesiredCapacity", "autoscaling:StartInstanceRefresh",
    "autoscaling:SuspendProcesses", "autoscaling:UpdateAutoScalingGroup",
)
ALARM_WRITES = ("cloudwatch:PutMetricAlarm",)
TARGET_GROUP_WRITES = ("elasticloadbalancing:ModifyTargetGroupAttributes",)


def _sid(fleet: FleetConfig, what: str) -> str:
    # Sids are alphanumeric only
    return "Wsfleet" + "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", fleet.name) if w) + what


def group_arn(fleet: FleetConfig, account: str = "*") -> str:
    return f"arn:aws:autoscaling:{fleet.region or '*'}:{account}:autoScalingGroup:*:autoScalingGroupName/{fleet.asg}"


def alarm_arns(fleet: FleetConfig, account: str = "*") -> list[str]:
    return sorted({f"arn:aws:cloudwatch:{fleet.region or '*'}:{account}:alarm:{n}" for n in (fleet.high_alarm_name, fleet.low_alarm_name)})


def fleet_policy(fleets: list[FleetConfig], account: str = "*") -> dict:
    """The on-call role's policy: one read statement, then per fleet its scoped writes."""
    statements = [{"Sid": "WsfleetRead", "Effect": "Allow", "Action": sorted(READS), "Resource": "*"}]
    for fleet in fleets:
        region = fleet.region or "*"
        statements += [
            {"Sid": _sid(fleet, "GroupWrite"), "Effect": "Allow", "Action": sorted(GROUP_WRITES), "Resource": [group_arn(fleet, account)]},
            {"Sid": _sid(fleet, "AlarmWrite"), "Effect": "Allow", "Action": sorted(ALARM_WRITES), "Resource": alarm_arns(fleet, account)},
            # the group's target groups are not in the config (they are read from AWS): any in the region
            {"Sid": _sid(fleet, "TargetGroupWrite"), "Effect": "Allow", "Action": sorted(TARGET_GROUP_WRITES),
             "Resource": [f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/*"]},
            {"Sid": _sid(fleet, "SsmDocument"), "Effect": "Allow", "Action": ["ssm:SendCommand"],
             "Resource": [f"arn:aws:ssm:{region}:*:document/{SSM_DOCUMENT}"]},  # AWS-owned: empty account, which * matches
            # EC2 Auto Scaling tags its instances aws:autoscaling:groupName; SendCommand checks instance tags as ssm:resourceTag/KEY
            {"Sid": _sid(fleet, "SsmInstances"), "Effect": "Allow", "Action": ["ssm:SendCommand"],
             "Resource": [f"arn:aws:ec2:{region}:{account}:instance/*"],
             "Condition": {"StringEquals": {"ssm:resourceTag/aws:autoscaling:groupName": fleet.asg}}},
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def instance_role_policy(fleets: list[FleetConfig]) -> dict:
    """The instances' role: what the CloudWatch agent needs to publish the scaling metric."""
    namespaces = sorted({f.metric.namespace for f in fleets})
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "WsfleetAgentPutMetricData", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": namespaces if len(namespaces) > 1 else namespaces[0]}}},
        # the agent resolves ${aws:AutoScalingGroupName} in append_dimensions with DescribeTags
        {"Sid": "WsfleetAgentDescribeTags", "Effect": "Allow", "Action": ["ec2:DescribeTags"], "Resource": "*"},
    ]}


def policy_size(doc: dict) -> int:
    """Characters IAM counts against the limit (it ignores whitespace)."""
    import json

    return len(json.dumps(doc, separators=(",", ":")))
