"""The quota and staffing commands: contract JSON, readable text, exit status 2 on bad input."""

from __future__ import annotations

import json

import pytest

SMALL = {
    "name": "small",
    "run": {"horizon_days": 28, "replications": 10, "seed": 4},
    "arrivals": {"prospects_per_week": 40},
    "marketing": {"mql_rate": 0.5},
    "sales": {
        "reps": 2,
        "calendar": "24/7",
        "sla_hours": 1,
        "handling_minutes": {"dist": "exponential", "mean": 20},
    },
    "qualification": {"sql_rate": 0.5},
    "deals": {"win_rate": 0.4, "deal_size": 1000},
}


@pytest.fixture
def small(write_scenario):
    return write_scenario(SMALL)


def test_quota_json_has_the_contract_keys(cli, small):
    res = cli("quota", small, "--target-revenue", 5000, "--confidence", 0.8, "--json", "--quiet")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    for key in (
        "target_revenue",
        "confidence",
        "prospects_per_week",
        "mqls_per_week",
        "p_hit_target",
        "reps_needed",
    ):
        assert key in doc
    assert doc["target_revenue"] == 5000 and doc["confidence"] == 0.8
    # Chosen on 18 replications (10 are too few for P = 0.8 with 90% assurance), checked on 10
    # fresh ones.
    assert doc["replications"] == 18 and doc["p_hit_replications"] == 10
    assert doc["validation"]["replication_ids"] == [18, 28]
    assert doc["revenue_basis"] == {
        "kind": "booked",
        "by_day": 28.0,
        "description": "bookings closed by day 28 (the horizon)",
    }
    assert doc["reverse_funnel"]["prospects_per_week"] < doc["prospects_per_week"]


def test_quota_text_shows_the_reverse_funnel_first_then_the_plan(cli, small):
    res = cli("quota", small, "--target-revenue", 5000, "--by-month", "--set", "sales.reps=3")
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert out.index("Deterministic reverse funnel") < out.index("Simulated quota")
    assert "Erlang C estimate" in out and "Plan:" in out and "Monthly MQL plan" in out
    assert "3 reps" in out
    assert "counted toward the target: bookings closed by day 28 (the horizon)" in out
    assert "out of sample" in out and "assurance" in out


def test_by_month_only_adds_the_schedule(cli, small):
    """The same plan with and without --by-month: it adds the schedule, never changes what
    counts."""
    docs = []
    for extra in ((), ("--by-month",)):
        res = cli("quota", small, "--target-revenue", 5000, "--json", "--quiet", *extra)
        assert res.exit_code == 0, res.stderr
        docs.append(json.loads(res.stdout))
    assert docs[0]["prospects_per_week"] == docs[1]["prospects_per_week"]
    assert docs[0]["revenue_basis"] == docs[1]["revenue_basis"]
    assert "monthly" in docs[1] and "monthly" not in docs[0]


def test_revenue_basis_says_what_counts(cli, small):
    res = cli(
        "quota", small, "--target-revenue", 5000, "--revenue-basis", "all-bookings", "--quiet"
    )
    assert res.exit_code == 0, res.stderr
    assert "counted toward the target: every booking of the cohort" in res.stdout


def test_booked_within_changes_what_counts(cli, small):
    """Only deals closed by day D count, so a tighter window needs more volume."""
    docs = []
    for extra in ((), ("--booked-within-days", 21)):
        res = cli("quota", small, "--target-revenue", 5000, "--json", "--quiet", *extra)
        assert res.exit_code == 0, res.stderr
        docs.append(json.loads(res.stdout))
    assert docs[1]["booked_within_days"] == 21
    assert docs[1]["prospects_per_week"] > docs[0]["prospects_per_week"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--target-revenue=-100",), "--target-revenue must be a positive"),
        (("--target-revenue", 100, "--confidence", 1.5), "--confidence"),
        (("--target-revenue", 100, "--sla-target", 0), "--sla-target"),
        (("--target-revenue", 100, "--assurance", 1), "--assurance"),
        (("--target-revenue", 100, "--validate", 0), "--validate must be >= 1"),
        (("--target-revenue", 100, "--revenue-basis", "cash"), "--revenue-basis must be one of"),
        (
            ("--target-revenue", 100, "--revenue-basis", "recognized", "--booked-within-days", 9),
            "applies to --revenue-basis booked only",
        ),
        (
            (
                "--target-revenue",
                100,
                "--booked-within-days",
                0.5,
                "--set",
                "deals.sales_cycle_days=5",
            ),
            "horizon binds: a won deal takes 5 days",
        ),
    ],
)
def test_quota_bad_input_exits_2(cli, small, args, message):
    res = cli("quota", small, *args, "--quiet")
    assert res.exit_code == 2
    assert message in res.stderr and "Traceback" not in res.stderr


def test_staffing_json_and_text(cli, small):
    res = cli("staffing", small, "--sla-target", 0.8, "--json", "--quiet")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["sla_target"] == 0.8 and isinstance(doc["reps_needed"], int)
    reps = [row["reps"] for row in doc["table"]]
    assert doc["reps_needed"] in reps and doc["current_reps"] in reps
    for key in ("sla_attainment", "first_touch_hours_mean", "revenue"):
        assert key in doc["table"][0]
    assert doc["revenue_basis"]["kind"] == "booked"
    text = cli("staffing", small, "--sla-target", 0.8, "--rep-cost-per-year", 1e5, "--quiet")
    assert text.exit_code == 0
    out = text.stdout
    assert "<- current" in out and "fewest for SLA" in out and "profit" in out
    assert "most profitable keeping the SLA" in out and "revenue counted: bookings" in out
    assert "Erlang C estimate" in out


def test_staffing_unreachable_sla_exits_2(cli, small):
    res = cli("staffing", small, "--set", "sales.coverage=0.5", "--quiet")
    assert res.exit_code == 2
    assert "sales.coverage" in res.stderr


def test_a_tiny_target_gets_a_small_quota_printed_with_decimals(cli, small):
    """$1 needs one customer: at p = 0.1 over 4 weeks about 2.3 / 0.4 ~ 6 prospects/week for
    90% (not "unreachable", as it was), and a volume under 10 prints with decimals, not rounded."""
    res = cli("quota", small, "--target-revenue", 1, "--quiet")
    assert res.exit_code == 0, res.stderr
    plan = next(line for line in res.stdout.splitlines() if line.startswith("Plan: "))
    shown = plan.split()[1]
    assert "." in shown and 2 < float(shown) < 10, plan
