"""Lead ownership and routing, and batch pulls: who may work a lead, and when reps see it.

- ``pool``: no owner; any rep takes the next lead in the shared queue.
- ``round_robin``: each worked lead is owned by the next rep in turn, and only its owner works
  it; while the owner is busy, off shift or on vacation, the lead waits.
- ``load_balanced``: the owner is the rep with the fewest open leads at hand-off (ties: the
  lowest rep number), found from a heap, not by scanning the team.

With ``reassign_after_hours`` a lead its owner has not touched by then goes to the shared pool,
and the rep who first touches it from there owns its later attempts. With ``pull_times`` reps
see new leads only at those hours of each working day (the CRM is checked, not watched).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

POOL = -1


class RoundRobin:
    """Owners in turn: 0, 1, ..., reps - 1, 0, ..."""

    __slots__ = ("_reps", "_next")

    def __init__(self, reps: int) -> None:
        self._reps, self._next = reps, 0

    def assign(self) -> int:
        rep = self._next
        self._next = (rep + 1) % self._reps
        return rep

    def opened(self, rep: int) -> None:
        """A lead now belongs to ``rep`` (round robin keeps no count)."""

    def closed(self, rep: int) -> None:
        """A lead of ``rep`` is done or left it."""


class LoadBalanced:
    """The rep with the fewest open leads; a heap of (open leads, rep) with stale entries
    skipped, so each change costs O(log reps)."""

    __slots__ = ("_open", "_heap")

    def __init__(self, reps: int) -> None:
        self._open = [0] * reps
        self._heap = [(0, rep) for rep in range(reps)]

    def assign(self) -> int:
        heap, count = self._heap, self._open
        while True:
            n, rep = heap[0]
            if n == count[rep]:
                return rep
            heapq.heappop(heap)

    def opened(self, rep: int) -> None:
        self._open[rep] += 1
        heapq.heappush(self._heap, (self._open[rep], rep))

    def closed(self, rep: int) -> None:
        self._open[rep] -= 1
        heapq.heappush(self._heap, (self._open[rep], rep))

    def open_leads(self, rep: int) -> int:
        return self._open[rep]


def make_router(routing: str, reps: int) -> RoundRobin | LoadBalanced | None:
    """The owner-assignment rule of ``routing`` (None for the shared pool)."""
    if routing == "pool":
        return None
    if routing == "round_robin":
        return RoundRobin(reps)
    if routing == "load_balanced":
        return LoadBalanced(reps)
    raise ValueError(f"unknown routing {routing!r}")


class PullSchedule:
    """When reps look for new leads: at the given hours of every working day.

    ``workdays`` holds the indices (Monday 0) of the days the team works; ``offset`` is the
    week-hour at which day 0 starts (the scenario's start weekday)."""

    __slots__ = ("hours", "_workday", "_offset_days")

    def __init__(self, hours: Sequence[float], workdays: Sequence[int], offset_h: float) -> None:
        self.hours = tuple(sorted(float(h) for h in hours))
        self._workday = [d in set(workdays) for d in range(7)]
        self._offset_days = int(round(offset_h / 24.0))

    def next_at(self, t: float) -> float:
        """The first pull at or after ``t``."""
        day = math.floor(t / 24.0)
        for d in range(day, day + 8):
            if not self._workday[(d + self._offset_days) % 7]:
                continue
            for h in self.hours:
                at = d * 24.0 + h
                if at >= t:
                    return at
        raise ValueError("a pull schedule needs at least one working day")  # pragma: no cover
