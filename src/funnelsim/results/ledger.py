"""Tidy DataFrames from a replication's record: one row per prospect, and one per attempt."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.record import FunnelRecord
from ..model.scoring import percentile
from .timeline import timestamps


def _timestamps(rec: FunnelRecord, hours: np.ndarray) -> pd.DatetimeIndex:
    return timestamps(rec.start_date, hours)


def _spread(n: int, rows: np.ndarray, values: np.ndarray, fill: object) -> np.ndarray:
    out = np.full(n, fill, dtype=np.result_type(values.dtype, np.asarray(fill).dtype))
    out[rows] = values
    return out


def ledger_frame(rec: FunnelRecord) -> pd.DataFrame:
    """One row per prospect, in arrival order; MQL columns are empty (NaN/NaT/False) for the rest.

    For a lead recycled through nurture, the MQL columns describe its latest hand-off and
    ``mql_cycles`` counts its hand-offs (`handoffs_frame` has the whole history). Times are
    timestamps from the scenario's ``run.start_date``; ``first_touch_wait_h`` is the wait from
    hand-off to the first attempt, in hours.
    """
    n, ids = rec.n_prospects, rec.mql_id
    reasons = np.array((*rec.reason_names, ""), dtype=object)
    mql = np.zeros(n, bool)
    mql[ids] = True
    cycles = np.bincount(ids, minlength=n)
    held = np.zeros(n, bool)
    held[rec.held_id] = True

    def col(values: np.ndarray, fill: object = np.nan) -> np.ndarray:
        return _spread(n, ids, values, fill)

    def at(values: np.ndarray) -> pd.DatetimeIndex:
        return _timestamps(rec, col(values))

    reason = np.where(rec.accepted, "", reasons[rec.reason])
    df = pd.DataFrame(
        {
            "prospect": np.arange(n),
            "in_cohort": rec.cohort_prospects(),
            "arrived_at": _timestamps(rec, rec.arrival),
            "channel": np.asarray(rec.channel_names, dtype=object)[rec.channel],
            "score": percentile(rec.score_z.astype(float)).round(1),
            "mql": mql,
            "held_back": held,
            "mql_cycles": cycles,
            "mql_at": at(rec.mql_at),
            "returned_from_nurture_at": at(rec.returned_at),
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


def handoffs_frame(rec: FunnelRecord) -> pd.DataFrame:
    """One row per hand-off (MQL event) in time order: the lead's whole history, recycled cycles
    included. ``outcome`` is rejected, never_worked, unreached, unqualified or sql;
    ``back_from_nurture_at`` is when this cycle's lead returned as an MQL again (NaT: never)."""
    reasons = np.array((*rec.reason_names, ""), dtype=object)
    reached = ~np.isnan(rec.contact_at)
    outcome = np.select(
        [~rec.accepted, ~rec.worked, ~reached, ~rec.sql],
        ["rejected", "never_worked", "unreached", "unqualified"],
        "sql",
    )
    return pd.DataFrame(
        {
            "prospect": rec.mql_id,
            "cycle": rec.cycle,
            "in_cohort": rec.cohort_mqls(),
            "handoff_at": _timestamps(rec, rec.mql_at),
            "score": percentile(rec.row_score_z).round(1),
            "accepted": rec.accepted,
            "rejection_reason": np.where(rec.accepted, "", reasons[rec.reason]),
            "worked": rec.worked,
            "attempts": rec.attempts_made,
            "first_touch_at": _timestamps(rec, rec.first_touch_at),
            "sla_met": rec.sla_met & rec.accepted,
            "contacted_at": _timestamps(rec, rec.contact_at),
            "outcome": outcome,
            "back_from_nurture_at": _timestamps(rec, rec.returned_at),
        }
    )


def feedback_frame(rec: FunnelRecord) -> pd.DataFrame:
    """Marketing's reviews (closed-loop feedback): after each, the acceptance rate and lead
    quality it has learned, the most-rejected reason and the share of such leads it now holds
    back, and the rejections it reviewed. Empty when feedback is off."""
    p = rec.policy
    names = np.asarray(rec.reason_names, dtype=object)
    return pd.DataFrame(
        {
            "review_at": _timestamps(rec, p[:, 0]),
            "acceptance_rate": p[:, 1],
            "quality_shift_sd": p[:, 2],
            "most_rejected": names[p[:, 3].astype(int)] if len(p) else np.empty(0, object),
            "hold_back_share": p[:, 4],
            "rejections_reviewed": p[:, 5].astype(int),
        }
    )


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
