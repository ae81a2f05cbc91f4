"""The time-phased plan: MQLs to create month by month, and how much of each month's MQLs can
still close in time.

Method: simulation, not mean delays. At the plan's volume, on the fresh replications that check
the plan, each replication's cohort MQLs are binned by the calendar month in which they were
created; a month's wins count towards the target as the plan's revenue basis says (booked: the
deal closes by day D; recognised: what is billed by the horizon; all bookings: every win). Every
stage delay, the queue wait and response-time decay are therefore in it, with their whole
distributions: the share that counts falls to zero for MQLs created less than a sales cycle
before the deadline. The schedule is a view of the plan; it never changes what counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario import Scenario

COLUMNS = ("mqls", "customers", "customers_in_time", "revenue_in_time")


def month_edges(s: Scenario, deadline_days: float) -> tuple[np.ndarray, list[str]]:
    """Bin edges in hours and labels: calendar months from the one holding ``warmup_days`` to the
    one holding the later of the deadline and the horizon, then one bin ("later") to infinity."""
    start = pd.Timestamp(s.run.start_date)
    first = start + pd.Timedelta(days=s.run.warmup_days)
    last = start + pd.Timedelta(days=max(deadline_days, s.run.horizon_days)) - pd.Timedelta(1)
    months = pd.date_range(first.to_period("M").to_timestamp(), last, freq="MS")
    hours = [(m - start) / pd.Timedelta(hours=1) for m in months]
    edges = [24.0 * s.run.warmup_days] + [h for h in hours if h > 24.0 * s.run.warmup_days]
    labels = [str((start + pd.Timedelta(hours=h)).to_period("M")) for h in edges] + ["later"]
    end = (last.to_period("M") + 1).to_timestamp()
    edges += [(end - start) / pd.Timedelta(hours=1), np.inf]
    return np.asarray(edges, float), labels


def monthly_frame(totals: np.ndarray, replications: int, labels: list[str]) -> pd.DataFrame:
    """Per month of MQL creation, means per replication: ``mqls`` (to create), ``customers`` (their
    wins, whenever they close), ``customers_in_time`` and ``revenue_in_time`` (the wins and the
    revenue that count under the plan's basis), ``share_in_time`` (counted wins / wins) and the
    running total of counted revenue."""
    mean = np.asarray(totals, float) / replications
    out = pd.DataFrame(mean.T, columns=list(COLUMNS), index=pd.Index(labels, name="month"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_in_time"] = out["customers_in_time"] / out["customers"]
    out["cumulative_revenue_in_time"] = out["revenue_in_time"].cumsum()
    return out
