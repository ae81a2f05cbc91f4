"""Every scenario key is bounded, the bounds are enforced and documented, and a run at any bound
is finite and loses nothing to an integer type too small.

The bounds are read back from the schema (`funnelsim.scenario.bounds`), so a new key without an
upper bound fails `test_every_numeric_key_has_an_upper_bound`, and the README's table is compared
with the schema text for text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pytest
from pydantic import Field

import funnelsim as fs
from funnelsim.distributions import parse_distribution
from funnelsim.experiment.stats import finite_or_none
from funnelsim.results import compute_kpis, period_report
from funnelsim.scenario import bounds as sb
from funnelsim.scenario import schema
from funnelsim.scenario.checks import MAX_REPLICATION_BYTES, estimate_work

README = Path(__file__).resolve().parents[1] / "README.md"
BOUNDS = sb.scenario_bounds()
# Keys a test sets directly: top-level and section keys (not list items or table entries).
PLAIN = [b for b in BOUNDS if "[]" not in b.key and "<name>" not in b.key]
NUMERIC = [b for b in PLAIN if b.kind in sb.NUMERIC]


def test_every_numeric_key_has_an_upper_bound():
    """Numbers, distributions and dates need a maximum; lists, tables and texts a length."""
    assert sb.unbounded() == []


def test_an_unbounded_key_is_caught():
    """Power guard: the walker really sees a missing bound, in a number, a list item and a
    distribution, so a new key without one fails the test above."""

    class New(schema._Section):
        count: schema.Int = Field(1, ge=1)
        hours: tuple[schema.Float, ...] = Field((), max_length=3)
        delay_days: schema.Dist = 0.0
        bounded: Annotated[schema.Dist, schema.MeanAtMost(5.0)] = 0.0

    missing = [b.key for b in sb.model_bounds("x.", New) if not b.bounded]
    assert missing == ["x.count", "x.hours[]", "x.delay_days"]


def test_the_readme_table_is_the_schema():
    text = README.read_text(encoding="utf-8")
    block = text.split(sb.START, 1)[1].split(sb.END, 1)[0]
    assert block.strip() == sb.markdown().strip(), (
        "README.md's bounds table is out of date: run "
        ".venv/bin/python -m funnelsim.scenario.bounds README.md"
    )
    for b in PLAIN:
        assert f"| `{b.key}` |" in block


def _above(b: sb.Bound) -> Any:
    if b.kind == "integer":
        return b.high + 1
    if b.kind == "date":
        return b.high + dt.timedelta(days=1)
    if b.kind == "distribution":
        return {"dist": "exponential", "mean": b.high * 2}
    return b.high * 2 + 1


@pytest.mark.parametrize("bound", NUMERIC, ids=[b.key for b in NUMERIC])
def test_a_value_above_the_bound_is_refused_naming_the_key(bound, minimal_scenario_dict):
    with pytest.raises(fs.ScenarioError) as info:
        fs.from_dict(minimal_scenario_dict, "f.toml", {bound.key: _above(bound)})
    message = str(info.value)
    assert message.startswith("f.toml (with --set ")
    assert f": {bound.key}: " in message, message
    assert "\n" not in message


# What a run at one extreme needs so that the scenario stays consistent; the other keys keep
# the minimal scenario's values.
COMPANIONS = {
    ("run.warmup_days", "high"): {
        "run.horizon_days": schema.MAX_DAYS,
        "arrivals.prospects_per_week": 20.0,
    },
    ("run.horizon_days", "high"): {"arrivals.prospects_per_week": 20.0},
    ("sales.new_hires", "high"): {"sales.reps": schema.MAX_REPS},
    ("arrivals.prospects_per_week", "high"): {"run.horizon_days": 0.05},
}
RUN_KEYS = [b for b in NUMERIC if b.key not in ("run.replications", "run.seed")]


def _extreme(b: sb.Bound, side: str) -> Any:
    value = b.high if side == "high" else b.low
    if b.kind == "distribution":
        return value
    if side == "low" and b.low_open:
        value = value + (1 if b.kind == "integer" else 1e-6)
    if side == "high" and b.high_open:
        value = value - (1 if b.kind == "integer" else 1e-6)
    return value


@pytest.mark.slow
@pytest.mark.parametrize("side", ["low", "high"])
@pytest.mark.parametrize("bound", RUN_KEYS, ids=[b.key for b in RUN_KEYS])
def test_a_run_at_either_bound_finishes_with_valid_json(bound, side, minimal_scenario_dict):
    """The bounds are wide enough to run and narrow enough to finish: one replication at each
    extreme of each key completes, and its KPIs make valid JSON."""
    if side == "low" and bound.low is None:
        pytest.skip("no lower bound")
    data = minimal_scenario_dict
    data["run"]["horizon_days"] = 14
    changes = {**COMPANIONS.get((bound.key, side), {}), bound.key: _extreme(bound, side)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fs.ScenarioWarning)
        s = fs.from_dict(data, "minimal", changes)
    kpis = compute_kpis(fs.simulate(s, 1, 0))
    assert finite_or_none(kpis).keys() == kpis.keys()
    assert all(math.isfinite(v) or math.isnan(v) for v in kpis.values()), kpis


@pytest.mark.parametrize(
    "spec, says",
    [
        ({"dist": {"name": "gamma"}, "mean": 1}, "dist must be one of"),
        ({"dist": ["gamma"], "mean": 1}, "dist must be one of"),
        ({"dist": 3, "mean": 1}, "dist must be one of"),
        ({"dist": "lognormal", "mean": 5, "cv": 1e200}, "cv must be at most 100"),
        ({"dist": "lognormal", "median": 5, "sigma": 100}, "sigma must be at most 4"),
        ({"dist": "gamma", "mean": 5, "cv": 1e-200}, "cv must be from 0.001 to 10"),
        ({"dist": "gamma", "mean": 1e308, "cv": 10}, "overflows"),
        ({"dist": "lognormal", "median": 1e306, "sigma": 4}, "overflows"),
        ({"dist": "exponential", "mean": 1e307}, "overflow"),
        ({"dist": "uniform", "low": 0, "high": 10**400}, "finite number"),
        ({"dist": "exponential", "mean": {"x": 1}}, "finite number"),
        (10**400, "finite number"),
    ],
)
def test_distributions_that_overflow_are_refused(spec, says):
    """Moments and the quantiles a draw can reach (u = 0, 2^-53, 1 - 2^-53) must be finite."""
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_distribution(spec)


def test_the_widest_allowed_shapes_have_finite_moments_and_quantiles():
    for spec in (
        {"dist": "lognormal", "median": 1.0, "sigma": 4.0},
        {"dist": "lognormal", "mean": 1.0, "cv": 100.0},
        {"dist": "gamma", "mean": 1.0, "cv": 10.0},
        {"dist": "gamma", "mean": 1.0, "cv": 1e-3},
    ):
        d = parse_distribution(spec)
        q = d.ppf(np.array([0.0, 2.0**-53, 0.5, 1 - 2.0**-53]))
        assert np.all(np.isfinite(q)) and math.isfinite(d.variance), spec


def test_the_memory_estimate_refuses_what_would_not_fit(minimal_scenario_dict):
    """50 attempts in each of 20 cycles for every lead of 5M prospects is ~250 GB of draws:
    refused before anything runs, naming the key and the budget; 6 attempts in one cycle fit."""
    changes = {
        "run.horizon_days": 3640,
        "arrivals.prospects_per_week": 9_600,
        "sales.attempts": 50,
        "nurture.recycle": True,
        "nurture.max_cycles": 20,
    }
    with pytest.raises(fs.ScenarioError, match=r"arrivals\.prospects_per_week: .* GB"):
        fs.from_dict(minimal_scenario_dict, "f.toml", changes)
    fits = {**changes, "nurture.recycle": False, "sales.attempts": 6}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fs.ScenarioWarning)
        ok = fs.from_dict(minimal_scenario_dict, "f.toml", fits)
    assert estimate_work(ok).bytes < MAX_REPLICATION_BYTES


def test_the_arrivals_before_and_after_the_cohort_count_against_the_memory_budget(
    minimal_scenario_dict, cli, write_scenario
):
    """A one-day cohort of 1.4M prospects fits, but its leads hand off over months (mean 90
    days to MQL), and arrivals are simulated over all of that before and after the cohort to
    keep its queue steady: hundreds of millions of prospects. Refused before anything runs, by
    `simulate` and by the command line (exit 2, naming the key), not after 10 GB of work."""
    changes = {
        "run.horizon_days": 1,
        "arrivals.prospects_per_week": 1e7,
        "marketing.time_to_mql_days": {"dist": "exponential", "mean": 90},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fs.ScenarioWarning)
        s = fs.from_dict(minimal_scenario_dict, "f.toml", changes)  # the cohort alone fits
    with pytest.raises(
        fs.ScenarioError, match=r"arrivals\.prospects_per_week: .* simulated from day -\d+"
    ):
        fs.simulate(s, 1, 0)
    res = cli("run", write_scenario(s.model_dump(mode="json", exclude_unset=True)), "-q")
    assert res.exit_code == 2 and "marketing.time_to_mql_days" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_counts_at_their_bounds_fit_their_integer_types(minimal_scenario_dict):
    """No silent truncation: with the most channels and rejection reasons allowed, each with its
    own cost, every prospect keeps its channel (marketing_cost is exact) and every rejection
    its reason; rep ids, cycles and attempt counts fit the types the record stores them in."""
    n_ch, n_re = schema.MAX_CHANNELS, schema.MAX_REASONS
    data = minimal_scenario_dict
    data["arrivals"]["channels"] = [
        {"name": f"c{i}", "share": 1.0, "cost_per_prospect": float(i)} for i in range(n_ch)
    ]
    data["arrivals"]["prospects_per_week"] = 5000
    data["handoff"] = {
        "acceptance_rate": 0.5,
        "rejection_reasons": {f"r{i}": 1.0 for i in range(n_re)},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fs.ScenarioWarning)
        s = fs.from_dict(data, "many")
    rec = fs.simulate(s, 1, 0)
    cohort = rec.cohort_prospects()
    assert sorted(set(rec.channel.tolist())) == list(range(n_ch))
    kpis = compute_kpis(rec)
    assert kpis["marketing_cost"] == pytest.approx(float(rec.channel[cohort].astype(int).sum()))
    assert np.iinfo(rec.channel.dtype).max >= n_ch - 1
    assert np.iinfo(rec.reason.dtype).max >= n_re - 1
    assert np.iinfo(rec.attempt_rep.dtype).max >= schema.MAX_REPS - 1
    assert np.iinfo(rec.cycle.dtype).max >= schema.MAX_CYCLES - 1
    assert np.iinfo(rec.attempts_made.dtype).max >= schema.MAX_ATTEMPTS
    rejected = rec.reason[~rec.accepted]
    assert rejected.min() >= 0 and len(set(rejected.tolist())) == n_re
    report = period_report(rec, "monthly")
    reasons = report[[f"rejected_r{i}" for i in range(n_re)]].to_numpy().sum()
    assert reasons == report["mqls_rejected"].sum() == kpis["mqls_rejected"]
