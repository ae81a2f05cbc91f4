"""Lever attribution: Shapley values of the gap between two scenarios.

The contributions must add up to the whole gap (efficiency; exact for exact Shapley values, and
for sampled ones because each order's marginal steps telescope to the gap), agree with known
games, and run every coalition on common random numbers. Sums are compared at floating-point
rounding (relative 1e-9), not at a statistical tolerance: they are identities.

Most tests use the minimal conftest scenario with four alignment levers switched (a run takes
hundredths of a second); one uses the presets themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.experiment.attribution import differing_keys, shapley_exact, shapley_sampled

PRESETS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = {"run.horizon_days": 45, "run.warmup_days": 7}
# Three of the aligned preset's levers on top of the siloed one: two lever groups (the two-way
# SLA bundles attempts and sla_hours), so exact attribution needs 2^2 coalitions.
PRESET_LEVERS = ("handoff.acceptance_rate", "sales.attempts", "sales.sla_hours")
SILOED = {
    "name": "small_siloed",
    "handoff.acceptance_rate": 0.5,
    "sales.contact_rate": 0.35,
    "sales.attempts": 1,
    "sales.coverage": 0.77,
    "sales.sla_hours": 24,
    "qualification.decay_floor": 0.25,
}
ALIGNED = {
    "name": "small_aligned",
    "handoff.acceptance_rate": 0.85,
    "sales.attempts": 3,
    "sales.coverage": 0.95,
    "sales.sla_hours": 1,
}
R = 3


@pytest.fixture(scope="module")
def small(minimal_dict_factory):
    base = fs.from_dict(minimal_dict_factory(), overrides=SILOED)
    return base, fs.override(base, ALIGNED)


@pytest.fixture(scope="module")
def by_keys(small):
    base, alt = small
    return fs.attribute(base, alt, R, seed=4, by="keys", progress=False)


def test_contributions_sum_exactly_to_the_total_gap_on_the_presets():
    siloed = fs.load(PRESETS / "siloed.toml", SHORT)
    aligned = fs.load(PRESETS / "aligned.toml", SHORT)
    partly = fs.override(siloed, {"name": "partly", **{k: aligned.get(k) for k in PRESET_LEVERS}})
    result = fs.attribute(siloed, partly, 2, seed=4, by="levers", progress=False)
    assert result.method == "exact" and result.coalitions == 4
    assert list(result.groups) == ["handoff.acceptance_rate", "two-way SLA"]
    assert result.inert == ()
    assert result.contributions.sum() == pytest.approx(result.total, rel=1e-9)
    # The end points are the two scenarios themselves, on the same seed and replications.
    cmp = fs.compare(siloed, partly, 2, seed=4, progress=False)
    assert result.total == pytest.approx(cmp.table().loc["revenue", "diff"], rel=1e-12)


def test_every_replication_telescopes_to_its_own_gap(by_keys):
    # sla_hours is found inert (below), so the 2^3 coalitions of the other three keys run, plus
    # the two that show it inert: sla_hours alone, and everything (the alternative): 10 in all.
    assert by_keys.method == "exact" and by_keys.coalitions == 10
    gaps = by_keys.alternative_values - by_keys.baseline_values
    np.testing.assert_allclose(by_keys.per_replication.sum(axis=1), gaps, rtol=1e-9)
    assert by_keys.contributions.sum() == pytest.approx(by_keys.total, rel=1e-9)
    assert by_keys.total > 0


def test_sampled_shapley_also_sums_exactly(small, by_keys):
    base, alt = small
    sampled = fs.attribute(
        base, alt, R, seed=4, by="keys", exact_max_groups=2, permutations=4, progress=False
    )
    assert sampled.method == "sampled" and sampled.permutations == 4
    assert sampled.contributions.sum() == pytest.approx(sampled.total, rel=1e-9)
    assert sampled.total == pytest.approx(by_keys.total, rel=1e-12)


def test_swapping_baseline_and_alternative_negates_every_contribution(small, by_keys):
    """Exact Shapley values are antisymmetric: the coalitions of the reversed question are the
    complements of the original ones, on the same random numbers."""
    base, alt = small
    reverse = fs.attribute(alt, base, R, seed=4, by="keys", progress=False)
    np.testing.assert_allclose(
        reverse.contributions[by_keys.contributions.index].to_numpy(),
        -by_keys.contributions.to_numpy(),
        rtol=1e-9,
        atol=1e-6,
    )


def test_a_lever_that_cannot_move_revenue_gets_exactly_zero(small, by_keys):
    """sla_hours only defines the SLA KPI; with CRN its marginal effect on revenue is exactly 0
    in every coalition and replication (a null player), though the SLA KPI does move. It is
    found inert and left out of the expansion."""
    assert (by_keys.per_replication["sales.sla_hours"] == 0).all()
    assert by_keys.inert == ("sales.sla_hours",)
    base, _ = small
    busy = fs.override(base, {"sales.reps": 1, "sales.handling_minutes": 45})  # leads wait
    tighter = fs.override(busy, {"sales.sla_hours": 0.5})
    cmp = fs.compare(busy, tighter, 2, seed=4, progress=False).table()
    assert cmp.loc["revenue", "diff"] == 0
    assert cmp.loc["sla_attainment", "diff"] < 0


def test_every_lever_that_adds_work_or_leads_adds_revenue(by_keys):
    """Sign check on common random numbers: accepting, working and retrying more leads can only
    add revenue in every replication of this scenario (nothing competes for capacity here: 3
    reps for ~30 MQLs a week)."""
    for key in ("handoff.acceptance_rate", "sales.attempts", "sales.coverage"):
        assert (by_keys.per_replication[key] > 0).all(), key


def test_waterfall_table_steps_from_baseline_to_alternative(by_keys):
    table = by_keys.table()
    assert table.index[0] == "baseline" and table.index[-1] == "alternative"
    steps = table.drop(index=["baseline", "total gap", "alternative"])
    assert list(steps["value"]) == sorted(steps["value"], reverse=True)
    assert steps["cumulative"].iloc[-1] == pytest.approx(table.loc["alternative", "value"])
    assert steps["share"].sum() == pytest.approx(1.0)


def test_shapley_of_known_games():
    """Additive game: each player gets its weight. Unanimity game on {0, 1}: half each.
    Sampling is exact on an additive game (every marginal equals the weight)."""
    w = np.array([3.0, -1.0, 5.0])

    def additive(mask):
        return sum(w[i] for i in range(3) if mask >> i & 1)

    def unanimity(mask):
        return 1.0 if mask & 0b011 == 0b011 else 0.0

    np.testing.assert_allclose(shapley_exact(additive, 3), w)
    np.testing.assert_allclose(shapley_exact(unanimity, 3), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(shapley_sampled(additive, 3, 6, seed=1), w)
    est = shapley_sampled(unanimity, 3, 400, seed=1)
    assert est.sum() == pytest.approx(1.0)
    # Each order gives 1 to whichever of players 0, 1 comes last: a proportion estimated from
    # 200 independent antithetic pairs, sd at most sqrt(0.25 / 200) = 0.035, so 4 sd is 0.14.
    assert est[0] == pytest.approx(0.5, abs=0.14) and est[2] == 0


def test_levers_bundle_keys_the_readme_names_together(small):
    base, alt = small
    assert fs.lever_groups(base, alt) == {
        "handoff.acceptance_rate": ("handoff.acceptance_rate",),
        "two-way SLA": ("sales.sla_hours", "sales.attempts", "sales.coverage"),
    }
    assert fs.lever_groups(base, alt, by="keys") == {
        k: (k,)
        for k in ("handoff.acceptance_rate", "sales.sla_hours", "sales.attempts", "sales.coverage")
    }
    alone = fs.override(base, {"nurture.recycle": True})
    assert fs.lever_groups(base, alone) == {"nurture.recycle": ("nurture.recycle",)}


def test_an_inert_lever_changes_no_other_contribution(small, by_keys):
    """Leaving a null player out of the expansion is exact: the full 2^4 expansion of the same
    keys gives the same contributions, to rounding."""
    base, alt = small
    full = fs.attribute(base, alt, R, seed=4, by="keys", prune_inert=False, progress=False)
    assert full.coalitions == 16 and full.inert == ()
    np.testing.assert_allclose(
        full.contributions[by_keys.contributions.index].to_numpy(),
        by_keys.contributions.to_numpy(),
        rtol=1e-9,
    )
    assert (full.per_replication["sales.sla_hours"] == 0).all()


def test_themes_group_the_differing_keys_by_what_they_are_about(small):
    base, alt = small
    assert fs.lever_groups(base, alt, by="themes") == {
        "hand-off": ("handoff.acceptance_rate",),
        "sales follow-up": ("sales.sla_hours", "sales.attempts", "sales.coverage"),
    }
    explicit = fs.lever_groups(base, alt, {"speed": ["sales.sla_hours"]}, by="themes")
    assert explicit["speed"] == ("sales.sla_hours",)
    assert explicit["sales follow-up"] == ("sales.attempts", "sales.coverage")
    result = fs.attribute(base, alt, R, seed=4, progress=False)
    assert list(result.groups) == ["hand-off", "sales follow-up"]
    assert result.contributions.sum() == pytest.approx(result.total, rel=1e-9)


def test_every_differing_preset_key_is_in_exactly_one_lever():
    siloed = fs.load(PRESETS / "siloed.toml")
    aligned = fs.load(PRESETS / "aligned.toml")
    keys = [k for ks in fs.lever_groups(siloed, aligned).values() for k in ks]
    assert sorted(keys) == sorted(differing_keys(siloed, aligned))
    assert len(keys) == len(set(keys))
    assert not {"name", "description", "run.seed", "run.replications"} & set(keys)


def test_explicit_groups_come_first(small):
    base, alt = small
    groups = fs.lever_groups(base, alt, {"follow-up": ["sales.attempts", "sales.coverage"]})
    assert groups == {
        "follow-up": ("sales.attempts", "sales.coverage"),
        "handoff.acceptance_rate": ("handoff.acceptance_rate",),
        "sales.sla_hours": ("sales.sla_hours",),
    }
    with pytest.raises(fs.UsageError, match="not a lever key"):
        fs.lever_groups(base, alt, {"x": ["sales.nope"]})


@pytest.mark.parametrize("keys", [["sales.reps"], ["sales.attempts", "sales.reps"]])
def test_a_group_key_equal_in_both_scenarios_is_refused(small, keys):
    """A key that does not differ cannot move anything: it used to become a lever of exactly
    zero (and, beside differing keys, a misleading label); now it is a usage error naming it."""
    base, alt = small
    with pytest.raises(fs.UsageError, match="--group same: sales.reps is equal in both scenarios"):
        fs.lever_groups(base, alt, {"same": keys})


def test_identical_scenarios_have_nothing_to_attribute(small):
    base, _ = small
    with pytest.raises(fs.UsageError, match="differ in no lever key"):
        fs.attribute(base, base, R, progress=False)


def test_cli_attribute_json_contract_and_table(cli, small, by_keys, write_scenario):
    base, alt = small
    args = [
        write_scenario(_file_data(base), "base.toml"),
        write_scenario(_file_data(alt), "alt.toml"),
        "--by",
        "keys",
        "--replications",
        R,
        "--seed",
        4,
        "-q",
    ]
    res = cli("attribute", *args, "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["baseline"] == "small_siloed" and doc["alternative"] == "small_aligned"
    assert doc["total"] == pytest.approx(by_keys.total, rel=1e-12)
    assert sum(doc["contributions"].values()) == pytest.approx(doc["total"], rel=1e-9)
    assert doc["contributions"] == pytest.approx(by_keys.contributions.to_dict(), rel=1e-12)
    text = cli("attribute", *args, "--workers", "2")
    assert text.exit_code == 0, text.stderr
    assert "total gap" in text.stdout and "sales.coverage" in text.stdout


def _file_data(scenario):
    return scenario.model_dump(mode="json", exclude_unset=True)


def test_cli_attribute_bad_options_exit_2(cli):
    files = (PRESETS / "siloed.toml", PRESETS / "aligned.toml")
    for args, message in (
        (("--group", "oops"), "--group must look like NAME=KEY1,KEY2"),
        (("--by", "teams"), "--by must be one of themes, levers, keys (given: 'teams')"),
        (("--kpi", "revenu"), "unknown KPI 'revenu'"),
        (
            ("--permutations", "4", "--exact-max-groups", "12"),
            "--permutations applies to sampled attribution",
        ),
        (("--exact-max-groups", "0"), "--exact-max-groups must be a whole number from 1"),
        (("--exact-max-groups", "-1"), "--exact-max-groups must be a whole number from 1"),
        (("--exact-max-groups", "13"), "from 1 to 12, the most groups"),
        (
            ("--group", "x=sales.handling_minutes"),
            "--group x: sales.handling_minutes is equal in both scenarios",
        ),
    ):
        res = cli("attribute", *files, *args, "-q")
        assert res.exit_code == 2, (args, res.stderr)
        assert message in res.stderr
