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
from funnelsim.results import (
    compute_kpis,
    feedback_frame,
    handoffs_frame,
    ledger_frame,
    period_report,
)
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
    # The cohort's work fills the window [warmup, horizon) and ends soon after it (ample reps, no
    # delays): its share of the reps' time, week by week, adds up to about the window's length.
    assert k["rep_cost"] == pytest.approx(30 * 100_000 * 140 / 365, rel=0.03)
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
    ledger = fs.run(s, 1, keep_records=True).ledger(0)
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


def recycling(**changes):
    return base(
        **{
            "nurture.recycle": True,
            "nurture.remql_per_month": 0.3,
            "run.horizon_days": 200,
            **changes,
        }
    )


def test_recycled_leads_keep_their_identity_and_conserve_flow():
    """Every return from nurture is exactly one later hand-off of the same prospect, one cycle
    on; only the recycled outcomes return; nothing follows an SQL."""
    s = recycling(**{"nurture.outcomes": ["rejected", "unqualified"], "nurture.max_cycles": 3})
    rec = fs.simulate(s, 4, 0)
    h = handoffs_frame(rec)
    assert (h["cycle"] > 0).sum() > 50
    returned = h[h["back_from_nurture_at"].notna()]
    assert set(returned["outcome"]) <= {"rejected", "unqualified"}
    later = h.set_index(["prospect", "cycle"])
    for row in returned.itertuples():
        nxt = later.loc[(row.prospect, row.cycle + 1)]
        assert nxt["handoff_at"] == row.back_from_nurture_at
    assert len(returned) == (h["cycle"] > 0).sum()
    assert h.groupby("prospect")["cycle"].max().max() <= 2
    after_sql = (
        h.sort_values("handoff_at")
        .groupby("prospect")["outcome"]
        .apply(lambda o: "sql" in list(o)[:-1])
    )
    assert not after_sql.any()
    k = compute_kpis(rec)
    cohort = h[h["in_cohort"]]
    assert k["mqls"] == len(cohort) == k["unique_mqls"] + k["recycled_mqls"]
    assert k["mqls"] == k["mqls_accepted"] + k["mqls_rejected"]


def test_recycling_wins_back_customers_on_common_random_numbers():
    lost = base(**{"run.horizon_days": 200})
    row = paired_diff(lost, recycling(), "customers")
    assert row["ci_low"] > 0


def test_without_recycling_nobody_returns():
    rec = fs.simulate(base(), 4, 0)
    assert (rec.cycle == 0).all() and np.isnan(rec.returned_at).all()


def test_feedback_raises_acceptance_over_the_horizon_and_nothing_learns_without_it():
    on = base(
        **{
            "feedback.enabled": True,
            "feedback.review_days": 14,
            "feedback.learning_rate": 0.3,
            "handoff.acceptance_rate": 0.5,
        }
    )
    off = fs.override(on, {"feedback.enabled": False})
    rec_on, rec_off = fs.simulate(on, 2, 0), fs.simulate(off, 2, 0)
    assert rec_off.policy.shape[0] == 0 and rec_off.held_id.size == 0
    history = feedback_frame(rec_on)
    assert len(history) == int(150 // 14)
    assert np.all(np.diff(history["acceptance_rate"]) > 0)
    assert history["acceptance_rate"].iloc[-1] == pytest.approx(0.95 - 0.45 * 0.7 ** len(history))
    # Each hand-off meets the acceptance rate in force when it happens (score_strength 0):
    # per review epoch, accepted ~ Binomial(n, rate); 4 binomial SDs per epoch.
    h = handoffs_frame(rec_on)
    epoch = np.searchsorted(history["review_at"].to_numpy(), h["handoff_at"].to_numpy(), "right")
    rates = np.concatenate(([0.5], history["acceptance_rate"].to_numpy()))
    for e, group in h.groupby(epoch):
        n, p = len(group), rates[e]
        if n >= 30:
            assert abs(group["accepted"].mean() - p) < 4 * np.sqrt(p * (1 - p) / n), e
    # Without feedback acceptance stays at its rate: a 4-sigma binomial band per month.
    flat = period_report(rec_off, "monthly")
    full = flat[flat["mqls"] > 200]
    sd = np.sqrt(0.25 / full["mqls"])
    assert (abs(full["acceptance_rate"] - 0.5) < 4 * sd).all()


def test_feedback_holds_back_the_most_rejected_kind():
    s = base(
        **{
            "feedback.enabled": True,
            "feedback.filter_ceiling": 1.0,
            "feedback.learning_rate": 0.5,
            "handoff.acceptance_rate": 0.5,
            "handoff.rejection_reasons": {"wrong_fit": 8, "not_ready": 1},
        }
    )
    rec = fs.simulate(s, 2, 0)
    ledger = ledger_frame(rec)
    assert ledger["held_back"].sum() > 100
    reviews = feedback_frame(rec)["most_rejected"]
    # Marketing starts with the kind sales rejects most; once it holds most of those back the
    # other kind can lead a later review.
    assert reviews.iloc[0] == "wrong_fit" and (reviews == "wrong_fit").mean() > 0.5
    # Only would-be rejections are held back: fewer rejected MQLs, and no fewer SQLs (the
    # accepted leads are the same ones, plus those the rising acceptance rate lets through).
    row = paired_diff(fs.override(s, {"feedback.enabled": False}), s, "mqls_rejected")
    assert row["ci_high"] < 0
    assert paired_diff(fs.override(s, {"feedback.enabled": False}), s, "sqls")["ci_low"] > 0


def test_vacations_take_reps_out_of_service():
    """A rep away for a day serves nobody: available time falls by the open hours of the days
    away, and the follow-up gets slower on common random numbers."""
    s = base(**{"sales.calendar": "business", "sales.reps": 3, "sales.sla_clock": "business"})
    away = fs.override(s, {"sales.vacation_days_per_year": 25})
    rec, rec_away = fs.simulate(s, 6, 0), fs.simulate(away, 6, 0)
    # 150 days ~ 41% of a year: 25 days/year -> 10-11 working days each, 8 h a day.
    lost = rec.rep_available_h - rec_away.rep_available_h
    assert 3 * 8 * 6 <= lost <= 3 * 8 * 14
    assert paired_diff(s, away, "first_touch_hours_mean")["ci_low"] > 0


def test_new_hires_ramp_up_slower_then_reach_full_speed():
    s = base(**{"sales.reps": 2, "sales.handling_minutes": 30})
    ramp = fs.override(s, {"sales.new_hires": 2, "sales.ramp_days": 60})
    rec = fs.simulate(ramp, 3, 0)
    t = rec.attempt_start[~np.isnan(rec.attempt_start)]
    hours = rec.attempt_hours[~np.isnan(rec.attempt_start)]
    # Constant 30 min at full speed; half speed at day 0 rising linearly to full at day 60.
    expected = 0.5 / (0.5 + 0.5 * np.minimum(t / (60 * 24), 1))
    assert np.allclose(hours, expected)
    assert paired_diff(s, ramp, "first_touch_hours_mean")["ci_low"] > 0


def test_overloaded_reps_are_busy_all_their_open_time_and_never_more():
    """Utilisation is a share of available time: attempts that run past the end of a focus
    block are overtime, so an overloaded team sits at 1, not above it."""
    s = base(
        **{
            "sales.calendar": "business",
            "sales.reps": 2,
            "sales.availability": 0.5,
            "sales.handling_minutes": 25,
            "sales.vacation_days_per_year": 20,
        }
    )
    k = compute_kpis(fs.simulate(s, 8, 0))
    assert 0.99 < k["rep_utilization"] <= 1.0


def test_lower_churn_keeps_more_recurring_revenue_on_common_random_numbers():
    """Same customers, same close dates; only how long they stay differs."""
    s = base(**{"deals.revenue": "recurring", "deals.monthly_churn": 0.05, "run.horizon_days": 300})
    loyal = fs.override(s, {"deals.monthly_churn": 0.01})
    arr = paired_diff(s, loyal, "arr_at_horizon")
    assert arr["ci_low"] > 0
    assert paired_diff(s, loyal, "revenue_recognized")["ci_low"] > 0
    assert paired_diff(s, loyal, "revenue")["diff"] == 0  # bookings do not depend on churn


def test_shifting_the_channel_mix_to_high_intent_sources_buys_mqls_and_customers():
    chans = [
        {"name": "demo", "share": 1, "mql_rate": 0.6, "score_shift": 0.5},
        {"name": "content", "share": 3, "mql_rate": 0.2, "score_shift": -0.3},
    ]
    volume = base(**{"arrivals.channels": chans, "marketing.score_strength": 0.5})
    intent = fs.override(
        volume, {"arrivals.channels": [{**chans[0], "share": 3}, {**chans[1], "share": 1}]}
    )
    assert paired_diff(volume, intent, "mqls")["ci_low"] > 0
    assert paired_diff(volume, intent, "customers")["ci_low"] > 0
    assert paired_diff(volume, intent, "prospects")["diff"] == 0  # the total is shared out
