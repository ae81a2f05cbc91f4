"""The quota plan a search returns, as a table and as the contract's ``quota --json`` document."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..experiment.stats import json_number
from ..scenario import Scenario
from .basis import RevenueBasis
from .confidence import Design, Validation
from .erlang import ErlangEstimate
from .reverse_funnel import ReverseFunnel


@dataclass(frozen=True)
class QuotaPlan:
    """The plan: ``prospects_per_week``, ``mqls_per_week`` and ``reps``.

    How sure: the volume is the ``design.rank``-th smallest threshold volume of
    ``design.replications`` replications, so its hit probability is at least ``confidence`` with
    ``design.achieved_assurance``; ``p_hit_target`` and its CI are measured on ``validation``'s
    fresh replications, which took no part in the choice, as are the expected revenue, SLA
    attainment and the monthly schedule. ``basis`` says what counted toward the target.

    Beside it: the deterministic reverse funnel, the reps the SLA needs (``reps_needed``; the plan
    adopts them when sized with ``size_reps``) with the Erlang estimate and the staffing rows at
    the plan's volume, the search trace, the plan split by lead channel (None without channels),
    its expected cost over the counted window (None without cost knobs), and ``monthly`` when
    asked for."""

    scenario: Scenario
    target_revenue: float
    confidence: float
    basis: RevenueBasis
    design: Design
    prospects_per_week: float
    misses_below: float
    tolerance: float
    mqls_per_week: float
    reps: int
    reps_needed: int | None
    sla_target: float
    size_reps: bool
    hits: int  # of the design's replications at the plan (in sample: they chose it)
    validation: Validation
    seed: int
    expected_revenue: float
    revenue_ci95: tuple[float, float]
    sla_attainment: float
    first_touch_hours_mean: float
    offered_load: float
    reverse_funnel: ReverseFunnel
    erlang: ErlangEstimate
    staffing: pd.DataFrame
    search: pd.DataFrame
    simulations: int
    channels: pd.DataFrame | None = None
    costs: dict[str, float] | None = None
    monthly: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()

    @property
    def replications(self) -> int:
        """Replications per candidate volume (the design's)."""
        return self.design.replications

    @property
    def assurance(self) -> float:
        return self.design.assurance

    @property
    def booked_within_days(self) -> float | None:
        return self.basis.by_day if self.basis.kind == "booked" else None

    @property
    def p_hit_target(self) -> float:
        """Out of sample: the share of fresh replications that hit at the plan."""
        return self.validation.p_hit

    @property
    def p_hit_ci95(self) -> tuple[float, float]:
        return self.validation.ci95

    def table(self) -> pd.DataFrame:
        """The plan beside the deterministic reverse funnel, one row per quantity."""
        rf = self.reverse_funnel
        lo, hi = self.p_hit_ci95
        rows = [
            ("prospects_per_week", rf.prospects_per_week, self.prospects_per_week),
            ("mqls_per_week", rf.mqls_per_week, self.mqls_per_week),
            ("reps", math.nan, self.reps),
            ("reps_needed_for_sla", math.nan, _num(self.reps_needed)),
            ("p_hit_target", math.nan, self.p_hit_target),
            ("p_hit_ci95_low", math.nan, lo),
            ("p_hit_ci95_high", math.nan, hi),
            ("expected_revenue", self.target_revenue, self.expected_revenue),
            ("sla_attainment", math.nan, self.sla_attainment),
            ("offered_load", math.nan, self.offered_load),
        ]
        for name, value in (self.costs or {}).items():
            rows.append((name, math.nan, value))
        out = pd.DataFrame(rows, columns=["quantity", "reverse_funnel", "simulated_plan"])
        return out.set_index("quantity")

    def _repr_html_(self) -> str:
        from ..formatting import html_table

        return html_table(
            self.table(),
            f"{self.scenario.name}: {self.prospects_per_week:,.0f} prospects a week reach "
            f"{self.target_revenue:,.0f} ({self.basis.describe()}) with probability at least "
            f"{self.confidence:.0%}",
            row_unit=_quantity_unit,
        )

    def to_dict(self) -> dict:
        """The contract's ``quota --json`` document, plus the detail behind it."""
        lo, hi = self.p_hit_ci95
        doc = {
            "scenario": self.scenario.name,
            "target_revenue": self.target_revenue,
            "confidence": self.confidence,
            "prospects_per_week": self.prospects_per_week,
            "mqls_per_week": self.mqls_per_week,
            "p_hit_target": self.p_hit_target,
            "reps_needed": self.reps_needed,
            "p_hit_ci95": [lo, hi],
            "p_hit_replications": self.validation.replications,
            "revenue_basis": self.basis.to_dict(),
            "booked_within_days": self.booked_within_days,
            "assurance": self.assurance,
            "design": {**self.design.to_dict(), "hits": self.hits},
            "reps": self.reps,
            "size_reps": self.size_reps,
            "misses_below": self.misses_below,
            "tolerance": self.tolerance,
            "replications": self.replications,
            "seed": self.seed,
            "candidates_evaluated": int(self.search["prospects_per_week"].nunique()),
            "simulations": self.simulations,
            "expected_revenue": json_number(self.expected_revenue),
            "revenue_ci95": [json_number(x) for x in self.revenue_ci95],
            "sla_target": self.sla_target,
            "sla_attainment": json_number(self.sla_attainment),
            "first_touch_hours_mean": json_number(self.first_touch_hours_mean),
            "offered_load": self.offered_load,
            "erlang_reps_estimate": self.erlang.reps,
            "erlang_estimate": self.erlang.to_dict(),
            "reverse_funnel": self.reverse_funnel.to_dict(),
            "staffing": records(self.staffing, "reps"),
            "search": records(self.search, None),
            "validation": self.validation.to_dict(),
            "warnings": list(self.warnings),
        }
        if self.channels is not None:
            doc["channels"] = records(self.channels, "channel")
        if self.costs is not None:
            doc["costs"] = dict(self.costs)
        if self.monthly is not None:
            doc["monthly"] = records(self.monthly, "month")
        return doc


def _num(x: int | None) -> float:
    return math.nan if x is None else float(x)


def records(frame: pd.DataFrame, index_name: str | None) -> list[dict]:
    """A frame as JSON records: the index under ``index_name`` (an int for "reps"), NaN as null."""
    out = []
    for idx, row in frame.iterrows():
        rec: dict[str, Any] = {index_name: idx} if index_name else {}
        if index_name == "reps":
            rec["reps"] = int(idx)
        for k, v in row.items():
            rec[str(k)] = v if isinstance(v, str) else json_number(v)
        out.append(rec)
    return out


def _quantity_unit(quantity: Any) -> str:
    """How a row of the plan's table reads."""
    name = str(quantity)
    if name.startswith("p_hit") or name == "sla_attainment":
        return "rate"
    if name.startswith("reps"):
        return "count"
    if name in ("prospects_per_week", "mqls_per_week", "offered_load"):
        return "number"
    return "currency"  # expected revenue and the plan's costs
