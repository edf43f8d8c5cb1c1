"""Instance refreshes for moto's server, which has none (NOTES.md): DescribeInstanceRefreshes
answers with one refresh whose status a test sets, and counts its calls.

    def test_x(moto_server, moto_refresh):
        moto_refresh.set("InProgress", 40)   # every group reports this refresh from now on
        ...
        moto_refresh.set("Successful", 100)

Without `set`, the group has never had a refresh (an empty list). The patch is on moto's
in-process response class, so it serves the shared test server and `mock_aws()` alike, and is
undone after the test.
"""

from __future__ import annotations

import threading

import pytest
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult


class RefreshStandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.status: str | None = None
        self.percentage = 0
        self.calls = 0

    def set(self, status: str | None, percentage: int = 0) -> None:
        with self._lock:
            self.status, self.percentage = status, percentage

    def answer(self, asg: str) -> dict:
        with self._lock:
            self.calls += 1
            if self.status is None:
                return {"InstanceRefreshes": []}
            return {"InstanceRefreshes": [{
                "InstanceRefreshId": "08b91cf7-8fa6-48af-b6a6-d227f40f1b9b",
                "AutoScalingGroupName": asg,
                "Status": self.status,
                "PercentageComplete": self.percentage,
                "InstancesToUpdate": 0 if self.status == "Successful" else 2,
            }]}


@pytest.fixture
def moto_refresh(monkeypatch) -> RefreshStandIn:
    stand_in = RefreshStandIn()

    def describe_instance_refreshes(self: AutoScalingResponse) -> ActionResult:
        return ActionResult(stand_in.answer(self._get_param("AutoScalingGroupName")))

    monkeypatch.setattr(AutoScalingResponse, "describe_instance_refreshes", describe_instance_refreshes, raising=False)
    return stand_in
