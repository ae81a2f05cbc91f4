"""Parameter recovery on synthetic exports from a generator written for the tests
(`crm_synthetic`, plain numpy, not funnelsim's engine), with censoring strong enough that the
naive estimate (stage counts over leads) misses the truth.

Tolerances come from the fit's own standard errors: |estimate - truth| <= 4 se, where se is the
95% interval's half-width / 1.96 (a correct fit fails this with probability ~6e-5 per key). The
naive estimate must miss by more than 4 of the same se, which also shows the band is narrow
enough to catch a fit that ignored censoring (the power guard).
"""

from __future__ import annotations

import pytest
from crm_synthetic import TRUTH, generate

import funnelsim as fs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    path = tmp_path_factory.mktemp("syn") / "export.csv"
    generate(days=120.0, seed=7).to_csv(path, index=False)
    return fs.calibrate(path)


def se(p) -> float:
    lo, hi = p.ci95
    return (hi - lo) / (2 * 1.959964)


@pytest.mark.parametrize(
    "key, truth, naive_misses",
    [
        ("marketing.mql_rate", TRUTH["mql_rate"], True),
        ("marketing.time_to_mql_days.median", TRUTH["mql_median_days"], False),
        ("handoff.acceptance_rate", TRUTH["acceptance_rate"], False),
        ("sales.coverage", TRUTH["coverage"], False),
        ("sales.contact_rate", TRUTH["reach"], False),
        ("qualification.time_to_sql_days.mean", TRUTH["sql_mean_days"], False),
        ("qualification.decay_floor", TRUTH["decay_floor"], False),
        ("qualification.decay_tau_hours", TRUTH["decay_tau_hours"], False),
        ("deals.opportunity_rate", TRUTH["opportunity_rate"], True),
        ("deals.win_rate", TRUTH["win_rate"], True),
        ("deals.sales_cycle_days.median", TRUTH["cycle_median_days"], False),
    ],
)
def test_the_fit_recovers_the_truth_and_the_naive_estimate_misses(fitted, key, truth, naive_misses):
    p = fitted.parameters[key]
    assert p.fitted and p.ci95 is not None
    assert abs(p.value - truth) <= 4 * se(p), (key, p.value, p.ci95)
    if naive_misses:
        assert p.naive is not None
        assert abs(p.naive - truth) > 4 * se(p), (key, p.naive, truth, se(p))


def test_sql_rate_at_zero_wait_is_recovered(fitted):
    # The decay's three numbers are strongly correlated; sql_rate alone has a wide interval.
    p = fitted.parameters["qualification.sql_rate"]
    assert abs(p.value - TRUTH["sql_rate"]) <= 4 * se(p)


def test_each_delay_family_is_chosen_by_aic_and_reported(fitted):
    aic = fitted.aic
    chosen = aic[aic["chosen"]].set_index("delay")["family"]
    assert chosen["prospect -> MQL"] == "lognormal"  # the generator's family
    assert chosen["opportunity -> close"] == "lognormal"
    assert set(aic["family"]) == {"exponential", "lognormal", "gamma"}
    assert "by AIC" in fitted.parameters["marketing.mql_rate"].method


def test_every_fitted_number_in_the_file_has_its_comment(fitted):
    text = fitted.text
    line = next(x for x in text.splitlines() if x.startswith("mql_rate ="))
    assert "95% CI [" in line and "n=" in line and "mixture cure model" in line
    kept = next(x for x in text.splitlines() if x.startswith("handling_minutes ="))
    assert "not fitted" in kept
