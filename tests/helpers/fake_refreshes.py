"""Instance refreshes for tests on stock moto, which has none: before-call handlers on one boto3
client answer DescribeInstanceRefreshes, Start, Cancel and Rollback from a list kept here, with
AWS's error codes. The demo's own implementation (wsfleet/demo/moto_extensions/) is tested
through the demo; this stand-in lets the write path's tests run on in-process moto."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from botocore.awsrequest import AWSResponse

ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
_ids = itertools.count(1)


class FakeRefreshes:
    def __init__(self) -> None:
        self.refreshes: list[dict[str, Any]] = []  # newest first, as AWS lists them
        self.calls: list[tuple[str, dict]] = []
        self.fail_start: tuple[str, str] | None = None  # (code, message) for the next start

    def attach(self, client: Any) -> "FakeRefreshes":
        for op in ("DescribeInstanceRefreshes", "StartInstanceRefresh", "CancelInstanceRefresh", "RollbackInstanceRefresh"):
            # before-call sees the serialised request; the API parameters come a step earlier
            client.meta.events.register(f"before-parameter-build.autoscaling.{op}", self._keep_params)
            client.meta.events.register(f"before-call.autoscaling.{op}", self._answer)
        return self

    def _keep_params(self, params=None, **_: Any) -> None:
        self._params = dict(params or {})

    def add(self, status: str, percentage: int = 0, **prefs: Any) -> dict[str, Any]:
        r = {"InstanceRefreshId": f"r-{next(_ids):04d}", "AutoScalingGroupName": "x", "Status": status,
             "PercentageComplete": percentage, "InstancesToUpdate": 2, "StartTime": datetime.now(timezone.utc),
             "Preferences": {"MinHealthyPercentage": 90, **prefs}}
        self.refreshes.insert(0, r)
        return r

    def _answer(self, model=None, **_: Any):
        op = model.name
        params = self._params
        self.calls.append((op, dict(params or {})))
        active = next((r for r in self.refreshes if r["Status"] in ACTIVE), None)
        if op == "DescribeInstanceRefreshes":
            found = self.refreshes
            if params.get("InstanceRefreshIds"):
                found = [r for r in found if r["InstanceRefreshId"] in params["InstanceRefreshIds"]]
            return _ok({"InstanceRefreshes": found[: params.get("MaxRecords", 50)]})
        if op == "StartInstanceRefresh":
            if self.fail_start:
                code, message = self.fail_start
                self.fail_start = None
                return _error(code, message)
            if active:
                return _error("InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
            r = self.add("Pending", 0, **params.get("Preferences", {}))
            r["Preferences"] = {"MinHealthyPercentage": 90, "SkipMatching": False, **params.get("Preferences", {})}
            return _ok({"InstanceRefreshId": r["InstanceRefreshId"]})
        if active is None:
            return _error("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group x")
        active["Status"] = "Cancelling" if op == "CancelInstanceRefresh" else "RollbackInProgress"
        return _ok({"InstanceRefreshId": active["InstanceRefreshId"]})


def _ok(body: dict) -> tuple[AWSResponse, dict]:
    return AWSResponse("https://autoscaling", 200, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


def _error(code: str, message: str) -> tuple[AWSResponse, dict]:
    return AWSResponse("https://autoscaling", 400, {}, None), {
        "Error": {"Code": code, "Message": message, "Type": "Sender"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
