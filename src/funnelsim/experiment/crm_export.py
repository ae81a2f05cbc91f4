"""A replication as a CRM would show it: the generic export of ``funnelsim calibrate``.

``crm_frame`` gives one row per prospect in the generic lead format, ``crm_activities`` one row
per contact attempt; both as a snapshot taken at ``as_of_h`` (default: the horizon): an event
after it has not happened yet, so recent leads are censored exactly as in a real export. A lead
recycled through nurture shows its latest hand-off, as the ledger does; only prospects that
arrived between day 0 and the snapshot are in it (see `in_snapshot`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import FunnelRecord
from ..results import attempts_frame

_FMT = "%Y-%m-%dT%H:%M:%S"


def _stamp(rec: FunnelRecord, hours: np.ndarray) -> np.ndarray:
    t = pd.Series(pd.Timestamp(rec.start_date) + pd.to_timedelta(hours, unit="h"))
    return t.dt.strftime(_FMT).fillna("").to_numpy(object)


def crm_frame(rec: FunnelRecord, as_of_h: float | None = None) -> pd.DataFrame:
    """The replication's leads in the generic export format, as seen at ``as_of_h``."""
    cut = rec.horizon_h if as_of_h is None else float(as_of_h)
    n, ids = rec.n_prospects, rec.mql_id

    def spread(values: np.ndarray, fill=np.nan) -> np.ndarray:
        out = np.full(n, fill, dtype=np.result_type(np.asarray(values).dtype, np.asarray(fill)))
        out[ids] = values  # later hand-offs overwrite earlier ones: the latest is shown
        return out

    def seen(t: np.ndarray) -> np.ndarray:
        return np.where(t <= cut, t, np.nan)

    mql_at = seen(spread(rec.mql_at))
    is_mql = ~np.isnan(mql_at)
    owner_row = np.full(rec.mql_at.size, -1, np.int64)
    if rec.worked_row.size:
        first_rep = rec.attempt_rep[0]
        owner_row[rec.worked_row] = np.where(np.isnan(rec.attempt_start[0]), -1, first_rep)
    first_touch = seen(spread(rec.first_touch_at))
    owner = spread(owner_row, -1)
    owner = np.where(~np.isnan(first_touch) & (owner >= 0), owner, -1)
    closed = seen(spread(rec.closed_at))
    won = spread(rec.won.astype(float)) == 1.0
    reasons = np.array((*rec.reason_names, ""), dtype=object)
    reason_row = np.where(rec.accepted, "", reasons[rec.reason])
    accepted = spread(rec.accepted.astype(float))
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_at": _stamp(rec, rec.arrival),
            "source": np.asarray(rec.channel_names, dtype=object)[rec.channel],
            "mql_at": _stamp(rec, mql_at),
            "accepted": np.where(is_mql, np.where(accepted == 1.0, "true", "false"), ""),
            "rejection_reason": np.where(is_mql, spread(reason_row.astype(object), ""), ""),
            "first_touch_at": _stamp(rec, first_touch),
            "reached_at": _stamp(rec, seen(spread(rec.contact_at))),
            "sql_at": _stamp(rec, seen(spread(rec.sql_at))),
            "opportunity_at": _stamp(rec, seen(spread(rec.opportunity_at))),
            "closed_at": _stamp(rec, closed),
            "won": np.where(np.isnan(closed), "", np.where(won, "true", "false")),
            "amount": np.where(~np.isnan(closed) & won, spread(rec.amount), np.nan),
            "owner": np.where(owner >= 0, np.char.add("rep", owner.astype(str)), ""),
        }
    )
    return frame[in_snapshot(rec, cut)].reset_index(drop=True)


def in_snapshot(rec: FunnelRecord, cut: float | None = None) -> np.ndarray:
    """Mask over prospects a snapshot at ``cut`` (default: the horizon) shows: those that
    arrived in [0, cut]. The engine also simulates arrivals before day 0 (only those handed off
    after it, to keep the queue steady) and after the horizon; a CRM holds neither."""
    cut = rec.horizon_h if cut is None else float(cut)
    return (rec.arrival >= 0.0) & (rec.arrival <= cut)


def crm_activities(rec: FunnelRecord, as_of_h: float | None = None) -> pd.DataFrame:
    """The replication's contact attempts in the generic activities format, up to ``as_of_h``."""
    cut = rec.horizon_h if as_of_h is None else float(as_of_h)
    att = attempts_frame(rec)
    hours = (att["started_at"] - pd.Timestamp(rec.start_date)) / pd.Timedelta(hours=1)
    att = att[hours.to_numpy() <= cut]
    return pd.DataFrame(
        {
            "lead_id": "L" + att["prospect"].astype(str),
            "at": att["started_at"].dt.strftime(_FMT),
            "owner": "rep" + att["rep"].astype(int).astype(str),
            "duration_minutes": (att["hours"] * 60.0).round(3),
            "reached": np.where(att["reached"], "true", "false"),
        }
    )
