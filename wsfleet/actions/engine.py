"""The execute engine, the only place a plan is written: the read-only gate, confirmation, the writes
in order (undone on failure when atomic), a fresh read back and one audit line."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from wsfleet.actions.plan import Change, ChangeResult, Outcome, Plan
from wsfleet.actions.writes import _resolve
from wsfleet.aws.provision import alarm_fields, group_fields, policy_fields, same, scheduled_action_fields, warm_pool_fields
from wsfleet.aws.provision import iso as _iso
from wsfleet.errors import ReadOnlyError, WsfleetError


class _State:
    """A fresh read of the resources a plan touched, for the read-back (one call per kind)."""

    def __init__(self, session: Any, asg: str) -> None:
        self.session, self.asg = session, asg
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, read: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def fields(self, change: Change, names: Sequence[str]) -> Mapping[str, Any] | None:
        s, asg = self.session, self.asg
        if change.resource == "group":
            from wsfleet.aws import fleet as aws_fleet

            return group_fields(self._once("group", lambda: aws_fleet.read_group_sizes(s, asg)))
        if change.resource == "alarm":
            from wsfleet.aws import alarms as aws_alarms

            found = self._once("alarms", lambda: aws_alarms.read_alarms(s, list(names))).get(change.name)
            return alarm_fields(found) if found else None
        if change.resource in ("step policy", "simple policy"):
            from wsfleet.aws import policies as aws_policies

            found = self._once("policies", lambda: aws_policies.read_policies(s, asg)).get(change.name)
            return policy_fields(found) if found else None
        if change.resource == "warm pool":
            from wsfleet.aws import warm_pool as aws_warm_pool

            found = self._once("warm pool", lambda: aws_warm_pool.read_warm_pool(s, asg, with_addresses=False))
            return warm_pool_fields(found) if found else None
        if change.resource == "scheduled action":
            from wsfleet.aws import schedule as aws_schedule

            found = {a.name: a for a in self._once("schedule", lambda: aws_schedule.read_scheduled_actions(s, asg))}.get(change.name)
            times = change.after is not None and "start_time" in change.after
            return scheduled_action_fields(found, times=times) if found else None
        if change.resource in ("scaling processes", "group tag"):
            from wsfleet.aws import fleet as aws_fleet

            group = self._once("group", lambda: aws_fleet.read_group_sizes(s, asg))
            if change.resource == "scaling processes":
                return {"suspended_processes": sorted(group.suspended_processes)}
            value = group.tag(change.name)
            return None if value is None else {"value": value}
        if change.resource == "instance":
            from wsfleet.aws import fleet as aws_fleet

            group = self._once("group", lambda: aws_fleet.read_group_sizes(s, asg))
            found = next((i for i in group.instances if i.id == change.name), None)
            return None if found is None else {"lifecycle": _settled(found.lifecycle)}
        if change.resource == "target group":
            from wsfleet.aws import fleet as aws_fleet
            from wsfleet.aws import targets as aws_targets

            group_arns = self._once("group", lambda: aws_fleet.read_group_sizes(s, asg)).target_group_arns
            found = {t.name: t for t in self._once("targets", lambda: aws_targets.read_target_groups(s, group_arns))}.get(change.name)
            return None if found is None else {"algorithm": found.algorithm or "round_robin"}
        if change.resource == "instance refresh":
            from wsfleet.actions.refresh import refresh_fields
            from wsfleet.aws import refresh as aws_refresh

            return refresh_fields(self._once("refresh", lambda: aws_refresh.read_latest_refresh(s, asg)))
        raise ValueError(f"unknown resource {change.resource!r}")


def _settled(lifecycle: str) -> str:
    """An instance's lifecycle as a standby write intends it: AWS passes through EnteringStandby on
    the way to Standby, and Pending on the way back to InService (the caller waits for InService)."""
    if lifecycle == "EnteringStandby":
        return "Standby"
    if lifecycle.startswith("Pending"):
        return "InService"
    return lifecycle


def _mismatch(intended: Mapping[str, Any] | None, actual: Mapping[str, Any] | None) -> str | None:
    if intended is None:
        return None if actual is None else "it still exists"
    if actual is None:
        return "it is not there"
    wrong = [f"{k} is {actual.get(k)!r}, not {v!r}" for k, v in intended.items() if not same(actual.get(k), v)]
    return "; ".join(wrong) or None


def _caller(session: Any) -> str | None:
    try:
        return session.caller_arn() if session is not None else None
    except Exception:  # identity is decoration in the log; never block a write on it
        return None


def _audit_entry(plan: Plan, result: str, error: str | None, results: Sequence[ChangeResult], arns: Mapping[str, str]) -> dict[str, Any]:
    pending = plan.pending
    return {
        "time": _iso(datetime.now(timezone.utc)),
        "caller": _caller(plan.session),
        "fleet": plan.fleet,
        "asg": plan.asg,
        "region": plan.region,
        "action": plan.action,
        "summary": plan.summary,
        "before": {c.label: c.before for c in pending},
        "after": {c.label: _resolve(c.after, arns) for c in pending},
        "result": result,
        "error": error,
        "changes": [{"resource": r.change.resource, "name": r.change.name, "kind": r.change.kind, "result": r.status, "error": r.error}
                    for r in results if r.change.kind != "unchanged"],
    }


def execute(plan: Plan, *, confirm: Callable[[Plan], bool], read_only: bool, audit: Any) -> Outcome:
    """Apply a plan: read-only gate, confirmation, the writes in order, a fresh read back, one audit line.

    Raises ReadOnlyError under --read-only (after logging the refused attempt). Returns an Outcome
    otherwise; a failed write is a result, not an exception, so the caller can say what was and
    wasn't applied. In an atomic plan a failure undoes the writes before it.
    """
    if not plan.has_changes:
        return Outcome(plan, "no-change", tuple(ChangeResult(c, "unchanged") for c in plan.changes))
    if read_only:
        message = f"--read-only is set, so wsfleet refused to write: {plan.summary} Nothing was changed."
        audit.append(_audit_entry(plan, "refused", "read-only", (), plan.known_arns))
        raise ReadOnlyError(message)
    audit.check_writable()  # before AWS changes: never leave a write unlogged
    if not confirm(plan):
        return Outcome(plan, "declined", tuple(ChangeResult(c, "not-applied" if c.kind != "unchanged" else "unchanged") for c in plan.changes))

    session = plan.session
    arns: dict[str, str] = dict(plan.known_arns)
    results: list[ChangeResult] = []
    failure: str | None = None
    for change in plan.changes:
        if change.kind == "unchanged":
            results.append(ChangeResult(change, "unchanged"))
        elif failure is not None:
            results.append(ChangeResult(change, "not-applied"))
        else:
            try:
                arn = change.write.apply(session, arns) if change.write else None
                if arn:
                    arns[change.name] = arn
                results.append(ChangeResult(change, "applied"))
            except WsfleetError as e:
                failure = f"{change.label}: {e.message}"
                results.append(ChangeResult(change, "failed", e.message))
            except Exception as e:  # a bug or an unwrapped botocore error: still a result, still audited
                failure = f"{change.label}: {type(e).__name__}: {e}"
                results.append(ChangeResult(change, "failed", f"{type(e).__name__}: {e}"))

    status: str = "applied"
    error: str | None = None
    if failure is not None and plan.atomic:
        results, restore_error = _roll_back(session, results, arns)
        if restore_error is None:
            results, restore_error = _verify_restored(session, plan, results)
        status = "rolled-back" if restore_error is None else "failed"
        restored = [r.change.label for r in results if r.status == "rolled-back"]
        error = f"{failure} — " + (
            (f"restored {', '.join(restored)} as it was; nothing changed." if restored else "nothing had been written; nothing changed.")
            if restore_error is None
            else f"AND restoring failed ({restore_error}); check it with `wsfleet status`."
        )
    else:
        results = _read_back(session, plan, results, arns)
        mismatches = [r for r in results if r.status in ("mismatch", "unverified")]
        if failure is not None:
            status = "failed"
            applied = [r.change.label for r in results if r.status == "applied"]
            not_applied = [r.change.label for r in results if r.status == "not-applied"]
            error = (
                f"{failure} Applied before it: {', '.join(applied) or 'nothing'}. "
                f"Not applied: {', '.join(not_applied) or 'nothing else'}."
                + (" Once that is fixed, the same command plans only what is still missing." if not_applied or plan.action == "provision" else "")
            )
        elif mismatches:
            status = "failed"
            error = " ".join(f"Read back {r.change.label}: {r.error}." for r in mismatches)

    audit.append(_audit_entry(plan, status, error, results, arns))
    return Outcome(plan, status, tuple(results), error, str(getattr(audit, "path", "")) or None)  # type: ignore[arg-type]


def _read_back(session: Any, plan: Plan, results: list[ChangeResult], arns: Mapping[str, str]) -> list[ChangeResult]:
    state = _State(session, plan.asg)
    alarm_names = [c.name for c in plan.changes if c.resource == "alarm"]
    out = []
    for r in results:
        if r.status != "applied":
            out.append(r)
            continue
        intended = _resolve(r.change.after, arns)
        try:
            actual = state.fields(r.change, alarm_names)
        except WsfleetError as e:
            out.append(replace(r, status="unverified", error=f"could not read it back: {e.message}"))
            continue
        wrong = _mismatch(intended, actual)
        out.append(replace(r, status="mismatch" if wrong else "applied", error=wrong, read_back=actual))
    return out


def _verify_restored(session: Any, plan: Plan, results: list[ChangeResult]) -> tuple[list[ChangeResult], str | None]:
    """Read the undone resources again: "restored" is a claim about AWS, so check it."""
    state = _State(session, plan.asg)
    names = [c.name for c in plan.changes if c.resource == "alarm"]
    out, problem = [], None
    for r in results:
        if r.status == "rolled-back":
            try:
                wrong = _mismatch(r.change.before, state.fields(r.change, names))
            except WsfleetError as e:
                wrong = f"could not read it back: {e.message}"
            if wrong:
                r = replace(r, status="rollback-failed", error=wrong)
                problem = problem or f"{r.change.label}: {wrong}"
        out.append(r)
    return out, problem


def _roll_back(session: Any, results: list[ChangeResult], arns: Mapping[str, str]) -> tuple[list[ChangeResult], str | None]:
    out = list(results)
    for i in reversed(range(len(out))):
        r = out[i]
        if r.status != "applied":
            continue
        if r.change.undo is None:
            return out, f"{r.change.label} has no way back"
        try:
            r.change.undo.apply(session, arns)
        except WsfleetError as e:
            out[i] = replace(r, status="rollback-failed", error=e.message)
            return out, f"{r.change.label}: {e.message}"
        except Exception as e:
            out[i] = replace(r, status="rollback-failed", error=f"{type(e).__name__}: {e}")
            return out, f"{r.change.label}: {type(e).__name__}: {e}"
        out[i] = replace(r, status="rolled-back")
    return out, None
