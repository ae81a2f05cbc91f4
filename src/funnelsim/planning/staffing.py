"""Staffing: how many reps, by the SLA and by the money.

Two recommendations at a lead volume: the fewest reps that keep ``sla_attainment`` at the target
(the SLA answer), and the headcount at or above it that earns the most: counted revenue minus rep
cost and marketing cost (the economic answer: each rep beyond the SLA's fewest must bring in more
revenue than it costs). The table always holds the current headcount, so "what would change"
reads off it, with revenue, rep cost, profit and the marginal revenue per added rep against the
row above (paired on common random numbers). The Erlang C estimate says where to start; it is
exact only on the M/M/c reduction (`erlang`), and the simulation decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..deprecation import CallableTable
from ..errors import UsageError
from ..experiment.progress import one_bar
from ..experiment.stats import json_number, mean_ci
from ..scenario import Scenario
from ..scenario.checks import offered_load
from .basis import RevenueBasis, resolve_basis
from .erlang import ErlangEstimate, check_sla_target, erlang_reps
from .evaluation import Evaluation, make_evaluator
from .headcount import Headcount, fewest_for_sla, most_profitable
from .reverse_funnel import cohort_weeks

# The staffing table's columns that are not KPIs under their own name.
STAFFING_UNITS = {
    "sla_ci_low": "rate",
    "sla_ci_high": "rate",
    "erlang_sla_attainment": "rate",
    "offered_load": "number",
    "marginal_revenue_per_rep": "currency",
}


@dataclass(frozen=True)
class StaffingResult:
    """The staffing answer: ``reps_needed`` (fewest for the SLA; None when no headcount reaches
    it, with ``reason``), ``reps_best`` (the most profitable headcount that keeps the SLA; None
    without a rep cost or without an SLA answer), the current headcount, the Erlang estimate, and
    ``frame``, one row per rep count tried (`table` returns it)."""

    scenario: Scenario
    sla_target: float
    prospects_per_week: float
    reps_needed: int | None
    reps_best: int | None
    current_reps: int
    erlang: ErlangEstimate
    frame: pd.DataFrame
    replications: int
    seed: int
    basis: RevenueBasis
    rep_cost_per_year: float = 0.0
    reason: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def booked_within_days(self) -> float | None:
        return self.basis.by_day if self.basis.kind == "booked" else None

    @property
    def table(self) -> CallableTable:
        """``result.table()``: one row per rep count tried (index ``reps``): ``replications``,
        ``sla_attainment`` with ``sla_ci_low`` and ``sla_ci_high``, the Erlang prediction, mean
        first-touch wait, utilization, offered load, counted revenue, marginal revenue per added
        rep and, with a rep cost, rep cost, marketing cost and profit; ``note`` marks rows.
        (``result.table`` without the call, an attribute until now, still works for one release
        and warns.)"""
        return CallableTable(self.frame, "StaffingResult.table")

    def _repr_html_(self) -> str:
        from ..formatting import html_table

        best = f", most profitable {self.reps_best}" if self.reps_best is not None else ""
        return html_table(
            self.frame,
            f"{self.scenario.name}: fewest reps for {self.sla_target:.0%} SLA attainment: "
            f"{self.reps_needed if self.reps_needed is not None else 'none'}{best} "
            f"(today {self.current_reps})",
            column_units=STAFFING_UNITS,
        )

    def to_dict(self) -> dict:
        """The contract's ``staffing --json`` document (plus the economics and settings)."""
        rows = []
        for reps, r in self.frame.iterrows():
            row: dict[str, Any] = {"reps": int(reps)}
            row.update({k: v if isinstance(v, str) else json_number(v) for k, v in r.items()})
            rows.append(row)
        return {
            "scenario": self.scenario.name,
            "sla_target": self.sla_target,
            "reps_needed": self.reps_needed,
            "reps_best": self.reps_best,
            "current_reps": self.current_reps,
            "prospects_per_week": self.prospects_per_week,
            "revenue_basis": self.basis.to_dict(),
            "decided_by": "simulation",
            "erlang_estimate": self.erlang.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "rep_cost_per_year": self.rep_cost_per_year,
            "reason": self.reason or None,
            "notes": list(self.notes),
            "table": rows,
        }


def staffing_table(
    s: Scenario,
    rows: dict[int, Evaluation],
    erlang: ErlangEstimate,
    rep_cost_per_year: float = 0.0,
    marks: dict[int, str] | None = None,
) -> pd.DataFrame:
    """Per rep count (ascending): replications, SLA attainment (mean, 95% CI), the Erlang
    prediction, mean first-touch wait, utilization, offered load, counted revenue, marginal
    revenue per added rep against the row above (paired over their common replications), and
    with a rep cost: rep cost over the cohort window, marketing cost and profit. ``marks`` labels
    rows."""
    years = cohort_weeks(s) * 7.0 / 365.0
    out = []
    prev: tuple[int, Evaluation] | None = None
    for c, ev in sorted(rows.items()):
        mean, lo, hi, _ = mean_ci(ev.values("sla_attainment"))
        row = {
            "reps": c,
            "replications": ev.replications,
            "sla_attainment": mean,
            "sla_ci_low": lo,
            "sla_ci_high": hi,
            "erlang_sla_attainment": erlang.attainment(c),
            "first_touch_hours_mean": ev.mean("first_touch_hours_mean"),
            "rep_utilization": ev.mean("rep_utilization"),
            "offered_load": offered_load(ev.scenario),
            "revenue": ev.mean("revenue"),
            "marginal_revenue_per_rep": math.nan,
        }
        if prev is not None:
            row["marginal_revenue_per_rep"] = _paired_gain(prev, (c, ev))
        if rep_cost_per_year > 0:
            row["rep_cost"] = c * rep_cost_per_year * years
            row["marketing_cost"] = ev.mean("marketing_cost")
            row["profit"] = row["revenue"] - row["rep_cost"] - row["marketing_cost"]
        row["note"] = (marks or {}).get(c, "")
        out.append(row)
        prev = (c, ev)
    return pd.DataFrame(out).set_index("reps")


def _paired_gain(before: tuple[int, Evaluation], after: tuple[int, Evaluation]) -> float:
    """Mean counted-revenue gain per added rep, over the replications both rows ran."""
    (c0, e0), (c1, e1) = before, after
    common = e0.frame.index.intersection(e1.frame.index)
    if common.empty:
        return math.nan
    gain = e1.frame.loc[common, "revenue"].to_numpy() - e0.frame.loc[common, "revenue"].to_numpy()
    return float(np.mean(gain)) / (c1 - c0)


@one_bar
def staffing(
    scenario: Scenario,
    sla_target: float = 0.9,
    *,
    prospects_per_week: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    revenue_basis: str | RevenueBasis | None = None,
    booked_within_days: float | None = None,
    rep_cost_per_year: float | None = None,
    executor: Any = None,
    progress: bool | None = None,
) -> StaffingResult:
    """The fewest reps that keep ``sla_attainment >= sla_target`` at a lead volume (default: the
    scenario's), and the most profitable headcount that keeps it, by simulation.

    Revenue is counted by ``revenue_basis`` (``booked`` by ``booked_within_days`` or the
    horizon, the default; ``all-bookings``; ``recognized``). ``rep_cost_per_year`` (default: the
    scenario's ``costs.rep_cost_per_year``; 0: no economics) prices a rep over the cohort window.
    ``replications`` (default: the scenario's) is the most any rep count gets; a count whose
    decision is clear earlier gets fewer. Raises `UsageError` when ``sla_target`` exceeds
    ``sales.coverage`` (never-worked leads always breach).
    """
    s = scenario
    check_sla_target(sla_target)
    cost = _check_cost(
        s.costs.rep_cost_per_year if rep_cost_per_year is None else rep_cost_per_year
    )
    basis = resolve_basis(s, revenue_basis, booked_within_days)
    if sla_target > s.sales.coverage:
        raise UsageError(
            f"--sla-target {sla_target:g} cannot be met by any number of reps: sales.coverage = "
            f"{s.sales.coverage:g}, and leads never worked count as SLA breaches, so "
            f"sla_attainment is at most about {s.sales.coverage:.0%}"
        )
    volume = s.arrivals.prospects_per_week if prospects_per_week is None else prospects_per_week
    seed = s.run.seed if seed is None else int(seed)
    r = s.run.replications if replications is None else int(replications)
    if r < 1:
        raise UsageError(f"--replications must be >= 1 (given: {r})")
    est = erlang_reps(s, sla_target, volume)
    evaluate = make_evaluator(s, seed, range(r), basis=basis, executor=executor, progress=progress)
    hc = Headcount(evaluate, volume, tuple(range(r)))
    result = search_staffing(hc, s, sla_target, est, cost)
    return StaffingResult(
        scenario=s,
        sla_target=sla_target,
        prospects_per_week=volume,
        reps_needed=result.reps_needed,
        reps_best=result.reps_best,
        current_reps=s.sales.reps,
        erlang=est,
        frame=staffing_table(s, hc.rows, est, cost, result.marks),
        replications=r,
        seed=seed,
        basis=basis,
        rep_cost_per_year=cost,
        reason=result.reason,
        notes=result.notes,
    )


@dataclass(frozen=True)
class StaffingSearch:
    reps_needed: int | None
    reps_best: int | None
    reason: str
    marks: dict[int, str]
    notes: tuple[str, ...]


def search_staffing(
    hc: Headcount,
    s: Scenario,
    sla_target: float,
    est: ErlangEstimate,
    cost_per_year: float,
    economics: bool = True,
) -> StaffingSearch:
    """Both searches on ``hc``: the SLA's fewest from the Erlang estimate (or the current
    headcount when it has none), then, with a rep cost, the most profitable count at or above
    it. The current headcount is always evaluated."""
    current = s.sales.reps
    hc.row(current)
    start = est.reps if est.reps is not None else current
    sla = fewest_for_sla(hc, sla_target, start, est.attainment)
    marks = {current: "current"}
    notes: list[str] = []
    best = None
    if sla.reps_needed is not None:
        marks[sla.reps_needed] = _join(marks.get(sla.reps_needed), "fewest for SLA")
        hc.row(max(1, sla.reps_needed - 1))  # the count that just misses, for the table
        if economics and cost_per_year > 0:
            per_rep = cost_per_year * cohort_weeks(s) * 7.0 / 365.0
            best, settled = most_profitable(hc, sla.reps_needed, per_rep)
            marks[best] = _join(marks.get(best), "most profitable with SLA")
            if not settled:
                notes.append(
                    f"every rep up to {best} still paid for itself; the search stopped there"
                )
        elif economics:
            notes.append(
                "no rep cost (costs.rep_cost_per_year or --rep-cost-per-year): the most "
                "profitable headcount is not defined"
            )
    return StaffingSearch(sla.reps_needed, best, sla.reason, marks, tuple(notes))


def _join(a: str | None, b: str) -> str:
    return b if not a else f"{a}, {b}"


def _check_cost(rep_cost_per_year: float) -> float:
    if not math.isfinite(rep_cost_per_year) or rep_cost_per_year < 0:
        raise UsageError(f"--rep-cost-per-year must be >= 0 (given: {rep_cost_per_year!r})")
    return float(rep_cost_per_year)
