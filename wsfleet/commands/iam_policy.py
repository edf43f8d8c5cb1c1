"""`wsfleet iam-policy`: print the least-privilege IAM policy for the configured fleet(s), offline."""

from __future__ import annotations

import dataclasses
import json
import re
import sys

from wsfleet import iam_policy
from wsfleet.errors import UsageError


def run(args, ctx) -> int:
    app = ctx.app_config
    names = list(args.fleets or ([ctx.fleet_name] if ctx.fleet_name else sorted(app.fleets)))
    configured = ", ".join(sorted(app.fleets))
    for name in names:
        if name not in app.fleets:
            raise UsageError(f'--fleet {name}: no fleet named "{name}" in {app.path or "the config"}; the configured fleets are: {configured}.')
    account = args.account or "*"
    if args.account and not re.fullmatch(r"\d{12}", args.account):
        raise UsageError(f"--account {args.account}: an AWS account id is 12 digits; leave it out to use * in the ARNs.")
    fleets = [app.fleets[n] if not ctx.region else dataclasses.replace(app.fleets[n], region=ctx.region) for n in names]
    doc = iam_policy.instance_role_policy(fleets) if args.instance_role else iam_policy.fleet_policy(fleets, account)
    size = iam_policy.policy_size(doc)
    if size > iam_policy.MANAGED_POLICY_LIMIT:
        print(f"wsfleet: the policy is {size} characters, over IAM's {iam_policy.MANAGED_POLICY_LIMIT} for a managed policy; "
              f"generate one per fleet with --fleet NAME.", file=sys.stderr)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    return 0
