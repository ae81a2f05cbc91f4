"""Sweeps: design points in, tidy results out, resumable, failures recorded as data.

The scenario is the minimal one from conftest (28 days, 200 prospects a week), so a run takes a
few hundredths of a second; every assertion here is exact (same seed and replication give the
same numbers), none is statistical.
"""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.results import KPI_NAMES

GRID = {"sales.reps": [1, 3], "sales.handling_minutes": [10, 30]}


@pytest.fixture(scope="module")
def base(minimal_dict_factory):
    return fs.from_dict(minimal_dict_factory(), source="minimal")


@pytest.fixture(scope="module")
def swept(base):
    return fs.sweep(base, GRID, replications=3, seed=11, progress=False)


def test_grid_is_full_factorial_first_key_slowest():
    design = fs.grid_points({"a.x": [1, 2], "a.y": ["p", "q", "r"]})
    assert design.values.tolist() == [
        [1, "p"],
        [1, "q"],
        [1, "r"],
        [2, "p"],
        [2, "q"],
        [2, "r"],
    ]


def test_results_are_tidy_with_contract_columns(swept):
    """results: point, each swept key, replication, seed, then one column per KPI in order."""
    cols = list(swept.kpis.columns)
    assert cols[:5] == ["point", "sales.reps", "sales.handling_minutes", "replication", "seed"]
    assert cols[5 : 5 + len(KPI_NAMES)] == list(KPI_NAMES)
    assert len(swept.kpis) == 4 * 3
    assert (swept.kpis["seed"] == 11).all()
    assert swept.kpis.groupby("point")["replication"].apply(list).tolist() == [[0, 1, 2]] * 4
    assert swept.ok and swept.failures.empty


def test_each_row_equals_a_plain_run_of_that_point(base, swept):
    """A sweep row is exactly `run` of the overridden scenario: same seed, same replication."""
    point = swept.kpis[swept.kpis["point"] == 2]
    alone = fs.run(
        fs.override(base, {"sales.reps": 3, "sales.handling_minutes": 10}),
        3,
        11,
        keep_records=False,
        progress=False,
    )
    np.testing.assert_array_equal(
        point[list(KPI_NAMES)].to_numpy(float), alone.kpis[list(KPI_NAMES)].to_numpy(float)
    )


def test_points_share_common_random_numbers(swept):
    """Every point sees the same arrivals: prospects per replication are identical across points
    (reps and handling time do not touch the arrival stream)."""
    wide = swept.kpis.pivot(index="replication", columns="point", values="prospects")
    assert (wide.nunique(axis=1) == 1).all()


def test_summary_has_mean_and_ci_per_point(swept):
    summ = swept.per_point()
    assert list(summ["point"]) == [0, 1, 2, 3]
    assert {"revenue_mean", "revenue_ci_low", "revenue_ci_high", "n"} <= set(summ.columns)
    for p, grp in swept.kpis.groupby("point"):
        x = grp["first_touch_hours_mean"].to_numpy(float)
        mean, lo, hi, _ = fs.experiment.mean_ci(x)
        row = summ.set_index("point").loc[p]
        assert row["first_touch_hours_mean_mean"] == pytest.approx(mean, rel=1e-12)
        assert row["first_touch_hours_mean_ci_low"] == pytest.approx(lo, rel=1e-12)
        assert row["first_touch_hours_mean_ci_high"] == pytest.approx(hi, rel=1e-12)
        assert row["n"] == 3


def test_dataframe_and_list_of_dicts_designs(base, swept):
    """The API takes a DataFrame of points, or a list of dicts, as well as a grid."""
    frame = pd.DataFrame({"sales.reps": [3], "sales.handling_minutes": [10]})
    by_frame = fs.sweep(base, frame, replications=3, seed=11, progress=False)
    by_list = fs.sweep(
        base, [{"sales.reps": 3, "sales.handling_minutes": 10}], 3, 11, progress=False
    )
    expected = swept.kpis[swept.kpis["point"] == 2].drop(columns="point")
    for got in (by_frame, by_list):
        pd.testing.assert_frame_equal(
            got.kpis.drop(columns="point").reset_index(drop=True),
            expected.reset_index(drop=True),
            check_dtype=False,
        )


def test_latin_hypercube_has_one_point_per_stratum_and_rounds_integers(base):
    design = fs.latin_hypercube(
        base, {"sales.reps": (1, 9), "sales.handling_minutes": (5.0, 25.0)}, 8, seed=3
    )
    assert len(design) == 8
    reps = design["sales.reps"].tolist()
    assert all(isinstance(r, int) and 1 <= r <= 9 for r in reps)
    minutes = np.array(design["sales.handling_minutes"].tolist(), float)
    strata = np.floor((minutes - 5.0) / 20.0 * 8).astype(int)
    assert sorted(strata.tolist()) == list(range(8))  # Latin: one point in each eighth
    again = fs.latin_hypercube(
        base, {"sales.reps": (1, 9), "sales.handling_minutes": (5.0, 25.0)}, 8, seed=3
    )
    pd.testing.assert_frame_equal(design, again)


def test_unknown_key_is_a_usage_error_before_anything_runs(base):
    with pytest.raises(fs.UsageError, match=r"sales\.repz.*did you mean sales\.reps"):
        fs.sweep(base, {"sales.repz": [1, 2]}, 2, progress=False)
    with pytest.raises(fs.UsageError, match="run.seed"):
        fs.sweep(base, {"run.seed": [1, 2]}, 2, progress=False)


def test_invalid_point_is_recorded_and_the_rest_completes(base):
    """reps = 0 fails validation: that point becomes a failure row, the others run."""
    res = fs.sweep(base, {"sales.reps": [0, 2]}, 2, 11, progress=False)
    assert not res.ok
    assert res.failures["point"].tolist() == [0]
    assert pd.isna(res.failures["replication"].iloc[0])
    assert "sales.reps" in res.failures["error"].iloc[0]
    assert "greater than or equal to 1" in res.failures["error"].iloc[0]
    assert sorted(set(res.kpis["point"])) == [1]
    assert len(res.kpis) == 2
    assert res.per_point().set_index("point").loc[0, "n"] == 0


def test_a_point_that_raises_is_recorded_with_its_message(base, monkeypatch):
    """An exception inside a run is data: (point, replication, message); other points finish."""
    from funnelsim.experiment import engine

    real = engine.simulate

    def flaky(scenario, seed, replication, until_h=None):
        if scenario.sales.reps == 2 and replication == 1:
            raise RuntimeError("boom in replication 1")
        return real(scenario, seed, replication, until_h)

    monkeypatch.setattr(engine, "simulate", flaky)
    res = fs.sweep(base, {"sales.reps": [2, 3]}, 2, 11, progress=False)
    assert res.failures[["point", "replication"]].values.tolist() == [[0, 1]]
    assert res.failures["error"].iloc[0] == "RuntimeError: boom in replication 1"
    assert res.kpis[["point", "replication"]].values.tolist() == [[0, 0], [1, 0], [1, 1]]


def test_extra_kpis_become_columns(base):
    res = fs.sweep(
        base,
        {"sales.reps": [2]},
        2,
        11,
        progress=False,
        extra_kpis=_mean_score,
    )
    assert res.kpis.columns[-1] == "mean_score"
    assert res.kpis["mean_score"].notna().all()


def _mean_score(record):
    return {"mean_score": float(np.mean(record.score_z))}


def test_folder_holds_contract_files_and_a_self_explaining_manifest(base, tmp_path):
    out = tmp_path / "sw"
    res = fs.sweep(base, {"sales.reps": [0, 2]}, 2, 11, out=out, progress=False)
    for name in ("results.csv", "summary.csv", "failures.csv", "manifest.json"):
        assert (out / name).exists(), name
    for name in ("results.parquet", "summary.parquet"):
        assert (out / name).exists(), name  # pyarrow is installed in the dev environment
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), res.kpis, check_dtype=False)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "results.parquet"), res.kpis, check_dtype=False
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == base.to_dict()
    assert manifest["swept_keys"] == ["sales.reps"]
    assert manifest["points"] == [{"sales.reps": 0}, {"sales.reps": 2}]
    assert manifest["seed"] == 11 and manifest["replications"] == 2
    assert manifest["funnelsim_version"] == fs.__version__
    assert manifest["failures"] == 1
    loaded = fs.load_sweep(out)
    pd.testing.assert_frame_equal(loaded.kpis, res.kpis, check_dtype=False)
    assert loaded.failures["point"].tolist() == [0]


def test_rerun_computes_only_what_is_missing(base, tmp_path):
    out = tmp_path / "sw"
    first = fs.sweep(base, GRID, 2, 11, out=out, progress=False)
    assert (first.computed, first.reused) == (8, 0)
    again = fs.sweep(base, GRID, 2, 11, out=out, progress=False)
    assert (again.computed, again.reused) == (0, 8)
    pd.testing.assert_frame_equal(again.kpis, first.kpis)
    more = fs.sweep(base, GRID, 3, 11, out=out, progress=False)  # one more replication each
    assert (more.computed, more.reused) == (4, 8)
    fresh = fs.sweep(base, GRID, 3, 11, progress=False)
    pd.testing.assert_frame_equal(more.kpis, fresh.kpis)


def test_a_run_missing_from_the_store_is_recomputed_not_duplicated(base, tmp_path):
    """A run whose commit never happened (a kill) is computed again; what is stored is kept."""
    out = tmp_path / "sw"
    full = fs.sweep(base, {"sales.reps": [2, 3]}, 2, 11, out=out, progress=False)
    with sqlite3.connect(out / "sweep.sqlite") as db:
        db.execute("DELETE FROM kpis WHERE point = 1 AND replication = 1")
        db.execute("DELETE FROM runs WHERE point = 1 AND replication = 1")
    again = fs.sweep(base, {"sales.reps": [2, 3]}, 2, 11, out=out, progress=False)
    assert (again.computed, again.reused) == (1, 3)
    pd.testing.assert_frame_equal(again.kpis, full.kpis)
    with sqlite3.connect(out / "sweep.sqlite") as db:
        runs = db.execute("SELECT point, replication FROM runs ORDER BY 1, 2").fetchall()
        per_run = db.execute("SELECT count(*) FROM kpis GROUP BY point, replication").fetchall()
    assert runs == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert {n for (n,) in per_run} == {len(KPI_NAMES)}


def test_the_store_answers_sql(base, tmp_path):
    """The database is the sweep in a form any SQL tool reads: the mean revenue per point equals
    the summary's."""
    out = tmp_path / "sw"
    res = fs.sweep(base, {"sales.reps": [2, 3]}, 3, 11, out=out, progress=False)
    with sqlite3.connect(out / "sweep.sqlite") as db:
        rows = db.execute(
            "SELECT point, avg(value) FROM kpis WHERE kpi = 'revenue' GROUP BY point"
        ).fetchall()
        manifest = dict(db.execute("SELECT key, value FROM manifest").fetchall())
    summary = res.per_point().set_index("point")["revenue_mean"]
    assert [p for p, _ in rows] == [0, 1]
    for p, mean in rows:
        assert mean == pytest.approx(summary.loc[p], rel=1e-12)
    assert json.loads(manifest["seed"]) == 11


def test_a_different_sweep_on_the_same_folder_is_refused(base, tmp_path):
    out = tmp_path / "sw"
    fs.sweep(base, {"sales.reps": [2, 3]}, 2, 11, out=out, progress=False)
    with pytest.raises(fs.UsageError, match="different sweep: points"):
        fs.sweep(base, {"sales.reps": [2, 4]}, 2, 11, out=out, progress=False)
    with pytest.raises(fs.UsageError, match="different sweep: seed"):
        fs.sweep(base, {"sales.reps": [2, 3]}, 2, 12, out=out, progress=False)
    changed = fs.override(base, {"sales.handling_minutes": 12})
    with pytest.raises(fs.UsageError, match=r"scenario differ.*sales\.handling_minutes"):
        fs.sweep(changed, {"sales.reps": [2, 3]}, 2, 11, out=out, progress=False)


def test_cli_sweep_grid_writes_folder_and_exits_1_listing_failures(
    cli, write_scenario, minimal_dict_factory, tmp_path
):
    path = write_scenario(minimal_dict_factory())
    out = tmp_path / "cli"
    res = cli(
        "sweep",
        path,
        "--grid",
        "sales.reps=0,2",
        "--replications",
        "2",
        "--seed",
        "11",
        "--out",
        out,
        "--quiet",
    )
    assert res.exit_code == 1, res.stderr
    assert "point 0 (sales.reps=0)" in res.stderr and "sales.reps" in res.stderr
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns[:4]) == ["point", "sales.reps", "replication", "seed"]
    assert results["point"].tolist() == [1, 1]
    failures = pd.read_csv(out / "failures.csv")
    assert failures["point"].tolist() == [0]


def test_cli_sweep_points_csv_and_lhs(cli, write_scenario, minimal_dict_factory, tmp_path):
    path = write_scenario(minimal_dict_factory())
    points = tmp_path / "points.csv"
    points.write_text('sales.reps,sales.calendar\n2,"24/7"\n3,business\n')
    res = cli(
        "sweep", path, "--points", points, "--replications", "2", "--out", tmp_path / "p", "--quiet"
    )
    assert res.exit_code == 0, res.stderr
    results = pd.read_csv(tmp_path / "p" / "results.csv")
    assert results["sales.calendar"].tolist() == ["24/7", "24/7", "business", "business"]
    res = cli(
        "sweep",
        path,
        "--lhs",
        "sales.reps=1:6",
        "--samples",
        "3",
        "--replications",
        "2",
        "--out",
        tmp_path / "l",
        "--quiet",
    )
    assert res.exit_code == 0, res.stderr
    summary = pd.read_csv(tmp_path / "l" / "summary.csv")
    assert len(summary) == 3 and summary["sales.reps"].between(1, 6).all()


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "exactly one design"),
        (("--grid", "sales.reps=2", "--lhs", "sales.reps=1:3"), "exactly one design"),
        (("--lhs", "sales.reps=1:3"), "--samples"),
        (("--lhs", "sales.reps=3:1", "--samples", "2"), "LOW < HIGH"),
        (("--grid", "sales.reps"), "KEY=V1,V2"),
        (("--grid", "sales.nope=1,2"), "not a key"),
        (("--points", "missing.csv"), "file not found"),
        (("--grid", "sales.reps=2", "--executor", "ray"), "--executor must be one of"),
        (("--grid", "sales.reps=2", "--workers", "0"), "--workers"),
        (("--grid", "sales.reps=2", "--chunk-size", "0"), "--chunk-size must be"),
        (("--grid", "sales.reps=2", "--chunk-size", "-1"), "--chunk-size must be"),
        (("--grid", "sales.reps=5,5"), "the value 5 is given twice"),
        (("--grid", "sales.reps=5,6,5.0"), "5 and 5.0 are the same value"),
        (("--grid", "sales.reps=2", "--seed", "-1"), "--seed"),
        (("--grid", "sales.reps=2", "--seed", str(2**64)), "--seed for a sweep must be"),
        (("--lhs", "sales.reps=1:3", "--samples", "2", "--seed", "-1"), "--seed"),
    ],
)
def test_cli_sweep_bad_options_exit_2(
    cli, write_scenario, minimal_dict_factory, tmp_path, args, message
):
    """Refused with exit 2 before the --out folder is created: a bad option leaves no trace
    (--chunk-size 0 used to write manifest.json and the run log first; a seed beyond int64 used to
    fail writing results.parquet, exit 1; --lhs with a negative seed escaped as a ValueError)."""
    path = write_scenario(minimal_dict_factory())
    res = cli("sweep", path, *args, "--out", tmp_path / "bad", "--quiet")
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "bad").exists()


def test_the_largest_stored_seed_runs_end_to_end(base, tmp_path):
    """2**63 - 1, the largest seed the results tables hold, runs and round-trips."""
    res = fs.sweep(base, {"sales.reps": [2]}, 1, 2**63 - 1, out=tmp_path / "s", progress=False)
    assert res.ok
    assert pd.read_csv(tmp_path / "s" / "results.csv")["seed"].tolist() == [2**63 - 1]


def test_cli_refuses_a_different_sweep_with_exit_2(
    cli, write_scenario, minimal_dict_factory, tmp_path
):
    path = write_scenario(minimal_dict_factory())
    out = tmp_path / "o"
    assert (
        cli(
            "sweep", path, "--grid", "sales.reps=2", "--replications", "2", "--out", out, "-q"
        ).exit_code
        == 0
    )
    res = cli("sweep", path, "--grid", "sales.reps=3", "--replications", "2", "--out", out, "-q")
    assert res.exit_code == 2
    assert "different sweep" in res.stderr


def test_nan_kpis_survive_the_store(base, tmp_path):
    """A KPI that is undefined in a run (NaN) is stored and read back as NaN, not dropped."""
    res = fs.sweep(base, {"sales.reps": [2]}, 2, 11, out=tmp_path / "n", progress=False)
    again = fs.sweep(base, {"sales.reps": [2]}, 2, 11, out=tmp_path / "n", progress=False)
    nan_cols = [c for c in KPI_NAMES if math.isnan(res.kpis[c].iloc[0])]
    assert nan_cols, "the minimal scenario has undefined KPIs (e.g. cost ratios without costs)"
    pd.testing.assert_frame_equal(again.kpis, res.kpis)


def test_points_file_mixing_numbers_and_text_still_writes_parquet(base, tmp_path):
    """A typo in a points file fails its point only; the tables (CSV and Parquet) still hold
    the column, written as text where it mixes types."""
    points = tmp_path / "points.csv"
    points.write_text("sales.reps\n2\nabc\n")
    res = fs.sweep(base, fs.read_points(points), 2, 11, out=tmp_path / "m", progress=False)
    assert res.failures["point"].tolist() == [1]
    assert "sales.reps" in res.failures["error"].iloc[0]
    summary = pd.read_parquet(tmp_path / "m" / "summary.parquet")
    assert summary["sales.reps"].tolist() == ["2", "abc"]
