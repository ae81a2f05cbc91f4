"""Daily, weekly and monthly reports: what happened in each period to the counted cohort.

Each event is counted in the period in which it happened (arrival, MQL, hand-off, SQL,
opportunity, won close), including periods after the horizon while the run drains, so a column's
total over all periods equals the run's KPI of the same name.

The report runs from the cohort's first event to its last (the last won close, often months
after the horizon), but a stage's columns end with the stage: after the period in which nothing
more can reach a stage (its own last event, or its upstream stage's end if later) they are NaN,
not padded with zeros. So after the horizon ``prospects`` is NaN, after the cohort's last
hand-off the hand-off columns are, and the drain shows only the stages still under way; a 0 is
a period in which the stage was going on and nothing happened. Marketing's MQL commitment
applies to the periods wholly inside the cohort's window ``[warmup, horizon)`` (one cut by
warm-up or the horizon holds hand-offs from outside it); elsewhere it and its attainment are
NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.record import FunnelRecord
from .timeline import timestamps

FREQUENCIES = {"daily": "D", "weekly": "W-SUN", "monthly": "M"}


# A report longer than this is a delay distribution's tail, not a plan (55 years of days).
MAX_REPORT_PERIODS = 20_000
PERIOD_DAYS = {"daily": 1.0, "weekly": 7.0, "monthly": 365.25 / 12}


def _periods(rec: FunnelRecord, hours: np.ndarray, freq: str) -> pd.PeriodIndex:
    return timestamps(rec.start_date, hours).to_period(freq)


def _check_span(rec: FunnelRecord, period: str, events: dict[str, np.ndarray]) -> None:
    """Refuse (`UsageError`) a report that would hold more than `MAX_REPORT_PERIODS` rows."""
    latest = {k: float(np.nanmax(v)) for k, v in events.items() if np.isfinite(v).any()}
    if not latest:
        return
    what, hours = max(latest.items(), key=lambda kv: kv[1])
    periods = hours / 24.0 / PERIOD_DAYS[period]
    if periods > MAX_REPORT_PERIODS:
        from ..errors import UsageError

        raise UsageError(
            f"--report {period}: in replication {rec.replication} the last {what} comes "
            f"{hours / 24.0 / 365.25:,.0f} years after run.start_date (a long tail of a delay "
            f"distribution), so the report would have {periods:,.0f} periods; at most "
            f"{MAX_REPORT_PERIODS:,} are built: choose a longer period, or shorten that tail"
        )


def _count(rec: FunnelRecord, hours: np.ndarray, freq: str, weights: np.ndarray | None = None):
    if hours.size == 0:
        return pd.Series(dtype=float, index=pd.PeriodIndex([], freq=freq))
    keys = _periods(rec, hours, freq)
    values = np.ones(hours.size) if weights is None else weights
    return pd.Series(values, index=keys).groupby(level=0).sum()


# The funnel's stages in order, with the report columns each one's events fill.
STAGES = ("arrival", "hand-off", "SQL", "opportunity", "won close")
HANDOFF_COLUMNS = (
    "mqls",
    "recycled_mqls",
    "mqls_held_back",
    "mqls_accepted",
    "mqls_rejected",
    "sla_met",
    "all_attempts_given",
)
STAGE_COLUMNS = {
    "arrival": ("prospects",),
    "hand-off": HANDOFF_COLUMNS,
    "SQL": ("sqls",),
    "opportunity": ("opportunities",),
    "won close": ("customers", "revenue"),
}


def _window_weeks(rec: FunnelRecord, index: pd.PeriodIndex) -> np.ndarray:
    """Each period's length in weeks where it lies wholly inside the cohort window
    [warmup, horizon), the time marketing's commitment covers; NaN for any other period.

    A period cut by warm-up or the horizon is left out rather than prorated: its MQLs include
    hand-offs from outside the window (after the horizon the cohort's last leads are still
    handed off), so a prorated promise would read as 500% delivered."""
    if not len(index):
        return np.empty(0)
    day0 = pd.Timestamp(rec.start_date)
    start = (index.start_time - day0).total_seconds().to_numpy() / 3600.0
    end = ((index + 1).start_time - day0).total_seconds().to_numpy() / 3600.0
    whole = (start >= rec.warmup_h) & (end <= rec.horizon_h)
    return np.where(whole, (end - start) / 168.0, np.nan)


def _end_stages(
    rec: FunnelRecord, frame: pd.DataFrame, events: dict[str, np.ndarray], freq: str
) -> None:
    """Blank (NaN) each stage's columns after the period in which the stage ended: its last
    event, or its upstream stage's end when that is later (nothing more can reach it)."""
    end = -np.inf
    for stage in STAGES:
        hours = events[stage]
        hours = hours[np.isfinite(hours)]
        if hours.size:
            end = max(end, float(hours.max()))
        if not np.isfinite(end):
            continue
        last = _periods(rec, np.array([end]), freq)[0]
        cols = [c for c in frame.columns if c in STAGE_COLUMNS[stage]]
        if stage == "hand-off":
            cols += [c for c in frame.columns if c.startswith("rejected_")]
        frame.loc[frame.index > last, cols] = np.nan


def period_report(rec: FunnelRecord, period: str = "weekly") -> pd.DataFrame:
    """One row per period (index ``period_start``) for one replication.

    Columns: prospects, mqls, and the two-way SLA: marketing's side ``mql_commitment`` and
    ``commitment_attainment`` (MQLs delivered / promised; NaN without a commitment and in periods
    not wholly inside ``[warmup, horizon)``, never inf), sales' side
    ``sla_attainment`` (first touch within sla_hours) and ``attempts_attainment`` (reached or given
    every attempt), both over the MQLs handed off in that period; then mqls_accepted,
    mqls_rejected, sqls, opportunities, customers, revenue, and ``rejected_<reason>`` counts (the
    rejection-reason mix). ``period`` is "daily", "weekly" or "monthly". Counts are NaN after
    their stage ended (see the module docstring), 0 while it went on without an event.
    """
    if period not in FREQUENCIES:
        from ..errors import UsageError

        raise UsageError(f"period must be one of {', '.join(FREQUENCIES)} (given: {period!r})")
    freq = FREQUENCIES[period]
    cp = rec.cohort_prospects()
    cm = rec.cohort_mqls()
    acc = rec.accepted & cm
    rej = ~rec.accepted & cm
    sql, opp, won = rec.sql & cm, rec.opportunity & cm, rec.won & cm
    full_try = acc & (~np.isnan(rec.contact_at) | (rec.attempts_made >= rec.attempts_allowed))
    held = rec.in_cohort(rec.held_id)
    events = {
        "arrival": rec.arrival[cp],
        "hand-off": np.concatenate([rec.mql_at[cm], rec.held_at[held]]),
        "SQL": rec.sql_at[sql],
        "opportunity": rec.opportunity_at[opp],
        "won close": rec.closed_at[won],
    }
    _check_span(rec, period, {**events, "held-back lead": rec.held_at})
    cols = {
        "prospects": _count(rec, rec.arrival[cp], freq),
        "mqls": _count(rec, rec.mql_at[cm], freq),
        "mqls_accepted": _count(rec, rec.mql_at[acc], freq),
        "mqls_rejected": _count(rec, rec.mql_at[rej], freq),
        "sla_met": _count(rec, rec.mql_at[acc & rec.sla_met], freq),
        "all_attempts_given": _count(rec, rec.mql_at[full_try], freq),
        "sqls": _count(rec, rec.sql_at[sql], freq),
        "opportunities": _count(rec, rec.opportunity_at[opp], freq),
        "customers": _count(rec, rec.closed_at[won], freq),
        "revenue": _count(rec, rec.closed_at[won], freq, rec.amount[won]),
    }
    cols["recycled_mqls"] = _count(rec, rec.mql_at[cm & (rec.cycle > 0)], freq)
    cols["mqls_held_back"] = _count(rec, rec.held_at[held], freq)
    for code, name in enumerate(rec.reason_names):
        cols[f"rejected_{name}"] = _count(rec, rec.mql_at[rej & (rec.reason == code)], freq)
    frame = pd.DataFrame(cols).fillna(0.0).sort_index()
    if len(frame):
        full = pd.period_range(frame.index.min(), frame.index.max(), freq=freq)
        frame = frame.reindex(full, fill_value=0.0)
    _end_stages(rec, frame, events, freq)
    accepted = frame["mqls_accepted"].where(frame["mqls_accepted"] > 0)
    frame["sla_attainment"] = frame["sla_met"] / accepted
    frame["attempts_attainment"] = frame["all_attempts_given"] / accepted
    frame["acceptance_rate"] = frame["mqls_accepted"] / frame["mqls"].where(frame["mqls"] > 0)
    frame["mql_commitment"] = rec.mql_commitment_per_week * _window_weeks(rec, frame.index)
    frame["commitment_attainment"] = _attainment(frame["mqls"], frame["mql_commitment"])
    order = ["prospects", "mqls", "recycled_mqls", "mqls_held_back", "mql_commitment"]
    order += ["commitment_attainment", "mqls_accepted", "acceptance_rate"]
    order += ["mqls_rejected", "sla_met", "sla_attainment", "all_attempts_given"]
    order += ["attempts_attainment"]
    order += ["sqls", "opportunities", "customers", "revenue"]
    frame = frame[order + [c for c in frame.columns if c.startswith("rejected_")]]
    frame.index = frame.index.to_timestamp()
    frame.index.name = "period_start"
    return frame


def period_reports(records, period: str = "weekly") -> pd.DataFrame:
    """`period_report` of several replications stacked, with a ``replication`` column (tidy)."""
    frames = [period_report(r, period).assign(replication=r.replication) for r in records]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames).reset_index()
    return out[
        [
            "replication",
            "period_start",
            *[c for c in out.columns if c not in ("replication", "period_start")],
        ]
    ]


def mean_period_report(records, period: str = "weekly") -> pd.DataFrame:
    """Per period, the mean over replications of every column (SLA attainment pooled).

    A replication whose stage had ended (NaN) or whose report had ended counts 0 in the mean; a
    column stays NaN only where it is NaN in every replication."""
    return mean_of_period_reports(period_reports(records, period))


def mean_of_period_reports(tidy: pd.DataFrame) -> pd.DataFrame:
    """`mean_period_report` from the stacked reports (`period_reports`) themselves."""
    if tidy.empty:
        return tidy
    n = tidy["replication"].nunique()
    sums = tidy.drop(columns="replication").groupby("period_start").sum(min_count=1)
    out = sums / n
    accepted = sums["mqls_accepted"].where(sums["mqls_accepted"] > 0)
    out["sla_attainment"] = sums["sla_met"] / accepted
    out["attempts_attainment"] = sums["all_attempts_given"] / accepted
    out["acceptance_rate"] = sums["mqls_accepted"] / sums["mqls"].where(sums["mqls"] > 0)
    out["commitment_attainment"] = _attainment(out["mqls"], out["mql_commitment"])
    return out


def _attainment(mqls: pd.Series, commitment: pd.Series) -> pd.Series:
    """MQLs delivered / promised; NaN where nothing was promised (never inf)."""
    return mqls.fillna(0.0) / commitment.where(commitment > 0)


def sla_breaches_by_rep_day(rec: FunnelRecord) -> pd.DataFrame:
    """Follow-up SLA breaches of the cohort's accepted MQLs, by the day of hand-off and the rep
    who made the late first touch. Columns: day, rep, breaches; ``rep`` is the rep's number
    (0 to reps - 1), or -1 for the breaches no rep ever touched (the KPI ``never_worked``: the
    black hole, which has no rep to charge)."""
    cm = rec.cohort_mqls()
    late = rec.accepted & cm & ~rec.sla_met
    rep = np.full(rec.mql_id.size, -1, np.int64)
    rep[rec.worked_row] = rec.attempt_rep[0]
    days = timestamps(rec.start_date, rec.mql_at[late])
    frame = pd.DataFrame({"day": days.normalize(), "rep": rep[late]})
    return frame.groupby(["day", "rep"]).size().rename("breaches").reset_index()
