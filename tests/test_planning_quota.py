"""The simulated lead quota: the smallest prospect volume whose cohort revenue reaches a target in
at least a share P of replications, found by bracketing and bisection on common random numbers.

The analytic case. With ample capacity, no response-time decay (``decay_floor = 1``), no lead
score and a constant deal size d, every prospect becomes a customer independently with the same
probability p = mql_rate * sql_rate * win_rate. Arrivals are Poisson, so over T weeks at rate lam
customers ~ Poisson(lam T p) (thinning keeps a Poisson process Poisson) and revenue = d * customers.
Revenue reaches a target between (k-1) d and k d iff customers >= k, so the quota is the smallest
lam with P(Poisson(lam T p) >= k) >= P, i.e. ``lam* = gamma.ppf(P, k) / (T p)``. (The
negative-binomial answer ``k + nbinom.ppf(P, k, p)`` is for a *fixed* number of leads; with Poisson
arrivals the lead count is random too, which raises the quota a little.)

What the search returns. Under common random numbers replication r hits exactly when the volume
is at least its own threshold v_r = (unit arrival point of its k-th customer) / T, and
v_r ~ Gamma(k, 1) / (T p). The share of replications that hit is then a step function of volume,
and the quota is the j-th smallest v_r, j = ceil(P R), to within the bisection tolerance. Its
sampling distribution is exact: F(v_(j)) ~ Beta(j, R - j + 1) with F the Gamma CDF above. The tests
use 0.1% / 99.9% Beta quantiles, so a correct search fails them with probability ~2e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.planning import (
    fixed_leads_quota,
    poisson_hit_probability,
    poisson_quota_rate,
)
from funnelsim.planning.evaluation import OUTCOME_COLUMNS, Evaluation, quiet_override
from funnelsim.planning.quota import _saturated
from funnelsim.scenario.checks import offered_load

K = 10  # customers needed
DEAL = 1000.0
TARGET = (K - 0.5) * DEAL  # reached iff customers >= K
P_END = 0.5 * 0.5 * 0.4
WEEKS = 4.0
CONFIDENCE = 0.8
R = 100
FRESH = 400
TOL = 0.01


def analytic_dict() -> dict:
    return {
        "name": "analytic",
        "run": {"horizon_days": 7 * WEEKS, "replications": R, "seed": 11},
        "arrivals": {"prospects_per_week": 50},
        "marketing": {"mql_rate": 0.5},
        "sales": {"reps": 50, "calendar": "24/7", "handling_minutes": 1},
        "qualification": {"sql_rate": 0.5, "decay_floor": 1.0},
        "deals": {"win_rate": 0.4, "deal_size": DEAL},
    }


@pytest.fixture(scope="module")
def analytic() -> fs.Scenario:
    return fs.from_dict(analytic_dict())


@pytest.fixture(scope="module")
def plan(analytic) -> fs.QuotaPlan:
    return fs.quota(analytic, TARGET, CONFIDENCE, tolerance=TOL, validate=FRESH, progress=False)


def _thresholds(s: fs.Scenario, big: float) -> np.ndarray:
    """Each replication's threshold volume v_r, read off one run at a large volume ``big``.

    The horizon lies in the first arrival chunk, where prospect j of the chunk has a level
    Gamma_j (the j-th point of a unit-rate Poisson process) and exists at a weekly rate v iff
    Gamma_j < v / 168 * CHUNK_H. Its arrival time u_j * CHUNK_H does not depend on v, which
    identifies it in the record; the replication reaches K customers once v exceeds the K-th
    smallest customer threshold 168 Gamma_j / CHUNK_H."""
    from funnelsim.model.arrivals import CHUNK_H
    from funnelsim.model.streams import Streams

    assert s.run.horizon_days * 24.0 <= CHUNK_H
    s_big = fs.override(s, {"arrivals.prospects_per_week": big})
    out = []
    for r in range(R):
        rec = fs.simulate(s_big, s.run.seed, r)
        won = rec.won & rec.cohort_mqls()
        st = Streams(s.run.seed, r)
        level = big / 168.0 * CHUNK_H
        levels = np.cumsum(-np.log1p(-st.chunk("arrivals", 0).random(int(2 * level + 100))))
        n = int(np.searchsorted(levels, level))
        place = {float(t): j for j, t in enumerate(st.chunk("arrival_time", 0).random(n) * CHUNK_H)}
        j = np.array([place[float(t)] for t in rec.arrival[rec.mql_id[won]]])
        assert j.size >= K, "raise `big`: a replication has fewer than K customers"
        out.append(np.sort(levels[j])[K - 1] * 168.0 / CHUNK_H)
    return np.sort(np.asarray(out))


def test_quota_is_the_empirical_quantile_of_per_replication_thresholds(analytic, plan):
    """The bisection returns the ceil(P R)-th smallest threshold volume, within the tolerance."""
    v = _thresholds(analytic, big=10 * poisson_quota_rate(K, P_END, WEEKS, 0.999))
    j = math.ceil(CONFIDENCE * R)
    assert v[j - 1] <= plan.prospects_per_week <= v[j - 1] / (1 - TOL)
    assert plan.misses_below < v[j - 1]
    assert plan.hits >= j and plan.p_hit_target >= CONFIDENCE


def test_quota_matches_the_poisson_gamma_answer(plan):
    """The simulated quota lies in the exact sampling band of lam* = gamma.ppf(P, k) / (T p); the
    calculator answer (target / deal / rates, the mean) lies outside it."""
    j = math.ceil(CONFIDENCE * R)
    q_lo, q_hi = stats.beta.ppf([0.001, 0.999], j, R - j + 1)
    lo = stats.gamma.ppf(q_lo, K) / (WEEKS * P_END)
    hi = stats.gamma.ppf(q_hi, K) / (WEEKS * P_END) / (1 - TOL)
    exact = poisson_quota_rate(K, P_END, WEEKS, CONFIDENCE)
    assert lo < exact < hi
    assert lo <= plan.prospects_per_week <= hi
    mean_answer = plan.reverse_funnel.prospects_per_week
    assert mean_answer == pytest.approx(TARGET / DEAL / P_END / WEEKS)
    assert not lo <= mean_answer <= hi, "the band must be able to tell the quota from the mean"


def test_fresh_seeds_hit_at_the_exact_rate_for_the_returned_volume(plan):
    """Fresh replications at the returned volume hit as often as Poisson(lam T p) >= k says
    (binomial test, two-sided, alpha = 1e-3), and that rate is within the Beta band of P."""
    p_true = poisson_hit_probability(plan.prospects_per_week, K, P_END, WEEKS)
    v = plan.validation
    assert v is not None and v.replications == FRESH and v.first_replication == R
    assert stats.binomtest(v.hits, FRESH, p_true).pvalue > 1e-3
    j = math.ceil(CONFIDENCE * R)
    lo, hi = stats.beta.ppf([0.001, 0.999], j, R - j + 1)
    assert lo <= p_true <= min(1.0, hi + 0.02)  # + the tolerance's small upward shift


def test_common_random_numbers_make_the_hit_share_monotone_in_volume(plan):
    """Every candidate volume ran the same replications: the hit share never falls as volume
    rises, which is what keeps the bisection stable."""
    trace = plan.search.sort_values("prospects_per_week")
    assert trace["p_hit"].is_monotonic_increasing
    assert set(trace["phase"]) == {"bracket", "bisect"}
    assert len(trace) <= 12


def test_plan_reports_the_contract_keys(plan, analytic):
    """quota --json's required keys, with MQLs per week implied by the volume."""
    doc = plan.to_dict()
    for key in (
        "target_revenue",
        "confidence",
        "prospects_per_week",
        "mqls_per_week",
        "p_hit_target",
        "reps_needed",
    ):
        assert key in doc
    assert doc["mqls_per_week"] == pytest.approx(doc["prospects_per_week"] * 0.5)
    assert doc["replications"] == R
    lo, hi = doc["p_hit_ci95"]
    assert lo <= doc["p_hit_target"] <= hi
    # Ample capacity: the reps keep any SLA, and the first rep count tried already does.
    assert plan.sla_attainment == pytest.approx(1.0)
    assert plan.reps_needed is not None and plan.reps_needed <= analytic.sales.reps


def test_negative_binomial_and_poisson_quotas_by_hand():
    """The published worked example (domain facts §5): $1.5M at $55K needs k = 28 wins; at
    p_end = 1.155% that is 2,424 leads on average and 3,023 for P90 with a fixed lead count. With
    Poisson arrivals the P90 rate over one period is gamma.ppf(0.9, 28) / p, a little more."""
    assert math.ceil(1.5e6 / 55e3) == 28
    mean_leads = 28 / 0.01155
    assert mean_leads == pytest.approx(2424.24, abs=0.01)
    assert fixed_leads_quota(28, 0.01155, 0.9) == 3023
    poisson = poisson_quota_rate(28, 0.01155, 1.0, 0.9)
    assert 3023 < poisson < 3023 * 1.01
    assert poisson_hit_probability(poisson, 28, 0.01155, 1.0) == pytest.approx(0.9)


def capacity_dict() -> dict:
    """One rep, response-time decay and gamma deal sizes: no closed form, capacity matters."""
    return {
        "name": "capacity",
        "run": {"horizon_days": 28, "replications": R, "seed": 5},
        "arrivals": {"prospects_per_week": 100},
        "marketing": {"mql_rate": 0.5, "time_to_mql_days": {"dist": "exponential", "mean": 1}},
        "sales": {
            "reps": 1,
            "calendar": "24/7",
            "sla_hours": 1,
            "handling_minutes": {"dist": "exponential", "mean": 30},
        },
        "qualification": {"sql_rate": 0.6, "decay_floor": 0.3, "decay_tau_hours": 1},
        "deals": {
            "opportunity_rate": 0.5,
            "win_rate": 0.5,
            "deal_size": {"dist": "gamma", "mean": 1000, "cv": 0.5},
        },
    }


def test_fresh_seeds_hit_within_the_binomial_band_of_p_with_capacity_and_decay():
    """Without a closed form: the true hit rate at the returned volume is about Beta(j, R-j+1)
    (the j-th of R thresholds), and M fresh replications add binomial noise, so the fresh hit share
    has sd ~ sqrt(P(1-P)(1/R + 1/M)); the band is P +- 3.5 sd (plus 0.02 for the tolerance)."""
    s = fs.from_dict(capacity_dict())
    m = 200
    plan = fs.quota(s, 30_000, CONFIDENCE, validate=m, progress=False)
    sd = math.sqrt(CONFIDENCE * (1 - CONFIDENCE) * (1 / R + 1 / m))
    assert abs(plan.validation.p_hit - CONFIDENCE) <= 3.5 * sd + 0.02
    # The queue is real here: first touches wait, and decay makes the mean calculator too low.
    assert plan.first_touch_hours_mean > 0.05
    assert plan.prospects_per_week > 1.2 * plan.reverse_funnel.prospects_per_week


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_revenue": -5.0}, "--target-revenue must be a positive"),
        ({"target_revenue": 0.0}, "--target-revenue must be a positive"),
        ({"target_revenue": math.inf}, "--target-revenue must be a positive"),
        ({"target_revenue": 1e4, "confidence": 1.0}, "--confidence"),
        ({"target_revenue": 1e4, "confidence": 0.0}, "--confidence"),
        ({"target_revenue": 1e4, "booked_within_days": -1.0}, "--booked-within-days"),
        ({"target_revenue": 1e4, "replications": 0}, "--replications"),
    ],
)
def test_bad_arguments_are_usage_errors(analytic, kwargs, message):
    with pytest.raises(fs.UsageError, match=message):
        fs.quota(analytic, progress=False, **kwargs)


def test_unreachable_when_the_sales_cycle_outlasts_the_booking_window(analytic):
    """A constant 40-day cycle cannot close by day 30: "unreachable" names the horizon, at once."""
    s = fs.override(analytic, {"deals.sales_cycle_days": 40})
    with pytest.raises(fs.UsageError, match="unreachable within the horizon.*sales cycle"):
        fs.quota(s, TARGET, booked_within_days=30, progress=False)


def test_unreachable_when_capacity_binds():
    """One rep, no decay floor, FIFO: past capacity every extra lead waits until it is worthless,
    so revenue saturates; "unreachable" names capacity."""
    data = capacity_dict()
    data["qualification"] = {"sql_rate": 0.6, "decay_floor": 0.0, "decay_tau_hours": 0.5}
    data["sales"]["handling_minutes"] = 60
    s = fs.from_dict(data)
    with pytest.raises(fs.UsageError, match="unreachable.*capacity binds"):
        fs.quota(s, 2e6, replications=4, progress=False)


def test_size_reps_plans_with_the_reps_the_sla_needs():
    """One rep misses a 15-minute SLA at the quota volume; --size-reps adopts the fewest reps that
    keep it, and with faster follow-up (less decay) the same target needs no more leads."""
    s = fs.override(fs.from_dict(capacity_dict()), {"sales.sla_hours": 0.25})
    as_is = fs.quota(s, 30_000, CONFIDENCE, replications=30, progress=False)
    assert as_is.reps == 1 and as_is.sla_attainment < 0.9
    assert as_is.reps_needed is not None and as_is.reps_needed > 1
    assert any("SLA attainment at the quota volume" in w for w in as_is.warnings)
    sized = fs.quota(s, 30_000, CONFIDENCE, replications=30, size_reps=True, progress=False)
    assert sized.reps == sized.reps_needed == as_is.reps_needed
    assert sized.sla_attainment >= 0.9
    assert sized.prospects_per_week <= as_is.prospects_per_week * (1 + TOL)


def test_the_answer_does_not_depend_on_the_executor(analytic):
    """Replication r depends only on (scenario, seed, r): a pool gives the same plan."""
    from concurrent.futures import ThreadPoolExecutor

    serial = fs.quota(analytic, TARGET, CONFIDENCE, replications=20, progress=False)
    with ThreadPoolExecutor(2) as pool:
        pooled = fs.quota(
            analytic, TARGET, CONFIDENCE, replications=20, executor=pool, progress=False
        )
    assert pooled.prospects_per_week == serial.prospects_per_week
    assert pooled.hits == serial.hits
    assert pooled.search.equals(serial.search)


def test_a_target_below_one_deal_needs_the_volume_for_one_customer(analytic):
    """Any revenue at all takes a whole deal: the quota for $1 is the smallest lam with
    P(Poisson(lam T p) >= 1) >= P, i.e. lam* = gamma.ppf(P, 1) / (T p), far above the reverse
    funnel's fraction of a customer. Same exact Beta band as above with k = 1 and R = 40 (the search
    used to stop at 64x the reverse funnel and call $1 unreachable "at 0 prospects/week")."""
    r = 40
    small = fs.quota(analytic, 1.0, CONFIDENCE, replications=r, tolerance=TOL, progress=False)
    j = math.ceil(CONFIDENCE * r)
    q_lo, q_hi = stats.beta.ppf([0.001, 0.999], j, r - j + 1)
    lo = stats.gamma.ppf(q_lo, 1) / (WEEKS * P_END)
    hi = stats.gamma.ppf(q_hi, 1) / (WEEKS * P_END) / (1 - TOL)
    assert lo <= small.prospects_per_week <= hi
    assert small.reverse_funnel.prospects_per_week < 0.01 * lo


def _evaluation(s: fs.Scenario, revenue: list[float]) -> Evaluation:
    frame = pd.DataFrame({c: 1.0 for c in OUTCOME_COLUMNS}, index=range(len(revenue)))
    frame["revenue"] = revenue
    return Evaluation(1.0, 1, s, frame)


def test_saturation_needs_a_gain_clearly_below_growth_where_that_is_telling(analytic):
    """At a trickle of deals (ample reps) a doubling that adds no deal, or loses one by chance, is
    not saturation: the mean is within its own noise. A flat plateau known to ~1% is; linear growth
    is not; and with the reps overloaded (offered load >= 1) no gain is saturation even when
    revenue is a trickle."""
    trickle_before = _evaluation(analytic, [0, 0, 0, 55_000, 0, 0, 0, 0, 55_000, 0])
    trickle_after = _evaluation(analytic, [0, 0, 0, 0, 0, 0, 0, 55_000, 0, 0])
    assert not _saturated(trickle_before, trickle_after, 2.0)
    assert not _saturated(trickle_before, trickle_before, 2.0)
    rng = np.random.default_rng(3)
    base = 1e6 + 1e4 * rng.standard_normal(10)
    plateau = _evaluation(analytic, list(base + 1e4 * rng.standard_normal(10)))
    assert _saturated(_evaluation(analytic, list(base)), plateau, 2.0)
    doubled = _evaluation(analytic, list(2 * base))
    assert not _saturated(_evaluation(analytic, list(base)), doubled, 2.0)
    one = _evaluation(analytic, [1e6])
    assert not _saturated(one, one, 2.0), "one replication cannot tell saturation from noise"
    busy = quiet_override(analytic, {"sales.reps": 1, "sales.handling_minutes": 600})
    assert offered_load(busy) >= 1
    overloaded = _evaluation(busy, [0, 0, 0, 55_000, 0, 0, 0, 0, 55_000, 0])
    assert _saturated(overloaded, overloaded, 2.0)
