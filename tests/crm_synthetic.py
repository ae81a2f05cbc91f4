"""A small generator of synthetic CRM exports with known truth, written for the calibration
tests: plain numpy draws of each stage, independent of funnelsim's engine, cut at a snapshot
so that recent leads are censored.

Truth (``TRUTH``): prospects arrive as a Poisson process; each becomes an MQL with
``mql_rate`` after a lognormal delay; sales accepts with ``acceptance_rate``; an accepted MQL is
worked with ``coverage`` after an exponential wait, reached with ``reach`` after another; a
reached lead qualifies with ``sql_rate * (floor + (1 - floor) exp(-wait / tau))`` (wait from
hand-off to reach, in hours), the SQL showing an exponential time later; SQLs become
opportunities with ``opportunity_rate``; every opportunity closes after a lognormal cycle, won
with ``win_rate``, for a gamma amount.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRUTH = {
    "prospects_per_week": 3500.0,
    "mql_rate": 0.3,
    "mql_median_days": 10.0,
    "mql_sigma": 0.7,
    "acceptance_rate": 0.8,
    "coverage": 0.9,
    "touch_mean_hours": 6.0,
    "reach": 0.6,
    "reach_mean_hours": 12.0,
    "sql_rate": 0.5,
    "decay_tau_hours": 3.0,
    "decay_floor": 0.3,
    "sql_mean_days": 5.0,
    "opportunity_rate": 0.6,
    "opportunity_mean_days": 14.0,
    "win_rate": 0.3,
    "cycle_median_days": 45.0,
    "cycle_sigma": 0.5,
    "deal_mean": 40000.0,
    "deal_cv": 0.6,
}
START = pd.Timestamp("2029-01-01")


def generate(days: float = 120.0, seed: int = 7, truth: dict | None = None) -> pd.DataFrame:
    """One export in the generic format, as seen at ``days`` after the first day."""
    p = {**TRUTH, **(truth or {})}
    rng = np.random.default_rng(seed)
    n = rng.poisson(p["prospects_per_week"] * days / 7.0)
    h = 24.0
    created = np.sort(rng.uniform(0.0, days * h, n))
    nan = np.full(n, np.nan)

    def where(mask, values):
        return np.where(mask, values, np.nan)

    mql = where(
        rng.random(n) < p["mql_rate"],
        created + h * p["mql_median_days"] * np.exp(p["mql_sigma"] * rng.standard_normal(n)),
    )
    is_mql = ~np.isnan(mql)
    accepted = is_mql & (rng.random(n) < p["acceptance_rate"])
    touch = where(
        accepted & (rng.random(n) < p["coverage"]),
        mql + rng.exponential(p["touch_mean_hours"], n),
    )
    reached = where(
        ~np.isnan(touch) & (rng.random(n) < p["reach"]),
        touch + rng.exponential(p["reach_mean_hours"], n),
    )
    wait = reached - mql
    q = p["sql_rate"] * (
        p["decay_floor"] + (1 - p["decay_floor"]) * np.exp(-wait / p["decay_tau_hours"])
    )
    sql = where(
        ~np.isnan(reached) & (rng.random(n) < q),
        reached + h * rng.exponential(p["sql_mean_days"], n),
    )
    opp = where(
        ~np.isnan(sql) & (rng.random(n) < p["opportunity_rate"]),
        sql + h * rng.exponential(p["opportunity_mean_days"], n),
    )
    closed = where(
        ~np.isnan(opp),
        opp + h * p["cycle_median_days"] * np.exp(p["cycle_sigma"] * rng.standard_normal(n)),
    )
    won = rng.random(n) < p["win_rate"]
    k = 1.0 / p["deal_cv"] ** 2
    amount = rng.gamma(k, p["deal_mean"] / k, n)
    cut = days * h

    def seen(t):
        return np.where(t <= cut, t, np.nan)

    mql, touch, reached, sql, opp, closed = map(seen, (mql, touch, reached, sql, opp, closed))
    is_mql = ~np.isnan(mql)
    is_closed = ~np.isnan(closed)
    del nan

    def stamp(t):
        s = pd.Series(START + pd.to_timedelta(t, unit="h"))
        return s.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")

    return pd.DataFrame(
        {
            "lead_id": [f"S{i}" for i in range(n)],
            "created_at": stamp(created),
            "mql_at": stamp(mql),
            "accepted": np.where(is_mql, np.where(accepted, "true", "false"), ""),
            "first_touch_at": stamp(touch),
            "reached_at": stamp(reached),
            "sql_at": stamp(sql),
            "opportunity_at": stamp(opp),
            "closed_at": stamp(closed),
            "won": np.where(is_closed, np.where(won, "true", "false"), ""),
            "amount": np.where(is_closed & won, np.round(amount, 2), np.nan),
            "owner": np.where(~np.isnan(touch), "rep" + (np.arange(n) % 5).astype(str), ""),
        }
    )
