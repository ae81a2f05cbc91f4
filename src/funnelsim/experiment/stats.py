"""Output analysis: t confidence intervals for means and for paired differences."""

from __future__ import annotations

import numpy as np
from scipy import special


def t_quantile(level: float, df):
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom (scalar or
    array): the multiplier of the standard error in a t confidence interval."""
    return special.stdtrit(df, 0.5 + level / 2)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the t interval over the finite values; NaN bounds when n < 2."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return (mean, np.nan, np.nan, n)
    half = float(t_quantile(level, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half, n)


def json_number(x: float) -> float | None:
    """A float for JSON: NaN becomes None (null)."""
    x = float(x)
    return None if x != x else x


def summarize(frame, level: float = 0.95):
    """Per column of a replications x KPIs frame: mean, CI bounds, half-width, sd and n."""
    import pandas as pd

    rows = {}
    for col in frame.columns:
        x = frame[col].to_numpy(dtype=float)
        mean, lo, hi, n = mean_ci(x, level)
        finite = x[np.isfinite(x)]
        rows[col] = {
            "mean": mean,
            "ci_low": lo,
            "ci_high": hi,
            "half_width": (hi - lo) / 2,
            "std": float(finite.std(ddof=1)) if finite.size > 1 else np.nan,
            "n": n,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "kpi"
    return out
