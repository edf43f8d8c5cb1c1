"""A fleet's [[schedule]] tables: scheduled actions, their cron recurrence, time zone and start/end times."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

from wsfleet import cron
from wsfleet.config.reader import Reader, _key, _show, _toml_type
from wsfleet.model import ScheduledActionConfig


class ScheduleSection(Reader):
    def schedule(self, data: Any, path: tuple[str, ...]) -> tuple[ScheduledActionConfig, ...]:
        if not isinstance(data, list):
            raise self.fail(path, f"is {_toml_type(data)}", f"write each scheduled action as [[{_key(path)}]]")
        actions: list[ScheduledActionConfig] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(data):
            action = self.scheduled_action(item, path + (f"[{i}]",))
            if action.name in seen:
                raise self.fail(path + (f"[{i}]", "name"), f'"{action.name}" is also the name of schedule[{seen[action.name]}]', "give every scheduled action its own name")
            seen[action.name] = i
            actions.append(action)
        return tuple(actions)

    def scheduled_action(self, data: Any, path: tuple[str, ...]) -> ScheduledActionConfig:
        t = self.table(data, path, tuple(f.name for f in fields(ScheduledActionConfig)))
        name = self.string(t, path, "name", allowed='give the action a name in quotes, e.g. name = "weekday-morning"')
        if len(name) > 255:
            raise self.fail(path + ("name",), "is longer than 255 characters", "scheduled action names are 1 to 255 characters")
        recurrence = self.string(t, path, "recurrence", None, allowed='write a 5-field cron expression in quotes, e.g. "0 7 * * MON-FRI"')
        if recurrence is not None:
            self.wrap(path + ("recurrence",), lambda: cron.parse_cron(recurrence))
        time_zone = self.string(t, path, "time_zone", None, allowed='write an IANA time zone in quotes, e.g. "Europe/Berlin"')
        if time_zone is not None:
            self.wrap(path + ("time_zone",), lambda: cron.zone(time_zone))
        sizes = {k: self.integer(t, path, k, None, low=0, allowed="a whole number of instances of at least 0") for k in ("min_size", "max_size", "desired_capacity")}
        start = self.moment(t, path, "start_time")
        end = self.moment(t, path, "end_time")
        if all(v is None for v in sizes.values()):
            raise self.fail(path, "sets no capacity", "give at least one of min_size, max_size, desired_capacity")
        if recurrence is None and start is None:
            raise self.fail(path, "has neither recurrence nor start_time", 'give recurrence = "0 7 * * MON-FRI" (repeating) or start_time (once)')
        low, high, desired = sizes["min_size"], sizes["max_size"], sizes["desired_capacity"]
        if low is not None and high is not None and low > high:
            raise self.fail(path + ("min_size",), f"{low} is above max_size {high}", "min_size must not exceed max_size")
        if desired is not None and ((low is not None and desired < low) or (high is not None and desired > high)):
            span = f"{low if low is not None else 0}..{high if high is not None else 'max'}"
            raise self.fail(path + ("desired_capacity",), f"{desired} is outside min_size..max_size ({span})", "desired_capacity must lie within min_size and max_size")
        if start is not None and end is not None and end <= start:
            raise self.fail(path + ("end_time",), f"{end.isoformat()} is not after start_time {start.isoformat()}", "end_time must be later than start_time")
        return ScheduledActionConfig(name=name, recurrence=recurrence, time_zone=time_zone, start_time=start, end_time=end, **sizes)

    def moment(self, t: dict[str, Any], path: tuple[str, ...], key: str) -> datetime | None:
        """A TOML date-time or an ISO 8601 string; without an offset it is taken as UTC (as AWS does)."""
        if key not in t:
            return None
        value = t[key]
        allowed = "write a date-time such as 2026-12-24T07:00:00Z (without an offset it is UTC)"
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.fail(path + (key,), f'"{value}" is not an ISO 8601 date-time', allowed) from None
        if not isinstance(value, datetime):
            raise self.fail(path + (key,), f"is {_toml_type(value)} ({_show(value)})", allowed)
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
