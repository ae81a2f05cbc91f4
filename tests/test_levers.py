"""Alignment levers and business realism: each lever's effect has the expected sign and size on
common random numbers, costs add up, recurring revenue matches its closed form, and period
reports add up to the run's KPIs.

Tolerances are a few standard errors of the quantity tested, computed in each test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.results import compute_kpis, ledger_frame, period_report
from funnelsim.results.kpis import MONTH_H, recognized


def base(**changes):
    """Ample capacity, 24/7, no decay: every effect below is one lever's alone."""
    data = {
        "name": "lever-base",
        "run": {"horizon_days": 150, "warmup_days": 10, "replications": 8, "seed": 11},
        "arrivals": {"prospects_per_week": 600},
        "marketing": {"mql_rate": 0.5},
        "handoff": {"acceptance_rate": 0.8},
        "sales": {"reps": 30, "handling_minutes": 6, "attempts": 2, "contact_rate": 0.7},
        "qualification": {"sql_rate": 0.3},
        "deals": {
            "opportunity_rate": 0.6,
            "win_rate": 0.3,
            "sales_cycle_days": 20,
            "deal_size": {"dist": "gamma", "mean": 40000, "cv": 0.5},
        },
    }
    return fs.override(fs.from_dict(data), changes)


def paired_diff(a, b, kpi):
    cmp = fs.compare(a, b, replications=8)
    return cmp.table().loc[kpi]


def test_context_raises_sqls_by_its_uplift_on_common_random_numbers():
    """Full context with a 25% SQL uplift gives ~25% more SQLs from the same reached leads."""
    off = base(**{"handoff.context_sql_uplift": 0.25})
    on = fs.override(off, {"handoff.context_shared": 1.0})
    row = paired_diff(off, on, "sqls")
    assert row["ci_low"] > 0
    # Same reached leads; p = 0.3 -> 0.375, so the expected relative gain is exactly 0.25.
    # The paired ratio's spread is binomial: sd of the extra count ~ sqrt(n * 0.075 * 0.925).
    reached = fs.run(off, 8).kpis["mqls_reached"].mean()
    se_rel = math.sqrt(reached * 0.075 * 0.925 / 8) / (reached * 0.3)
    assert abs(row["relative"] - 0.25) < 4 * se_rel + 0.02


def test_missing_context_lengthens_the_cycle_by_the_rediscovery_days():
    """At context 0 each deal takes rediscovery_days longer; at context 1 it takes none."""
    slow = base(**{"handoff.rediscovery_days": 14})
    fast = fs.override(slow, {"handoff.context_shared": 1.0})
    row = paired_diff(slow, fast, "days_opportunity_to_close")
    assert row["diff"] == pytest.approx(-14.0, abs=1e-9)


def test_context_raises_the_win_rate():
    off = base(**{"handoff.context_win_uplift": 0.38})
    on = fs.override(off, {"handoff.context_shared": 1.0})
    assert paired_diff(off, on, "customers")["ci_low"] > 0


def test_costs_add_up_by_channel_and_rep():
    s = base(
        **{
            "costs.rep_cost_per_year": 100_000,
            "costs.cost_per_prospect": 10,
            "arrivals.channels": [
                {"name": "webinar", "share": 2, "cost_per_prospect": 50},
                {"name": "search", "share": 1},
            ],
        }
    )
    rec = fs.simulate(s, 3, 0)
    k = compute_kpis(rec)
    ledger = ledger_frame(rec)
    cohort = ledger[ledger["in_cohort"]]
    by_channel = cohort["channel"].value_counts()
    assert k["marketing_cost"] == pytest.approx(
        50 * by_channel["webinar"] + 10 * by_channel["search"]
    )
    assert k["rep_cost"] == pytest.approx(30 * 100_000 * 140 / 365)
    assert k["total_cost"] == pytest.approx(k["marketing_cost"] + k["rep_cost"])
    assert k["profit"] == pytest.approx(k["revenue"] - k["total_cost"])
    assert k["customer_acquisition_cost"] == pytest.approx(k["total_cost"] / k["customers"])
    assert k["cost_per_mql"] == pytest.approx(k["marketing_cost"] / k["mqls"])


def test_channels_share_out_the_volume_and_keep_their_own_mql_rates():
    s = base(
        **{
            "arrivals.channels": [
                {"name": "demo", "share": 1, "mql_rate": 0.9},
                {"name": "content", "share": 3, "mql_rate": 0.2},
            ]
        }
    )
    ledger = fs.run(s, 1).ledger(0)
    n = len(ledger)
    demo = ledger[ledger["channel"] == "demo"]
    content = ledger[ledger["channel"] == "content"]
    # Binomial tests at 99.9%: a correct model fails one of these about 0.3% of the time.
    assert stats.binomtest(len(demo), n, 0.25).pvalue > 1e-3
    assert stats.binomtest(int(demo["mql"].sum()), len(demo), 0.9).pvalue > 1e-3
    assert stats.binomtest(int(content["mql"].sum()), len(content), 0.2).pvalue > 1e-3


def test_recurring_revenue_matches_the_closed_form_at_constant_churn():
    """With churn c, a customer closed K billing months before the horizon pays
    E[min(L, K)] = (1 - (1-c)^K) / c months, L ~ Geometric(c) on 1, 2, ..."""
    c = 0.05
    s = base(**{"deals.revenue": "recurring", "deals.monthly_churn": c, "run.horizon_days": 400})
    total, expected, var = 0.0, 0.0, 0.0
    for r in range(4):
        rec = fs.simulate(s, 5, r)
        won = rec.won & rec.cohort_mqls()
        h = rec.horizon_h
        total += recognized(rec, won, 0.0, h)
        close, mrr = rec.closed_at[won], rec.amount[won] / 12.0
        months = np.maximum(0.0, np.ceil((h - close) / MONTH_H))
        for m, k in zip(mrr, months, strict=True):
            ks = np.arange(1, int(k) + 1)
            tail = (1 - c) ** (ks - 1)  # P(L >= k)
            e1, e2 = tail.sum(), ((2 * ks - 1) * tail).sum()
            expected += m * e1
            var += m * m * (e2 - e1 * e1)
    # Conditioned on close times and amounts, only churn is random: 4 standard errors.
    assert abs(total - expected) < 4 * math.sqrt(var)
    assert expected > 0


def test_one_time_revenue_is_recognised_at_close_and_arr_is_undefined():
    s = base()
    rec = fs.simulate(s, 5, 0)
    k = compute_kpis(rec)
    won = rec.won & rec.cohort_mqls()
    inside = won & (rec.closed_at < rec.horizon_h)
    assert k["revenue_recognized"] == pytest.approx(rec.amount[inside].sum())
    assert math.isnan(k["arr_at_horizon"])


@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_period_totals_equal_the_run_kpis(period):
    s = base(**{"sales.calendar": "business", "sales.reps": 4})
    rec = fs.simulate(s, 9, 0)
    k = compute_kpis(rec)
    report = period_report(rec, period)
    for col in ("prospects", "mqls", "mqls_accepted", "sqls", "opportunities", "customers"):
        assert report[col].sum() == k[col], col
    assert report["revenue"].sum() == pytest.approx(k["revenue"])
    assert report["sla_met"].sum() == k["mqls_accepted"] - k["sla_breaches"]
    reasons = report.filter(like="rejected_").sum().sum()
    assert reasons == k["mqls_rejected"]


def test_commitment_attainment_is_mqls_over_the_promise():
    s = base(**{"marketing.mql_commitment_per_week": 250})
    report = period_report(fs.simulate(s, 9, 0), "weekly")
    full_weeks = report.iloc[2:-8]
    assert (full_weeks["mql_commitment"] == 250).all()
    assert np.allclose(full_weeks["commitment_attainment"], full_weeks["mqls"] / 250)
    # ~300 MQLs a week against 250 promised: marketing over-delivers on average.
    assert full_weeks["commitment_attainment"].mean() > 1
