"""Paired comparison of two scenarios on common random numbers.

Replication r of both scenarios uses the same named streams, so prospect i meets the same luck in
both. Differences are taken replication by replication and summarized with a paired t interval,
which is far narrower than comparing two independent intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..scenario import Scenario
from .replications import RunResult, run
from .stats import json_number, mean_ci


@dataclass(frozen=True)
class Comparison:
    """Two runs on common random numbers and their paired differences, per KPI."""

    baseline: RunResult
    alternative: RunResult
    level: float = 0.95

    def table(self) -> pd.DataFrame:
        """Per KPI: baseline and alternative means, diff (alternative - baseline), its paired CI,
        relative change (diff / baseline), and whether the CI excludes zero."""
        rows = {}
        for name in self.baseline.kpis.columns:
            a = self.baseline.kpis[name].to_numpy(float)
            b = self.alternative.kpis[name].to_numpy(float)
            diff, lo, hi, _ = mean_ci(b - a, self.level)
            base = float(np.nanmean(a)) if np.isfinite(a).any() else np.nan
            rows[name] = {
                "baseline": base,
                "alternative": float(np.nanmean(b)) if np.isfinite(b).any() else np.nan,
                "diff": diff,
                "ci_low": lo,
                "ci_high": hi,
                "relative": diff / base if base else np.nan,
                "significant": bool(lo > 0 or hi < 0),
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "kpi"
        return out

    def to_dict(self) -> dict:
        """The contract's ``compare --json`` document."""
        t = self.table()
        kpis = {
            name: {
                "baseline": json_number(r.baseline),
                "alternative": json_number(r.alternative),
                "diff": json_number(r.diff),
                "ci95": [json_number(r.ci_low), json_number(r.ci_high)],
                "relative": json_number(r.relative),
                "significant": bool(r.significant),
            }
            for name, r in t.iterrows()
        }
        return {
            "baseline": self.baseline.scenario.name,
            "alternative": self.alternative.scenario.name,
            "seed": self.baseline.seed,
            "replications": self.baseline.replications,
            "kpis": kpis,
        }


def compare(
    baseline: Scenario,
    alternative: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    progress: bool | None = None,
    keep_records: bool = False,
) -> Comparison:
    """Run both scenarios on the same seeds and replications; see `Comparison`.

    ``replications`` and ``seed`` default to the baseline's ``[run]`` values.
    """
    seed = baseline.run.seed if seed is None else seed
    replications = baseline.run.replications if replications is None else replications
    a = run(baseline, replications, seed, progress=progress, keep_records=keep_records)
    b = run(alternative, replications, seed, progress=progress, keep_records=keep_records)
    return Comparison(a, b)
