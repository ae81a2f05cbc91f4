"""A leadforge bundle (a synthetic CRM from another project), calibrated and simulated,
reproduces the bundle's own stage rates and deal size.

A bundle follows each lead for its ``horizon_days`` (90) after creation, so the comparison
counts, in the simulation too, what happens within 90 days of a lead's arrival. Tolerance: 4
standard errors of the difference of two binomial shares (or means), bundle and simulation
counted as independent samples (conservative: the fit used the bundle).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs

leadforge = pytest.importorskip("leadforge.api", reason="leadforge is a test extra")
pytestmark = pytest.mark.slow

WINDOW_H = 90 * 24.0


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    path = tmp_path_factory.mktemp("lf") / "bundle"
    gen = leadforge.Generator.from_recipe(
        "b2b_saas_procurement_v1", seed=11, exposure_mode="research_instructor"
    )
    gen.generate(n_leads=1200, difficulty="intro").save(str(path))
    return path


@pytest.fixture(scope="module")
def fitted(bundle):
    return fs.calibrate(bundle, format="leadforge")


def bundle_rates(path) -> dict[str, tuple[float, int]]:
    leads = pd.read_parquet(path / "tables" / "leads.parquet")
    opps = pd.read_parquet(path / "tables" / "opportunities.parquet")
    n = len(leads)
    won = opps[opps["close_outcome"] == "closed_won"]
    return {
        "opportunity_share": (opps["lead_id"].nunique() / n, n),
        "won_share": (won["lead_id"].nunique() / n, n),
        "deal_mean": (float(won["estimated_acv"].mean()), len(won)),
        "deal_sd": (float(won["estimated_acv"].std()), len(won)),
    }


def simulated_rates(scenario) -> dict[str, tuple[float, int]]:
    s = fs.override(scenario, {"run.horizon_days": 365, "run.warmup_days": 0})
    rec = fs.simulate(s, 1, 0)
    arrival = rec.arrival[rec.mql_id]
    # The engine also simulates arrivals before day 0 and past the horizon; count [0, horizon).
    counted = (arrival >= 0) & (arrival < rec.horizon_h)
    opp = counted & ((rec.opportunity_at - arrival) <= WINDOW_H)
    won = counted & rec.won & ((rec.closed_at - arrival) <= WINDOW_H)
    n = int(np.sum((rec.arrival >= 0) & (rec.arrival < rec.horizon_h)))
    amounts = rec.amount[won]
    return {
        "opportunity_share": (np.unique(rec.mql_id[opp]).size / n, n),
        "won_share": (np.unique(rec.mql_id[won]).size / n, n),
        "deal_mean": (float(amounts.mean()), int(amounts.size)),
        "deal_sd": (float(amounts.std(ddof=1)), int(amounts.size)),
    }


def test_the_bundle_is_read_with_its_dates_only_limits(fitted):
    assert any("dates only" in n for n in fitted.notes)
    assert not fitted.parameters["qualification.decay_floor"].fitted
    assert fitted.parameters["marketing.mql_rate"].value == 1.0  # leads start as MQLs
    assert fitted.parameters["deals.win_rate"].fitted


@pytest.mark.parametrize("what", ["opportunity_share", "won_share"])
def test_simulated_stage_rates_match_the_bundle(bundle, fitted, what):
    b, nb = bundle_rates(bundle)[what]
    s, ns = simulated_rates(fitted.scenario)[what]
    se = math.sqrt(b * (1 - b) / nb + s * (1 - s) / ns)
    assert abs(s - b) <= 4 * se, (what, b, s, se)


def test_simulated_deal_size_matches_the_bundle(bundle, fitted):
    obs, sim = bundle_rates(bundle), simulated_rates(fitted.scenario)
    se = math.sqrt(
        obs["deal_sd"][0] ** 2 / obs["deal_mean"][1] + sim["deal_sd"][0] ** 2 / sim["deal_mean"][1]
    )
    assert abs(sim["deal_mean"][0] - obs["deal_mean"][0]) <= 4 * se
