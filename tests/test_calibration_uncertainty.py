"""Parameter uncertainty carried forward: deterministic draws per (seed, replication), the same
draw for both scenarios of a comparison, a deliberate change never undone by a draw, and a
variance split that recovers known components."""

from __future__ import annotations

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.errors import UsageError
from funnelsim.experiment import uncertainty as unc

PLAIN = {
    "name": "fitted",
    "run": {"horizon_days": 60, "warmup_days": 10, "replications": 4, "seed": 5},
    "arrivals": {"prospects_per_week": 150},
    "marketing": {"mql_rate": 0.4},
    "handoff": {"acceptance_rate": 0.7},
    "sales": {"reps": 3, "handling_minutes": {"dist": "exponential", "mean": 10.0}},
    "deals": {"win_rate": 0.3, "deal_size": {"dist": "gamma", "mean": 40000.0, "cv": 0.5}},
    "uncertainty": {
        "method": "test",
        "blocks": [
            {
                "name": "marketing",
                "keys": ["marketing.mql_rate"],
                "transforms": ["logit"],
                "estimate": [0.4],
                "covariance": [[0.04]],
            },
            {
                "name": "handoff",
                "keys": ["handoff.acceptance_rate", "deals.deal_size.mean"],
                "transforms": ["logit", "log"],
                "estimate": [0.7, 40000.0],
                "covariance": [[0.09, 0.0], [0.0, 0.01]],
            },
        ],
    },
}


@pytest.fixture()
def fitted():
    return fs.from_dict(PLAIN)


def test_draws_are_deterministic_paired_and_independent_of_the_count(fitted):
    a = unc.scenario_for(fitted, 5, 6)
    b = unc.scenario_for(fitted, 5, 7)  # the same pair: the same draw
    c = unc.scenario_for(fitted, 5, 8)
    assert a.marketing.mql_rate == b.marketing.mql_rate != c.marketing.mql_rate
    assert a.deals.deal_size.mean == unc.scenario_for(fitted, 5, 6).deals.deal_size.mean
    r1 = fs.run(fitted, 4, parameter_uncertainty=True, progress=False).kpis
    r2 = fs.run(fitted, 6, parameter_uncertainty=True, progress=False).kpis
    assert r1.equals(r2.loc[r1.index])


def test_a_changed_key_is_held_and_the_rest_still_drawn(fitted):
    aligned = fs.override(fitted, {"handoff.acceptance_rate": 0.95})
    assert unc.held_keys(aligned) == ("handoff.acceptance_rate",)
    for r in range(0, 12, 2):
        s = unc.scenario_for(aligned, 5, r)
        base = unc.scenario_for(fitted, 5, r)
        assert s.handoff.acceptance_rate == 0.95  # never undone by a draw
        assert s.marketing.mql_rate == base.marketing.mql_rate  # the same draw for the rest


def test_compare_uses_the_same_draw_in_both_scenarios(fitted):
    aligned = fs.override(fitted, {"handoff.acceptance_rate": 0.95})
    cmp = fs.compare(fitted, aligned, 6, parameter_uncertainty=True, progress=False)
    same = fs.compare(fitted, fitted, 6, parameter_uncertainty=True, progress=False)
    assert (same.table()["diff"].fillna(0) == 0).all()  # identical draws and luck: no difference
    doc = cmp.to_dict()["parameter_uncertainty"]
    assert doc["held_keys"] == {"baseline": [], "alternative": ["handoff.acceptance_rate"]}
    assert "parameter_share" in cmp.table().columns


def test_run_without_an_uncertainty_section_is_refused():
    s = fs.from_dict({k: v for k, v in PLAIN.items() if k != "uncertainty"})
    with pytest.raises(UsageError, match="no \\[uncertainty\\] section"):
        fs.run(s, 2, parameter_uncertainty=True)


def test_parameter_uncertainty_widens_the_interval(fitted):
    plain = fs.run(fitted, 10, progress=False).summary()
    wide = fs.run(fitted, 10, parameter_uncertainty=True, progress=False).summary()
    assert wide.loc["mqls", "half_width"] > plain.loc["mqls", "half_width"]
    assert 0 <= wide.loc["mqls", "parameter_share"] <= 1


def test_sweep_holds_swept_keys(fitted):
    res = fs.sweep(
        fitted, {"marketing.mql_rate": [0.4]}, 2, parameter_uncertainty=True, progress=False
    )
    assert (res.kpis["mqls"] > 0).all()
    s = unc.scenario_for(fitted, 5, 0, hold=("marketing.mql_rate",))
    assert s.marketing.mql_rate == 0.4


def test_variance_components_recover_known_values():
    """y = theta_k + eps with Var(theta) = 4, Var(eps) = 1, two replications per draw: the
    estimates' sampling sd is about 0.2 and 0.05 here, so the tolerances are ~3 sd."""
    rng = np.random.default_rng(3)
    k = 2000
    theta = rng.normal(0.0, 2.0, k).repeat(2)
    y = theta + rng.normal(0.0, 1.0, 2 * k)
    c = unc.components(y, np.arange(2 * k))
    assert abs(c.sd_parameters**2 - 4.0) < 0.45
    assert abs(c.sd_simulation**2 - 1.0) < 0.1
    assert abs(c.parameter_share - 0.8) < 0.02
    # Without the pairs' structure (every draw distinct) the split is not identified.
    assert np.isnan(unc.components(y[::2], np.arange(0, 2 * k, 2) * 2).parameter_share)


def test_quota_threads_parameter_uncertainty_and_holds_the_volume(fitted):
    plan = fs.quota(
        fitted,
        target_revenue=2e5,
        confidence=0.5,
        replications=4,
        tolerance=0.2,
        parameter_uncertainty=True,
        progress=False,
    )
    assert plan.prospects_per_week > 0


def test_calibrate_without_lifelines_exits_2_saying_how_to_install(tmp_path, monkeypatch):
    import sys

    from typer.testing import CliRunner

    from funnelsim.cli import app

    monkeypatch.setitem(sys.modules, "lifelines", None)
    path = tmp_path / "e.csv"
    path.write_text("lead_id,created_at\nA,2029-01-01\n")
    res = CliRunner().invoke(app, ["calibrate", str(path)])
    assert res.exit_code == 2 and "pip install" in res.output
