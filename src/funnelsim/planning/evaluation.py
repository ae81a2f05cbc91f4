"""Simulate candidate plans (a lead volume and a rep count) and keep what planning needs.

Every candidate runs replication ids on one seed, so candidates share their random numbers
(common random numbers): replication r at two volumes sees the same luck, and differences
between candidates are measured replication by replication. The evaluator remembers every
(volume, reps, replication) it ran, so a search that returns to a candidate, or needs only a few
more replications of it, simulates only what is new. It is the one place where planning calls
`run`.
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
from .basis import RevenueBasis, counted_revenue

# Per replication: counted revenue (under the plan's basis), every booking, and what capacity and
# economics need. Names are the run's KPI names except ``revenue`` (the counted one).
OUTCOME_COLUMNS = (
    "revenue",
    "revenue_all",
    "customers",
    "mqls",
    "sla_attainment",
    "first_touch_hours_mean",
    "rep_utilization",
    "marketing_cost",
)


def planning_kpis(
    record: FunnelRecord,
    basis: RevenueBasis,
    month_edges_h: tuple[float, ...] | None = None,
) -> dict[str, float]:
    """Extra KPIs for `run` (top-level, so worker processes can unpickle it): ``revenue_counted``
    under ``basis``, and with ``month_edges_h`` the monthly counts flattened as
    ``monthly_<row>_<bin>`` (rows as in `monthly_counts`)."""
    out = {"revenue_counted": counted_revenue(record, basis)}
    if month_edges_h is not None:
        counts = monthly_counts(record, np.asarray(month_edges_h, float), basis)
        for (i, j), v in np.ndenumerate(counts):
            out[f"monthly_{i}_{j}"] = float(v)
    return out


def monthly_counts(rec: FunnelRecord, edges_h: np.ndarray, basis: RevenueBasis) -> np.ndarray:
    """Per period of MQL creation (rows): MQLs, their wins, the wins that count under ``basis``,
    and the revenue that counts."""
    cm = rec.cohort_mqls()
    won = rec.won & cm
    bins = edges_h.size - 1
    # The last edge may be +inf (a "later" bin), which np.histogram refuses.
    idx = np.searchsorted(edges_h, rec.mql_at, side="right") - 1
    inside = (idx >= 0) & (idx < bins)
    out = np.zeros((4, bins))
    out[0] = np.bincount(idx[cm & inside], minlength=bins)
    out[1] = np.bincount(idx[won & inside], minlength=bins)
    out[2] = np.bincount(idx[basis.counts(rec, won) & inside], minlength=bins)
    for k in np.unique(idx[won & inside]):
        out[3, k] = basis.value(rec, won & (idx == k))
    return out


@dataclass(frozen=True)
class Evaluation:
    """Replications of one candidate: ``frame`` has one row per replication id (index
    ``replication``) and the columns in `OUTCOME_COLUMNS`; ``monthly`` (4 x periods, summed over
    the replications) when the evaluator was asked for it."""

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

    def values(self, column: str) -> np.ndarray:
        return self.frame[column].to_numpy(float)

    def mean(self, column: str) -> float:
        x = self.values(column)
        x = x[np.isfinite(x)]
        return float(x.mean()) if x.size else math.nan


Evaluator = Callable[..., Evaluation]


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
    basis: RevenueBasis,
    month_edges_h: Sequence[float] | None = None,
    executor: Any = None,
    progress: bool | None = None,
    parameter_uncertainty: bool = False,
    counted_only: bool = False,
) -> Evaluator:
    """``evaluate(prospects_per_week, reps, ids=None) -> Evaluation`` over replication ``ids``
    (default: ``replications``) on a fixed seed, remembering every replication it ran.

    ``counted_only``: the caller reads the counted revenue alone (a search), so each
    replication is simulated only until the basis's deadline, when there is one: by causality
    the revenue counted by then is exactly the full run's, at a fraction of the cost (a preset
    drains for a year past its horizon). The other columns are then cut short; do not read them.

    ``evaluate.runs`` counts the replications simulated so far (what a search cost)."""
    until_h = basis.deadline_h if counted_only and math.isfinite(basis.deadline_h) else None
    if until_h is not None and month_edges_h is not None:
        raise ValueError("a counted-only evaluator has no monthly schedule")
    cache: dict[tuple[float, int], dict[int, dict[str, float]]] = {}
    scenarios: dict[tuple[float, int], Scenario] = {}
    default_ids = tuple(int(r) for r in replications)
    edges = None if month_edges_h is None else tuple(float(e) for e in month_edges_h)
    extra = partial(planning_kpis, basis=basis, month_edges_h=edges)
    bins = 0 if edges is None else len(edges) - 1

    def evaluate(
        prospects_per_week: float, reps: int, ids: Sequence[int] | None = None
    ) -> Evaluation:
        key = (float(prospects_per_week), int(reps))
        wanted = default_ids if ids is None else tuple(int(r) for r in ids)
        rows = cache.setdefault(key, {})
        if key not in scenarios:
            scenarios[key] = quiet_override(
                base, {"arrivals.prospects_per_week": key[0], "sales.reps": key[1]}
            )
        s = scenarios[key]
        missing = [r for r in wanted if r not in rows]
        if missing:
            kpis = run(
                s,
                missing,
                seed,
                keep_records=False,
                progress=progress,
                executor=executor,
                extra_kpis=extra,
                parameter_uncertainty=parameter_uncertainty,
                until_h=until_h,
            ).kpis
            evaluate.runs += len(missing)
            for r, row in kpis.iterrows():
                rows[int(r)] = row.to_dict()
        picked = [rows[r] for r in wanted]
        frame = pd.DataFrame(
            {
                "revenue": [row["revenue_counted"] for row in picked],
                "revenue_all": [row["revenue"] for row in picked],
                **{c: [row[c] for row in picked] for c in OUTCOME_COLUMNS[2:]},
            },
            index=pd.Index(wanted, name="replication"),
        ).astype(float)
        monthly = None
        if edges is not None:
            monthly = np.array(
                [
                    [sum(row[f"monthly_{i}_{j}"] for row in picked) for j in range(bins)]
                    for i in range(4)
                ]
            )
        return Evaluation(key[0], key[1], s, frame, monthly)

    evaluate.runs = 0  # type: ignore[attr-defined]
    return evaluate
