"""Tidy DataFrames from a replication's record: one row per prospect, and one per attempt."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.record import FunnelRecord
from ..model.scoring import percentile


def _timestamps(rec: FunnelRecord, hours: np.ndarray) -> pd.Series | pd.DatetimeIndex:
    return pd.Timestamp(rec.start_date) + pd.to_timedelta(hours, unit="h")


def _spread(n: int, rows: np.ndarray, values: np.ndarray, fill: object) -> np.ndarray:
    out = np.full(n, fill, dtype=np.result_type(values.dtype, np.asarray(fill).dtype))
    out[rows] = values
    return out


def ledger_frame(rec: FunnelRecord) -> pd.DataFrame:
    """One row per prospect, in arrival order; MQL columns are empty (NaN/NaT/False) for the rest.

    Times are timestamps from the scenario's ``run.start_date``; ``first_touch_wait_h`` is the
    wait from hand-off to the first attempt, in hours.
    """
    n, ids = rec.n_prospects, rec.mql_id
    reasons = np.array((*rec.reason_names, ""), dtype=object)
    mql = np.zeros(n, bool)
    mql[ids] = True

    def col(values: np.ndarray, fill: object = np.nan) -> np.ndarray:
        return _spread(n, ids, values, fill)

    def at(values: np.ndarray) -> pd.DatetimeIndex:
        return _timestamps(rec, col(values))

    reason = np.where(rec.accepted, "", reasons[rec.reason])
    df = pd.DataFrame(
        {
            "prospect": np.arange(n),
            "in_cohort": rec.arrival >= rec.warmup_h,
            "arrived_at": _timestamps(rec, rec.arrival),
            "channel": np.asarray(rec.channel_names, dtype=object)[rec.channel],
            "score": percentile(rec.score_z.astype(float)).round(1),
            "mql": mql,
            "mql_at": at(rec.mql_at),
            "handoff_at": at(rec.mql_at),
            "accepted": col(rec.accepted, False),
            "rejection_reason": col(reason.astype(object), ""),
            "worked": col(rec.worked, False),
            "attempts": col(rec.attempts_made, 0),
            "first_touch_at": at(rec.first_touch_at),
            "first_touch_wait_h": col(rec.first_touch_at - rec.mql_at),
            "sla_met": col(rec.sla_met & rec.accepted, False),
            "contacted_at": at(rec.contact_at),
            "sql": col(rec.sql, False),
            "sql_at": at(rec.sql_at),
            "opportunity": col(rec.opportunity, False),
            "opportunity_at": at(rec.opportunity_at),
            "won": col(rec.won, False),
            "closed_at": at(rec.closed_at),
            "deal_size": col(np.where(rec.won, rec.amount, np.nan)),
        }
    )
    return df


def attempts_frame(rec: FunnelRecord) -> pd.DataFrame:
    """One row per contact attempt: prospect, attempt (1-based), start, hours, rep, reached."""
    k, j = np.nonzero(~np.isnan(rec.attempt_start))
    rows = rec.worked_row[j]
    start = rec.attempt_start[k, j]
    contact = rec.contact_at[rows]
    order = np.lexsort((k, start))
    k, j, rows, start, contact = k[order], j[order], rows[order], start[order], contact[order]
    return pd.DataFrame(
        {
            "prospect": rec.mql_id[rows],
            "attempt": k + 1,
            "started_at": _timestamps(rec, start),
            "hours": rec.attempt_hours[k, j],
            "rep": rec.attempt_rep[k, j],
            "reached": start == contact,
        }
    )
