"""Every result has the same small surface: ``.table()`` (a DataFrame), ``.to_dict()`` (the
JSON document) and ``_repr_html_`` (the table with numbers in their units, for notebooks); and
the old spellings keep working for one release with a DeprecationWarning."""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest

import funnelsim as fs

RAW_FLOAT = re.compile(r"\d\.\d{6}\b|\d[eE][+-]\d\d\b")


@pytest.fixture(scope="module")
def scenario(minimal_dict_factory):
    return fs.from_dict(minimal_dict_factory(), source="minimal")


@pytest.fixture(scope="module")
def results(scenario):
    more = fs.override(scenario, {"sales.reps": 4, "sales.sla_hours": 4})
    return {
        "run": fs.run(scenario, 3, progress=False),
        "compare": fs.compare(scenario, more, 3, progress=False),
        "sweep": fs.sweep(
            scenario, {"sales.reps": [2, 3]}, replications=3, progress=False, baseline=1
        ),
        "attribute": fs.attribute(scenario, more, replications=3, by="keys", progress=False),
        "staffing": fs.staffing(scenario, sla_target=0.5, replications=3, progress=False),
        "reverse_funnel": fs.reverse_funnel(scenario, 50_000),
    }


@pytest.mark.parametrize(
    "kind", ["run", "compare", "sweep", "attribute", "staffing", "reverse_funnel"]
)
def test_every_result_has_table_to_dict_and_formatted_html(results, kind):
    r = results[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        table = r.table()
        assert type(table) is pd.DataFrame and len(table)
        json.dumps(r.to_dict(), allow_nan=False)
        html = r._repr_html_()
    assert "<table" in html
    assert not RAW_FLOAT.search(html), RAW_FLOAT.findall(html)[:3]
    if kind in ("run", "compare", "sweep", "attribute"):
        assert re.search(r"\$[\d.,]+[kM]?", html)  # revenue as money


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_estimates_carry_mean_ci_and_n(results, kind):
    table = results[kind].table()
    assert {"mean", "ci_low", "ci_high", "n"} <= set(table.columns)
    assert "kpi" in table.index.names


def test_run_summary_is_its_table_without_the_scenario_column(results):
    run = results["run"]
    pd.testing.assert_frame_equal(run.summary(), run.table().drop(columns="scenario"))
    assert (run.table()["scenario"] == "minimal").all()


def test_staffing_table_is_a_method_and_the_old_attribute_warns(results):
    res = results["staffing"]
    plain = res.table()
    assert type(plain) is pd.DataFrame
    with pytest.warns(DeprecationWarning, match=r"StaffingResult.table as an attribute"):
        row = res.table.loc[plain.index[0]]
    pd.testing.assert_series_equal(row, plain.iloc[0])
    with pytest.warns(DeprecationWarning):
        assert res.table["sla_attainment"].tolist() == plain["sla_attainment"].tolist()


def test_sweep_results_and_summary_are_deprecated_aliases(results):
    sweep = results["sweep"]
    with pytest.warns(DeprecationWarning, match="SweepResult.kpis"):
        assert sweep.results is sweep.kpis
    with pytest.warns(DeprecationWarning, match=r"per_point\(\)"):
        old = sweep.summary()
    pd.testing.assert_frame_equal(old, sweep.per_point())


def test_formatted_writes_numbers_in_their_units():
    frame = pd.DataFrame(
        {"revenue": [6.362278e6], "sla_attainment": [0.9], "relative": [9.720257], "n": [20]},
        index=["aligned"],
    )
    shown = fs.formatted(frame)
    assert shown.iloc[0].tolist() == ["$6.36M", "90.0%", "+972.0%", "20"]


def test_keep_records_is_off_by_default_everywhere(results, scenario):
    assert results["run"].records == ()
    assert results["compare"].baseline.records == ()
    with pytest.raises(fs.UsageError, match="keep_records=True"):
        results["run"].ledger(0)
    assert len(fs.run(scenario, 1, keep_records=True, progress=False).records) == 1
