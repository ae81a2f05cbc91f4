"""Staffing: the fewest reps that keep SLA attainment at a target, estimated by Erlang C and
confirmed by simulation.

The M/M/c reduction (contract, "Time semantics": 24/7, one attempt that always reaches, every
prospect an MQL at once, all accepted and worked, FIFO, exponential handling) makes the share of
leads first touched within t exactly P(W <= t) = 1 - C(c, a) exp(-(c mu - lam) t). With lam = 4/h,
mu = 2/h and t = 15 min this is 0.730 at 3 reps and 0.936 at 4, so for a target of 0.85 the
answer is 4 reps with margins of 12 and 9 points.

Statistics: each replication gives one attainment (replications are independent); the tolerance
is 4 standard errors of their mean (t with R-1 df, false-alarm rate ~1e-3). The warm-up of one day
is many relaxation times (1 / (c mu (1 - sqrt(rho))^2) ~ 5 h at 3 reps), so start-up bias is small.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.queueing import mmc_wait_within, servers_for_wait_within

LAM, MU, T_SLA, TARGET = 4.0, 2.0, 0.25, 0.85
R = 8
HORIZON, WARMUP = 8.0, 1.0
LEADS = LAM * 24 * (HORIZON - WARMUP)  # counted hand-offs per replication, on average


@pytest.fixture(scope="module")
def mmc(mmc_scenario) -> fs.Scenario:
    return mmc_scenario(3, LAM, 1.0 / MU, HORIZON, WARMUP, sla_hours=T_SLA)


@pytest.fixture(scope="module")
def result(mmc) -> fs.StaffingResult:
    return fs.staffing(
        mmc, TARGET, replications=R, seed=3, rep_cost_per_year=120_000.0, progress=False
    )


def test_erlang_estimate_is_exact_on_the_mmc_reduction(mmc):
    est = fs.erlang_reps(mmc, TARGET)
    assert est.exact
    assert est.attempts_per_hour == pytest.approx(LAM)
    assert est.reps == servers_for_wait_within(T_SLA, TARGET, LAM, MU) == 4


def test_simulated_answer_matches_erlang_c(result):
    """The simulation's fewest reps is Erlang C's, and each stable row's attainment agrees with
    P(W <= t) within 4 standard errors."""
    assert result.reps_needed == 4
    t = result.table
    assert {2, 3, 4, 5, 6, 7} <= set(t.index)  # the estimate - 2 .. + 3
    tq = stats.t.ppf(0.975, R - 1)
    for c, row in t.iterrows():
        if c * MU <= LAM:
            continue  # unstable: no steady state to compare with
        exact = mmc_wait_within(T_SLA, LAM, MU, c)
        # Floor: the iid binomial SE over all counted leads (a near-perfect row can show no
        # breach in any replication, and then the across-replication SE is 0).
        floor = math.sqrt(exact * (1 - exact) / (LEADS * R))
        se = max((row["sla_ci_high"] - row["sla_ci_low"]) / (2 * tq), floor)
        assert abs(row["sla_attainment"] - exact) <= 4 * se + 1e-9, (c, row["sla_attainment"])
        assert row["erlang_sla_attainment"] == pytest.approx(exact)
    assert t.loc[3, "sla_attainment"] < TARGET <= t.loc[4, "sla_attainment"]


def test_more_reps_never_wait_longer(result):
    """Same seeds for every rep count (CRN): the mean first-touch wait falls as reps are added."""
    waits = result.table["first_touch_hours_mean"]
    assert waits.is_monotonic_decreasing


def test_rep_cost_columns_by_hand(result):
    """Rep cost is reps x cost per year x the counted window in years, beside the revenue."""
    t = result.table
    years = (HORIZON - WARMUP) / 365.0
    for c, row in t.iterrows():
        assert row["rep_cost"] == pytest.approx(c * 120_000.0 * years)
        assert row["revenue_minus_rep_cost"] == pytest.approx(row["revenue"] - row["rep_cost"])


def test_json_document(result):
    doc = result.to_dict()
    assert doc["sla_target"] == TARGET and doc["reps_needed"] == 4
    row = doc["table"][0]
    for key in ("reps", "sla_attainment", "first_touch_hours_mean", "revenue"):
        assert key in row


def test_rep_cost_defaults_to_the_scenario_and_zero_drops_the_columns(mmc):
    """Without --rep-cost-per-year the scenario's costs.rep_cost_per_year is used; at 0 the cost
    columns are left out."""
    plain = fs.staffing(mmc, 0.5, replications=2, span=(0, 0), progress=False)
    assert "rep_cost" not in plain.table
    costly = fs.override(mmc, {"costs.rep_cost_per_year": 50_000})
    priced = fs.staffing(costly, 0.5, replications=2, span=(0, 0), progress=False)
    assert priced.rep_cost_per_year == 50_000
    assert "revenue_minus_rep_cost" in priced.table


def test_a_target_above_coverage_is_a_usage_error(mmc):
    """Leads never worked count as breaches, so coverage caps attainment."""
    s = fs.override(mmc, {"sales.coverage": 0.7})
    with pytest.raises(fs.UsageError, match="sales.coverage"):
        fs.staffing(s, 0.9, progress=False)
    with pytest.raises(fs.UsageError, match="--sla-target"):
        fs.staffing(s, 1.5, progress=False)


def test_erlang_estimate_adds_the_closed_hours_backlog_on_a_business_calendar():
    """Leads handed off while the doors are closed wait for the opening: per closed stretch of
    G hours, lam_first * G leads, of which reps * availability * sla_hours / mean handling are
    touched within the SLA. Checked against hand arithmetic for 9-17 Monday to Friday."""
    import math

    from funnelsim.queueing import mmc_wait_within

    data = {
        "name": "backlog",
        "run": {"horizon_days": 28},
        "arrivals": {"prospects_per_week": 168},
        "sales": {
            "reps": 3,
            "calendar": "business",
            "sla_clock": "business",
            "sla_hours": 1,
            "handling_minutes": {"dist": "exponential", "mean": 15},
        },
        "deals": {"deal_size": 1},
    }
    s = fs.from_dict(data)
    est = fs.erlang_reps(s, 0.9)
    assert est.closed_gaps_hours == (16.0, 16.0, 16.0, 16.0, 64.0)
    assert est.first_touches_per_hour == 1.0 and est.backlog_per_rep == 4.0
    c = 5
    open_share = 40 / 168
    erlang = mmc_wait_within(1.0, 1.0 / open_share, 4.0, c)
    backlog = (4 * min(16, 4 * c) + min(64, 4 * c)) / 168
    assert est.attainment(c, 1.0) == pytest.approx(open_share * erlang + backlog)
    assert est.attainment(est.reps, 1.0) >= 0.9 > est.attainment(est.reps - 1, 1.0)
    assert not math.isnan(est.attainment(1, 1.0))


def test_erlang_estimate_on_24_7_is_plain_erlang_c(mmc_scenario):
    from funnelsim.queueing import servers_for_wait_within

    s = mmc_scenario(c=3, lam_per_hour=2.0, mean_handling_hours=1.0, horizon_days=10, warmup_days=1)
    est = fs.erlang_reps(s, 0.8)
    assert est.closed_gaps_hours == ()
    assert est.reps == servers_for_wait_within(1.0, 0.8, 2.0, 1.0)
