"""Simulate one candidate plan (a lead volume and a rep count) and keep what planning needs.

Every candidate runs the same replication ids on the same seed, so candidates share their random
numbers (common random numbers): at a higher ``arrivals.prospects_per_week`` the same seed yields
the same prospects, arriving earlier, plus new ones, each with the same draws. That makes the
share of replications that hit a target (almost) monotone in volume, which the quota search needs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..errors import ScenarioWarning
from ..experiment import run
from ..model import FunnelRecord
from ..scenario import Scenario, override

OUTCOME_COLUMNS = (
    "revenue",
    "revenue_all",
    "customers",
    "mqls",
    "sla_attainment",
    "first_touch_hours_mean",
    "rep_utilization",
)


def cohort_revenue(record: FunnelRecord, booked_within_days: float | None = None) -> float:
    """Revenue won by the counted cohort; with ``booked_within_days`` D, only deals closed by
    day D (``closed_at <= 24 D`` hours) count."""
    won = record.won & record.cohort_mqls()
    if booked_within_days is not None:
        won &= record.closed_at <= 24.0 * booked_within_days
    return float(record.amount[won].sum())


def planning_kpis(
    record: FunnelRecord,
    booked_within_days: float | None = None,
    month_edges_h: tuple[float, ...] | None = None,
) -> dict[str, float]:
    """Extra KPIs for `run` (top-level, so worker processes can unpickle it): ``revenue_booked``,
    the cohort revenue closed by day D (all of it without D), and with ``month_edges_h`` the
    monthly counts flattened as ``monthly_<row>_<bin>`` (rows as in `_monthly_counts`)."""
    out = {"revenue_booked": cohort_revenue(record, booked_within_days)}
    if month_edges_h is not None:
        counts = _monthly_counts(record, np.asarray(month_edges_h, float), booked_within_days)
        for (i, j), v in np.ndenumerate(counts):
            out[f"monthly_{i}_{j}"] = float(v)
    return out


def _monthly_counts(
    rec: FunnelRecord, edges_h: np.ndarray, booked_within_days: float | None
) -> np.ndarray:
    """Rows: mqls, customers, customers closed in time, revenue closed in time; per period."""
    cm = rec.cohort_mqls()
    deadline = math.inf if booked_within_days is None else 24.0 * booked_within_days
    won = rec.won & cm
    in_time = won & (rec.closed_at <= deadline)
    bins = edges_h.size - 1

    def hist(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        # The last edge may be +inf (an "after" bin), which np.histogram refuses.
        idx = np.searchsorted(edges_h, rec.mql_at[mask], side="right") - 1
        ok = (idx >= 0) & (idx < bins)
        w = None if weights is None else weights[mask][ok]
        return np.bincount(idx[ok], weights=w, minlength=bins).astype(float)

    return np.vstack([hist(cm), hist(won), hist(in_time), hist(in_time, rec.amount)])


@dataclass(frozen=True)
class Evaluation:
    """R replications of one candidate: ``frame`` has one row per replication and the columns in
    `OUTCOME_COLUMNS`; ``monthly`` (periods x 4, summed over replications) when asked for."""

    prospects_per_week: float
    reps: int
    scenario: Scenario
    frame: pd.DataFrame
    monthly: np.ndarray | None = None

    @property
    def replications(self) -> int:
        return len(self.frame)

    def hits(self, target: float) -> int:
        """Replications whose counted revenue reached ``target``."""
        return int((self.frame["revenue"].to_numpy() >= target).sum())

    def p_hit(self, target: float) -> float:
        return self.hits(target) / self.replications

    def mean(self, column: str) -> float:
        x = self.frame[column].to_numpy(float)
        x = x[np.isfinite(x)]
        return float(x.mean()) if x.size else math.nan


def wilson_interval(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (sensible at 0 and n hits too)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(special.ndtri(0.5 + level / 2))
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def quiet_override(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """`override` without sense-check warnings: a search visits overloaded candidates on purpose
    and reports capacity itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return override(scenario, changes)


def make_evaluator(
    base: Scenario,
    seed: int,
    replications: Sequence[int],
    *,
    booked_within_days: float | None = None,
    month_edges_h: Sequence[float] | None = None,
    executor: Any = None,
    progress: bool | None = None,
    parameter_uncertainty: bool = False,
) -> Callable[[float, int], Evaluation]:
    """A memoized ``evaluate(prospects_per_week, reps) -> Evaluation`` on fixed seed and ids;
    with ``parameter_uncertainty`` each replication runs on its draw of the fitted parameters."""
    cache: dict[tuple[float, int], Evaluation] = {}
    reps_ids = [int(r) for r in replications]
    edges = None if month_edges_h is None else tuple(float(e) for e in month_edges_h)
    extra = partial(planning_kpis, booked_within_days=booked_within_days, month_edges_h=edges)

    def evaluate(prospects_per_week: float, reps: int) -> Evaluation:
        key = (float(prospects_per_week), int(reps))
        if key in cache:
            return cache[key]
        s = quiet_override(base, {"arrivals.prospects_per_week": key[0], "sales.reps": key[1]})
        kpis = run(
            s,
            reps_ids,
            seed,
            keep_records=False,
            progress=progress,
            executor=executor,
            extra_kpis=extra,
            parameter_uncertainty=parameter_uncertainty,
        ).kpis
        frame = pd.DataFrame(
            {
                "revenue": kpis["revenue_booked"],
                "revenue_all": kpis["revenue"],
                **{c: kpis[c] for c in OUTCOME_COLUMNS[2:]},
            }
        ).astype(float)
        monthly = None
        if edges is not None:
            bins = len(edges) - 1
            monthly = np.array(
                [[kpis[f"monthly_{i}_{j}"].sum() for j in range(bins)] for i in range(4)]
            )
        cache[key] = Evaluation(key[0], key[1], s, frame, monthly)
        return cache[key]

    return evaluate
