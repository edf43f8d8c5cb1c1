"""moto_extensions, alarms: a new alarm's state, PutMetricAlarm on an existing one, and alarm history.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch.models import Alarm as MotoAlarm
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse

from wsfleet.demo.moto_extensions._state import HISTORY_LIMIT, _is_demo

# ------------------------------------------------------------------------- alarms and history

_original_put_metric_alarm = CloudWatchBackend.put_metric_alarm
_original_update_state = MotoAlarm.update_state


def _history(backend: CloudWatchBackend) -> list[dict[str, Any]]:
    items = getattr(backend, "_wsfleet_demo_history", None)
    if items is None:
        items = []
        backend._wsfleet_demo_history = items  # type: ignore[attr-defined]
    return items


def _add_history(backend: CloudWatchBackend, alarm_name: str, kind: str, summary: str, data: dict[str, Any]) -> None:
    items = _history(backend)
    items.insert(
        0,
        {
            "AlarmName": alarm_name,
            "AlarmType": "MetricAlarm",
            "Timestamp": datetime.now(timezone.utc),
            "HistoryItemType": kind,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data),
        },
    )
    del items[HISTORY_LIMIT:]


def _put_metric_alarm(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> MotoAlarm:
    previous = self.alarms.get(name)
    alarm = _original_put_metric_alarm(self, name, *args, **kwargs)
    if not _is_demo(self.account_id, self.region_name):
        return alarm
    alarm._wsfleet_backend = self  # type: ignore[attr-defined]
    if previous is None:
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_reason = "Unchecked: Initial alarm creation"
        _add_history(self, name, "ConfigurationUpdate", f'Alarm "{name}" created', {"type": "Create", "version": "1.0"})
    else:
        # AWS: updating an alarm overwrites its configuration and leaves its state alone.
        for attr in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
            setattr(alarm, attr, getattr(previous, attr))
        _add_history(self, name, "ConfigurationUpdate", f'Alarm "{name}" updated', {"type": "Update", "version": "1.0"})
    return alarm


def _update_state(self: MotoAlarm, reason: str, reason_data: str, state_value: str) -> None:
    old_state, old_reason = self.state_value, self.state_reason
    _original_update_state(self, reason, reason_data, state_value)
    backend = getattr(self, "_wsfleet_backend", None)
    if backend is None or old_state == state_value:
        return
    new_state: dict[str, Any] = {"stateValue": state_value, "stateReason": reason}
    if reason_data:
        try:
            new_state["stateReasonData"] = json.loads(reason_data)
        except ValueError:
            pass
    _add_history(
        backend,
        self.name,
        "StateUpdate",
        f"Alarm updated from {old_state} to {state_value}",
        {"version": "1.0", "oldState": {"stateValue": old_state, "stateReason": old_reason}, "newState": new_state},
    )


def _describe_alarm_history(self: CloudWatchResponse) -> Any:
    from moto.core.responses import ActionResult

    if not _is_demo(self.current_account, self.region):
        raise NotImplementedError("The describe_alarm_history action has not been implemented")
    backend = cloudwatch_backends[self.current_account][self.region]
    items = list(_history(backend))
    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    start, end = self._get_param("StartDate"), self._get_param("EndDate")
    if name:
        items = [i for i in items if i["AlarmName"] == name]
    if kind:
        items = [i for i in items if i["HistoryItemType"] == kind]
    if start is not None:
        items = [i for i in items if i["Timestamp"] >= _aware(start)]
    if end is not None:
        items = [i for i in items if i["Timestamp"] <= _aware(end)]
    if self._get_param("ScanBy") == "TimestampAscending":
        items.reverse()
    offset = int(self._get_param("NextToken") or 0)
    limit = self._get_int_param("MaxRecords") or 100
    page = items[offset : offset + limit]
    token = str(offset + limit) if offset + limit < len(items) else None
    return ActionResult({"AlarmHistoryItems": page, "NextToken": token})


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
