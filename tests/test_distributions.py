"""Distributions: analytic moments, sampling by inverse transform, and parsing (Ciw style).

Each sampler draws n = 200,000 values by ``ppf`` on seeded uniforms. The sample mean must lie
within 4 SE of the analytic mean, SE = sqrt(var / n); the sample variance within 4 SE of the
analytic variance, SE = sqrt((mu4 - var^2) / n) with mu4 = var^2 (3 + excess kurtosis), the
large-sample variance of s^2. A KS test against SciPy's distribution of the same parameters must
not reject at p < 1e-4 (and does reject a 10%-off parameter: power).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.distributions import (
    Constant,
    Exponential,
    Gamma,
    Lognormal,
    Uniform,
    parse_distribution,
)

N = 200_000

CASES = [
    (Exponential(18.0), stats.expon(scale=18.0)),
    (Lognormal(60.0, 0.6), stats.lognorm(s=0.6, scale=60.0)),
    (Lognormal(5.0, 1.0), stats.lognorm(s=1.0, scale=5.0)),
    (Gamma(55_000.0, 0.8), stats.gamma(a=1 / 0.8**2, scale=55_000.0 * 0.8**2)),
    (Gamma(3.0, 2.0), stats.gamma(a=0.25, scale=12.0)),
    (Uniform(2.0, 30.0), stats.uniform(loc=2.0, scale=28.0)),
]
IDS = ["exponential", "lognormal", "lognormal-wide", "gamma", "gamma-cv2", "uniform"]


def _sample(d, n=N, seed=17):
    return d.ppf(np.random.default_rng(seed).random(n))


@pytest.mark.parametrize(("d", "ref"), CASES, ids=IDS)
def test_analytic_moments_match_scipy(d, ref):
    assert d.mean == pytest.approx(ref.mean(), rel=1e-9)
    assert d.variance == pytest.approx(ref.var(), rel=1e-9)


@pytest.mark.parametrize(("d", "ref"), CASES, ids=IDS)
def test_sample_moments(d, ref):
    x = _sample(d)
    var = d.variance
    assert abs(x.mean() - d.mean) <= 4 * math.sqrt(var / N)
    mu4 = var**2 * (3 + float(ref.stats(moments="k")))
    assert abs(x.var(ddof=1) - var) <= 4 * math.sqrt((mu4 - var**2) / N)
    assert x.min() >= ref.support()[0]


@pytest.mark.parametrize(("d", "ref"), CASES, ids=IDS)
def test_ks_and_quantiles(d, ref):
    x = _sample(d, 20_000, seed=23)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-4
    # Power: the same sample against a distribution scaled by 1.1 is rejected.
    assert stats.kstest(x / 1.1, ref.cdf).pvalue < 1e-6
    u = np.array([1e-6, 0.01, 0.25, 0.5, 0.75, 0.99, 1 - 1e-6])
    np.testing.assert_allclose(d.ppf(u), ref.ppf(u), rtol=1e-7)


def test_constant():
    d = Constant(6.5)
    assert d.mean == 6.5 and d.variance == 0.0
    assert np.all(d.ppf(np.random.default_rng(1).random(100)) == 6.5)
    assert d.ppf(np.zeros((2, 3))).shape == (2, 3)


def test_ppf_is_monotone_for_common_random_numbers():
    """Inverse transform: a larger uniform never gives a smaller value (keeps CRN aligned)."""
    u = np.linspace(0.001, 0.999, 999)
    for d, _ in CASES:
        assert np.all(np.diff(d.ppf(u)) >= 0)


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (18, Constant(18.0)),
        (0, Constant(0.0)),
        (2.5, Constant(2.5)),
        ({"dist": "constant", "value": 3}, Constant(3.0)),
        ({"dist": "exponential", "mean": 18}, Exponential(18.0)),
        ({"dist": "lognormal", "median": 60, "sigma": 0.6}, Lognormal(60.0, 0.6)),
        ({"dist": "gamma", "mean": 55000, "cv": 0.8}, Gamma(55000.0, 0.8)),
        ({"dist": "uniform", "low": 1, "high": 4}, Uniform(1.0, 4.0)),
    ],
)
def test_parse(value, expected):
    d = parse_distribution(value)
    assert d == expected
    assert parse_distribution(d.spec()) == d  # spec() round-trips


def test_lognormal_by_mean_and_cv():
    """mean + cv is converted to median + sigma with the same mean and cv."""
    d = parse_distribution({"dist": "lognormal", "mean": 40, "cv": 0.5})
    assert d.mean == pytest.approx(40.0)
    assert math.sqrt(d.variance) / d.mean == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (-1, ">= 0"),
        (float("nan"), "finite"),
        (True, "true/false"),
        ("fast", "dist is one of"),
        ([1, 2], "dist is one of"),
        ({"dist": "weibull", "scale": 2}, "must be one of"),
        ({"mean": 3}, "must be one of"),
        ({"dist": "lognormal", "mean": 10}, "median+sigma or mean+cv"),
        ({"dist": "lognormal", "median": 10, "cv": 1}, "median+sigma or mean+cv"),
        ({"dist": "exponential", "mean": 0}, "mean must be > 0"),
        ({"dist": "exponential", "mean": -2}, "mean must be > 0"),
        ({"dist": "exponential", "mean": "x"}, "must be a finite number"),
        ({"dist": "gamma", "mean": 1, "cv": 0}, "cv must be from 0.001 to 10"),
        ({"dist": "uniform", "low": 5, "high": 5}, "low < high"),
        ({"dist": "uniform", "low": -1, "high": 5}, "low < high"),
        ({"dist": "constant", "value": -3}, ">= 0"),
        ({"dist": "exponential", "mean": 3, "extra": 1}, "takes mean"),
    ],
)
def test_parse_errors(value, says):
    with pytest.raises(ValueError, match=None) as info:
        parse_distribution(value)
    assert says in str(info.value)


def test_bad_distribution_in_a_scenario_names_the_key(minimal_scenario_dict):
    minimal_scenario_dict["sales"]["handling_minutes"] = {"dist": "lognormal", "mean": 10}
    with pytest.raises(fs.ScenarioError) as info:
        fs.from_dict(minimal_scenario_dict, source="x.toml")
    text = str(info.value)
    assert "x.toml" in text and "sales.handling_minutes" in text and "mean+cv" in text
