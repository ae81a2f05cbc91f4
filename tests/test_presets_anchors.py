"""The presets reproduce the published figures they cite.

Every anchor of `funnelsim.anchors` that a preset claims is a test here: the preset's mean over
independent replications must lie within the published range widened by 4 standard errors of
that mean (the simulation's own noise; a correct preset fails with probability ~1e-4 per check).
So a preset that drifts away from its sources fails. Where anchors conflict, the README says so,
and the test pins the documented value instead (`test_documented_conflict_*`).

Levers: each lever the aligned preset changes, switched alone on the siloed preset, may not move
revenue by more than its own cited evidence supports (`LEVER_BOUNDS`), and all of them together
put aligned's first-year bookings at 1.2x to 2.5x siloed's, where the surveys put the gap.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.anchors import BY_KEY, anchor_values

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
R = 8
SEED = 7

# Lever (the keys aligned changes), the most its evidence supports as a revenue ratio when
# switched alone on siloed, and the evidence (domain-facts.md sections).
LEVER_BOUNDS: dict[str, tuple[tuple[str, ...], float, str]] = {
    "shared definition": (
        ("handoff.acceptance_rate",),
        1.64,
        "CSO Insights 2014: 29.8% vs 18.2% of firms with and without a formal definition report "
        "lead -> opportunity above 75% (§3) [S]",
    ),
    "two-way SLA: persistence and coverage": (
        (
            "marketing.mql_commitment_per_week",
            "sales.sla_hours",
            "sales.attempts",
            "sales.cadence_hours",
            "sales.coverage",
        ),
        2.2,
        "LRM: a few more attempts raise contact by up to 70% (§1.2) [P]; HBR: 23% never answered "
        "(§1.1) [P]: 1.7 / 0.77",
    ),
    "speed: shared queue, headcount, order": (
        ("sales.routing", "sales.reps", "sales.queue"),
        2.0,
        "an instant contact qualifies at most 1 / decay_floor = 2x as often as a late one; the "
        "floor sits between Velocify's 0.24 and MECLABS' null result (§1.6, §6) [S]",
    ),
    "context at hand-off": (
        ("handoff.context_shared",),
        1.38,
        "most-aligned firms closed 38% more proposals (MarketingProfs, §3) [S]",
    ),
    "recycling to nurture": (
        ("nurture.recycle",),
        1.5,
        "firms that excel at nurturing get 50% more sales-ready leads (Forrester, §4) [S]",
    ),
    "closed-loop feedback": (
        ("feedback.enabled",),
        1.25,
        "best-in-class aligned firms +20% a year against laggards' -4% (Aberdeen 2010, §3) [S]",
    ),
    "channel mix": (
        ("arrivals.channels",),
        1.25,
        "the same survey gap (Aberdeen 2010, §3) [S]: marketing told which sources close",
    ),
    "retention (churn)": (
        ("deals.monthly_churn",),
        1.0,
        "36% fewer customers lost (MarketingProfs, §3) [S]: it moves recurring revenue, not "
        "bookings",
    ),
}


def load(name: str) -> fs.Scenario:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fs.ScenarioWarning)
        return fs.load(ROOT / "scenarios" / f"{name}.toml")


def _plain(s: fs.Scenario, key: str):
    node = s.to_dict()
    for part in key.split("."):
        node = node[part]
    return node


def lever_scenario(siloed: fs.Scenario, aligned: fs.Scenario, keys) -> fs.Scenario:
    """The siloed preset with aligned's values for ``keys``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fs.ScenarioWarning)
        return fs.override(siloed, {k: _plain(aligned, k) for k in keys})


@pytest.fixture(scope="module")
def runs() -> dict[str, object]:
    return {
        n: fs.run(load(n), R, SEED, keep_records=False, progress=False).kpis
        for n in ("siloed", "partly-aligned", "aligned")
    }


def _band(v) -> tuple[float, float]:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()), 4.0 * float(v.std(ddof=1)) / math.sqrt(v.size)


def _assert_anchor(kpis, key: str) -> None:
    a = BY_KEY[key]
    mean, tol = _band(anchor_values(kpis, a))
    assert a.low - tol <= mean <= a.high + tol, (key, mean, tol, a.published)


@pytest.mark.parametrize(
    "key", ["within_1h", "within_24h", "never", "mql_to_sal", "win_rate", "prospect_to_customer"]
)
def test_siloed_is_the_typical_team_of_the_audits(runs, key):
    _assert_anchor(runs["siloed"], key)


def test_siloed_delivers_its_configured_win_rate(runs):
    """Nothing moves siloed's win rate (no context shared), so over all opportunities it is the
    configured 21%: customers ~ Binomial(opportunities, 0.21) pooled over replications."""
    k = runs["siloed"].sum()
    n, x, p = int(k["opportunities"]), int(k["customers"]), load("siloed").deals.win_rate
    assert abs(x - n * p) <= 4 * math.sqrt(n * p * (1 - p)), (x, n, p)


def test_documented_conflict_responders_mean(runs):
    """README: within one team the slow tail comes from weekends and vacations, so siloed's
    responders wait about 21 h on average, half the audits' 39-47 h (which pool thousands of
    firms, some of which answer only after days). Pinned here so the stated figure stays true."""
    mean, tol = _band(runs["siloed"]["first_touch_hours_mean"])
    assert 15.0 - tol <= mean <= 30.0 + tol, (mean, tol)
    assert mean + tol < BY_KEY["responders_mean_h"].low


def test_aligned_keeps_its_own_sla(runs):
    """At least 90% of aligned's accepted MQLs are first touched within its 1 business hour."""
    mean, _ = _band(runs["aligned"]["sla_attainment"])
    assert mean >= 0.90, mean


SHARED = {
    "first_touch_within_5m_share": +1,
    "first_touch_within_1h_share": +1,
    "first_touch_within_24h_share": +1,
    "never_touched_share": -1,
    "first_touch_hours_mean": -1,
}


@pytest.mark.parametrize("kpi", list(SHARED))
def test_aligned_is_faster_on_every_shared_yardstick_and_partly_between(runs, kpi):
    """Paired on common random numbers (same seed and replications): aligned beats siloed on
    each wall-clock yardstick, and partly-aligned lies between them."""
    sign = SHARED[kpi]
    s, p, a = (runs[n][kpi].to_numpy(float) for n in ("siloed", "partly-aligned", "aligned"))
    mean, tol = _band(sign * (a - s))
    assert mean - tol > 0, (kpi, mean, tol)
    assert sign * s.mean() <= sign * p.mean() <= sign * a.mean(), (kpi, s.mean(), p.mean())


def test_partly_aligned_earns_between_the_two(runs):
    s, p, a = (runs[n]["revenue"].mean() for n in ("siloed", "partly-aligned", "aligned"))
    assert s < p < a


def test_aligned_pays_for_the_reps_its_sla_takes(runs):
    """Aligned staffs for its SLA: more reps, so a higher rep cost, and profit says so."""
    s, a = load("siloed"), load("aligned")
    assert a.sales.reps > s.sales.reps
    cost = runs["aligned"]["rep_cost"].mean() - runs["siloed"]["rep_cost"].mean()
    assert cost > 0.5 * (a.sales.reps - s.sales.reps) * a.costs.rep_cost_per_year
    gain = runs["aligned"]["revenue"].mean() - runs["siloed"]["revenue"].mean()
    profit = runs["aligned"]["profit"].mean() - runs["siloed"]["profit"].mean()
    assert profit < gain


def test_first_year_bookings_gap_is_where_the_surveys_put_it(runs):
    """Aligned's bookings closed within the year over siloed's: 1.2x to 2.5x (Aberdeen +20% vs
    -4% suggests ~1.25x; the lever-level figures allow more), per replication on common random
    numbers, within 4 SE of the band."""
    ratio = (
        runs["aligned"]["bookings_in_horizon"] / runs["siloed"]["bookings_in_horizon"]
    ).to_numpy()
    mean, tol = _band(ratio)
    assert 1.2 - tol <= mean <= 2.5 + tol, (mean, tol)


@pytest.fixture(scope="module")
def lever_runs(runs):
    siloed, aligned = load("siloed"), load("aligned")
    return {
        name: fs.run(
            lever_scenario(siloed, aligned, keys), 6, SEED, keep_records=False, progress=False
        ).kpis
        for name, (keys, _, _) in LEVER_BOUNDS.items()
    }


def test_the_levers_cover_every_difference_between_the_presets():
    siloed, aligned = load("siloed"), load("aligned")
    changed = {k for keys in fs.lever_groups(siloed, aligned).values() for k in keys}
    named = {k for keys, _, _ in LEVER_BOUNDS.values() for k in keys}
    assert changed <= named | {"name", "description"}, changed - named


@pytest.mark.parametrize("lever", list(LEVER_BOUNDS))
def test_no_lever_alone_moves_revenue_beyond_its_evidence(runs, lever_runs, lever):
    """Revenue (all bookings) with the lever alone over siloed's, paired by replication: the
    mean ratio stays within the lever's evidence bound."""
    _, bound, _ = LEVER_BOUNDS[lever]
    base = runs["siloed"]["revenue"].to_numpy(float)[:6]
    ratio = lever_runs[lever]["revenue"].to_numpy(float) / base
    mean, tol = _band(ratio)
    if bound == 1.0:
        np.testing.assert_allclose(ratio, 1.0, rtol=1e-12)
    else:
        assert mean <= bound, (lever, mean, tol, bound)
        assert mean - tol > 0.9, (lever, mean, tol)  # and it does something, or it would not be
