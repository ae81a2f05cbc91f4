"""Paired comparison of two scenarios on common random numbers.

Replication r of both scenarios uses the same named streams, so prospect i meets the same luck in
both. Differences are taken replication by replication and summarized with a paired t interval,
which is far narrower than comparing two independent intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..model import FunnelRecord
from ..scenario import Scenario
from . import uncertainty
from .engine import Job, execute
from .precision import PrecisionReport, plan, replicate_until_precise
from .progress import one_bar
from .replications import (
    RunResult,
    kpi_values,
    precision_kpi_names,
    replication_ids,
    result_from_outcomes,
    uncertain_setup,
    uncertainty_doc,
)
from .stats import UNDEFINED, json_number, mean_ci


@dataclass(frozen=True)
class Comparison:
    """Two runs on common random numbers and their paired differences, per KPI."""

    baseline: RunResult
    alternative: RunResult
    level: float = 0.95
    precision: PrecisionReport | None = None

    @property
    def parameter_uncertainty(self) -> bool:
        return self.baseline.parameter_uncertainty

    def table(self) -> pd.DataFrame:
        """Per KPI: baseline and alternative means, diff (alternative - baseline), its paired CI,
        relative change (diff / baseline), whether the CI excludes zero, and ``n``, the
        replications where the KPI is defined in both scenarios. Both means are over those same
        ``n`` replications (a KPI such as days to customer is undefined in a replication without
        customers), so ``diff`` is always ``alternative - baseline``.

        With parameter uncertainty both scenarios ran replication r on the same parameter draw,
        the CI is for the true funnel's difference (see `funnelsim.experiment.uncertainty`) and
        ``parameter_share`` is the parameters' share of the difference's variance."""
        rows = {}
        ids = self.baseline.kpis.index.to_numpy()
        for name in self.baseline.kpis.columns:
            a = self.baseline.kpis[name].to_numpy(float)
            b = self.alternative.kpis[name].to_numpy(float)
            paired = np.isfinite(a) & np.isfinite(b)
            a, b = a[paired], b[paired]
            diff, lo, hi, n = mean_ci(b - a, self.level)
            extra = {}
            if self.parameter_uncertainty:
                c = uncertainty.components(b - a, ids[paired], self.level)
                lo, hi = c.low, c.high
                extra = {"draws": c.draws, "parameter_share": c.parameter_share}
            base = float(a.mean()) if n else np.nan
            rows[name] = {
                "baseline": base,
                "alternative": float(b.mean()) if n else np.nan,
                "diff": diff,
                "ci_low": lo,
                "ci_high": hi,
                "relative": diff / base if base else np.nan,
                "significant": bool(lo > 0 or hi < 0),
                "n": n,
                **extra,
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "kpi"
        return out

    def _repr_html_(self) -> str:
        from ..formatting import html_table, unit_of

        return html_table(
            self.table(),
            f"{self.alternative.scenario.name} vs {self.baseline.scenario.name}: paired over "
            f"{self.baseline.replications} replications (common random numbers)",
            row_unit=lambda kpi: unit_of(str(kpi)),
        )

    def to_dict(self) -> dict:
        """The contract's ``compare --json`` document."""
        t = self.table()
        kpis = {
            # Item access: attribute access would find Series.diff, the method.
            name: {
                "baseline": json_number(r["baseline"]),
                "alternative": json_number(r["alternative"]),
                "diff": json_number(r["diff"]),
                "ci95": [json_number(r["ci_low"]), json_number(r["ci_high"])],
                "relative": json_number(r["relative"]),
                "significant": bool(r["significant"]),
                "n": int(r["n"]),
            }
            for name, r in t.iterrows()
        }
        for doc in kpis.values():
            reason = _null_reason(doc)
            if reason is not None:
                doc["null_reason"] = reason
        doc = {
            "baseline": self.baseline.scenario.name,
            "alternative": self.alternative.scenario.name,
            "seed": self.baseline.seed,
            "replications": self.baseline.replications,
            "kpis": kpis,
        }
        if self.precision is not None:
            doc.update(self.precision.to_dict())
        if self.parameter_uncertainty:
            doc["parameter_uncertainty"] = {
                **uncertainty_doc(t, self.baseline.held),
                "held_keys": {
                    "baseline": list(self.baseline.held),
                    "alternative": list(self.alternative.held),
                },
            }
        return doc


def _null_reason(doc: dict) -> str | None:
    """Why a compare --json KPI entry holds a null, or None when it holds none."""
    values = (doc["baseline"], doc["alternative"], doc["diff"], *doc["ci95"], doc["relative"])
    if all(v is not None for v in values):
        return None
    if doc["n"] == 0:
        return f"undefined in every replication of one scenario or both ({UNDEFINED})"
    if None in doc["ci95"] and doc["n"] < 2:
        return f"the paired interval needs 2 or more replications defined in both (n = {doc['n']})"
    if doc["relative"] is None:
        return "relative is undefined: the baseline is 0"
    return "a value is infinite (it overflowed)"


@one_bar
def compare(
    baseline: Scenario,
    alternative: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    progress: bool | None = None,
    keep_records: bool = False,
    executor: Any = None,
    chunk_size: int | None = None,
    extra_kpis: Callable[[FunnelRecord], Mapping[str, float]] | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    precision_kpis: Iterable[str] | None = None,
    parameter_uncertainty: bool = False,
) -> Comparison:
    """Run both scenarios on the same seeds and replications; see `Comparison`.

    ``replications`` and ``seed`` default to the baseline's ``[run]`` values. ``executor``,
    ``chunk_size`` and ``extra_kpis`` work as in `run`; both scenarios' replications go to the
    executor together.

    ``precision`` (e.g. 0.05) adds paired replications in batches until, for every KPI in
    ``precision_kpis`` (default revenue), the 95% CI of the difference is within ±precision of
    the difference itself (its relative precision: the gap is known to ±5% of the gap), or
    ``max_replications`` (default 100) is reached. The first batch is ``replications``
    (default 10); ``comparison.precision`` reports the count reached and whether the target was
    met. A difference near zero cannot be known to a share of itself: such a comparison runs to
    ``max_replications`` and reports the target not met (its CI still includes zero).

    ``parameter_uncertainty``: replication r of both scenarios runs on the same draw of the
    fitted parameters (each scenario's ``[uncertainty]`` section; a key one of them changed
    away from the fitted estimate is held at its value, so the draw never undoes the
    alternative's own change), on common random numbers as always.
    """
    pu = bool(parameter_uncertainty)
    held = (uncertain_setup(baseline), uncertain_setup(alternative)) if pu else ((), ())
    seed = baseline.run.seed if seed is None else int(seed)
    precision_kpis = None if precision_kpis is None else tuple(precision_kpis)
    settings = plan(
        precision,
        max_replications,
        replications,
        precision_kpis,
        precision_kpi_names(precision_kpis, extra_kpis),
        yardstick="difference",
    )
    options = dict(
        executor=executor,
        chunk_size=chunk_size,
        keep_records=keep_records,
        extra_kpis=extra_kpis,
        progress=progress,
        desc=f"{baseline.name} vs {alternative.name}",
    )
    done: list = []

    def run_batch(ids: list[int]) -> None:
        reps = tuple(ids)
        jobs = [Job(0, baseline, reps, pu), Job(1, alternative, reps, pu)]
        done.extend(execute(jobs, seed, **options))

    def both() -> tuple[RunResult, RunResult]:
        return (
            replace(
                result_from_outcomes(baseline, seed, [o for o in done if o.key == 0]),
                parameter_uncertainty=pu,
                held=held[0],
            ),
            replace(
                result_from_outcomes(alternative, seed, [o for o in done if o.key == 1]),
                parameter_uncertainty=pu,
                held=held[1],
            ),
        )

    if settings is None:
        run_batch(replication_ids(baseline, replications))
        return Comparison(*both())

    def measure() -> dict[str, tuple[np.ndarray, float]]:
        a, b = both()
        out = {}
        for k in settings.kpis:
            diff = kpi_values(b.kpis, k) - kpi_values(a.kpis, k)
            paired = diff[np.isfinite(diff)]  # where the KPI is defined in both, as in table()
            out[k] = (diff, float(paired.mean()) if paired.size else float("nan"))
        return out

    report = replicate_until_precise(run_batch, measure, settings)
    return Comparison(*both(), precision=report)
