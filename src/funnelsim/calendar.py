"""Weekly working calendars: when a rep may start work, and how many working hours lie between
two instants.

Simulation time is in hours from day 0 at midnight. A calendar is a sorted set of open intervals
within one week (hours from Monday 00:00) repeated forever, shifted so that day 0 falls on the
scenario's start weekday. Pure arithmetic, no SimPy: the sales model and the SLA clock share it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

WEEK = 168.0
DAY_INDEX = {d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}


@dataclass(frozen=True)
class WeekCalendar:
    """Open intervals ``[starts[i], ends[i])`` in hours of the week.

    ``offset`` is the week-hour at which day 0 starts.
    """

    starts: tuple[float, ...]
    ends: tuple[float, ...]
    offset: float = 0.0

    @classmethod
    def always(cls, offset: float = 0.0) -> WeekCalendar:
        return cls((0.0,), (WEEK,), offset)

    @classmethod
    def business(
        cls, work_hours: tuple[float, float], workdays: tuple[str, ...], offset: float = 0.0
    ) -> WeekCalendar:
        start, end = work_hours
        days = sorted(DAY_INDEX[d] for d in workdays)
        return _merged([(24.0 * d + start, 24.0 * d + end) for d in days], offset)

    @property
    def always_open(self) -> bool:
        return self.starts == (0.0,) and self.ends == (WEEK,)

    def open_hours_per_week(self) -> float:
        return sum(e - s for s, e in zip(self.starts, self.ends, strict=True))

    def open_fraction(self) -> float:
        return self.open_hours_per_week() / WEEK

    def longest_closed_gap(self) -> float:
        """Longest stretch, in hours, during which the calendar is closed (0 for 24/7)."""
        if self.always_open:
            return 0.0
        gaps = [s - e for e, s in zip(self.ends, self.starts[1:], strict=False)]
        gaps.append(self.starts[0] + WEEK - self.ends[-1])
        return max(gaps)

    def next_open(self, t: float) -> float:
        """The earliest instant >= t at which the calendar is open."""
        w = (t + self.offset) % WEEK
        i = bisect.bisect_right(self.ends, w)
        if i < len(self.starts):
            start = self.starts[i]
            return t if start <= w else t + (start - w)
        return t + (WEEK - w) + self.starts[0]

    def shift(self, t: float) -> tuple[float, float]:
        """(start, end) of the open interval containing t, or else of the next one: one look-up
        for "when can work start, and until when"."""
        w = (t + self.offset) % WEEK
        i = bisect.bisect_right(self.ends, w)
        if i < len(self.starts):
            start = self.starts[i]
            return (t if start <= w else t + (start - w)), t + (self.ends[i] - w)
        return t + (WEEK - w) + self.starts[0], t + (WEEK - w) + self.ends[0]

    def open_hours_until(self, t: np.ndarray | float) -> np.ndarray:
        """Open hours in [0, t), elementwise (the business clock)."""
        return self._cumulative(np.asarray(t, dtype=float) + self.offset) - self._cumulative(
            np.asarray(self.offset)
        )

    def open_hours_between(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Open hours in [t0, t1), elementwise."""
        return self._cumulative(np.asarray(t1) + self.offset) - self._cumulative(
            np.asarray(t0) + self.offset
        )

    def _cumulative(self, x: np.ndarray) -> np.ndarray:
        starts = np.asarray(self.starts)
        lengths = np.asarray(self.ends) - starts
        before = np.concatenate(([0.0], np.cumsum(lengths)[:-1]))
        weeks, w = np.divmod(x, WEEK)
        i = np.searchsorted(starts, w, side="right") - 1
        inside = np.where(
            i >= 0,
            before[np.maximum(i, 0)]
            + np.minimum(w - starts[np.maximum(i, 0)], lengths[np.maximum(i, 0)]),
            0.0,
        )
        return weeks * lengths.sum() + inside

    def with_focus_blocks(
        self, availability: float, block_hours: float, phase: float
    ) -> WeekCalendar:
        """This calendar restricted to a rep's MQL time: in every cycle of ``block_hours``, counted
        from the start of each open interval plus ``phase``, the first ``availability`` share."""
        if availability >= 1.0:
            return self
        on = availability * block_hours
        pieces = []
        for s, e in zip(self.starts, self.ends, strict=True):
            k = -1
            while True:
                a = s + phase % block_hours + k * block_hours
                if a >= e:
                    break
                lo, hi = max(a, s), min(a + on, e)
                if hi > lo:
                    pieces.append((lo, hi))
                k += 1
        return _merged(pieces, self.offset)


def _merged(pieces: list[tuple[float, float]], offset: float) -> WeekCalendar:
    pieces = sorted(pieces)
    out: list[list[float]] = []
    for s, e in pieces:
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return WeekCalendar(tuple(p[0] for p in out), tuple(p[1] for p in out), offset)
