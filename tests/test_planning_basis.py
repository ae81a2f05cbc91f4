"""What counts toward a revenue target: one definition (`RevenueBasis`), applied alike by the quota,
its monthly schedule, staffing and every output."""

from __future__ import annotations

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.planning import counted_revenue, resolve_basis
from funnelsim.results.kpis import recognized


def basis_dict() -> dict:
    return {
        "name": "basis",
        "run": {"horizon_days": 84, "warmup_days": 14, "replications": 4, "seed": 3},
        "arrivals": {"prospects_per_week": 150},
        "marketing": {"mql_rate": 0.5, "time_to_mql_days": 2},
        "sales": {"reps": 5, "calendar": "24/7", "handling_minutes": 10},
        "qualification": {"sql_rate": 0.6},
        "deals": {
            "win_rate": 0.5,
            "sales_cycle_days": {"dist": "exponential", "mean": 30},
            "deal_size": {"dist": "gamma", "mean": 12000, "cv": 0.5},
            "revenue": "recurring",
            "monthly_churn": 0.05,
        },
    }


@pytest.fixture(scope="module")
def s() -> fs.Scenario:
    return fs.from_dict(basis_dict())


@pytest.fixture(scope="module")
def rec(s):
    return fs.simulate(s, 3, 0)


def test_each_basis_counts_what_it_says_by_hand(s, rec):
    """booked: cohort wins closed by day D (default the horizon); all-bookings: every cohort win;
    recognized: what is billed by the horizon (the revenue_recognized KPI's own arithmetic)."""
    won = rec.won & rec.cohort_mqls()
    by_horizon = won & (rec.closed_at <= 24 * 84)
    by_60 = won & (rec.closed_at <= 24 * 60)
    assert 0 < by_60.sum() < by_horizon.sum() < won.sum(), "the case must tell the bases apart"
    assert counted_revenue(rec, resolve_basis(s)) == pytest.approx(rec.amount[by_horizon].sum())
    assert counted_revenue(rec, resolve_basis(s, booked_within_days=60)) == pytest.approx(
        rec.amount[by_60].sum()
    )
    assert counted_revenue(rec, resolve_basis(s, "all-bookings")) == pytest.approx(
        rec.amount[won].sum()
    )
    got = counted_revenue(rec, resolve_basis(s, "recognized"))
    assert got == pytest.approx(recognized(rec, won, 0.0, 24 * 84))
    assert got < rec.amount[by_horizon].sum(), "recurring deals bill a month at a time"


def test_the_default_is_this_years_bookings(s):
    b = resolve_basis(s)
    assert (b.kind, b.by_day) == ("booked", 84.0)
    assert b.describe() == "bookings closed by day 84 (the horizon)"
    assert resolve_basis(s, booked_within_days=60).describe() == "bookings closed by day 60"
    assert "whenever" in resolve_basis(s, "all-bookings").describe()
    assert "recognised by day 84" in resolve_basis(s, "recognized").describe()
    assert resolve_basis(s, "all-bookings").to_dict()["by_day"] is None


@pytest.mark.parametrize(
    ("basis", "days", "message"),
    [
        ("bookings", None, "--revenue-basis must be one of booked, all-bookings, recognized"),
        ("all-bookings", 30, "--booked-within-days applies to --revenue-basis booked only"),
        ("booked", 0, "--booked-within-days must be > 0"),
        ("booked", float("nan"), "--booked-within-days must be > 0"),
    ],
)
def test_bad_bases_are_usage_errors(s, basis, days, message):
    with pytest.raises(fs.UsageError, match=message):
        resolve_basis(s, basis, days)


def test_every_answer_counts_by_the_same_basis(s):
    """The quota's plan revenue, its monthly schedule and the staffing table all count by the
    basis asked for; recognised recurring revenue needs more volume than bookings by the same
    day, and all bookings need the least."""
    kwargs = {"replications": 4, "validate": 4, "tolerance": 0.05, "progress": False}
    kwargs["max_prospects_per_week"] = 2000.0  # recognised recurring revenue needs far more
    target = 100_000.0
    plans = {
        b: fs.quota(s, target, 0.5, revenue_basis=b, by_month=True, **kwargs)
        for b in (
            "all-bookings",
            "booked",
            "recognized",
        )
    }
    v = {b: p.prospects_per_week for b, p in plans.items()}
    assert v["all-bookings"] < v["booked"] < v["recognized"]
    for b, p in plans.items():
        assert p.basis.kind == b
        assert p.to_dict()["revenue_basis"]["kind"] == b
        assert p.monthly["revenue_in_time"].sum() == pytest.approx(p.expected_revenue)
    staffed = fs.staffing(s, 0.5, revenue_basis="recognized", replications=2, progress=False)
    assert staffed.basis.kind == "recognized"
    row = staffed.table().loc[s.sales.reps]
    ev = [counted_revenue(fs.simulate(s, s.run.seed, r), staffed.basis) for r in range(2)]
    assert row["revenue"] == pytest.approx(np.mean(ev[: int(row["replications"])]))
