"""`e` in the dashboard: the snapshot on screen, as JSON (the `counts --format json` shape plus the
group, alarms and balance verdict) and as CSV (one row per instance). No Textual here."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

from wsfleet.balance import verdict
from wsfleet.model import BalanceStats, FleetConfig, FleetStatus
from wsfleet.tui.view import InstanceRow, Judgement

CSV_FIELDS = ("id", "az", "address", "lifecycle", "health", "connections", "error", "detail", "latency_ms", "flag", "pct_of_ceiling", "delta_vs_mean",
              "launch_template_version", "current")


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.isoformat()


def snapshot_document(*, fleet: FleetConfig, status: FleetStatus | None, rows: Sequence[InstanceRow], stats: BalanceStats, judgements: Mapping[str, Judgement], source: str, account_id: str | None, counts_at: datetime | None, now: datetime) -> dict:
    instances = []
    for r in rows:
        j = judgements.get(r.id)
        instances.append({
            "id": r.id,
            "az": r.az,
            "address": r.address,
            "lifecycle": r.lifecycle,
            "health": r.health,
            "connections": r.connections,
            "error": r.error,
            "latency_ms": r.latency_ms,
            "flag": j.flag if j else None,
            "launch_template_version": r.launch_template_version,
            "current": r.current,
        })
    doc: dict = {
        "fleet": fleet.name,
        "asg": fleet.asg,
        "account_id": account_id,
        "region": status.region if status else fleet.region,
        "source": source,
        "exported_at": _iso(now),
        "taken_at": _iso(counts_at),
        "status_taken_at": _iso(status.taken_at) if status else None,
        "capacity": fleet.capacity,
        "instances": instances,
        "summary": asdict(stats),
        "verdict": verdict(stats, fleet.counts.max_skew) if stats.measured else None,
        "max_skew": fleet.counts.max_skew,
    }
    if status is not None:
        g = status.group
        doc["group"] = {"name": g.name, "min_size": g.min_size, "max_size": g.max_size, "desired": g.desired}
        doc["alarms"] = {
            label: ({"name": a.name, "state": a.state, "threshold": a.threshold} if a else None)
            for label, a in (("high", status.high_alarm), ("low", status.low_alarm))
        }
    return doc


def snapshot_csv(rows: Sequence[InstanceRow], judgements: Mapping[str, Judgement]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in rows:
        j = judgements.get(r.id)
        w.writerow([
            r.id, r.az, r.address or "", r.lifecycle, r.health,
            "" if r.connections is None else r.connections,
            r.error or "", r.detail or "",
            "" if r.latency_ms is None else f"{r.latency_ms:.1f}",
            j.flag if j else "",
            "" if not j or j.fraction is None else f"{j.fraction * 100:.1f}",
            "" if not j or j.delta is None else f"{j.delta * 100:+.1f}",
            r.launch_template_version or "", "" if r.current is None else str(r.current).lower(),
        ])
    return buf.getvalue()


def export_paths(directory: Path, fleet: str, now: datetime) -> tuple[Path, Path]:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", fleet)
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = directory / f"wsfleet-{safe}-{stamp}"
    json_path, csv_path = base.with_suffix(".json"), base.with_suffix(".csv")
    n = 1
    while json_path.exists() or csv_path.exists():  # never overwrite an earlier export
        n += 1
        json_path, csv_path = Path(f"{base}-{n}.json"), Path(f"{base}-{n}.csv")
    return json_path, csv_path


def export_snapshot(*, directory: Path, **kw) -> tuple[Path, Path]:
    """Write both files; returns their paths. OSError when the directory is not writable."""
    json_path, csv_path = export_paths(Path(directory), kw["fleet"].name, kw["now"])
    doc = snapshot_document(**kw)
    text = snapshot_csv(kw["rows"], kw["judgements"])
    for path, content in ((json_path, json.dumps(doc, indent=2) + "\n"), (csv_path, text)):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)
    return json_path.resolve(), csv_path.resolve()
