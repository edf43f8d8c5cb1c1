"""What workers tell the dashboard. Each carries the fleet generation it was started for, so a
result that lands after a fleet switch is dropped instead of shown under the new fleet's name."""

from __future__ import annotations

from textual.message import Message

from wsfleet.model import FleetStatus, GroupState, InstanceCount


class StatusLoaded(Message):
    def __init__(self, generation: int, status: FleetStatus, seconds: float) -> None:
        super().__init__()
        self.generation = generation
        self.status = status
        self.seconds = seconds


class GroupLoaded(Message):
    """The group and its addresses, read before the rest of the status: the cycle's sweep starts."""

    def __init__(self, generation: int, group: GroupState) -> None:
        super().__init__()
        self.generation = generation
        self.group = group


class StatusFailed(Message):
    def __init__(self, generation: int, error: str) -> None:
        super().__init__()
        self.generation = generation
        self.error = error


class CountArrived(Message):
    def __init__(self, generation: int, count: InstanceCount) -> None:
        super().__init__()
        self.generation = generation
        self.count = count


class SweepFailed(Message):
    def __init__(self, generation: int, error: str) -> None:
        super().__init__()
        self.generation = generation
        self.error = error


class SweepDone(Message):
    def __init__(self, generation: int, seconds: float, answered: int) -> None:
        super().__init__()
        self.generation = generation
        self.seconds = seconds
        self.answered = answered
