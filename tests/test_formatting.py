"""Numbers as a reader expects them: units, money, and no 'nan' or misleading signs."""

from __future__ import annotations

import math

import pandas as pd

from funnelsim.formatting import comparison_text_frame, fmt, money


def test_units():
    assert fmt(0.3521, "rate") == "35.2%"
    assert fmt(1_240_000, "currency") == "$1.24M"
    assert money(-55_000) == "-$55.00k"
    assert fmt(4.2, "hours") == "4.20 h"
    assert fmt(1234, "count") == "1,234"
    assert fmt(float("nan"), "rate") == "-"


def test_comparison_rows_never_show_nan_or_a_sign_against_a_loss():
    table = pd.DataFrame(
        {
            "baseline": [-400_000.0, math.nan, 0.5],
            "alternative": [12e6, math.nan, 0.6],
            "diff": [12.4e6, math.nan, 0.1],
            "ci_low": [10e6, math.nan, 0.08],
            "ci_high": [14e6, math.nan, 0.12],
            "relative": [-31.0, math.nan, 0.2],
            "significant": [True, False, True],
        },
        index=pd.Index(["profit", "yoy_growth", "sla_attainment"], name="kpi"),
    )
    text = comparison_text_frame(table)
    assert text.loc["profit", "relative"] == "-"
    assert text.loc["profit", "diff"] == "$12.40M"
    assert text.loc["yoy_growth", "diff"] == "-" and "nan" not in text.to_string()
    assert text.loc["sla_attainment", "diff"] == "+10.0 pts"
    assert text.loc["sla_attainment", "relative"] == "+20.0%"
