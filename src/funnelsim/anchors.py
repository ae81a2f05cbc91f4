"""The published funnel figures the presets are held to, and a scenario measured against them.

Each anchor is a KPI (or a ratio of KPIs) with the range the sources give (a single figure has a
band for the audit's own spread), its source in the domain fact sheet, and the presets it
applies to. `anchor_table` measures any scenario's runs against them, so a team can hold its own
calibrated funnel to the same yardsticks. ``tests/test_presets_anchors.py`` holds the presets to
them, with a tolerance of 4 standard errors beyond the published range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Anchor:
    """One published figure: ``low``..``high`` is its range (as shares for rates), ``value``
    measures it on one replication's KPIs."""

    key: str
    figure: str
    published: str
    low: float
    high: float
    source: str
    value: Callable[[Mapping[str, float]], float]
    unit: str = "rate"


def _kpi(name: str) -> Callable[[Mapping[str, float]], float]:
    return lambda k: float(k[name])


def _ratio(a: str, b: str) -> Callable[[Mapping[str, float]], float]:
    return lambda k: float(k[a]) / float(k[b]) if k[b] else math.nan


ANCHORS: tuple[Anchor, ...] = (
    Anchor(
        "within_1h",
        "accepted MQLs first touched within 1 h",
        "37%",
        0.32,
        0.42,
        "HBR 2011 audit of 2,241 firms (§1.1) [P]; band: the audit's spread, ±5 pts [A]",
        _kpi("first_touch_within_1h_share"),
    ),
    Anchor(
        "within_24h",
        "accepted MQLs first touched within 24 h",
        "53%; 60% (ChatPath)",
        0.53,
        0.61,
        "HBR 2011 37% + 16% (§1.1) [P]; ChatPath 2017: 39.6% took more than a day (§1.4) [S-]",
        _kpi("first_touch_within_24h_share"),
    ),
    Anchor(
        "never",
        "accepted MQLs never touched",
        "23%",
        0.18,
        0.28,
        "HBR 2011 (§1.1) [P]; band ±5 pts [A] (Forbes 36%, Dreamforce 40-51% count slower firms)",
        _kpi("never_touched_share"),
    ),
    Anchor(
        "responders_mean_h",
        "mean first response among those answered (hours)",
        "42 h (39-47 h)",
        39.0,
        47.0,
        "HBR 2011 42 h (§1.1) [P]; Dreamforce 41 h, Forbes 39 h and 47 h (§1.4) [S]",
        _kpi("first_touch_hours_mean"),
        unit="hours",
    ),
    Anchor(
        "mql_to_sal",
        "delivered MQL -> SAL (acceptance)",
        "40-60%",
        0.40,
        0.60,
        "practitioner range (mv3marketing, §2) [S-]",
        _kpi("acceptance_rate"),
    ),
    Anchor(
        "win_rate",
        "win rate among opportunities",
        "21% (15-30%)",
        0.15,
        0.30,
        "HubSpot survey ~21%; by ACV 15-30% mid-market to SMB (§2) [S-]; Ebsta 19% (§6) [S]",
        _kpi("win_rate"),
    ),
    Anchor(
        "prospect_to_customer",
        "prospect -> customer",
        "under 1%",
        0.0,
        0.01,
        "Forrester: under 1% of inquiries close (§2) [S]",
        _kpi("lead_to_customer_rate"),
    ),
    Anchor(
        "mql_to_sql",
        "MQL -> SQL (reported, not forced)",
        "~12-13%",
        0.0,
        1.0,
        "the circulating 13% most likely descends from Implisit's lead -> opportunity (§2) [A]",
        _kpi("mql_to_sql_rate"),
    ),
    Anchor(
        "unique_mql_to_opportunity",
        "unique MQL -> opportunity (reported, not forced)",
        "13%",
        0.0,
        1.0,
        "Implisit lead -> opportunity 13% (§2) [S]",
        _ratio("opportunities", "unique_mqls"),
    ),
    Anchor(
        "own_sla",
        "accepted MQLs first touched within the team's own SLA",
        "aligned: at least 90%",
        0.90,
        1.0,
        "an SLA is kept (HubSpot/Roberge, §4) [P]; applies to the aligned preset",
        _kpi("sla_attainment"),
    ),
)
BY_KEY = {a.key: a for a in ANCHORS}


def anchor_values(kpis: pd.DataFrame, anchor: Anchor) -> np.ndarray:
    """One value of ``anchor`` per replication (rows of a run's KPI frame)."""
    return np.array([anchor.value(row) for _, row in kpis.iterrows()], dtype=float)


def anchor_table(results: Mapping[str, pd.DataFrame], level_se: float = 4.0) -> pd.DataFrame:
    """Each anchor against each run: mean, standard error, and whether the mean lies within the
    published range widened by ``level_se`` standard errors. ``results`` maps a label to a
    run's KPI frame (``RunResult.kpis``). One row per anchor and run (tidy)."""
    rows = []
    for a in ANCHORS:
        for label, kpis in results.items():
            v = anchor_values(kpis, a)
            v = v[np.isfinite(v)]
            mean = float(v.mean()) if v.size else math.nan
            se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
            tol = level_se * se if math.isfinite(se) else 0.0
            rows.append(
                {
                    "anchor": a.key,
                    "figure": a.figure,
                    "published": a.published,
                    "source": a.source,
                    "run": label,
                    "mean": mean,
                    "se": se,
                    "within": bool(a.low - tol <= mean <= a.high + tol),
                }
            )
    return pd.DataFrame(rows)
