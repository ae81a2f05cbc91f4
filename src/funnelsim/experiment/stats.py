"""Output analysis: t confidence intervals for means and for paired differences."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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
    """A float for JSON: NaN and infinities become None (null); JSON has no such numbers."""
    x = float(x)
    return x if math.isfinite(x) else None


UNDEFINED = (
    "a ratio or average over nothing, e.g. days to close without customers, or a KPI that does "
    "not apply, e.g. ARR of one-time deals"
)


def null_reason(values: np.ndarray, labels: Sequence[Any] | None = None) -> str | None:
    """Why some of a KPI's per-replication ``values`` (labelled by ``labels``, replication ids)
    are null in JSON, or None when all are finite: undefined (NaN) or infinite somewhere."""
    x = np.asarray(values, dtype=float)
    labels = list(range(x.size)) if labels is None else list(labels)
    parts = []
    nan = np.flatnonzero(np.isnan(x))
    if nan.size:
        parts.append(f"undefined in {_which(nan, labels)} ({UNDEFINED})")
    inf = np.flatnonzero(np.isinf(x))
    if inf.size:
        parts.append(f"infinite in {_which(inf, labels)} (the value overflowed)")
    finite = int(np.isfinite(x).sum())
    if not parts and finite < 2:
        return f"a confidence interval needs 2 or more replications (given: {finite})"
    if parts and 0 < finite < 2:
        parts.append(f"the confidence interval needs 2 or more defined values (given: {finite})")
    return "; ".join(parts) or None


def _which(idx: np.ndarray, labels: list[Any]) -> str:
    if idx.size == len(labels):
        return "every replication"
    shown = ", ".join(str(labels[i]) for i in idx[:10]) + (", ..." if idx.size > 10 else "")
    return f"replication{'s' if idx.size > 1 else ''} {shown}"


def finite_or_none(doc: Any) -> Any:
    """``doc`` with every NaN or infinite float replaced by None, so it is valid JSON."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: finite_or_none(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [finite_or_none(v) for v in doc]
    return doc


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


def group_ci(long, by: list[str], level: float = 0.95):
    """Per group of a long frame (columns ``by`` and ``value``): ``mean``, ``ci_low``,
    ``ci_high`` (t interval over the group's finite values) and ``n``; NaN bounds below n = 2."""
    finite = long[np.isfinite(long["value"].to_numpy(float))]
    g = finite.groupby(by, sort=False)["value"]
    out = g.agg(["mean", "std", "count"])
    df = (out["count"] - 1).where(out["count"] > 1)
    half = t_quantile(level, df.to_numpy(float)) * out["std"] / np.sqrt(out["count"])
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out.rename(columns={"count": "n"})[["mean", "ci_low", "ci_high", "n"]]
