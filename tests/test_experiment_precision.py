"""How many replications: the sequential rule adds batches until the CI is tight enough.

The rule (AnyLogic-style; Hoad, Robinson & Davies 2010): a KPI is precise enough when its 95% t
half-width is within ``precision * |mean|`` (for a comparison, ``|mean difference|``);
otherwise the next batch brings the count to n* = ceil((t(n-1) s / (precision |mean|))^2),
adding at least 3, never past the ceiling.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.experiment.precision import (
    plan,
    relative_half_width,
    replicate_until_precise,
    replications_needed,
)


@pytest.fixture(scope="module")
def base(minimal_dict_factory):
    return fs.from_dict(minimal_dict_factory(), source="minimal")


def test_replications_needed_is_the_textbook_estimate():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    t = stats.t.ppf(0.975, 4)
    expected = math.ceil((t * x.std(ddof=1) / (0.05 * 3.0)) ** 2)
    assert replications_needed(x, 3.0, 0.05, 0.95) == expected
    assert relative_half_width(x, 3.0) == pytest.approx(t * x.std(ddof=1) / math.sqrt(5) / 3.0)
    assert relative_half_width(np.zeros(4), 0.0) == 0.0  # no spread, nothing to estimate
    assert relative_half_width(np.array([1.0, np.nan]), 1.0) == math.inf  # one finite value


def test_batches_are_contiguous_at_least_three_and_stop_when_met():
    """With a synthetic KPI (mean 100, sd 20) the rule runs ids 0..n-1 in growing batches and
    stops at the first check where the half-width is within 2% of the mean."""
    values = np.random.default_rng(7).normal(100.0, 20.0, 1000)
    batches: list[list[int]] = []

    def run_batch(ids):
        batches.append(ids)

    def measure():
        n = sum(len(b) for b in batches)
        return {"kpi": (values[:n], float(values[:n].mean()))}

    settings = plan(0.02, 500, 10, ["revenue"])
    report = replicate_until_precise(run_batch, measure, settings)
    ids = [i for b in batches for i in b]
    assert ids == list(range(report.replications_reached))
    assert batches[0] == list(range(10))
    assert all(len(b) >= 3 for b in batches[1:])
    assert report.met
    assert relative_half_width(values[: report.replications_reached], values.mean()) <= 0.02
    # It did not stop later than necessary: at the previous check the target was missed.
    before = report.replications_reached - len(batches[-1])
    assert relative_half_width(values[:before], values[:before].mean()) > 0.02
    # sd/mean = 0.2 needs about (1.96 * 0.2 / 0.02)^2 = 385 replications.
    assert 300 < report.replications_reached < 500


def test_run_reaches_the_precision_and_equals_a_plain_run(base):
    result = fs.run(base, seed=3, precision=0.01, keep_records=False, progress=False)
    report = result.precision
    assert report.met and report.replications_reached == result.replications > 10
    rev = result.kpis["revenue"].to_numpy(float)
    assert relative_half_width(rev, rev.mean()) <= 0.01
    plain = fs.run(base, report.replications_reached, 3, keep_records=False, progress=False)
    pd.testing.assert_frame_equal(result.kpis, plain.kpis, check_exact=True)


def test_ceiling_is_respected_and_reported(base):
    result = fs.run(
        base, 4, 3, precision=0.0001, max_replications=9, keep_records=False, progress=False
    )
    assert result.replications == 9
    assert not result.precision.met
    doc = result.to_dict()
    assert doc["replications_reached"] == 9 and doc["precision_met"] is False


def test_compare_precision_is_relative_to_the_difference(base):
    """The yardstick of a comparison is the difference itself: the gap is known to ±5% of the
    gap. A win rate of 0.9 against 1 moves revenue by about 10%, so measured against the
    baseline's mean (the old yardstick) 10 replications were enough, with the difference's
    half-width still 9% of the difference; now the rule goes on until it is within 5%."""
    alt = fs.override(base, {"deals.win_rate": 0.9})
    comp = fs.compare(base, alt, seed=3, precision=0.05, progress=False)
    report = comp.precision
    assert report.met and report.replications_reached > 10
    assert report.yardstick == "difference"
    row = comp.table().loc["revenue"]
    half = (row["ci_high"] - row["ci_low"]) / 2
    assert half <= 0.05 * abs(row["diff"])
    assert report.relative_half_width["revenue"] == pytest.approx(half / abs(row["diff"]))
    assert row["ci_high"] < 0  # within eps < 1 of itself: the CI excludes zero
    # The old yardstick would have stopped at the first batch, short of the target.
    first = fs.compare(base, alt, 10, 3, progress=False).table().loc["revenue"]
    assert (first["ci_high"] - first["ci_low"]) / 2 > 0.05 * abs(first["diff"])
    assert (first["ci_high"] - first["ci_low"]) / 2 <= 0.05 * abs(first["baseline"])
    doc = comp.to_dict()
    assert doc["replications_reached"] == comp.baseline.replications
    assert doc["precision_yardstick"] == "difference"
    plain = fs.compare(base, alt, report.replications_reached, 3, progress=False)
    pd.testing.assert_frame_equal(comp.table(), plain.table(), check_exact=True)


def test_compare_precision_of_a_difference_near_zero_is_not_met_and_says_why(base):
    """A gamma deal size of the same mean as the constant one: the true revenue difference is 0,
    so no count measures it to a share of itself. The rule runs to the ceiling, reports the
    target not met, and says the CI still includes zero (it does at this seed: checked)."""
    alt = fs.override(base, {"deals.deal_size": {"dist": "gamma", "mean": 1000, "cv": 0.5}})
    comp = fs.compare(base, alt, seed=3, precision=0.05, max_replications=15, progress=False)
    report = comp.precision
    assert not report.met and report.replications_reached == 15
    row = comp.table().loc["revenue"]
    assert row["ci_low"] < 0 < row["ci_high"]
    assert "still includes zero" in report.describe()
    assert "target NOT met" in report.describe()


def test_cli_compare_precision_speaks_of_the_difference(cli, write_scenario, minimal_dict_factory):
    data = minimal_dict_factory()
    a = write_scenario(data, "a.toml")
    data["deals"]["win_rate"] = 0.9
    b = write_scenario(data, "b.toml")
    res = cli("compare", a, b, "--precision", "0.05", "--json", "-q")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["precision_met"] is True and doc["precision_yardstick"] == "difference"
    k = doc["kpis"]["revenue"]
    assert (k["ci95"][1] - k["ci95"][0]) / 2 <= 0.05 * abs(k["diff"])
    text = cli("compare", a, b, "--precision", "0.05", "-q")
    assert "target met (revenue ±" in text.stderr and "of the difference" in text.stderr
    helptext = " ".join(cli("compare", "--help").stdout.replace("│", " ").split())
    assert "share of the difference itself" in helptext


def test_cli_run_precision_json_and_stderr_report(cli, write_scenario, minimal_dict_factory):
    path = write_scenario(minimal_dict_factory())
    res = cli("run", path, "--precision", "0.02", "--precision-kpi", "customers", "--json", "-q")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["precision_met"] is True
    assert (
        doc["replications_reached"]
        == doc["replications"]
        == len(doc["kpis"]["customers"]["values"])
    )
    text = cli("run", path, "--precision", "0.02", "--precision-kpi", "customers", "-q")
    assert f"{doc['replications_reached']} replications, target met" in text.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("--max-replications", "50"), "only applies together with --precision"),
        (("--precision", "0"), "relative CI half-width"),
        (("--precision", "0.05", "--precision-kpi", "revenu"), "unknown KPI revenu"),
        (("--precision", "0.05", "--replications", "2"), "at least 3"),
        (
            ("--precision", "0.05", "--replications", "20", "--max-replications", "10"),
            "at least the first batch",
        ),
    ],
)
def test_cli_bad_precision_options_exit_2(cli, write_scenario, minimal_dict_factory, args, message):
    path = write_scenario(minimal_dict_factory())
    res = cli("run", path, *args, "-q")
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr
