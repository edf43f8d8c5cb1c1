"""The plan data model: what a write would change (each resource's normalised fields before and
after, warnings, notes) and what applying it did. Data only; the CLI prints it, the dashboard shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Mapping

from wsfleet.aws.provision import same

if TYPE_CHECKING:
    from wsfleet.actions.writes import Write

ChangeKind = Literal["create", "update", "delete", "unchanged"]
ResultStatus = Literal["applied", "unchanged", "failed", "not-applied", "rolled-back", "rollback-failed", "mismatch", "unverified"]


@dataclass(frozen=True)
class FieldDiff:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One resource: what it is now (`before`, None = absent) and what it will be (`after`, None = deleted)."""

    resource: str  # "group", "alarm", "step policy", "simple policy", "warm pool", "scheduled action"
    name: str
    kind: ChangeKind
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    warnings: tuple[str, ...] = ()
    write: "Write | None" = field(default=None, repr=False, compare=False)
    undo: "Write | None" = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.resource} {self.name}"

    @property
    def diffs(self) -> tuple[FieldDiff, ...]:
        """The fields this change sets (all of them for a create), in the order of `after`."""
        if self.kind == "delete":
            return tuple(FieldDiff(k, v, None) for k, v in (self.before or {}).items())
        before = self.before or {}
        return tuple(
            FieldDiff(k, before.get(k), v)
            for k, v in (self.after or {}).items()
            if self.before is None or not same(before.get(k), v)
        )


@dataclass(frozen=True)
class Plan:
    action: str  # "provision", "scale out", "thresholds set", "schedule put", ...
    fleet: str
    asg: str
    region: str | None
    summary: str  # one sentence: what this does, e.g. "Scale prod-chat-asg out from 4 to 6 instances."
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # context: where a number came from, the flap projection, ...
    atomic: bool = False  # all or nothing: a failed write undoes the ones before it
    known_arns: Mapping[str, str] = field(default_factory=dict)  # policy name -> ARN, for alarm actions
    session: Any = field(default=None, repr=False, compare=False)

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind != "unchanged")

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    @property
    def all_warnings(self) -> tuple[str, ...]:
        return self.warnings + tuple(w for c in self.changes for w in c.warnings)


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    status: ResultStatus
    error: str | None = None
    read_back: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    status: Literal["applied", "no-change", "declined", "failed", "rolled-back"]
    results: tuple[ChangeResult, ...] = ()
    error: str | None = None
    audit_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("applied", "no-change")

    @property
    def exit_code(self) -> int:
        from wsfleet.errors import EXIT_OK, EXIT_REMOTE, EXIT_USAGE

        if self.ok:
            return EXIT_OK
        return EXIT_USAGE if self.status == "declined" else EXIT_REMOTE

    def with_status(self, status: str) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.status == status)
