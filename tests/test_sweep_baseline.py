"""A sweep against a baseline: each point's difference from it with a paired CI on common random
numbers (every point sees the same seed and replication ids), in the table, summary.csv, the
CLI and the sweep chart.

Every check is exact, not statistical: the same seed and replication give the same numbers, so
a point equal to the baseline differs by exactly 0, and the paired interval must equal the one
`fs.compare` computes for the same two scenarios by its own code path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs


@pytest.fixture(scope="module")
def base(minimal_dict_factory):
    return fs.from_dict(minimal_dict_factory(), source="minimal")


def test_scenario_baseline_is_added_as_a_point_and_differs_from_itself_by_zero(base):
    swept = fs.sweep(
        base, {"sales.reps": [1, 2]}, replications=4, seed=3, progress=False, baseline="scenario"
    )
    assert base.sales.reps == 3
    assert swept.points["sales.reps"].tolist() == [1, 2, 3]  # the scenario's own value, added
    assert swept.baseline == 2
    t = swept.table()
    at_base = t.xs(2, level="point")
    defined = at_base["diff_n"] > 0
    assert defined.any()
    assert (at_base.loc[defined, ["diff", "diff_ci_low", "diff_ci_high"]] == 0).all().all()
    # A point that is the scenario already is used, not added again.
    again = fs.sweep(
        base, {"sales.reps": [3, 1]}, replications=2, seed=3, progress=False, baseline="scenario"
    )
    assert len(again.points) == 2 and again.baseline == 0


def test_paired_difference_is_the_comparison_of_the_two_scenarios(base):
    """The same pairing by two code paths: sweep's long-format join and compare's paired table."""
    swept = fs.sweep(base, {"sales.reps": [1, 3]}, replications=5, seed=8, progress=False)
    t = swept.versus("sales.reps=3").table()
    one = fs.override(base, {"sales.reps": 1})
    cmp = fs.compare(base, one, replications=5, seed=8, progress=False).table()
    for kpi in ("revenue", "customers", "sla_attainment", "first_touch_hours_mean"):
        row = t.loc[(0, kpi)]
        c = cmp.loc[kpi]
        assert row["diff"] == pytest.approx(c["diff"], rel=1e-12, abs=1e-12)
        if c["n"] > 1:
            assert row["diff_ci_low"] == pytest.approx(c["ci_low"], rel=1e-9, abs=1e-12)
            assert row["diff_ci_high"] == pytest.approx(c["ci_high"], rel=1e-9, abs=1e-12)
        assert row["diff_n"] == c["n"]


def test_paired_interval_is_far_narrower_where_theory_says_so(base):
    """With a constant deal size, revenue is customers x deal size, and the customers are the
    same at both points (same random numbers). A 10% larger deal therefore adds exactly 10% of
    the baseline's revenue in every replication: the paired half-width is exactly 0.1 of the
    baseline's own, while each point's unpaired interval stays as wide as the revenue's spread."""
    swept = fs.sweep(
        base, {"deals.deal_size": [1000, 1100]}, replications=8, seed=5, progress=False
    ).versus(0)
    rev = swept.table().xs("revenue", level="kpi")
    own_half = (rev["ci_high"] - rev["ci_low"]) / 2
    paired_half = (rev["diff_ci_high"] - rev["diff_ci_low"]) / 2
    assert own_half[0] > 0
    assert paired_half[1] == pytest.approx(0.1 * own_half[0], rel=1e-9)
    assert paired_half[1] < own_half[1] / 5  # the difference of two unpaired CIs is wider still
    assert rev.loc[1, "diff"] == pytest.approx(0.1 * rev.loc[0, "mean"], rel=1e-9)


def test_per_point_and_summary_csv_carry_the_difference(base, tmp_path):
    swept = fs.sweep(
        base,
        {"sales.reps": [1, 3]},
        replications=3,
        seed=2,
        progress=False,
        out=tmp_path / "sw",
        baseline=1,
    )
    wide = swept.per_point()
    for c in ("revenue_mean", "revenue_diff", "revenue_diff_ci_low", "revenue_diff_ci_high"):
        assert c in wide.columns
    csv = pd.read_csv(tmp_path / "sw" / "summary.csv")
    np.testing.assert_allclose(csv["revenue_diff"], wide["revenue_diff"])
    assert csv.loc[1, "revenue_diff"] == 0
    loaded = fs.load_sweep(tmp_path / "sw")
    assert loaded.baseline == 1
    pd.testing.assert_frame_equal(loaded.table(), swept.table(), check_dtype=False)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (7, "no such point"),
        ("sales.repz=3", "not a swept key"),
        ("sales.reps=9", "no point of the sweep has these values"),
        ("scenario", "no point of the sweep is the scenario"),
        ("reps", "KEY=VALUE"),
    ],
)
def test_bad_baseline_is_a_clear_usage_error(base, given, message):
    swept = fs.sweep(base, {"sales.reps": [1, 2]}, replications=1, progress=False)
    with pytest.raises(fs.UsageError, match=message):
        swept.versus(given)


def test_cli_sweep_baseline_prints_the_paired_difference(
    cli, write_scenario, tmp_path, minimal_dict_factory
):
    path = write_scenario(minimal_dict_factory())
    out = tmp_path / "cli-sweep"
    design = "--grid sales.reps=1,2 --replications 3"
    r = cli("sweep", path, *design.split(), "--baseline", "scenario", "--out", out, "--quiet")
    assert r.exit_code == 0, r.stderr
    assert "revenue vs 2" in r.stdout
    assert "+$0 [+$0, +$0]" in r.stdout
    assert "revenue_diff_ci_low" in (out / "summary.csv").read_text().splitlines()[0]
    bad = cli(
        "sweep", path, "--grid", "sales.reps=1,2", "--baseline", "9", "--out", tmp_path / "other"
    )
    assert bad.exit_code == 2 and "--baseline 9: no such point" in bad.stderr


def test_sweep_line_draws_paired_error_bars(base):
    swept = fs.sweep(base, {"sales.reps": [1, 2, 3]}, replications=3, progress=False)
    plain = fs.plots.sweep_line(swept, "sales.reps")
    paired = fs.plots.sweep_line(swept.versus("scenario"), "sales.reps")
    (line,) = paired.axes[0].lines[:1]
    assert "paired" in paired.axes[0].texts[0].get_text()
    assert "95% CI of each point" in plain.axes[0].texts[0].get_text()
    np.testing.assert_allclose(line.get_ydata()[-1], 0.0)  # the baseline itself (3 reps)
    with pytest.raises(fs.UsageError, match="not a swept key"):
        fs.plots.sweep_line(swept, "sales.calendar")
