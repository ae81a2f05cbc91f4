"""The reps: when each may work on MQLs, how fast a new hire is, and who is idle.

A rep's calendar is the team's working calendar cut to the rep's focus blocks (staggered between
reps, so someone is usually on MQL duty) minus whole days on vacation. `IdleReps` answers, in
amortised constant time, "which idle rep should take a lead that just became workable": the
longest-idle rep on shift now, else the one whose shift starts soonest.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..calendar import WEEK as WEEK_H
from ..calendar import WeekCalendar
from ..scenario import Scenario
from ..scenario.checks import company_calendar
from .streams import stream

NEVER = math.inf


@dataclass(frozen=True)
class RepCalendar:
    """A rep's calendar: the weekly pattern, minus whole days away (vacation)."""

    week: WeekCalendar
    away_days: frozenset[int] = frozenset()

    @property
    def always_open(self) -> bool:
        return self.week.always_open and not self.away_days

    def next_open(self, t: float) -> float:
        t = self.week.next_open(t)
        while self.away_days and int(t // 24.0) in self.away_days:
            t = self.week.next_open((t // 24.0 + 1.0) * 24.0)
        return t

    def shift(self, t: float) -> tuple[float, float]:
        """(start, end) of the open stretch containing t, or else of the next one; a day away is
        skipped, and ends a stretch at midnight."""
        start, end = self.week.shift(t)
        if self.away_days:
            while int(start // 24.0) in self.away_days:
                start, end = self.week.shift((start // 24.0 + 1.0) * 24.0)
            end = min(end, (start // 24.0 + 1.0) * 24.0)
        return start, end

    def open_hours_within(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Open hours in each short interval [t0, t1) (under a day: an attempt), elementwise.

        An attempt never starts on a day away, but one may run past midnight into one; that
        part is not open time."""
        hours = self.week.open_hours_between(t0, t1)
        if self.away_days:
            next_day = np.floor(t0 / 24.0) + 1.0
            into_away = (t1 > next_day * 24.0) & np.isin(next_day, list(self.away_days))
            if into_away.any():
                hours[into_away] -= self.week.open_hours_between(
                    next_day[into_away] * 24.0, t1[into_away]
                )
        return hours

    def open_hours_between(self, t0: float, t1: float) -> float:
        hours = float(self.week.open_hours_between(np.asarray(t0), np.asarray(t1)))
        for d in self.away_days:
            lo, hi = max(t0, d * 24.0), min(t1, (d + 1) * 24.0)
            if hi > lo:
                hours -= float(self.week.open_hours_between(np.asarray(lo), np.asarray(hi)))
        return hours


class ShiftTable:
    """A rep's open stretches laid out once, in absolute hours, over [0, span): a look-up is one
    bisection instead of week arithmetic and a vacation check (`RepCalendar.shift` answers
    beyond the span)."""

    __slots__ = ("_starts", "_ends", "_cal", "_last")

    def __init__(self, cal: RepCalendar, span_h: float) -> None:
        self._cal = cal
        week, away = cal.week, cal.away_days
        weeks = WEEK_H * np.arange(int(span_h // WEEK_H) + 2)[:, None]
        a = (np.asarray(week.starts) - week.offset + weeks).ravel()
        b = (np.asarray(week.ends) - week.offset + weeks).ravel()
        keep = b > 0.0
        a, b = a[keep], b[keep]
        if away:
            # Days away are skipped, and every stretch ends at midnight (as in
            # `RepCalendar.shift`): cut each stretch into its days, drop the days away.
            first = np.floor(a / 24.0)
            days = (np.ceil(b / 24.0) - first).astype(np.int64)
            idx = np.repeat(np.arange(a.size), days)
            day = first[idx] + (np.arange(idx.size) - np.repeat(np.cumsum(days) - days, days))
            lo, hi = np.maximum(a[idx], 24.0 * day), np.minimum(b[idx], 24.0 * (day + 1.0))
            keep = (hi > lo) & ~np.isin(day, np.fromiter(away, float, len(away)))
            a, b = lo[keep], hi[keep]
        self._starts, self._ends = a.tolist(), b.tolist()
        self._last = self._ends[-1] if self._ends else -math.inf

    def shift(self, t: float) -> tuple[float, float]:
        """(start, end) of the open stretch containing t, or else of the next one."""
        if t >= self._last:
            return self._cal.shift(t)
        i = bisect.bisect_right(self._ends, t)
        start = self._starts[i]
        return (t if start <= t else start), self._ends[i]


@dataclass(frozen=True)
class Ramp:
    """A new hire's speed: ``start`` of full speed at time 0, rising linearly to full at
    ``ramp_h`` hours."""

    start: float
    ramp_h: float

    def at(self, t: float) -> float:
        return self.start + (1.0 - self.start) * min(t / self.ramp_h, 1.0)

    def of(self, t: np.ndarray) -> np.ndarray:
        return self.start + (1.0 - self.start) * np.minimum(t / self.ramp_h, 1.0)


def rep_calendars(
    s: Scenario, seed: int = 0, replication: int = 0, days: float | None = None
) -> list[RepCalendar]:
    """Each rep's calendar for MQL work: working hours cut to their focus blocks (staggered
    between reps), minus the rep's vacation days over the first ``days`` days (default: the
    horizon plus a year)."""
    base = company_calendar(s)
    block_h = s.sales.focus_block_minutes / 60.0
    span = s.run.horizon_days + 365.0 if days is None else days
    away = _vacations(s, base, seed, replication, span)
    return [
        RepCalendar(
            base.with_focus_blocks(s.sales.availability, block_h, block_h * i / s.sales.reps),
            away[i],
        )
        for i in range(s.sales.reps)
    ]


def _vacations(
    s: Scenario, base: WeekCalendar, seed: int, r: int, days: float
) -> list[frozenset[int]]:
    """Whole working days away per rep, drawn year by year (each year from its own stream, so a
    longer run adds years without moving the earlier ones). A year's working days are cut into
    consecutive runs of ``vacation_block_days``, and each rep takes enough whole runs (the last
    one cut short for a fractional remainder) to make ``vacation_days_per_year``."""
    per_year = s.sales.vacation_days_per_year
    block = s.sales.vacation_block_days
    if per_year <= 0:
        return [frozenset()] * s.sales.reps
    picks: list[list[int]] = [[] for _ in range(s.sales.reps)]
    for year in range(math.ceil(days / 365.0)):
        rng = stream(seed, r, "vacation" if year == 0 else f"vacation.{year}")
        day = np.arange(365 * year, 365 * (year + 1))
        working = day[base.open_hours_between(day * 24.0, day * 24.0 + 24.0) > 0]
        runs = [working[i : i + block] for i in range(0, working.size - block + 1, block)]
        for rep in range(s.sales.reps):
            take = int(per_year) + int(rng.random() < per_year - int(per_year))
            take = min(take, block * len(runs))
            whole, rest = divmod(take, block)
            chosen = rng.choice(len(runs), size=whole + (rest > 0), replace=False)
            for n, i in enumerate(chosen):
                picks[rep] += runs[i][: rest if n == whole else block].tolist()
    return [frozenset(p) for p in picks]


class IdleReps:
    """The reps with nothing to do, ready to be woken by work that any of them may take.

    Reps on shift wait in a queue by how long they have been idle; reps off shift wait in a heap
    by when their next shift starts. A rep's place goes stale (lazily) when it is taken for
    other work, and an on-shift entry moves to the heap the first time it is seen after its
    shift ended, so each rep costs O(log reps) per state change and nothing scans the team.
    """

    __slots__ = ("_on", "_off", "_token", "_shift")

    def __init__(self, reps: int, shift_at) -> None:
        """``shift_at(rep, now)`` gives (start, end) of the rep's open stretch containing now,
        or else of its next one (the engine's cached calendar look-up)."""
        self._on: deque[tuple[int, float, int]] = deque()
        self._off: list[tuple[float, int, int]] = []
        self._token = [0] * reps
        self._shift = shift_at

    def add(self, rep: int, now: float) -> None:
        """Rep ``rep`` has run out of work at ``now``."""
        tok = self._token[rep] = self._token[rep] + 1
        start, end = self._shift(rep, now)
        if start <= now:
            self._on.append((rep, end, tok))
        else:
            heapq.heappush(self._off, (start, rep, tok))

    def discard(self, rep: int) -> None:
        """Rep ``rep`` is no longer idle (it was woken for its own work)."""
        self._token[rep] += 1

    def is_idle(self, rep: int, token: int) -> bool:
        return self._token[rep] == token

    def take(self, now: float) -> tuple[int, float] | None:
        """The idle rep to wake for new work and when it can start (``now`` or its next shift
        start), or None when no rep is idle. The rep is no longer idle."""
        on, off, token = self._on, self._off, self._token
        while on:
            rep, end, tok = on[0]
            if token[rep] != tok:
                on.popleft()
            elif end <= now:
                on.popleft()
                start, _ = self._shift(rep, now)
                heapq.heappush(off, (start, rep, tok))
            else:
                on.popleft()
                token[rep] += 1
                return rep, now
        while off:
            start, rep, tok = off[0]
            if token[rep] != tok:
                heapq.heappop(off)
                continue
            if start <= now:
                # Its shift began while it idled: is it still on now?
                start, _ = self._shift(rep, now)
                if start > now:
                    heapq.heapreplace(off, (start, rep, tok))
                    continue
            heapq.heappop(off)
            token[rep] += 1
            return rep, max(start, now)
        return None

    def __bool__(self) -> bool:
        return bool(self._on) or bool(self._off)
