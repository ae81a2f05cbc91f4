"""The sales engine's state: per-lead draws and per-hand-off rows, in compact typed arrays.

The engine reads and writes one value at a time, so it needs Python-speed indexing; a million
leads must still fit in a few hundred MB. `array.array` gives both: 8 bytes a float (a list
of floats costs 32), indexing that returns a plain Python number, and zero-copy views as numpy
arrays when the run is over. Rows are preallocated in blocks, so filing a hand-off is a few
index assignments, and every field not written keeps its default (not reached, no SQL, ...).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

import numpy as np

from .leads import LeadBatch

BLOCK = 1 << 14


def _extend(target: array, values: np.ndarray) -> None:
    target.frombytes(np.ascontiguousarray(values, dtype=_DTYPES[target.typecode]).tobytes())


_DTYPES = {"d": np.float64, "b": np.int8, "h": np.int16, "i": np.int32, "q": np.int64}


def view(values: array, n: int) -> np.ndarray:
    """The first ``n`` values as a numpy array, sharing the array's memory (the array must not
    grow afterwards: the engine hands its rows over only once the run is over)."""
    return np.frombuffer(values, dtype=_DTYPES[values.typecode])[:n]


@dataclass(frozen=True)
class LeadIds:
    """What the rest of the run needs to know of a batch once the engine has its draws: each
    lead's identity, arrival, channel, score and cohort flag."""

    chunk: np.ndarray
    index: np.ndarray
    ids: np.ndarray
    arrival: np.ndarray
    channel: np.ndarray
    z: np.ndarray
    cohort: np.ndarray


class Leads:
    """Per-lead draws, batch after batch: ``acc[c][lead]`` is lead's acceptance uniform in MQL
    cycle c, likewise ``cov``, ``qual``, ``reach`` (the attempt that reaches it), ``nurture``,
    ``hold``; ``hand[c][lead * attempts + k]`` is attempt k's rep time in hours."""

    def __init__(self, cycles: int, attempts: int, recycle: bool, feedback: bool) -> None:
        self.n = 0
        self.attempts = attempts
        self.z, self.kind, self.cohort = array("d"), array("h"), array("b")
        self.acc = [array("d") for _ in range(cycles)]
        self.cov = [array("d") for _ in range(cycles)]
        self.qual = [array("d") for _ in range(cycles)]
        self.reach = [array("b") for _ in range(cycles)]
        self.hand = [array("d") for _ in range(cycles)]
        self.nurture = [array("d") for _ in range(cycles - 1)] if recycle else []
        self.hold = [array("d") for _ in range(cycles)] if feedback else []
        self.batches: list[LeadIds] = []

    def add(self, b: LeadBatch) -> int:
        """Append a batch; returns the engine index of its first lead."""
        offset = self.n
        self.n += len(b)
        _extend(self.z, b.z)
        _extend(self.kind, b.kind)
        _extend(self.cohort, b.cohort)
        for c in range(len(self.acc)):
            _extend(self.acc[c], b.accept[c])
            _extend(self.cov[c], b.cover[c])
            _extend(self.qual[c], b.qualify[c])
            _extend(self.reach[c], b.reach[c])
            _extend(self.hand[c], b.handling[c].T)
        for c, values in enumerate(self.nurture):
            _extend(values, b.nurture[c])
        for c, values in enumerate(self.hold):
            _extend(values, b.hold[c])
        self.batches.append(LeadIds(b.chunk, b.index, b.ids, b.arrival, b.channel, b.z, b.cohort))
        return offset

    def release(self) -> None:
        """Drop the draws once the run is over (the ids stay, for the record)."""
        self.acc = self.cov = self.qual = self.reach = self.hand = []
        self.nurture = self.hold = []


# Per-row fields: (typecode, default). Times are NaN until they happen; rep and owner -1.
ROW_FIELDS = {
    "lead": ("q", 0),
    "cycle": ("b", 0),
    "at": ("d", math.nan),
    "z": ("d", math.nan),
    "accepted": ("b", 0),
    "kind": ("h", 0),
    "worked": ("b", 0),
    "contact": ("b", 0),  # the attempt that reached the lead (1-based); 0: not reached
    "sql": ("b", 0),
    "returned": ("d", math.nan),  # when its lead came back from nurture
    "psql": ("d", math.nan),  # the SQL chance at hand-off (the policy of that moment)
    "cohort": ("b", 0),
}
# Only with owners (routing other than the pool).
OWNER_FIELDS = {
    "owner": ("i", -1),
    "where": ("i", -1),  # the rep whose queue holds its pending attempt (-1: the pool)
}


class Rows:
    """Per-hand-off state, one row per MQL event in the order they happen, with the attempt
    matrices ``start[k][row]``, ``rep[k][row]``, ``hours[k][row]``."""

    def __init__(self, attempts: int, owners: bool) -> None:
        self.n = 0
        self.cap = 0
        self.attempts = attempts
        self.owners = owners
        fields = {**ROW_FIELDS, **(OWNER_FIELDS if owners else {})}
        for name, (code, _) in fields.items():
            setattr(self, name, array(code))
        # start[0] is when the first attempt started (NaN: not yet).
        self.start = [array("d") for _ in range(attempts)]
        self.rep = [array("i") for _ in range(attempts)]
        self.hours = [array("d") for _ in range(attempts)]
        self.first_key: list = []
        self._blocks = {name: array(code, [d]) * BLOCK for name, (code, d) in fields.items()}
        self._nan = array("d", [math.nan]) * BLOCK
        self._none = array("i", [-1]) * BLOCK

    def grow(self) -> None:
        """Room for another block of rows."""
        for name, block in self._blocks.items():
            getattr(self, name).extend(block)
        for k in range(self.attempts):
            self.start[k].extend(self._nan)
            self.rep[k].extend(self._none)
            self.hours[k].extend(self._nan)
        if self.owners:
            self.first_key.extend([None] * BLOCK)
        self.cap += BLOCK

    def column(self, name: str) -> np.ndarray:
        return view(getattr(self, name), self.n)

    def matrices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(start, rep, hours)``, each ``[attempt, row]``."""
        m, a = self.n, self.attempts
        start = np.vstack([view(x, m) for x in self.start]).reshape(a, m)
        rep = np.vstack([view(x, m) for x in self.rep]).reshape(a, m)
        hours = np.vstack([view(x, m) for x in self.hours]).reshape(a, m)
        return start, rep, hours
