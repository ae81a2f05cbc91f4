"""The period report's edges: commitment only inside the cohort window, never inf; stages that
end are not padded with zeros; shares printed alike; the rep -1 of the breaches table.

Every check is exact on fixed seeds (counts and their definitions, no statistics).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.formatting import PERIOD_SHARES, period_text_frame
from funnelsim.results import compute_kpis, mean_period_report, period_report
from funnelsim.results.timeline import timestamps

HANDOFF = ["mqls", "mqls_accepted", "mqls_rejected", "recycled_mqls", "all_attempts_given"]


def scenario_dict() -> dict:
    """A short year: 120 days from Monday 2029-01-01, warm-up 10 days, closes that drain for
    months after the horizon (a lognormal sales cycle)."""
    return {
        "name": "periods",
        "run": {"horizon_days": 120, "warmup_days": 10, "replications": 3, "seed": 5},
        "arrivals": {"prospects_per_week": 400},
        "marketing": {"mql_rate": 0.4, "time_to_mql_days": 2},
        "handoff": {"acceptance_rate": 0.8},
        "sales": {
            "reps": 6,
            "handling_minutes": 10,
            "attempts": 2,
            "contact_rate": 0.6,
            "coverage": 0.9,
        },
        "qualification": {"sql_rate": 0.4},
        "deals": {
            "opportunity_rate": 0.6,
            "win_rate": 0.4,
            "sales_cycle_days": {"dist": "lognormal", "median": 40, "sigma": 0.8},
            "deal_size": 1000,
        },
    }


def scenario(**changes):
    return fs.override(fs.from_dict(scenario_dict(), source="periods"), changes)


@pytest.fixture(scope="module")
def plain():
    return fs.run(scenario(), keep_records=True, progress=False)


@pytest.fixture(scope="module")
def committed():
    return fs.run(
        scenario(**{"marketing.mql_commitment_per_week": 120}), keep_records=True, progress=False
    )


@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_no_commitment_is_nan_never_inf(plain, period):
    """Without a commitment the attainment is NaN (the docstring's promise); the mean report
    used to sum the NaN commitments to 0 and print inf in every period."""
    for report in (
        period_report(plain.records[0], period),
        mean_period_report(plain.records, period),
    ):
        assert report["mql_commitment"].isna().all()
        assert report["commitment_attainment"].isna().all()
        assert not np.isinf(report.select_dtypes("number").to_numpy()).any()


def test_commitment_covers_only_whole_periods_inside_the_window(committed):
    """Weekly: 120 promised in every week wholly inside [day 10, day 120); the week cut by
    warm-up, the week cut by the horizon and every week after it promise nothing (NaN), so
    weeks after the horizon no longer show a commitment."""
    start = pd.Timestamp("2029-01-01")
    warmup, horizon = start + pd.Timedelta(days=10), start + pd.Timedelta(days=120)
    for report in (
        period_report(committed.records[0], "weekly"),
        mean_period_report(committed.records, "weekly"),
    ):
        weeks = report.index
        inside = (weeks >= warmup) & (weeks + pd.Timedelta(days=7) <= horizon)
        assert (
            inside.sum() == 15
        )  # Jan 15 .. Apr 23 (Jan 8-14 holds day 10, Apr 30 - May 6 the horizon)
        assert (report.loc[inside, "mql_commitment"] == 120).all()
        assert report.loc[~inside, "mql_commitment"].isna().all()
        assert report.loc[~inside, "commitment_attainment"].isna().all()
        np.testing.assert_allclose(
            report.loc[inside, "commitment_attainment"], report.loc[inside, "mqls"] / 120
        )
        assert (weeks[~inside & (weeks >= horizon)]).size > 0  # the drain has rows


def test_monthly_commitment_is_the_month_in_weeks(committed):
    report = period_report(committed.records[0], "monthly")
    # January is cut by warm-up (day 10); the horizon, day 120, is May 1: Feb to April whole.
    whole = report["mql_commitment"].dropna()
    assert list(whole.index.strftime("%Y-%m")) == ["2029-02", "2029-03", "2029-04"]
    np.testing.assert_allclose(whole.to_numpy(), [120 * 28 / 7, 120 * 31 / 7, 120 * 30 / 7])


def test_stages_that_ended_are_not_padded_with_zeros(plain):
    """After the horizon no prospect arrives: NaN, not 0. After the cohort's last hand-off the
    hand-off columns are NaN; the report runs on only for the stages still draining, and its
    last row holds the last won close. Inside a stage's span an empty period is a real 0."""
    rec = plain.records[0]
    report = period_report(rec, "weekly")
    horizon = pd.Timestamp("2029-01-01") + pd.Timedelta(days=120)
    after = report.index >= horizon
    assert report.loc[after, "prospects"].isna().all()
    assert report.loc[~after, "prospects"].notna().all()
    cm = rec.cohort_mqls()
    last_handoff = timestamps(rec.start_date, rec.mql_at[cm]).max()
    ended = report.index > last_handoff.to_period("W-SUN").start_time
    assert ended.any(), "closes drain for weeks after the last hand-off"
    assert report.loc[ended, HANDOFF].isna().all().all()
    assert report.loc[~ended, HANDOFF].notna().all().all()
    assert report.filter(like="rejected_").loc[ended].isna().all().all()
    assert report["customers"].iloc[-1] > 0  # the report ends with the cohort's last close
    assert report["customers"].notna().all()  # wins follow the last hand-off: never ended early
    assert (report["customers"] == 0).any()  # real zeros: weeks with no win yet
    # Totals are still the run's KPIs (a NaN is not an event).
    k = compute_kpis(rec)
    for col in ("prospects", "mqls", "mqls_accepted", "sqls", "opportunities", "customers"):
        assert report[col].sum() == k[col], col


def test_mean_report_counts_an_ended_replication_as_zero(plain):
    """In the mean over replications a period where one replication's stage had ended counts
    it as 0; the column is NaN only where every replication's stage had ended."""
    mean = mean_period_report(plain.records, "weekly")
    each = [period_report(r, "weekly") for r in plain.records]
    for col in ("mqls", "customers", "prospects"):
        stacked = pd.concat([e[col].rename(i) for i, e in enumerate(each)], axis=1)
        expect = stacked.sum(axis=1, min_count=1) / len(each)
        expect.index.name = "period_start"
        pd.testing.assert_series_equal(mean[col], expect.rename(col), check_freq=False)
    assert mean["prospects"].isna().any() and mean["customers"].notna().all()


def test_every_share_is_printed_as_a_percentage(committed):
    """`0.9` beside `56.9%` was the mix; every share is now a percentage, undefined as -."""
    text = period_text_frame(mean_period_report(committed.records, "monthly"))
    for col in PERIOD_SHARES:
        assert text[col].str.fullmatch(r"-|\d+\.\d%").all(), text[col]
    flat = text.to_numpy().ravel().tolist()
    assert not any(v in ("nan", "inf") for v in flat)
    assert "-" in text["prospects"].tolist()


def test_cli_monthly_report_has_no_inf_nor_bare_shares(cli, write_scenario):
    path = write_scenario(scenario_dict())
    res = cli("run", path, "--replications", "2", "--report", "monthly", "-q")
    assert res.exit_code == 0, res.stderr
    report = res.stdout.split("monthly report")[1]
    assert "inf" not in report and "nan" not in report


def test_rep_minus_one_is_the_never_worked(plain):
    """`rep` -1 in sla_breaches_by_rep_day counts the breaches no rep ever touched: exactly the
    run's never_worked (a lead nobody works always breaches its SLA)."""
    for rec in plain.records:
        breaches = fs.sla_breaches_by_rep_day(rec)
        k = compute_kpis(rec)
        assert breaches.loc[breaches["rep"] == -1, "breaches"].sum() == k["never_worked"]
        assert breaches["breaches"].sum() == k["sla_breaches"]
        assert breaches["rep"].between(-1, rec.reps - 1).all()
        assert k["never_worked"] > 0  # coverage 0.9: the table does hold a -1
