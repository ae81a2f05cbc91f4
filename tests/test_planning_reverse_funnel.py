"""The deterministic reverse funnel (hand arithmetic), booked-within revenue, the in-time share of
deals, and the monthly MQL plan."""

from __future__ import annotations

import math

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.planning import cohort_revenue, in_time_share


def funnel_dict() -> dict:
    return {
        "name": "hand",
        "run": {"horizon_days": 84, "warmup_days": 14},
        "arrivals": {"prospects_per_week": 100},
        "marketing": {"mql_rate": 0.25, "time_to_mql_days": 2},
        "handoff": {"acceptance_rate": 0.8},
        "sales": {
            "reps": 5,
            "handling_minutes": 10,
            "attempts": 2,
            "contact_rate": 0.5,
            "coverage": 0.9,
        },
        "qualification": {"sql_rate": 0.4, "time_to_sql_days": 3},
        "deals": {
            "opportunity_rate": 0.5,
            "win_rate": 0.25,
            "time_to_opportunity_days": 5,
            "sales_cycle_days": 20,
            "deal_size": {"dist": "gamma", "mean": 20000, "cv": 0.5},
        },
    }


@pytest.fixture(scope="module")
def hand() -> fs.Scenario:
    return fs.from_dict(funnel_dict())


def test_reverse_funnel_by_hand(hand):
    """$900k / $20k = 45 customers; rates 0.25 x 0.8 x 0.9 x (1 - 0.5^2) x 0.4 x 0.5 x 0.25 =
    0.00675; 45 / 0.00675 = 6,666.67 prospects over (84 - 14) / 7 = 10 weeks = 666.67 a week."""
    rf = fs.reverse_funnel(hand, 900_000)
    assert rf.customers == pytest.approx(45.0)
    assert rf.lead_to_customer_rate == pytest.approx(0.00675)
    assert rf.weeks == pytest.approx(10.0)
    assert rf.prospects_per_week == pytest.approx(666.6667, rel=1e-6)
    assert rf.mqls_per_week == pytest.approx(166.6667, rel=1e-6)
    t = rf.table()
    assert t.loc["mqls_reached", "rate"] == pytest.approx(0.75)
    assert t.loc["sqls", "needed"] == pytest.approx(45 / 0.25 / 0.5)
    assert t.loc["customers", "per_week"] == pytest.approx(4.5)
    # Lead to close by mean delays: 2 + 3 + 5 + 20 = 30 days.
    assert rf.lead_to_close_days == pytest.approx(30.0)


def test_reverse_funnel_booked_within_shifts_by_the_cycle(hand):
    """Booked by day 70: only leads arriving by 70 - 30 = day 40 close in time, i.e. 26 days of
    the window from day 14: the same customers over 26/7 weeks."""
    rf = fs.reverse_funnel(hand, 900_000, booked_within_days=70)
    assert rf.weeks == pytest.approx(26 / 7)
    assert rf.prospects_per_week == pytest.approx(6666.667 / (26 / 7), rel=1e-6)
    late = fs.reverse_funnel(hand, 900_000, booked_within_days=40)
    assert late.weeks == 0 and math.isinf(late.prospects_per_week)


def test_in_time_share_with_constant_delays(hand):
    """All delays constant (30 days; one attempt reaches at the first or, 1 day later, at the
    second cadence slot, 2:1 given reached), arrivals uniform on [14, 84): the share closing by
    day 70 is (2/3 * 26 + 1/3 * 25) / 70 = 0.3667. Monte Carlo with 20,000 samples: 4 SE."""
    data = funnel_dict()
    data["sales"]["cadence_hours"] = [0, 24]
    s = fs.from_dict(data)
    exact = (2 / 3 * 26 + 1 / 3 * 25) / 70
    share = in_time_share(s, 70, samples=20_000)
    assert share == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20_000))
    assert in_time_share(s, 14) == 0.0
    assert in_time_share(s, 200) == 1.0


def test_cohort_revenue_booked_within_counts_deals_closed_by_day_d(hand):
    # Four times the volume: about 27 customers, enough to have some closed by day D and some not.
    rec = fs.simulate(fs.override(hand, {"arrivals.prospects_per_week": 400}), 1, 0)
    won = rec.won & rec.cohort_mqls()
    assert won.sum() > 5
    assert cohort_revenue(rec) == pytest.approx(float(rec.amount[won].sum()))
    d = 60.0
    by_d = won & (rec.closed_at <= 24 * d)
    assert 0 < by_d.sum() < won.sum()
    assert cohort_revenue(rec, d) == pytest.approx(float(rec.amount[by_d].sum()))


def monthly_dict() -> dict:
    """Ample capacity, no decay, constant 20-day cycle, MQL at arrival, 90 days from Jan 1."""
    return {
        "name": "monthly",
        "run": {"horizon_days": 90, "replications": 20, "seed": 3, "start_date": "2029-01-01"},
        "arrivals": {"prospects_per_week": 40},
        "marketing": {"mql_rate": 0.5},
        "sales": {"reps": 20, "calendar": "24/7", "handling_minutes": 1},
        "qualification": {"sql_rate": 0.5},
        "deals": {"win_rate": 0.5, "sales_cycle_days": 20, "deal_size": 1000},
    }


def test_monthly_plan_counts_only_deals_that_close_in_time():
    """Booked by day 75: MQLs of January (days 0-31) close by day 51, all in time; February's
    (31-59) only up to day 55; March's (59-90) none. The months' in-time revenue adds up to the
    plan's expected revenue."""
    s = fs.from_dict(monthly_dict())
    plan = fs.quota(s, 15_000, 0.5, booked_within_days=75, by_month=True, progress=False)
    m = plan.monthly
    assert list(m.index) == ["2029-01", "2029-02", "2029-03", "later"]
    assert m.loc["2029-01", "share_in_time"] == pytest.approx(1.0)
    assert 0.0 < m.loc["2029-02", "share_in_time"] < 1.0
    assert m.loc["2029-03", "customers"] > 0
    assert m.loc["2029-03", "customers_in_time"] == 0.0
    assert m.loc["later", "mqls"] == 0.0
    assert m["revenue_in_time"].sum() == pytest.approx(plan.expected_revenue)
    assert np.allclose(m["cumulative_revenue_in_time"], m["revenue_in_time"].cumsum())
    # March's 31 days of MQLs, at the plan's rate (all prospects arrive into the cohort).
    assert m.loc["2029-03", "mqls"] == pytest.approx(
        plan.mqls_per_week * 31 / 7, rel=4 / math.sqrt(plan.mqls_per_week * 31 / 7 * 20)
    )


def test_by_month_without_booked_within_counts_closes_by_the_horizon():
    s = fs.from_dict(monthly_dict())
    plan = fs.quota(s, 6_000, 0.5, by_month=True, replications=8, progress=False)
    assert plan.booked_within_days == 90
    assert plan.monthly.loc["2029-03", "share_in_time"] < 1.0


def channels_dict() -> dict:
    return {
        "name": "channels",
        "run": {"horizon_days": 28, "replications": 10, "seed": 2},
        "arrivals": {
            "prospects_per_week": 100,
            "channels": [
                {"name": "web", "share": 3, "cost_per_prospect": 20},
                {"name": "events", "share": 1, "mql_rate": 0.8, "cost_per_prospect": 100},
            ],
        },
        "marketing": {"mql_rate": 0.4},
        "sales": {"reps": 3, "calendar": "24/7", "handling_minutes": 5},
        "qualification": {"sql_rate": 0.5},
        "deals": {"win_rate": 0.4, "deal_size": 1000},
        "costs": {"rep_cost_per_year": 52_000},
    }


def test_quota_is_split_across_channels_in_the_mix_with_its_cost():
    """Shares 3:1, MQL rates 0.4 and 0.8 (0.5 overall): the plan's prospects split 75/25, its
    MQLs add up to the plan's, and the cost is prospects x cost per prospect over the 4 weeks
    plus 3 reps x $52k x 28/365 years."""
    s = fs.from_dict(channels_dict())
    rf = fs.reverse_funnel(s, 8000)
    assert rf.rates["mqls"] == pytest.approx(0.75 * 0.4 + 0.25 * 0.8)
    plan = fs.quota(s, 8000, 0.8, progress=False)
    ch = plan.channels
    v = plan.prospects_per_week
    assert list(ch.index) == ["web", "events"]
    assert ch["prospects_per_week"].tolist() == pytest.approx([0.75 * v, 0.25 * v])
    assert ch["mqls_per_week"].sum() == pytest.approx(plan.mqls_per_week)
    assert plan.mqls_per_week == pytest.approx(0.5 * v)
    weekly = 0.75 * v * 20 + 0.25 * v * 100
    assert plan.costs["marketing_cost"] == pytest.approx(4 * weekly)
    assert plan.costs["rep_cost"] == pytest.approx(3 * 52_000 * 28 / 365)
    doc = plan.to_dict()
    assert doc["channels"][1]["channel"] == "events" and "costs" in doc
