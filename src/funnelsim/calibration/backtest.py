"""The holdout backtest: fit on the leads created before a date, simulate the period after it,
and set what the export observed against what the simulation predicts.

The simulated period starts 30 days before the holdout date (so the sales queue is not empty
at its start) and ends at the export's snapshot. Each replication is turned into an export
exactly as ``run --out`` writes one (`crm_frame`, cut at the snapshot) and measured by the same
code as the observed holdout, so both sides are censored alike and every statistic means the
same on both. The 95% prediction interval of a statistic is ``mean +/- t(R-1) sd sqrt(1 +
1/R)`` over R replications (run with parameter uncertainty when the fit has any, so the interval
includes "we do not know our funnel exactly").
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..deprecation import CallableTable
from ..errors import UsageError
from ..experiment import run
from ..experiment.crm_export import crm_frame, in_snapshot
from ..experiment.progress import one_bar
from ..experiment.stats import json_number, t_quantile
from ..scenario import override
from .calibrate import Calibration, fit_export, load_export, parse_date
from .columns import GENERIC
from .export import Export, build_export, hours

WARMUP_DAYS = 30.0
TRANSITIONS = (
    ("created -> MQL", "created_at", "mql_at"),
    ("MQL -> SQL", "mql_at", "sql_at"),
    ("SQL -> opportunity", "sql_at", "opportunity_at"),
    ("opportunity -> close", "opportunity_at", "closed_at"),
)
BUCKETS_H = (1.0, 4.0, 24.0)


@dataclass(frozen=True)
class Backtest:
    """Observed against simulated over the holdout: ``frame`` (`table` returns it) has one row
    per statistic (``group``, ``observed``, ``simulated`` mean, ``pi_low``, ``pi_high``,
    ``inside``);
    ``durations`` holds per transition the observed and simulated (duration, observed?) arrays
    for Kaplan-Meier curves."""

    calibration: Calibration
    holdout_from: pd.Timestamp
    replications: int
    parameter_uncertainty: bool
    frame: pd.DataFrame
    durations: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(repr=False)

    @property
    def table(self) -> CallableTable:
        """``bt.table()``: one row per statistic (index ``statistic``): ``group``, ``observed``,
        the ``simulated`` mean, its 95% prediction interval ``pi_low`` .. ``pi_high`` and
        whether the observed value is ``inside`` it. (``bt.table`` without the call, an
        attribute until now, still works for one release and warns.)"""
        return CallableTable(self.frame, "Backtest.table")

    @property
    def coverage(self) -> float:
        """Share of statistics whose observed value lies inside its prediction interval."""
        ok = self.frame["inside"].dropna()
        return float(ok.mean()) if len(ok) else math.nan

    def _repr_html_(self) -> str:
        from ..formatting import html_table

        return html_table(
            self.frame,
            f"backtest from {self.holdout_from.date()}: observed against {self.replications} "
            f"simulated replications; {self.coverage:.0%} of statistics inside their 95% "
            "prediction interval",
            row_unit=_statistic_unit,
            column_units={"inside": "flag"},
        )

    def to_dict(self) -> dict:
        rows = []
        for stat, r in self.frame.iterrows():
            rows.append(
                {
                    "statistic": stat,
                    "group": r["group"],
                    "observed": json_number(r["observed"]),
                    "simulated": json_number(r["simulated"]),
                    "pi95": [json_number(r["pi_low"]), json_number(r["pi_high"])],
                    "inside": None if pd.isna(r["inside"]) else bool(r["inside"]),
                }
            )
        return {
            "holdout_from": self.holdout_from.isoformat(),
            "replications": self.replications,
            "parameter_uncertainty": self.parameter_uncertainty,
            "inside_share": json_number(self.coverage),
            "statistics": rows,
        }

    def funnel_figure(self):
        """The observed and simulated funnels of the holdout, with 95% prediction intervals."""
        from .charts import funnel_figure

        return funnel_figure(self)

    def km_figure(self):
        """Kaplan-Meier curves of observed against simulated time to each stage."""
        from .charts import km_figure

        return km_figure(self)


def statistics(e: Export) -> dict[str, tuple[str, float]]:
    """Stage counts, conversion rates, time-to-stage quantiles and first-touch buckets of an
    export, as seen at its snapshot: name -> (group, value)."""
    t = e.times
    out: dict[str, tuple[str, float]] = {}

    def count(col: str) -> float:
        return float(np.sum(~np.isnan(t[col]))) if col in t else math.nan

    won = float(np.sum(e.won == 1.0))
    counts = {
        "prospects": float(e.n),
        "mqls": count("mql_at"),
        "mqls_accepted": float(np.sum(e.accepted == 1.0)),
        "sqls": count("sql_at"),
        "opportunities": count("opportunity_at"),
        "customers": won,
    }
    if e.has("first_touch_at"):
        counts["mqls_worked"] = count("first_touch_at")
    for k, v in counts.items():
        out[k] = ("stage counts", v)
    out["revenue"] = ("stage counts", float(np.nansum(np.where(e.won == 1.0, e.amount, 0.0))))

    def rate(a: str, b: str) -> float:
        return counts[b] / counts[a] if counts.get(a) else math.nan

    for name, a, b in (
        ("mql_rate", "prospects", "mqls"),
        ("acceptance_rate", "mqls", "mqls_accepted"),
        ("mql_to_sql_rate", "mqls", "sqls"),
        ("sql_to_opportunity_rate", "sqls", "opportunities"),
        ("opportunity_to_win_rate", "opportunities", "customers"),
    ):
        out[name] = ("conversion rates", rate(a, b))
    for label, a, b in TRANSITIONS:
        if a in t and b in t:
            d = (t[b] - t[a]) / 24.0
            d = d[~np.isnan(d)]
            for q in (50, 90):
                value = float(np.percentile(d, q)) if d.size else math.nan
                out[f"days {label} p{q}"] = ("time to stage (days)", value)
    if e.has("first_touch_at") and e.has_time["first_touch_at"].mean() > 0.8:
        acc = e.accepted == 1.0
        wait = (t["first_touch_at"] - t["mql_at"])[acc]
        for h in BUCKETS_H:
            share = float(np.mean(wait <= h)) if wait.size else math.nan
            out[f"first touch within {h:g} h"] = ("first touch", share)
    return out


def durations(e: Export) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per transition: (days to the next stage or to the snapshot, whether it happened)."""
    t = e.times
    out = {}
    for label, a, b in TRANSITIONS:
        if a not in t or b not in t:
            continue
        risk = ~np.isnan(t[a])
        event = risk & ~np.isnan(t[b])
        d = np.where(event, t[b], e.observed_until) - t[a]
        out[label] = (np.maximum(d[risk] / 24.0, 1e-6), event[risk])
    return out


@one_bar
def backtest(
    export: str | Path | Export,
    holdout_from: str,
    *,
    replications: int = 40,
    seed: int = 1,
    parameter_uncertainty: bool = True,
    progress: bool | None = None,
    **read: Any,
) -> Backtest:
    """Fit on leads created before ``holdout_from``, simulate the period from it to the
    snapshot ``replications`` times, and compare (see `Backtest`). ``read`` takes the options
    of `calibrate` (``activities``, ``format``, ``columns``, ``as_of``)."""
    e = export if isinstance(export, Export) else load_export(export, **read)
    cut = parse_date(holdout_from, "--holdout-from")
    cut_h = float(hours(cut, e.origin))
    created = e.times["created_at"]
    train, hold = created < cut_h, created >= cut_h
    if train.sum() < 30 or hold.sum() < 30:
        raise UsageError(
            f"--holdout-from {cut.date()}: {int(train.sum())} leads before it and "
            f"{int(hold.sum())} from it on; each side needs at least 30 (the export runs "
            f"{(e.origin + pd.Timedelta(hours=float(created.min()))).date()} to {e.as_of.date()})"
        )
    train_e = dataclasses.replace(e.subset(train), created_until_h=cut_h)
    cal = fit_export(train_e, name=f"backtest-{Path(e.path).stem}")
    observed = e.subset(hold)
    days = (e.as_of_h - cut_h) / 24.0
    start = (cut - pd.Timedelta(days=WARMUP_DAYS)).normalize()
    offset_h = float(hours(cut, start)) - 24.0 * WARMUP_DAYS
    scenario = override(
        cal.scenario,
        {
            "run.start_date": start.date(),
            "run.warmup_days": WARMUP_DAYS + offset_h / 24.0,
            "run.horizon_days": WARMUP_DAYS + offset_h / 24.0 + days,
        },
    )
    pu = parameter_uncertainty and cal.scenario.uncertainty is not None
    result = run(
        scenario,
        replications,
        seed,
        keep_records=True,
        progress=progress,
        parameter_uncertainty=pu,
    )
    obs_stats = statistics(observed)
    sims: dict[str, list[float]] = {k: [] for k in obs_stats}
    sim_durations: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for rec in result.records:
        sim = _as_export(rec, observed)
        stats = statistics(sim)
        for k in sims:
            sims[k].append(stats.get(k, ("", math.nan))[1])
        for label, pair in durations(sim).items():
            sim_durations.setdefault(label, []).append(pair)
    table = _table(obs_stats, sims)
    obs_d = durations(observed)
    merged = {
        label: {
            "observed": obs_d[label],
            "simulated": (
                np.concatenate([p[0] for p in pairs]),
                np.concatenate([p[1] for p in pairs]),
            ),
        }
        for label, pairs in sim_durations.items()
        if label in obs_d
    }
    return Backtest(cal, cut, result.replications, pu, table, merged)


def _as_export(rec, observed: Export) -> Export:
    frame = crm_frame(rec)
    cohort = rec.arrival[in_snapshot(rec)] >= rec.warmup_h
    frame = frame[cohort].astype(str).replace("nan", "")
    keep = [c for c in frame.columns if c in observed.columns or c == "lead_id"]
    return build_export(frame[keep].reset_index(drop=True), "simulated", GENERIC)


def _table(obs: dict[str, tuple[str, float]], sims: dict[str, list[float]]) -> pd.DataFrame:
    rows = {}
    for k, (group, value) in obs.items():
        x = np.asarray(sims[k], float)
        x = x[np.isfinite(x)]
        if x.size >= 2:
            mean, sd = float(x.mean()), float(x.std(ddof=1))
            half = float(t_quantile(0.95, x.size - 1)) * sd * math.sqrt(1.0 + 1.0 / x.size)
            lo, hi = mean - half, mean + half
            if "rate" in k or group == "first touch":
                lo, hi = max(lo, 0.0), min(hi, 1.0)
            else:
                lo = max(lo, 0.0)
        else:
            mean = lo = hi = math.nan
        inside = None if not (math.isfinite(value) and math.isfinite(lo)) else lo <= value <= hi
        rows[k] = {
            "group": group,
            "observed": value,
            "simulated": mean,
            "pi_low": lo,
            "pi_high": hi,
            "inside": inside,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "statistic"
    return out


def _statistic_unit(statistic: Any) -> str:
    """How a backtest statistic reads: money, a share, days or a count."""
    name = str(statistic)
    if name == "revenue":
        return "currency"
    if name.endswith("_rate") or name.startswith("first touch within"):
        return "rate"
    if name.startswith("days "):
        return "days"
    return "count"
