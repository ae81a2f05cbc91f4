"""`--points` files and point tables with gaps: an empty cell keeps the scenario's value.

pandas makes a column of whole numbers with a gap a float column (5 -> 5.0); an integer key such
as ``sales.reps`` must still take 5.0 as 5, while 5.5 stays a clear failure of its own point.
Every assertion is exact (same seed, same replication, same numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.results import KPI_NAMES


@pytest.fixture(scope="module")
def base(minimal_dict_factory):
    return fs.from_dict(minimal_dict_factory(), source="minimal")


def test_read_points_keeps_whole_numbers_whole_beside_an_empty_cell(tmp_path):
    """Before the fix the column came back as floats (5.0, NaN, 7.0)."""
    points = tmp_path / "points.csv"
    points.write_text("sales.reps,sales.sla_hours\n5,1\n,4\n7,\n")
    design = fs.read_points(points)
    assert design["sales.reps"].tolist() == [5, None, 7]
    assert [type(v) for v in design["sales.reps"]] == [int, type(None), int]
    assert design["sales.sla_hours"].tolist() == [1, 4, None]


def test_cli_points_with_empty_cells_run_every_point(
    cli, write_scenario, minimal_dict_factory, tmp_path
):
    """The issue's case: an empty cell in an integer column used to fail every point with
    `sales.reps: must be a valid integer (given: 5.0)`."""
    path = write_scenario(minimal_dict_factory())
    points = tmp_path / "points.csv"
    points.write_text("sales.reps,sales.sla_hours\n2,1\n,4\n4,\n")
    out = tmp_path / "p"
    res = cli("sweep", path, "--points", points, "--replications", "2", "--out", out, "--quiet")
    assert res.exit_code == 0, res.stderr
    assert "must be a valid integer" not in res.stderr
    assert pd.read_csv(out / "failures.csv").empty
    assert pd.read_csv(out / "results.csv")["point"].tolist() == [0, 0, 1, 1, 2, 2]


def test_an_empty_cell_is_the_scenarios_value(base):
    """A point with an empty cell is exactly the point without that key: the run of the
    scenario with only the other key changed (reps stays the scenario's 3)."""
    design = pd.DataFrame({"sales.reps": [2, None], "sales.sla_hours": [1.0, 4.0]})
    assert design["sales.reps"].dtype == float  # what pandas makes of it
    res = fs.sweep(base, design, replications=2, seed=11, progress=False)
    assert res.ok, res.failures
    alone = fs.run(fs.override(base, {"sales.sla_hours": 4.0}), 2, 11, progress=False)
    row = res.results[res.results["point"] == 1]
    np.testing.assert_array_equal(
        row[list(KPI_NAMES)].to_numpy(float), alone.kpis[list(KPI_NAMES)].to_numpy(float)
    )
    first = fs.run(fs.override(base, {"sales.reps": 2, "sales.sla_hours": 1.0}), 2, 11)
    np.testing.assert_array_equal(
        res.results[res.results["point"] == 0][list(KPI_NAMES)].to_numpy(float),
        first.kpis[list(KPI_NAMES)].to_numpy(float),
    )


def test_a_fractional_count_is_still_refused_at_its_point(base, tmp_path):
    """5.0 is 5 for an integer key; 5.5 is not a count, and only its own point fails, with a
    message naming the key and the value."""
    points = tmp_path / "points.csv"
    points.write_text("sales.reps\n2.0\n2.5\n")
    res = fs.sweep(base, fs.read_points(points), 2, 11, progress=False)
    assert res.failures["point"].tolist() == [1]
    error = res.failures["error"].iloc[0]
    assert "sales.reps" in error and "2.5" in error
    assert res.results["point"].unique().tolist() == [0]


def test_whole_floats_stay_floats_in_float_keys(base):
    """Only integer keys are converted: a float key keeps 4.0 as given."""
    res = fs.sweep(base, {"sales.sla_hours": [4.0]}, 1, 11, progress=False)
    assert res.ok
    value = res.points["sales.sla_hours"].iloc[0]
    assert value == 4.0 and isinstance(value, float)
