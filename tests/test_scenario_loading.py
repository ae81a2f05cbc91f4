"""Scenario files, dotted overrides, neutral defaults, validation messages and sense checks."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import funnelsim as fs
from funnelsim.scenario import parse_overrides, parse_value
from funnelsim.scenario.checks import mean_attempts, offered_load, sense_checks

PRESETS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))

CONTRACT_KEYS = [
    "name",
    "description",
    "run.horizon_days",
    "run.warmup_days",
    "run.replications",
    "run.seed",
    "arrivals.prospects_per_week",
    "marketing.mql_rate",
    "marketing.time_to_mql_days",
    "marketing.score_strength",
    "handoff.acceptance_rate",
    "sales.reps",
    "sales.calendar",
    "sales.sla_hours",
    "sales.sla_clock",
    "sales.handling_minutes",
    "sales.attempts",
    "sales.contact_rate",
    "sales.coverage",
    "sales.queue",
    "qualification.sql_rate",
    "qualification.decay_tau_hours",
    "qualification.decay_floor",
    "deals.opportunity_rate",
    "deals.win_rate",
    "deals.sales_cycle_days",
    "deals.deal_size",
]


def test_every_contract_key_exists():
    assert set(CONTRACT_KEYS) <= set(fs.all_keys())


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_presets_load_quietly(path):
    """The presets are valid and raise no sense-check warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", fs.ScenarioWarning)
        s = fs.load(path)
    assert s.name == path.stem
    assert offered_load(s) < 1.0


def test_neutral_defaults_switch_mechanisms_off(minimal_scenario):
    """A file naming only the required keys describes the plain model (contract section 1)."""
    s = minimal_scenario
    assert s.marketing.mql_rate == 1.0 and s.marketing.score_strength == 0.0
    assert s.marketing.time_to_mql_days.mean == 0.0
    assert s.handoff.acceptance_rate == 1.0
    assert s.sales.contact_rate == 1.0 and s.sales.coverage == 1.0 and s.sales.attempts == 1
    assert s.sales.calendar == "24/7" and s.sales.availability == 1.0
    assert s.sales.queue == "fifo" and s.sales.sla_clock == "calendar"
    assert s.qualification.sql_rate == 1.0 and s.qualification.decay_floor == 1.0
    assert s.deals.opportunity_rate == 1.0 and s.deals.win_rate == 1.0
    assert s.run.warmup_days == 0.0


def test_neutral_model_converts_every_prospect(minimal_scenario):
    """With every rate neutral each prospect becomes a customer worth deal_size."""
    k = fs.run(minimal_scenario, 1, progress=False).kpis.loc[0]
    assert k["prospects"] == k["mqls"] == k["sqls"] == k["customers"] > 0
    assert k["revenue"] == 1000 * k["customers"]
    assert k["never_worked"] == 0


def test_override_returns_a_new_frozen_scenario(minimal_scenario):
    s2 = fs.override(minimal_scenario, {"sales.reps": 7, "sales.calendar": "business"})
    assert s2.sales.reps == 7 and s2.sales.calendar == "business"
    assert minimal_scenario.sales.reps == 3  # the original is untouched
    assert fs.override(minimal_scenario, sales__reps=5).get("sales.reps") == 5
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type is an implementation detail
        minimal_scenario.sales.reps = 9  # type: ignore[misc]


def test_override_adds_no_spurious_warnings(minimal_scenario):
    """Overriding one key of a quiet scenario must not warn about keys nobody set.

    Regression: a saved scenario (``to_dict``) writes every default, and the sense checks once
    took sales.work_hours, sales.workdays and handoff.rejection_reasons as deliberately set."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", fs.ScenarioWarning)
        fs.from_dict(minimal_scenario.to_dict())
        fs.override(minimal_scenario, {"sales.reps": 7})


def test_override_strings_are_read_as_toml(minimal_scenario):
    s2 = fs.override(
        minimal_scenario,
        [
            "sales.reps=7",
            'sales.handling_minutes={dist="exponential",mean=18}',
            "sales.calendar=business",
            "arrivals.weekday_profile=[1,1,1,1,1,0.5,0.5]",
        ],
    )
    assert s2.sales.reps == 7
    assert s2.sales.handling_minutes.mean == 18.0
    assert s2.sales.calendar == "business"
    assert s2.arrivals.weekday_profile == (1, 1, 1, 1, 1, 0.5, 0.5)


def test_parse_value():
    assert parse_value("7") == 7
    assert parse_value("0.5") == 0.5
    assert parse_value("business") == "business"
    assert parse_value('"24/7"') == "24/7"
    assert parse_value("24/7") == "24/7"
    assert parse_value("[0, 1, 24]") == [0, 1, 24]
    assert parse_value("true") is True
    assert parse_overrides(["a.b = 3"]) == {"a.b": 3}


def test_to_dict_round_trips(minimal_scenario):
    again = fs.from_dict(minimal_scenario.to_dict())
    assert again == minimal_scenario
    aligned = fs.load(PRESETS[0])
    assert fs.from_dict(aligned.to_dict()) == aligned


@pytest.mark.parametrize(
    ("changes", "key", "says"),
    [
        ({"sales.repz": 3}, "sales.repz", "did you mean sales.reps"),
        ({"sales.reps": "abc"}, "sales.reps", "integer"),
        ({"sales.reps": 0}, "sales.reps", "greater than or equal to 1"),
        ({"handoff.acceptance_rate": 1.5}, "handoff.acceptance_rate", "less than or equal to 1"),
        ({"sales.queue": "random"}, "sales.queue", "'fifo', 'lifo' or 'priority'"),
        ({"sales.workdays": []}, "sales.workdays", "no working days"),
        ({"sales.work_hours": [17, 9]}, "sales.work_hours", "start < end"),
        ({"run.warmup_days": 40}, "run", "less than horizon_days"),
        ({"sales.cadence_hours": [1, 2]}, "sales.cadence_hours", "start at 0"),
        ({"sales.reps.count": 3}, "sales.reps.count", "is a value, not a section"),
        ({"arrivals.weekday_profile": [1, 2]}, "arrivals.weekday_profile", "7 numbers"),
    ],
)
def test_validation_messages_name_source_key_and_rule(minimal_scenario_dict, changes, key, says):
    with pytest.raises(fs.ScenarioError) as info:
        fs.from_dict(minimal_scenario_dict, source="team.toml", overrides=changes)
    text = str(info.value)
    assert "team.toml" in text and key in text and says in text, text


def test_missing_required_key(minimal_scenario_dict):
    del minimal_scenario_dict["sales"]["reps"]
    with pytest.raises(fs.ScenarioError, match=r"sales\.reps: is required but missing"):
        fs.from_dict(minimal_scenario_dict, source="team.toml")


def test_all_problems_reported_at_once(minimal_scenario_dict):
    changes = {"sales.reps": -1, "deals.win_rate": 2}
    with pytest.raises(fs.ScenarioError) as info:
        fs.from_dict(minimal_scenario_dict, overrides=changes)
    assert {p.key for p in info.value.problems} == {"sales.reps", "deals.win_rate"}


def test_load_errors(tmp_path):
    with pytest.raises(fs.ScenarioError, match="file not found"):
        fs.load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(fs.ScenarioError, match="not valid TOML"):
        fs.load(bad)


# --- sense checks ------------------------------------------------------------------------------


def test_mean_attempts():
    assert mean_attempts(1.0, 6) == 1.0
    assert mean_attempts(0.0, 6) == 6.0
    assert mean_attempts(0.5, 3) == pytest.approx(1 + 0.5 + 0.25)


def test_offered_load(minimal_scenario):
    """200/week x 10 min over 3 always-open reps: 2000 / 60 / 168 / 3 rep-hours per hour."""
    assert offered_load(minimal_scenario) == pytest.approx(200 * 10 / 60 / 168 / 3)
    business = fs.override(
        minimal_scenario, {"sales.calendar": "business", "sales.sla_clock": "business"}
    )
    assert offered_load(business) == pytest.approx(200 * 10 / 60 / 40 / 3)


def test_overloaded_queue_warns(minimal_scenario_dict):
    minimal_scenario_dict["sales"]["reps"] = 1
    minimal_scenario_dict["sales"]["handling_minutes"] = 60
    with pytest.warns(fs.ScenarioWarning, match=r"sales\.reps: .*grows without bound"):
        fs.from_dict(minimal_scenario_dict, source="team.toml")


@pytest.mark.parametrize(
    ("sales", "key"),
    [
        ({"work_hours": [8, 18]}, "sales.work_hours"),
        ({"sla_clock": "business"}, "sales.sla_clock"),
        ({"calendar": "business", "sla_hours": 4}, "sales.sla_hours"),
    ],
)
def test_sense_checks(minimal_scenario_dict, sales, key):
    minimal_scenario_dict["sales"].update(sales)
    with pytest.warns(fs.ScenarioWarning, match=key.replace(".", r"\.")):
        s = fs.from_dict(minimal_scenario_dict)
    assert key in {p.key for p in sense_checks(s)}


def test_rejection_reasons_without_rejection_warns(minimal_scenario_dict):
    minimal_scenario_dict["handoff"] = {"rejection_reasons": {"wrong_fit": 1}}
    with pytest.warns(fs.ScenarioWarning, match=r"handoff\.rejection_reasons"):
        fs.from_dict(minimal_scenario_dict)
