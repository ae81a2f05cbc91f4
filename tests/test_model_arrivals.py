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


# B2B web inquiries peak in office hours (an illustrative shape; the presets cite theirs).
HOURLY = [0.2] * 7 + [0.8, 1.6, 2.0, 2.0, 1.8, 1.4, 1.8, 1.9, 1.8, 1.5, 1.0, 0.6] + [0.4] * 5


def test_hourly_profile_shapes_the_hour_of_day_and_keeps_the_mean(minimal_scenario_dict):
    """The hour-of-day counts follow the 24 multipliers (chi-square, p > 1e-4), the flat profile
    is rejected by the same counts (power), and the total stays Poisson(rate x horizon)."""
    s = _scenario(minimal_scenario_dict, 91, 3000, hourly_profile=HOURLY, weekday_profile=WEEKDAY)
    t = arrival_times(s, 5, 1)
    counts = np.bincount(np.floor(t % 24).astype(int), minlength=24)
    assert _fit(counts, HOURLY) > 1e-4
    assert _fit(counts, np.ones(24)) < 1e-4
    expected = 3000 * 91 / 7
    assert abs(t.size - expected) <= 4 * math.sqrt(expected)


def test_hourly_profile_scale_does_not_matter(minimal_scenario_dict):
    """Multipliers are rescaled to mean 1: ten times the profile is the same process."""
    a = _scenario(minimal_scenario_dict, 28, 500, hourly_profile=HOURLY)
    b = _scenario(minimal_scenario_dict, 28, 500, hourly_profile=[10 * x for x in HOURLY])
    np.testing.assert_allclose(arrival_times(a, 3, 0), arrival_times(b, 3, 0), rtol=1e-12)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ([1.0] * 23, "24 numbers"),
        ([1.0] * 25, "24"),
        ([1.0] * 23 + [-1.0], "0"),
        ([0.0] * 24, "not all zero"),
    ],
)
def test_bad_hourly_profile_is_refused(minimal_scenario_dict, bad, says, write_scenario, cli):
    minimal_scenario_dict["arrivals"]["hourly_profile"] = bad
    res = cli("validate", write_scenario(minimal_scenario_dict))
    assert res.exit_code == 2
    assert "arrivals.hourly_profile" in res.stderr and says in res.stderr


def test_a_higher_volume_only_adds_prospects_in_every_window(minimal_scenario_dict):
    """Quota searches need a monotone funnel: at a higher rate every prospect of the lower rate
    is still there, at the same time (so the counted cohort after a warm-up is a superset), with
    the same draws; with ample reps and no decay its outcome is the same, so cohort customers
    never fall as the volume rises, on a fine grid of volumes (exact, step by step)."""
    data = minimal_scenario_dict
    data["run"] = {"horizon_days": 120, "warmup_days": 30, "start_date": "2029-03-01"}
    data["arrivals"] = {
        "prospects_per_week": 50,
        "weekday_profile": WEEKDAY,
        "monthly_seasonality": MONTHLY,
        "hourly_profile": HOURLY,
    }
    data["marketing"] = {"mql_rate": 0.5, "time_to_mql_days": {"dist": "exponential", "mean": 5}}
    data["sales"] = {"reps": 40, "handling_minutes": 1, "contact_rate": 0.6, "attempts": 2}
    data["qualification"] = {"sql_rate": 0.5}
    data["deals"] = {"win_rate": 0.5, "deal_size": 1000}
    base = fs.from_dict(data)
    previous = None
    for ppw in np.arange(50.0, 90.0, 2.5):
        rec = fs.simulate(fs.override(base, {"arrivals.prospects_per_week": float(ppw)}), 8, 0)
        cohort = rec.arrival[rec.cohort_prospects()]
        won = set(rec.arrival[rec.mql_id[rec.won & rec.cohort_mqls()]].tolist())
        if previous is not None:
            before, won_before = previous
            assert np.isin(before, cohort).all(), ppw
            assert won_before <= won, ppw
        previous = (cohort, won)
    assert len(previous[1]) > 20
