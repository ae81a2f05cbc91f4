"""Each funnel stage converts with the probability it names.

Stage draws are independent per lead (own named stream), so given the n leads that reach a stage
with rate p, its count is Binomial(n, p). Tolerances are 4 binomial standard deviations,
|X - n p| <= 4 sqrt(n p (1 - p)) (two-sided tail ~6e-5), on counts pooled over independent
replications (a sum of binomials with the same p is binomial given the n's). Capacity is ample and
decay_floor = 1, so waiting changes nothing here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.model.funnel import sales_rules
from funnelsim.model.reps import rep_calendars
from funnelsim.model.scoring import mean_probability, stage_probability
from funnelsim.scenario.checks import mean_attempts, offered_load

RATES = {
    "marketing.mql_rate": 0.4,
    "handoff.acceptance_rate": 0.7,
    "sales.coverage": 0.8,
    "sales.contact_rate": 0.5,
    "sales.attempts": 3,
    "qualification.sql_rate": 0.45,
    "qualification.decay_floor": 1.0,
    "deals.opportunity_rate": 0.5,
    "deals.win_rate": 0.3,
}


def _within_4_sigma(x: int, n: int, p: float) -> None:
    sd = math.sqrt(n * p * (1 - p))
    assert n > 0
    assert abs(x - n * p) <= 4 * sd, f"{x} of {n} is not Binomial(n, {p}) (4 sd = {4 * sd:.1f})"


def _ample(minimal_dict: dict, changes: dict, strength: float = 0.0) -> fs.Scenario:
    data = minimal_dict
    data["run"] = {"horizon_days": 28, "seed": 3}
    data["arrivals"] = {"prospects_per_week": 5000}
    data["sales"] = {"reps": 8, "handling_minutes": 1}
    data["marketing"] = {"score_strength": strength}
    return fs.from_dict(data, overrides=changes)


@pytest.fixture(scope="module")
def stage_counts(minimal_dict_factory):
    """KPIs summed over 3 replications of a 28-day, ~20,000-prospect funnel with ample reps."""
    s = _ample(minimal_dict_factory(), RATES)
    return fs.run(s, 3, 11, keep_records=False, progress=False).kpis.sum()


@pytest.mark.parametrize(
    ("count", "given", "rate"),
    [
        ("mqls", "prospects", "marketing.mql_rate"),
        ("mqls_accepted", "mqls", "handoff.acceptance_rate"),
        ("mqls_worked", "mqls_accepted", "sales.coverage"),
        ("sqls", "mqls_reached", "qualification.sql_rate"),
        ("opportunities", "sqls", "deals.opportunity_rate"),
        ("customers", "opportunities", "deals.win_rate"),
    ],
)
def test_stage_is_binomial(stage_counts, count, given, rate):
    """count ~ Binomial(given, rate) at score_strength = 0."""
    _within_4_sigma(int(stage_counts[count]), int(stage_counts[given]), RATES[rate])


def test_reached_share_is_one_minus_miss_probability(stage_counts):
    """A worked MQL is reached within its attempts with chance 1 - (1 - contact_rate)^attempts."""
    p = 1 - (1 - RATES["sales.contact_rate"]) ** RATES["sales.attempts"]
    _within_4_sigma(int(stage_counts["mqls_reached"]), int(stage_counts["mqls_worked"]), p)


def test_attempts_per_worked_mql_is_truncated_geometric(stage_counts):
    """Attempts per worked MQL = min(Geometric(contact_rate), attempts); its mean is
    (1 - q^A) / p. Tolerance: 4 SE from the analytic variance of min(G, A) over n leads."""
    p, a = RATES["sales.contact_rate"], RATES["sales.attempts"]
    k = np.arange(1, a + 1)
    pmf = p * (1 - p) ** (k - 1)
    pmf[-1] = (1 - p) ** (a - 1)  # the last attempt is made whenever the first a-1 all missed
    mean = float(k @ pmf)
    assert mean == pytest.approx(mean_attempts(p, a))
    var = float((k - mean) ** 2 @ pmf)
    n = int(stage_counts["mqls_worked"])
    # kpis.sum() added 3 per-replication means: take their average.
    observed = stage_counts["attempts_per_worked_mql"] / 3
    assert abs(observed - mean) <= 4 * math.sqrt(var / n), (observed, mean)


def test_binomial_check_has_power(stage_counts):
    """A 10% error in a rate would shift the count by more than twice the 4 sd band, so the
    binomial checks above are not vacuous."""
    n, p = int(stage_counts["mqls"]), RATES["handoff.acceptance_rate"]
    assert 4 * math.sqrt(n * p * (1 - p)) < 0.1 * n * p * 0.5


# --- lead score --------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.85])
@pytest.mark.parametrize("strength", [0.0, 0.5, 1.5, 3.0])
def test_stage_probability_averages_to_the_rate(p, strength):
    """Over the score population z ~ N(0, 1) the per-lead chance averages to the configured rate,
    by quadrature and by Monte Carlo (1e6 draws: SE <= 0.0005, tolerance 4 SE = 0.002)."""
    assert mean_probability(p, strength) == pytest.approx(p, abs=1e-9)
    z = np.random.default_rng(5).standard_normal(1_000_000)
    assert stage_probability(p, strength, z).mean() == pytest.approx(p, abs=0.002)


def test_stage_probability_increases_with_score():
    z = np.linspace(-3, 3, 61)
    assert np.all(np.diff(stage_probability(0.3, 1.0, z)) > 0)
    assert np.all(stage_probability(0.3, 0.0, z) == 0.3)


@pytest.fixture(scope="module")
def scored(minimal_dict_factory):
    """A funnel where the score matters (strength 1.5); one record per replication."""
    s = _ample(minimal_dict_factory(), RATES, strength=1.5)
    return fs.run(s, 3, 11, keep_records=True, progress=False)


def test_acceptance_over_all_mqls_holds_with_score(scored):
    """Every MQL's z is N(0, 1) (becoming an MQL does not depend on the score), so the accepted
    count over all MQLs stays Binomial(mqls, acceptance_rate) marginally."""
    k = scored.kpis.sum()
    _within_4_sigma(int(k["mqls_accepted"]), int(k["mqls"]), RATES["handoff.acceptance_rate"])


def test_score_predicts_wins(scored):
    """The score redistributes the win rate across opportunities: wins match the per-lead chances
    of the realised scores (Poisson-binomial, 4 sd), the better half of opportunities by score
    wins clearly more often than the worse half, and yet the win rate over all opportunities is
    still win_rate (the chance is centred over the leads that reach the stage)."""
    k = scored.kpis.sum()
    n, wins = int(k["opportunities"]), int(k["customers"])
    p = RATES["deals.win_rate"]
    _within_4_sigma(wins, n, p)
    scores = sales_rules(scored.scenario).scores
    expected = variance = 0.0
    top = bottom = top_n = bottom_n = 0
    for r in scored.kpis.index:
        rec = scored.record(r)
        opp = rec.opportunity & rec.cohort_mqls()
        z = rec.row_score_z[opp]
        chance = scores.win(z)
        expected += chance.sum()
        variance += (chance * (1 - chance)).sum()
        high = z > np.median(z)
        top += int(rec.won[opp][high].sum())
        top_n += int(high.sum())
        bottom += int(rec.won[opp][~high].sum())
        bottom_n += int((~high).sum())
    assert abs(wins - expected) <= 4 * math.sqrt(variance), (wins, expected)
    # Two proportions, 4 SE of their difference apart at least: the score's effect is real.
    a, b = top / top_n, bottom / bottom_n
    se = math.sqrt(a * (1 - a) / top_n + b * (1 - b) / bottom_n)
    assert a - b > 4 * se, (a, b, se)


STRENGTHS = (0.0, 0.5, 1.0, 2.0)


@pytest.fixture(scope="module", params=STRENGTHS)
def two_channel_counts(request, minimal_dict_factory):
    """KPIs summed over 3 replications of an ample-capacity funnel whose leads come from two
    channels of unequal quality (score shifts +0.8 and -0.4), at one score strength."""
    data = minimal_dict_factory()
    data["arrivals"] = {
        "prospects_per_week": 6000,
        "channels": [
            {"name": "demo", "share": 0.3, "mql_rate": 0.6, "score_shift": 0.8},
            {"name": "ads", "share": 0.7, "mql_rate": 0.3, "score_shift": -0.4},
        ],
    }
    s = _ample(data, {k: v for k, v in RATES.items() if k != "marketing.mql_rate"}, request.param)
    return fs.run(s, 3, 17, keep_records=False, progress=False).kpis.sum()


@pytest.mark.parametrize(
    ("count", "given", "rate"),
    [
        ("mqls_accepted", "mqls", "handoff.acceptance_rate"),
        ("sqls", "mqls_reached", "qualification.sql_rate"),
        ("opportunities", "sqls", "deals.opportunity_rate"),
        ("customers", "opportunities", "deals.win_rate"),
    ],
)
def test_configured_stage_rate_is_delivered_at_every_strength(
    two_channel_counts, count, given, rate
):
    """With the mechanisms meant to move a rate off (no context uplift, no feedback, no decay),
    each stage delivers its configured rate at every score strength: the score only changes
    which leads convert. Binomial 4 sd (conservative: heterogeneous chances vary less)."""
    _within_4_sigma(int(two_channel_counts[count]), int(two_channel_counts[given]), RATES[rate])


def test_accepted_leads_score_higher(scored):
    """Sales accepts the better-scored MQLs: the mean z of accepted MQLs is above 0 and that of
    rejected ones below (each 4 SE away from 0 for unit-variance scores)."""
    rec = scored.record(scored.kpis.index[0])
    z = rec.score_z[rec.mql_id].astype(float)
    acc, rej = z[rec.accepted], z[~rec.accepted]
    assert acc.mean() > 4 / math.sqrt(acc.size)
    assert rej.mean() < -4 / math.sqrt(rej.size)


def test_sql_rate_over_all_mqls_holds_with_score(minimal_scenario_dict):
    """When every MQL reaches qualification (accepted, worked, reached, no decay), sqls / mqls is
    sql_rate on average even with a strong score."""
    changes = {"qualification.sql_rate": 0.35, "qualification.decay_floor": 1.0}
    s = _ample(minimal_scenario_dict, changes, strength=2.0)
    k = fs.run(s, 2, 5, keep_records=False, progress=False).kpis.sum()
    assert k["mqls_reached"] == k["mqls"]
    _within_4_sigma(int(k["sqls"]), int(k["mqls"]), 0.35)


@pytest.mark.slow
def test_rep_utilization_is_the_offered_load(minimal_scenario_dict):
    """Below capacity every attempt asked for is eventually made, so the share of the reps' MQL
    time spent on attempts is the offered load of the sense check (demand / supply), here with a
    business calendar, focus blocks, re-attempts and gamma handling. 30 replications; tolerance
    4 SE of the across-replication mean."""
    changes = {
        "run.horizon_days": 63,
        "run.warmup_days": 7,
        "arrivals.prospects_per_week": 150,
        "marketing.mql_rate": 0.5,
        "sales.calendar": "business",
        "sales.sla_clock": "business",
        "sales.availability": 0.5,
        "sales.attempts": 3,
        "sales.contact_rate": 0.4,
        "sales.cadence_hours": [0, 2, 24],
        "sales.handling_minutes": {"dist": "gamma", "mean": 12, "cv": 1.2},
    }
    s = fs.from_dict(minimal_scenario_dict, overrides=changes)
    result = fs.run(s, 30, 3, keep_records=True, progress=False)
    total, util = [], []
    for rec in result.records:
        start, hours = rec.attempt_start, rec.attempt_hours
        lo, hi = rec.warmup_h, rec.horizon_h
        spent = np.nansum(np.clip(start + hours, lo, hi) - np.clip(start, lo, hi))
        cals = rep_calendars(s, rec.seed, rec.replication)
        open_h = sum(c.open_hours_between(lo, hi) for c in cals)
        total.append(spent / open_h)
        # rep_utilization: attempt time over available MQL time, where an attempt that runs past
        # its focus block made that time available too.
        assert rec.rep_busy_h == pytest.approx(spent, rel=1e-12)
        assert open_h <= rec.rep_available_h <= open_h + spent
        util.append(rec.rep_busy_h / rec.rep_available_h)
    total = np.asarray(total)
    tol = 4 * total.std(ddof=1) / math.sqrt(total.size)
    assert tol < 0.06 * offered_load(s)
    assert abs(total.mean() - offered_load(s)) <= tol, (total.mean(), offered_load(s), tol)
    u = result.kpis["rep_utilization"].to_numpy()
    np.testing.assert_allclose(u, util, rtol=1e-12)
    assert np.all(u <= total + 1e-12) and np.all(u <= 1.0)
