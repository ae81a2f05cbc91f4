"""Paired comparisons on common random numbers (CRN).

Replication r of both scenarios uses the same streams, so the two scenarios' KPIs are positively
correlated replication by replication, and the paired interval of the difference is narrower
than the interval that treats the two samples as independent (Welch). The control: with
different seeds the samples are independent and the correlation vanishes.

Statistics: R = 30 replications of the presets cut to 90 days. Under CRN the per-replication
correlation of revenue (and customers) is about 0.6, and its sampling sd at R = 30 is about
(1 - 0.6^2) / sqrt(30) = 0.12, so a correlation small enough for the paired interval to lose
(about 0.03, from the t quantiles) is 5 sd away. The control (independent seeds) uses Fisher's z,
atanh(r) sqrt(R - 3) ~ N(0, 1), with a two-sided 99.9% band: a correct model fails it with
probability 1e-3.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.formatting import comparison_text_frame

PRESETS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = {"run.horizon_days": 90, "run.warmup_days": 14}
R = 30


@pytest.fixture(scope="module")
def presets():
    return fs.load(PRESETS / "siloed.toml", SHORT), fs.load(PRESETS / "aligned.toml", SHORT)


@pytest.fixture(scope="module")
def comparison(presets):
    siloed, aligned = presets
    return fs.compare(siloed, aligned, R, seed=1, progress=False)


def _welch_half_width(a: np.ndarray, b: np.ndarray) -> float:
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return float(stats.t.ppf(0.975, df) * math.sqrt(va + vb))


def _fisher_z(a: np.ndarray, b: np.ndarray) -> float:
    """atanh of the sample correlation in standard errors: ~N(0, 1) for independent samples."""
    return float(np.arctanh(np.corrcoef(a, b)[0, 1]) * math.sqrt(a.size - 3))


@pytest.mark.parametrize("kpi", ["revenue", "customers"])
def test_paired_ci_is_narrower_than_unpaired_on_the_presets(comparison, kpi):
    """CRN works: the scenarios move together replication by replication, so the paired CI of
    the difference is narrower than the Welch CI of the same two samples."""
    a = comparison.baseline.kpis[kpi].to_numpy(float)
    b = comparison.alternative.kpis[kpi].to_numpy(float)
    row = comparison.table().loc[kpi]
    paired = (row["ci_high"] - row["ci_low"]) / 2
    assert paired < _welch_half_width(a, b)


def test_without_common_random_numbers_the_samples_are_independent(presets, comparison):
    """The control: the alternative on another seed is uncorrelated with the baseline."""
    _, aligned = presets
    independent = fs.run(aligned, R, seed=2, keep_records=False, progress=False)
    a = comparison.baseline.kpis["revenue"].to_numpy(float)
    b = independent.kpis["revenue"].to_numpy(float)
    assert abs(_fisher_z(a, b)) < stats.norm.ppf(0.9995)  # two-sided 99.9%


def test_table_columns_and_significance(comparison):
    t = comparison.table()
    assert list(t.columns) == [
        "baseline",
        "alternative",
        "diff",
        "ci_low",
        "ci_high",
        "relative",
        "significant",
        "n",
    ]
    rev = t.loc["revenue"]
    assert rev["diff"] == pytest.approx(rev["alternative"] - rev["baseline"], rel=1e-9)
    assert rev["relative"] == pytest.approx(rev["diff"] / rev["baseline"], rel=1e-12)
    assert rev["significant"] == (rev["ci_low"] > 0 or rev["ci_high"] < 0)
    # Same arrivals in both (CRN): the prospect counts are identical, the difference exactly 0.
    assert t.loc["prospects", "diff"] == 0 and not t.loc["prospects", "significant"]


def test_diff_is_alternative_minus_baseline_over_the_same_replications(comparison):
    """A KPI undefined in some replications (NaN: e.g. days to customer without customers) is
    averaged, on both sides, over the replications where both scenarios define it, so diff ==
    alternative - baseline exactly and ``n`` says how many there were (each side's own mean
    used to cover different replications, and diff disagreed with the two means shown)."""
    base_kpis = comparison.baseline.kpis.copy()
    alt_kpis = comparison.alternative.kpis.copy()
    base_kpis.iloc[0, base_kpis.columns.get_loc("revenue")] = np.nan
    alt_kpis.iloc[1, alt_kpis.columns.get_loc("revenue")] = np.nan
    alt_kpis["customers"] = np.nan
    holed = fs.Comparison(
        dataclasses.replace(comparison.baseline, kpis=base_kpis),
        dataclasses.replace(comparison.alternative, kpis=alt_kpis),
    )
    rev = holed.table().loc["revenue"]
    a = comparison.baseline.kpis["revenue"].to_numpy(float)[2:]
    b = comparison.alternative.kpis["revenue"].to_numpy(float)[2:]
    assert rev["n"] == R - 2
    assert rev["baseline"] == pytest.approx(a.mean(), rel=1e-12)
    assert rev["alternative"] == pytest.approx(b.mean(), rel=1e-12)
    assert rev["diff"] == pytest.approx(rev["alternative"] - rev["baseline"], rel=1e-12)
    doc = holed.to_dict()["kpis"]
    assert doc["revenue"]["n"] == R - 2 and doc["prospects"]["n"] == R
    assert doc["customers"]["n"] == 0 and doc["customers"]["baseline"] is None
    assert comparison_text_frame(holed.table()).loc["revenue", "n"] == str(R - 2)


def test_cli_compare_json_contract(cli, write_scenario, minimal_dict_factory):
    base = minimal_dict_factory()
    alt = minimal_dict_factory()
    alt["name"] = "more_reps"
    alt["sales"]["reps"] = 5
    a, b = write_scenario(base, "a.toml"), write_scenario(alt, "b.toml")
    res = cli("compare", a, b, "--replications", "3", "--json", "--workers", "2", "--quiet")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["baseline"] == "minimal" and doc["alternative"] == "more_reps"
    assert doc["replications"] == 3
    wait = doc["kpis"]["first_touch_hours_mean"]
    assert set(wait) >= {"baseline", "alternative", "diff", "ci95", "relative"}
    assert wait["diff"] < 0  # more reps, shorter waits, on the same arrivals
