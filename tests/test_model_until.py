"""Stopping a replication early changes nothing before the stop.

The sales engine runs forward in time and every deal draw is keyed by prospect, so a run cut at
hour H must agree, event for event, with the full run on everything that happened before H:
the bookings closed by H (what a quota search counts), the hand-offs made before H and their
first touches. An identity, checked exactly, on the presets and at several stops.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import funnelsim as fs

PRESETS = Path(__file__).resolve().parents[1] / "scenarios"
SHORT = {"run.horizon_days": 120, "run.warmup_days": 14}


def _booked_by(rec, hours: float) -> float:
    won = rec.won & rec.cohort_mqls() & (rec.closed_at <= hours)
    return float(rec.amount[won].sum())


@pytest.mark.parametrize("preset", ["siloed", "aligned"])
@pytest.mark.parametrize("stop_days", [120, 150])
def test_a_run_cut_at_h_agrees_with_the_full_run_on_everything_before_h(preset, stop_days):
    s = fs.load(PRESETS / f"{preset}.toml", SHORT)
    until = 24.0 * stop_days
    cut_any = False
    for r in range(2):
        full = fs.simulate(s, 3, r)
        cut = fs.simulate(s, 3, r, until_h=until)
        assert _booked_by(cut, until) == _booked_by(full, until) > 0
        before_full = full.mql_at < until
        before_cut = cut.mql_at < until
        assert before_cut.all() or cut.mql_at.size == before_cut.sum()
        np.testing.assert_array_equal(cut.mql_at[before_cut], full.mql_at[before_full])
        touched = full.first_touch_at[before_full]
        early = touched < until  # touches after the stop never happened in the cut run
        np.testing.assert_array_equal(cut.first_touch_at[before_cut][early], touched[early])
        np.testing.assert_array_equal(cut.accepted[before_cut], full.accepted[before_full])
        # The cut run really is shorter when the full one went on past the stop.
        if full.cohort_done_at > until:
            assert full.mql_at.size > cut.mql_at.size
            cut_any = True
    assert cut_any, "no replication went on past the stop: the test would show nothing"


@pytest.mark.parametrize("until", [0, -5.0, float("nan"), float("inf"), "90", True])
def test_a_stop_that_is_not_a_positive_hour_is_a_usage_error(until):
    s = fs.load(PRESETS / "siloed.toml", SHORT)
    with pytest.raises(fs.UsageError, match="until_h must be a number of hours above 0"):
        fs.simulate(s, 3, 0, until_h=until)
