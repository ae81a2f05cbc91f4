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
    res = cli(
        "quota",
        small,
        "--target-revenue",
        5000,
        "--confidence",
        0.8,
        "--replications",
        40,
        "--json",
        "--quiet",
    )
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
    assert doc["p_hit_target"] >= 0.8
    assert doc["replications"] == 40
    # A plan that hits with 80% needs more leads than the mean-based reverse funnel.
    assert doc["reverse_funnel"]["prospects_per_week"] < doc["prospects_per_week"]


def test_quota_text_shows_the_reverse_funnel_first_then_the_plan(cli, small):
    res = cli("quota", small, "--target-revenue", 5000, "--by-month", "--set", "sales.reps=3")
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert out.index("Deterministic reverse funnel") < out.index("Simulated quota")
    assert "Erlang C estimate" in out and "Plan:" in out and "Monthly MQL plan" in out
    assert "3 reps" in out


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
        (
            (
                "--target-revenue",
                100,
                "--booked-within-days",
                0.5,
                "--set",
                "deals.sales_cycle_days=5",
            ),
            "sales cycle",
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
    assert doc["reps_needed"] in reps
    for key in ("sla_attainment", "first_touch_hours_mean", "revenue"):
        assert key in doc["table"][0]
    text = cli("staffing", small, "--sla-target", 0.8, "--rep-cost-per-year", 1e5, "--quiet")
    assert text.exit_code == 0
    assert "<- fewest" in text.stdout and "revenue - rep cost" in text.stdout


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
