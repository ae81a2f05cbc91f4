"""Prospect arrivals: a Poisson process, non-homogeneous under weekday and monthly profiles.

Counts in disjoint periods of an (N)HPP are independent Poisson, so given the total they are
multinomial with cell shares proportional to the integrated intensity: a chi-square goodness-of-
fit test applies. We reject at p < 1e-4 (a correct model fails with probability 1e-4), and check
power by showing the same counts reject the flat (wrong) profile. Totals are Poisson(Lambda):
tolerance 4 sqrt(Lambda).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.model.arrivals import arrival_times, daily_multipliers

WEEKDAY = [1.15, 1.2, 1.2, 1.15, 1.0, 0.6, 0.7]
MONTHLY = [0.8, 0.9, 1.1, 1.2, 1.1, 1.0, 0.7, 0.6, 1.1, 1.3, 1.2, 0.9]
MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _scenario(minimal: dict, horizon_days: float, ppw: float, **arrivals) -> fs.Scenario:
    minimal["run"] = {"horizon_days": horizon_days, "start_date": "2029-01-01"}
    minimal["arrivals"] = {"prospects_per_week": ppw, **arrivals}
    minimal["sales"]["reps"] = 100  # only arrivals are drawn here; keep the load check quiet
    return fs.from_dict(minimal)


def _fit(observed: np.ndarray, shares: np.ndarray) -> float:
    shares = np.asarray(shares, float) / np.sum(shares)
    return float(stats.chisquare(observed, observed.sum() * shares).pvalue)


def test_weekday_profile(minimal_scenario_dict):
    """52 weeks at 2,000 prospects/week: the weekday counts follow the profile."""
    s = _scenario(minimal_scenario_dict, 364, 2000, weekday_profile=WEEKDAY)
    t = arrival_times(s, 1, 0)
    weekday = (s.run.start_date.weekday() + np.floor(t / 24).astype(int)) % 7
    counts = np.bincount(weekday, minlength=7)
    assert _fit(counts, WEEKDAY) > 1e-4
    assert _fit(counts, np.ones(7)) < 1e-12  # power: a flat week is clearly rejected
    # The weekly mean is kept: 52 weeks hold exactly 52 * prospects_per_week in expectation.
    assert abs(t.size - 52 * 2000) <= 4 * math.sqrt(52 * 2000)


def test_weekday_profile_follows_start_date(minimal_scenario_dict):
    """Day 0 on a Wednesday: day 0's rate is the profile's Wednesday entry."""
    s = _scenario(minimal_scenario_dict, 14, 100, weekday_profile=[1, 2, 3, 4, 5, 6, 7])
    s = fs.override(s, {"run.start_date": dt.date(2029, 1, 3)})
    mult = daily_multipliers(s, 7)
    assert mult == pytest.approx(np.array([3, 4, 5, 6, 7, 1, 2]) / 4.0)


def test_monthly_seasonality(minimal_scenario_dict):
    """One year at 5,000 prospects/week: the monthly counts follow seasonality x month length,
    and the yearly total keeps the mean rate."""
    s = _scenario(minimal_scenario_dict, 365, 5000, monthly_seasonality=MONTHLY)
    t = arrival_times(s, 2, 0)
    dates = np.datetime64("2029-01-01") + np.floor(t / 24).astype("timedelta64[D]")
    month = dates.astype("datetime64[M]").astype(int) % 12
    counts = np.bincount(month, minlength=12)
    assert _fit(counts, np.array(MONTHLY) * MONTH_DAYS) > 1e-4
    assert _fit(counts, MONTH_DAYS) < 1e-12
    expected = 5000 * 365 / 7
    assert abs(t.size - expected) <= 4 * math.sqrt(expected)


def test_profiles_together_keep_the_mean(minimal_scenario_dict):
    """With both profiles the integrated intensity stays within 0.5% of rate x horizon (the two
    profiles are rescaled separately, so their product's mean is only approximately 1)."""
    s = _scenario(
        minimal_scenario_dict, 364, 3000, weekday_profile=WEEKDAY, monthly_seasonality=MONTHLY
    )
    mult = daily_multipliers(s, 364)
    assert mult.mean() == pytest.approx(1.0, abs=0.005)
    counts = [arrival_times(s, 3, r).size for r in range(3)]
    expected = 3 * (3000 / 7) * np.sum(mult)  # 3 replications x daily rate x multipliers
    assert abs(sum(counts) - expected) <= 4 * math.sqrt(expected)


def test_constant_rate_is_poisson(minimal_scenario_dict):
    """No profile: inter-arrival times are Exp(rate) (KS test on 20,000 gaps) and counts over
    independent replications have Poisson mean and variance (dispersion index test)."""
    s = _scenario(minimal_scenario_dict, 70, 2000)
    t = arrival_times(s, 4, 0)
    rate_h = 2000 / 168
    assert stats.kstest(np.diff(t), "expon", args=(0, 1 / rate_h)).pvalue > 1e-4
    assert stats.kstest(np.diff(t), "expon", args=(0, 1.1 / rate_h)).pvalue < 1e-6
    short = fs.override(s, {"run.horizon_days": 1})
    counts = np.array([arrival_times(short, 4, r).size for r in range(400)])
    lam = rate_h * 24
    # Sum of 400 Poisson(lam) is Poisson(400 lam): 4 sd band on the total.
    assert abs(counts.sum() - 400 * lam) <= 4 * math.sqrt(400 * lam)
    # Dispersion index sum (x - mean)^2 / mean ~ chi2(n - 1) under Poisson counts.
    d = float(np.sum((counts - counts.mean()) ** 2) / counts.mean())
    assert stats.chi2.sf(d, 399) > 1e-4 and stats.chi2.cdf(d, 399) > 1e-4


def test_time_of_day_is_uniform_within_a_profiled_day(minimal_scenario_dict):
    """The profile is constant within each day, so arrival times of day are uniform (KS)."""
    s = _scenario(minimal_scenario_dict, 91, 3000, weekday_profile=WEEKDAY)
    t = arrival_times(s, 5, 0)
    assert stats.kstest((t % 24) / 24, "uniform").pvalue > 1e-4


@pytest.mark.parametrize("profile", [None, WEEKDAY])
def test_arrivals_are_sorted_inside_the_horizon(minimal_scenario_dict, profile):
    extra = {} if profile is None else {"weekday_profile": profile}
    s = _scenario(minimal_scenario_dict, 10.5, 500, **extra)
    t = arrival_times(s, 6, 0)
    assert t.size > 0
    assert np.all(np.diff(t) >= 0) and t[0] >= 0 and t[-1] < 10.5 * 24


def test_zero_weekend_profile_means_no_weekend_arrivals(minimal_scenario_dict):
    s = _scenario(minimal_scenario_dict, 28, 1000, weekday_profile=[1, 1, 1, 1, 1, 0, 0])
    t = arrival_times(s, 7, 0)
    weekday = np.floor(t / 24).astype(int) % 7
    assert t.size > 0 and not np.isin(weekday, [5, 6]).any()
