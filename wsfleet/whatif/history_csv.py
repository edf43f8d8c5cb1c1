"""A metric history from a CSV file of `timestamp,value[,instances]` rows, for `thresholds simulate --csv`."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from wsfleet.errors import ConfigError
from wsfleet.whatif.inputs import MetricHistory

_TIME_NAMES = ("timestamp", "time", "ts", "date")
_VALUE_NAMES = ("value", "average", "avg", "tcpconnections", "connections")
_COUNT_NAMES = ("instances", "count", "n", "size", "capacity")


def load_history_csv(path: str | Path) -> MetricHistory:
    """Read `timestamp,value[,instances]` rows (a header line is optional) into a MetricHistory.

    Timestamps are ISO 8601 (no offset = UTC) or Unix seconds; rows may come in any order. The
    period is the most common spacing; missing periods become gaps (None). Raises ConfigError
    naming the file and line for anything it cannot use.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: history file not found; give a CSV of timestamp,value[,instances] rows.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the history file ({getattr(exc, 'strerror', None) or exc}).") from None
    return parse_history_csv(text, str(path))


def parse_history_csv(text: str, source: str = "<csv>") -> MetricHistory:
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), start=1) if row and any(c.strip() for c in row)]
    rows = [(n, row) for n, row in rows if not row[0].lstrip().startswith("#")]
    if not rows:
        raise ConfigError(f"{source}: no rows; write one timestamp,value[,instances] row per period.")
    columns = (0, 1, 2)
    first_line, first = rows[0]
    if _parse_time(first[0]) is None:  # a header
        names = [c.strip().lower() for c in first]
        columns = (_find(names, _TIME_NAMES, 0), _find(names, _VALUE_NAMES, 1), _find(names, _COUNT_NAMES, 2 if len(names) > 2 else -1))
        rows = rows[1:]
    points: dict[datetime, tuple[float | None, int | None, int]] = {}
    for line, row in rows:
        cells = [c.strip() for c in row]
        when = _parse_time(cells[columns[0]]) if len(cells) > columns[0] else None
        if when is None:
            raise ConfigError(f"{source}: line {line}: {cells[columns[0]] if cells else ''!r} is not a timestamp; use ISO 8601 (2026-11-26T07:00:00Z) or Unix seconds.")
        value = _cell_number(cells, columns[1], source, line, "value", integer=False)
        count = _cell_number(cells, columns[2], source, line, "instances", integer=True) if columns[2] >= 0 else None
        if when in points:
            raise ConfigError(f"{source}: line {line}: {when.isoformat()} also appears on line {points[when][2]}; give one row per period.")
        points[when] = (value, count, line)
    times = sorted(points)
    if len(times) < 2:
        raise ConfigError(f"{source}: only one row; the history needs at least two periods.")
    gaps = [int((b - a).total_seconds()) for a, b in zip(times, times[1:])]
    period = Counter(gaps).most_common(1)[0][0]
    if period <= 0:
        raise ConfigError(f"{source}: timestamps must be whole seconds apart.")
    for (a, b), gap in zip(zip(times, times[1:]), gaps):
        if gap % period:
            raise ConfigError(
                f"{source}: line {points[b][2]}: {b.isoformat()} is {gap} s after the previous row, not a multiple of the "
                f"{period}-second period; give one row per period (gaps are fine)."
            )
    slots = int((times[-1] - times[0]).total_seconds()) // period + 1
    averages: list[float | None] = [None] * slots
    counts: list[int | None] = [None] * slots
    for when in times:
        i = int((when - times[0]).total_seconds()) // period
        averages[i], counts[i] = points[when][0], points[when][1]
    return MetricHistory(
        period=period,
        averages=tuple(averages),
        instances=tuple(counts) if any(c is not None for c in counts) else None,
        start=times[0],
    )


def _find(names: list[str], wanted: tuple[str, ...], fallback: int) -> int:
    for i, name in enumerate(names):
        if name in wanted:
            return i
    return fallback


def _parse_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return datetime.fromtimestamp(seconds, tz=timezone.utc) if math.isfinite(seconds) and seconds > 1e8 else None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _cell_number(cells: list[str], index: int, source: str, line: int, what: str, *, integer: bool) -> Any:
    if index >= len(cells) or cells[index] == "":
        return None
    text = cells[index]
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number of instances" if integer else "a number of connections (or empty for a missing datapoint)"
        raise ConfigError(f"{source}: line {line}: {what} {text!r} is not {kind}.") from None
    if not integer and not math.isfinite(value):
        raise ConfigError(f"{source}: line {line}: {what} {text!r} is not a finite number.")
    if value < 0 or (integer and value == 0):
        least = "at least 1" if integer else "at least 0"
        raise ConfigError(f"{source}: line {line}: {what} {text} is below {least.split()[-1]}; it must be {least}.")
    return value
