"""Reproducibility and common random numbers.

Replication r's numbers depend only on (seed, r) and on the stream names, never on how many
replications run, in what order, in which process, or on which other scenario is being run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.model.streams import uniforms

PRESETS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = {"run.horizon_days": 42, "run.warmup_days": 7}


@pytest.fixture(scope="module")
def aligned():
    return fs.load(PRESETS / "aligned.toml", SHORT)


@pytest.fixture(scope="module")
def siloed():
    return fs.load(PRESETS / "siloed.toml", SHORT)


def test_same_seed_gives_identical_kpis_and_ledgers(aligned):
    a = fs.run(aligned, 2, 5, keep_records=True, progress=False)
    b = fs.run(aligned, 2, 5, keep_records=True, progress=False)
    pd.testing.assert_frame_equal(a.kpis, b.kpis, check_exact=True)
    for r in (0, 1):
        pd.testing.assert_frame_equal(a.ledger(r), b.ledger(r), check_exact=True)
        pd.testing.assert_frame_equal(a.attempts(r), b.attempts(r), check_exact=True)


def test_replication_does_not_depend_on_how_many_run(aligned):
    """run(s, 5).kpis.loc[3] == run(s, [3]).kpis.loc[3], ledgers included."""
    five = fs.run(aligned, 5, 5, keep_records=True, progress=False)
    only = fs.run(aligned, [3], 5, keep_records=True, progress=False)
    pd.testing.assert_series_equal(five.kpis.loc[3], only.kpis.loc[3], check_exact=True)
    pd.testing.assert_frame_equal(five.ledger(3), only.ledger(3), check_exact=True)
    backwards = fs.run(aligned, [4, 3, 2], 5, keep_records=True, progress=False)
    pd.testing.assert_series_equal(five.kpis.loc[2], backwards.kpis.loc[2], check_exact=True)


def test_different_replications_and_seeds_differ(aligned):
    """Distinct (seed, replication) pairs get distinct streams (cf. Mesa bug #2835)."""
    k = fs.run(aligned, 3, 5, keep_records=False, progress=False).kpis
    assert k["prospects"].nunique() == 3
    assert k["revenue"].nunique() == 3
    other = fs.run(aligned, 1, 6, keep_records=False, progress=False).kpis
    assert other.loc[0, "revenue"] != k.loc[0, "revenue"]
    r0, r1 = fs.simulate(aligned, 5, 0), fs.simulate(aligned, 5, 1)
    n = min(r0.n_prospects, r1.n_prospects)
    assert not np.array_equal(r0.score_z[:n], r1.score_z[:n])


def test_default_seed_is_the_scenarios(aligned):
    a = fs.simulate(aligned, None, 0)
    b = fs.simulate(aligned, aligned.run.seed, 0)
    np.testing.assert_array_equal(a.arrival, b.arrival)
    assert fs.run(aligned, 1, progress=False).seed == aligned.run.seed


def test_two_scenarios_see_the_same_prospects(aligned, siloed):
    """Common random numbers: the presets share their prospects' arrival times over the horizon
    (their channel mixes differ, so scores and MQLs may not; the leads simulated before day 0
    and after the horizon depend on each scenario's delays and queue)."""
    a, s = fs.simulate(aligned, 5, 2), fs.simulate(siloed, 5, 2)

    def window(rec):
        return rec.arrival[(rec.arrival >= 0) & (rec.arrival < rec.horizon_h)]

    np.testing.assert_array_equal(window(a), window(s))


def test_a_sales_lever_leaves_upstream_draws_alone(siloed):
    """Without recycling or feedback nothing upstream of the sales queue can depend on it: more
    reps leave scores, MQLs, hand-off times, acceptance and coverage identical, and a looser
    acceptance accepts a superset (inverse transform on the same uniforms). Compared up to the
    horizon: after it the uncounted tail of arrivals runs while each run's cohort has work."""
    assert not siloed.nurture.recycle and not siloed.feedback.enabled
    a = fs.simulate(siloed, 5, 2)
    m = fs.simulate(fs.override(siloed, {"sales.reps": 9}), 5, 2)

    def upto_horizon(rec, name):
        values = getattr(rec, name)
        if values.size == rec.n_prospects:
            return values[rec.arrival < rec.horizon_h]
        return values[: int(np.searchsorted(rec.mql_at, rec.horizon_h))]

    for name in ("score_z", "mql_id", "mql_at", "accepted", "worked"):
        np.testing.assert_array_equal(upto_horizon(a, name), upto_horizon(m, name), err_msg=name)
    assert not np.array_equal(upto_horizon(a, "first_touch_at"), upto_horizon(m, "first_touch_at"))
    loose = fs.simulate(fs.override(siloed, {"handoff.acceptance_rate": 0.8}), 5, 2)
    np.testing.assert_array_equal(upto_horizon(a, "mql_id"), upto_horizon(loose, "mql_id"))
    acc, acc_loose = upto_horizon(a, "accepted"), upto_horizon(loose, "accepted")
    assert not (acc & ~acc_loose).any()
    assert acc_loose.sum() > acc.sum()


def test_more_volume_only_adds_prospects(minimal_scenario):
    """A higher rate only adds prospects: every prospect of the smaller volume is one of the
    larger volume's, with the same arrival time and the same per-prospect draws (here its
    score), and the larger volume has more."""
    one = fs.simulate(minimal_scenario, 3, 0)
    two = fs.simulate(fs.override(minimal_scenario, {"arrivals.prospects_per_week": 400}), 3, 0)
    pos = np.searchsorted(two.arrival, one.arrival)
    np.testing.assert_array_equal(two.arrival[pos], one.arrival)
    np.testing.assert_array_equal(two.score_z[pos], one.score_z)
    assert two.n_prospects > 1.5 * one.n_prospects


def test_streams_are_prefix_stable():
    """The first k uniforms of a stream do not depend on how many are drawn."""
    np.testing.assert_array_equal(uniforms(1, 2, "mql", 1000)[:10], uniforms(1, 2, "mql", 10))
    assert not np.array_equal(uniforms(1, 2, "mql", 10), uniforms(1, 2, "accept", 10))


def test_same_numbers_in_a_fresh_process(aligned):
    """Stream keys are stable hashes (not Python's salted hash()): a new interpreter with a
    different PYTHONHASHSEED reproduces replication 1 exactly."""
    here = fs.run(aligned, [1], 5, keep_records=False, progress=False).kpis.loc[1]
    code = (
        "import json, funnelsim as fs\n"
        f"s = fs.load({str(PRESETS / 'aligned.toml')!r}, {SHORT!r})\n"
        "k = fs.run(s, [1], 5, keep_records=False, progress=False).kpis.loc[1]\n"
        "print(json.dumps({c: float(v) for c, v in k.items()}))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    there = json.loads(out.stdout)
    for name, value in here.items():
        assert there[name] == pytest.approx(float(value), rel=0, abs=0, nan_ok=True), name
