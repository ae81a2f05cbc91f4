"""Round trip through the command line: a funnelsim run written out with ``run --out`` (its
crm_export.csv and crm_activities.csv), calibrated, recovers the scenario's own parameters, and
the fitted file runs on its own with --parameter-uncertainty.

Tolerance: |fit - truth| <= 4 se with se from the reported 95% interval (half-width / 1.96).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import funnelsim as fs
from funnelsim.cli import app

pytestmark = pytest.mark.slow

SCENARIO = """
name = "plain"
[run]
horizon_days = 200
warmup_days = 20
replications = 1
seed = 3
[arrivals]
prospects_per_week = 500
[marketing]
mql_rate = 0.3
time_to_mql_days = { dist = "exponential", mean = 6 }
[handoff]
acceptance_rate = 0.8
[sales]
reps = 6
calendar = "business"
sla_clock = "business"
handling_minutes = { dist = "exponential", mean = 15 }
attempts = 4
cadence_hours = [0, 4, 24, 72]
contact_rate = 0.4
coverage = 0.9
[qualification]
sql_rate = 0.5
decay_tau_hours = 2.0
decay_floor = 0.3
time_to_sql_days = { dist = "exponential", mean = 3 }
[deals]
opportunity_rate = 0.5
time_to_opportunity_days = { dist = "exponential", mean = 10 }
win_rate = 0.3
sales_cycle_days = { dist = "lognormal", median = 30, sigma = 0.5 }
deal_size = { dist = "gamma", mean = 40000, cv = 0.7 }
"""

TRUTH = {
    "arrivals.prospects_per_week": 500,
    "marketing.mql_rate": 0.3,
    "marketing.time_to_mql_days.mean": 6,
    "handoff.acceptance_rate": 0.8,
    "sales.coverage": 0.9,
    "sales.contact_rate": 0.4,
    "sales.handling_minutes.mean": 15,
    "qualification.time_to_sql_days.mean": 3,
    "qualification.decay_floor": 0.3,
    "qualification.decay_tau_hours": 2.0,
    "deals.opportunity_rate": 0.5,
    "deals.win_rate": 0.3,
    "deals.sales_cycle_days.median": 30,
}


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    d = tmp_path_factory.mktemp("rt")
    (d / "plain.toml").write_text(SCENARIO)
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(d / "plain.toml"), "--out", str(d / "run"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        [
            "calibrate",
            str(d / "run" / "crm_export.csv"),
            "--activities",
            str(d / "run" / "crm_activities.csv"),
            "--out",
            str(d / "fitted.toml"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    return d, json.loads(res.stdout)


def test_contract_json_shape(round_trip):
    _, doc = round_trip
    assert set(doc) >= {"as_of", "leads", "scenario", "parameters", "warnings"}
    p = doc["parameters"]["deals.sales_cycle_days.median"]
    assert set(p) >= {"value", "ci95", "n", "method"}


@pytest.mark.parametrize("key", sorted(TRUTH))
def test_calibration_recovers_the_scenarios_own_parameters(round_trip, key):
    _, doc = round_trip
    p = doc["parameters"][key]
    lo, hi = p["ci95"]
    se = (hi - lo) / (2 * 1.959964)
    assert abs(p["value"] - TRUTH[key]) <= 4 * se, (key, p)


def test_integer_and_calendar_keys_are_recovered(round_trip):
    _, doc = round_trip
    s = doc["scenario"]["sales"]
    assert s["reps"] == 6 and s["attempts"] == 4 and s["calendar"] == "business"
    assert s["workdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert s["work_hours"] == [9.0, 17.0]
    assert [round(x) for x in s["cadence_hours"]] == [0, 4, 24, 72]


def test_the_fitted_file_runs_alone_with_parameter_uncertainty(round_trip):
    d, _ = round_trip
    s = fs.load(d / "fitted.toml")
    assert s.uncertainty is not None and len(s.uncertainty.blocks) >= 8
    res = CliRunner().invoke(
        app,
        [
            "run",
            str(d / "fitted.toml"),
            "--parameter-uncertainty",
            "--replications",
            "4",
            "--set",
            "run.horizon_days=60",
            "--set",
            "run.warmup_days=10",
            "--json",
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    share = doc["parameter_uncertainty"]["parameter_share"]["mqls"]
    assert share is None or 0 <= share <= 1
    assert doc["parameter_uncertainty"]["draws"] == 2
