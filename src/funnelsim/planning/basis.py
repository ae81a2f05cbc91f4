"""What counts toward a revenue target: one definition, applied the same way by every planning
answer (the quota, its monthly schedule, the staffing table, the unreachable verdict).

Three bases, all over the counted cohort (prospects arriving in [warmup_days, horizon_days)):

- ``booked`` (the default): the value of the deals the cohort closes by day D, D =
  ``--booked-within-days`` or else the horizon. "This year's target" in the fiscal-year view:
  what this year's leads book this year.
- ``all-bookings``: the value of every deal the cohort wins, whenever it closes (the run follows
  each lead to its outcome). What a year of leads is worth in the end.
- ``recognized``: revenue recognised by the horizon: one-time deals at close, recurring ones
  month by month as they are billed (the finance view).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..model import FunnelRecord
from ..results.kpis import recognized
from ..scenario import Scenario

BASES = ("booked", "all-bookings", "recognized")
DEFAULT_BASIS = "booked"


@dataclass(frozen=True)
class RevenueBasis:
    """``kind`` (one of `BASES`) and ``by_day``: the day by which a deal must close (``booked``)
    or revenue be recognised (``recognized``, the horizon); None for ``all-bookings``."""

    kind: str
    by_day: float | None
    horizon_days: float

    @property
    def deadline_h(self) -> float:
        """Hours since day 0 by which revenue must land to count (inf: any time)."""
        return math.inf if self.by_day is None else 24.0 * self.by_day

    def describe(self) -> str:
        """What counted, in a planner's words, for every output to print."""
        if self.kind == "all-bookings":
            return "every booking of the cohort, whenever the deal closes"
        day = f"day {self.by_day:g}"
        horizon = self.by_day == self.horizon_days
        if self.kind == "booked":
            return f"bookings closed by {day}" + (" (the horizon)" if horizon else "")
        return (
            f"revenue recognised by {day} ("
            + ("the horizon; " if horizon else "")
            + "recurring deals: the months billed by then)"
        )

    def to_dict(self) -> dict:
        return {"kind": self.kind, "by_day": self.by_day, "description": self.describe()}

    def counts(self, rec: FunnelRecord, won: np.ndarray) -> np.ndarray:
        """The won MQL rows (mask ``won``) whose deal counts at least in part."""
        if self.kind == "all-bookings":
            return won
        close = rec.closed_at
        if self.kind == "booked":
            return won & (close <= self.deadline_h)
        return won & (close < self.deadline_h)

    def value(self, rec: FunnelRecord, won: np.ndarray) -> float:
        """Counted revenue of the won MQL rows ``won``."""
        if self.kind == "recognized":
            return recognized(rec, won, 0.0, self.deadline_h)
        return float(rec.amount[self.counts(rec, won)].sum())


def resolve_basis(
    scenario: Scenario,
    revenue_basis: str | RevenueBasis | None = None,
    booked_within_days: float | None = None,
) -> RevenueBasis:
    """The basis a planning call asked for. ``revenue_basis`` None means ``booked``;
    ``booked_within_days`` sets its day (default the horizon). A `RevenueBasis` is returned as it
    is. Raises `UsageError` for an unknown basis, a day that is not positive, or a day given with
    a basis that has none."""
    if isinstance(revenue_basis, RevenueBasis):
        return revenue_basis
    basis = revenue_basis
    horizon = float(scenario.run.horizon_days)
    if booked_within_days is not None:
        d = booked_within_days
        if isinstance(d, bool) or not isinstance(d, int | float) or not math.isfinite(d) or d <= 0:
            raise UsageError(f"--booked-within-days must be > 0 (given: {booked_within_days!r})")
    kind = DEFAULT_BASIS if basis is None else str(basis)
    if kind not in BASES:
        raise UsageError(
            f"--revenue-basis must be one of {', '.join(BASES)} (given: {basis!r}): booked = "
            "deals closed by --booked-within-days (default the horizon), all-bookings = every "
            "deal the cohort wins, recognized = revenue recognised by the horizon"
        )
    if kind == "booked":
        day = horizon if booked_within_days is None else float(booked_within_days)
        return RevenueBasis(kind, day, horizon)
    if booked_within_days is not None:
        raise UsageError(
            f"--booked-within-days applies to --revenue-basis booked only (given with "
            f"--revenue-basis {kind}): {kind} counts "
            + ("every deal, whenever it closes" if kind == "all-bookings" else "by the horizon")
        )
    return RevenueBasis(kind, None if kind == "all-bookings" else horizon, horizon)


def counted_revenue(record: FunnelRecord, basis: RevenueBasis) -> float:
    """Revenue of the counted cohort that counts toward the target under ``basis``."""
    return basis.value(record, record.won & record.cohort_mqls())
