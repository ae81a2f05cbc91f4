"""The quota split across lead channels in the scenario's mix, and what the plan costs.

``arrivals.prospects_per_week`` is the total; each channel gets its share of it (the contract:
scaling the total scales every channel alike), so a quota is split by the same shares. Costs are
expected values over the counted window [warmup, horizon): prospects times each channel's
``cost_per_prospect`` (else ``costs.cost_per_prospect``), and reps times
``costs.rep_cost_per_year``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.channels import channel_mix
from ..scenario import Scenario
from .reverse_funnel import cohort_weeks


def channel_plan(s: Scenario, prospects_per_week: float) -> pd.DataFrame:
    """Per channel (one row "all" without channels): share, prospects/week, MQL rate,
    MQLs/week, cost per prospect and marketing cost per week."""
    mix = channel_mix(s)
    share = np.diff(np.concatenate(([0.0], mix.cumulative_share)))
    prospects = prospects_per_week * share
    out = pd.DataFrame(
        {
            "share": share,
            "prospects_per_week": prospects,
            "mql_rate": mix.mql_rate,
            "mqls_per_week": prospects * mix.mql_rate,
            "cost_per_prospect": mix.cost_per_prospect,
            "marketing_cost_per_week": prospects * mix.cost_per_prospect,
        },
        index=pd.Index(mix.names, name="channel"),
    )
    return out


def plan_costs(s: Scenario, prospects_per_week: float, reps: int) -> dict[str, float]:
    """Expected cost of a plan over the counted window: marketing, reps and their total."""
    weeks = cohort_weeks(s)
    marketing = float(channel_plan(s, prospects_per_week)["marketing_cost_per_week"].sum()) * weeks
    rep = reps * s.costs.rep_cost_per_year * weeks * 7.0 / 365.0
    return {"marketing_cost": marketing, "rep_cost": rep, "total_cost": marketing + rep}
