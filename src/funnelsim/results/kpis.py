"""KPIs of one replication, computed in bulk from its record, for the counted cohort.

The cohort is the prospects that arrived in [warmup, horizon), each followed to its final outcome
(the run drains), so rates are never cut short by the horizon; arrivals go on after the horizon,
uncounted, while the cohort still has work, so its last hand-offs meet a steady queue.

Speed to lead is measured two ways. The shared yardsticks (``first_touch_within_*_share``,
``never_touched_share``) hold every scenario to the same wall-clock buckets, the ones the
published audits use (HBR 2011: 37% within an hour, 16% in 1-24 h, 24% later, 23% never).
``sla_attainment`` is each team's own promise: first touch within *its* ``sla_hours`` on *its*
``sla_clock``, so two scenarios with different SLAs are not comparable on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.record import FunnelRecord


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str  # count, rate, hours, days, currency, share, number
    meaning: str


KPIS: tuple[Kpi, ...] = (
    Kpi("prospects", "count", "prospects that arrived in the counted window"),
    Kpi("mqls", "count", "MQL hand-offs to sales (a lead back from nurture counts again)"),
    Kpi("mqls_accepted", "count", "MQLs sales accepted at hand-off"),
    Kpi("mqls_worked", "count", "accepted MQLs a rep ever worked"),
    Kpi("never_worked", "count", "accepted MQLs nobody ever touched (the black hole)"),
    Kpi("sqls", "count", "MQLs qualified into sales-qualified leads"),
    Kpi("opportunities", "count", "SQLs that became opportunities"),
    Kpi("customers", "count", "opportunities won"),
    Kpi("revenue", "currency", "value of the deals won by the cohort (bookings)"),
    Kpi("mql_to_sql_rate", "rate", "sqls / mqls"),
    Kpi("lead_to_customer_rate", "rate", "customers / prospects"),
    Kpi(
        "first_touch_hours_mean", "hours", "mean wait from hand-off to first attempt (touched MQLs)"
    ),
    Kpi("first_touch_hours_p50", "hours", "median wait from hand-off to first attempt"),
    Kpi("first_touch_hours_p90", "hours", "90th percentile wait from hand-off to first attempt"),
    Kpi(
        "first_touch_within_5m_share",
        "rate",
        "share of accepted MQLs first touched within 5 minutes of hand-off (wall clock)",
    ),
    Kpi(
        "first_touch_within_1h_share",
        "rate",
        "share of accepted MQLs first touched within 1 hour of hand-off (wall clock)",
    ),
    Kpi(
        "first_touch_within_24h_share",
        "rate",
        "share of accepted MQLs first touched within 24 hours of hand-off (wall clock)",
    ),
    Kpi("never_touched_share", "rate", "share of accepted MQLs no rep ever touched"),
    Kpi(
        "sla_attainment",
        "rate",
        "share of accepted MQLs first touched within the team's own sla_hours, on its sla_clock",
    ),
    Kpi(
        "sla_breaches",
        "count",
        "accepted MQLs not touched within sla_hours (never touched included)",
    ),
    Kpi(
        "rep_utilization",
        "rate",
        "attempt hours / available MQL hours in [warmup, horizon); an attempt that runs past "
        "its focus block counts, and so does the time it ran over",
    ),
    # Beyond the contract: what a revenue leader asks next.
    Kpi("mqls_rejected", "count", "MQLs sales rejected at hand-off"),
    Kpi("acceptance_rate", "rate", "mqls_accepted / mqls"),
    Kpi("mqls_reached", "count", "worked MQLs that some attempt reached"),
    Kpi("mqls_unreached", "count", "worked MQLs given up after the last attempt"),
    Kpi("attempts_per_worked_mql", "number", "contact attempts per worked MQL"),
    Kpi("sql_to_opportunity_rate", "rate", "opportunities / sqls"),
    Kpi("win_rate", "rate", "customers / opportunities"),
    Kpi("average_deal_size", "currency", "revenue / customers"),
    Kpi("pipeline_created", "currency", "value of all opportunities created"),
    Kpi("days_handoff_to_sql", "days", "mean days from hand-off to SQL"),
    Kpi("days_sql_to_opportunity", "days", "mean days from SQL to opportunity"),
    Kpi("days_opportunity_to_close", "days", "mean days from opportunity to a won close"),
    Kpi("days_lead_to_customer", "days", "mean days from arrival to a won close"),
    Kpi("unique_mqls", "count", "prospects that became an MQL at least once"),
    Kpi("recycled_mqls", "count", "hand-offs of leads back from nurture"),
    Kpi(
        "mqls_held_back",
        "count",
        "would-be MQLs marketing held back after learning from rejections",
    ),
    Kpi("revenue_recognized", "currency", "revenue from the cohort recognised before the horizon"),
    Kpi("arr_at_horizon", "currency", "recurring: annual run-rate of cohort customers at horizon"),
    Kpi(
        "bookings_growth",
        "rate",
        "bookings per new MQL from hand-offs late in [warmup, horizon) against early: midpoint "
        "growth rate of the two halves (0 for a steady funnel; > 0 as learning or recycling "
        "build up)",
    ),
    Kpi("marketing_cost", "currency", "cost of the cohort's prospects, by channel"),
    Kpi(
        "rep_cost",
        "currency",
        "reps' cost charged to the cohort: each week's team cost times the cohort's share of "
        "that week's attempt time, for as long as the cohort uses the reps",
    ),
    Kpi("total_cost", "currency", "marketing_cost + rep_cost"),
    Kpi("cost_per_mql", "currency", "marketing_cost / mqls"),
    Kpi("cost_per_sql", "currency", "total_cost / sqls"),
    Kpi("customer_acquisition_cost", "currency", "total_cost / customers"),
    Kpi("return_on_marketing_spend", "number", "(revenue - marketing_cost) / marketing_cost"),
    Kpi("profit", "currency", "revenue - total_cost"),
)
KPI_NAMES: tuple[str, ...] = tuple(k.name for k in KPIS)
UNITS: dict[str, str] = {k.name: k.unit for k in KPIS}


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def compute_kpis(rec: FunnelRecord) -> dict[str, float]:
    """Every KPI in `KPIS` for one replication's cohort, as plain floats (NaN where undefined)."""
    cm = rec.cohort_mqls()
    prospects = int(rec.cohort_prospects().sum())
    mqls = int(cm.sum())
    acc = rec.accepted & cm
    worked = rec.worked & cm
    reached = worked & ~np.isnan(rec.contact_at)
    sql = rec.sql & cm
    opp = rec.opportunity & cm
    won = rec.won & cm
    n_acc, n_worked, n_sql, n_opp, n_won = (int(x.sum()) for x in (acc, worked, sql, opp, won))
    revenue = float(rec.amount[won].sum())
    waits = rec.first_touch_at[worked] - rec.mql_at[worked]
    met = int((rec.sla_met & acc).sum())
    p50, p90 = np.percentile(waits, [50, 90]) if waits.size else (np.nan, np.nan)
    arrival = rec.arrival[rec.mql_id]
    cp = rec.cohort_prospects()
    marketing_cost = float(rec.channel_cost[rec.channel[cp]].sum())
    rep_cost = rec.cohort_rep_years * rec.rep_cost_per_year
    total_cost = marketing_cost + rep_cost
    h = rec.horizon_h
    touched_within = speed_to_lead(rec, acc)
    return {
        "prospects": prospects,
        "mqls": mqls,
        "mqls_accepted": n_acc,
        "mqls_worked": n_worked,
        "never_worked": n_acc - n_worked,
        "sqls": n_sql,
        "opportunities": n_opp,
        "customers": n_won,
        "revenue": revenue,
        "mql_to_sql_rate": _ratio(n_sql, mqls),
        "lead_to_customer_rate": _ratio(n_won, prospects),
        "first_touch_hours_mean": _mean(waits),
        "first_touch_hours_p50": float(p50),
        "first_touch_hours_p90": float(p90),
        "first_touch_within_5m_share": _ratio(touched_within[0], n_acc),
        "first_touch_within_1h_share": _ratio(touched_within[1], n_acc),
        "first_touch_within_24h_share": _ratio(touched_within[2], n_acc),
        "never_touched_share": _ratio(n_acc - n_worked, n_acc),
        "sla_attainment": _ratio(met, n_acc),
        "sla_breaches": n_acc - met,
        "rep_utilization": _ratio(rec.rep_busy_h, rec.rep_available_h),
        "mqls_rejected": mqls - n_acc,
        "acceptance_rate": _ratio(n_acc, mqls),
        "mqls_reached": int(reached.sum()),
        "mqls_unreached": n_worked - int(reached.sum()),
        "attempts_per_worked_mql": _ratio(int(rec.attempts_made[worked].sum()), n_worked),
        "sql_to_opportunity_rate": _ratio(n_opp, n_sql),
        "win_rate": _ratio(n_won, n_opp),
        "average_deal_size": _ratio(revenue, n_won),
        "pipeline_created": float(rec.amount[opp].sum()),
        "days_handoff_to_sql": _mean(rec.sql_at[sql] - rec.mql_at[sql]) / 24.0,
        "days_sql_to_opportunity": _mean(rec.opportunity_at[opp] - rec.sql_at[opp]) / 24.0,
        "days_opportunity_to_close": _mean(rec.closed_at[won] - rec.opportunity_at[won]) / 24.0,
        "days_lead_to_customer": _mean(rec.closed_at[won] - arrival[won]) / 24.0,
        "unique_mqls": int(np.unique(rec.mql_id[cm]).size),
        "recycled_mqls": int((cm & (rec.cycle > 0)).sum()),
        "mqls_held_back": int(rec.in_cohort(rec.held_id).sum()),
        "revenue_recognized": recognized(rec, won, 0.0, h),
        "arr_at_horizon": arr_at(rec, won, h) if rec.recurring else np.nan,
        "bookings_growth": bookings_growth(rec),
        "marketing_cost": marketing_cost,
        "rep_cost": rep_cost,
        "total_cost": total_cost,
        "cost_per_mql": _ratio(marketing_cost, mqls),
        "cost_per_sql": _ratio(total_cost, n_sql),
        "customer_acquisition_cost": _ratio(total_cost, n_won),
        "return_on_marketing_spend": _ratio(revenue - marketing_cost, marketing_cost),
        "profit": revenue - total_cost,
    }


MONTH_H = 365.0 * 24.0 / 12.0
# The shared speed-to-lead buckets, in wall-clock hours after hand-off.
SPEED_BUCKETS_H = (5.0 / 60.0, 1.0, 24.0)


def speed_to_lead(rec: FunnelRecord, rows: np.ndarray) -> tuple[int, ...]:
    """How many of the given MQL rows were first touched within each of `SPEED_BUCKETS_H` of
    their hand-off, on the wall clock (a row never touched is in none)."""
    wait = rec.first_touch_at[rows] - rec.mql_at[rows]
    return tuple(int((wait <= b).sum()) for b in SPEED_BUCKETS_H)


def bookings_growth(rec: FunnelRecord) -> float:
    """How much more the funnel books per new MQL late in [warmup, horizon) than early: the
    midpoint growth rate 2 (late - early) / (late + early) of bookings per new MQL from the
    hand-offs of the window's second and first halves.

    Deals are dated by the hand-off they came from, not by when they closed, and every hand-off
    is followed to its outcome, so a pipeline filling up from an empty start does not read as
    growth; per new MQL (first hand-offs), so the volume and seasonality of arrivals cancel.
    What is left is what the funnel's own mechanisms add over time: feedback learning raises
    bookings per MQL, recycling adds hand-offs of leads back from nurture. The midpoint form is
    antisymmetric in the two halves, so for a steady funnel chance alone cannot bias it (a plain
    ratio late / early - 1 would be biased upward by the noise of its denominator); it is close
    to the plain growth rate when growth is small. Hand-offs of every prospect count (not only
    the cohort's). NaN when a half has no new MQL or neither half books anything."""
    lo, hi = rec.warmup_h, rec.horizon_h
    mid = (lo + hi) / 2.0
    at = rec.mql_at
    per_mql = []
    for a, b in ((lo, mid), (mid, hi)):
        rows = (at >= a) & (at < b)
        new = int((rows & (rec.cycle == 0)).sum())
        if not new:
            return float("nan")
        per_mql.append(float(rec.amount[rows & rec.won].sum()) / new)
    early, late = per_mql
    if early + late <= 0:
        return float("nan")
    return 2.0 * (late - early) / (late + early)


def recognized(rec: FunnelRecord, won: np.ndarray, start_h: float, end_h: float) -> float:
    """Revenue of the ``won`` MQL rows recognised in [start_h, end_h).

    One-time deals are recognised at close. Recurring deals bill ``deal_size / 12`` at close and
    every month after, for ``billed_months`` months.
    """
    close = rec.closed_at[won]
    amount = rec.amount[won]
    if not rec.recurring:
        inside = (close >= start_h) & (close < end_h)
        return float(amount[inside].sum())
    first = np.maximum(0.0, np.ceil((start_h - close) / MONTH_H))
    stop = np.minimum(rec.billed_months[won], np.maximum(0.0, np.ceil((end_h - close) / MONTH_H)))
    return float((amount / 12.0 * np.maximum(stop - first, 0.0)).sum())


def arr_at(rec: FunnelRecord, won: np.ndarray, t_h: float) -> float:
    """Annual recurring revenue at ``t_h``: contract value of customers closed and not churned."""
    close = rec.closed_at[won]
    active = (close <= t_h) & (t_h < close + rec.billed_months[won] * MONTH_H)
    return float(rec.amount[won][active].sum())
