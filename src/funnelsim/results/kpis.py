"""KPIs of one replication, computed in bulk from its record, for the counted cohort.

The cohort is the prospects that arrived in [warmup, horizon), each followed to its final outcome
(the run drains), so rates are never cut short by the horizon.
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
    Kpi("sla_attainment", "rate", "share of accepted MQLs first touched within sla_hours"),
    Kpi(
        "sla_breaches",
        "count",
        "accepted MQLs not touched within sla_hours (never touched included)",
    ),
    Kpi("rep_utilization", "rate", "share of reps' available MQL time spent on attempts"),
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
    Kpi("yoy_growth", "rate", "recognised revenue, last 12 months vs the 12 before (run rate)"),
    Kpi("marketing_cost", "currency", "cost of the cohort's prospects, by channel"),
    Kpi("rep_cost", "currency", "reps' cost over the counted window [warmup, horizon)"),
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
    rep_cost = rec.reps * rec.rep_cost_per_year * (rec.horizon_h - rec.warmup_h) / (365.0 * 24.0)
    total_cost = marketing_cost + rep_cost
    h = rec.horizon_h
    last, before = (
        recognized(rec, won, h - _YEAR_H, h),
        recognized(rec, won, h - 2 * _YEAR_H, h - _YEAR_H),
    )
    prior_len = min(_YEAR_H, max(h - _YEAR_H, 0.0))
    yoy = _ratio(last, before * _YEAR_H / prior_len) - 1.0 if h > _YEAR_H and before > 0 else np.nan
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
        "mqls_held_back": int((rec.arrival[rec.held_id] >= rec.warmup_h).sum()),
        "revenue_recognized": recognized(rec, won, 0.0, h),
        "arr_at_horizon": arr_at(rec, won, h) if rec.recurring else np.nan,
        "yoy_growth": yoy,
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
_YEAR_H = 365.0 * 24.0


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
