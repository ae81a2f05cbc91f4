"""The deterministic reverse funnel every planner knows, and the delay arithmetic around it.

``customers = target / mean deal size``, then up the funnel dividing by each stage's nominal rate,
then spread over the weeks whose leads can still close in time. It ignores variance (it hits the
target about half the time), capacity, and response-time decay. `quota` starts from it and shows it
beside the simulated answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.arrivals import daily_multipliers
from ..model.channels import channel_mix
from ..model.sales import cadence_offsets
from ..scenario import Scenario
from ..scenario.checks import effective_mql_rate

# Funnel order, prospects first: (stage reached, what the rate into it is called in the scenario).
STAGES = (
    ("mqls", "marketing.mql_rate (over the channel mix)"),
    ("mqls_accepted", "handoff.acceptance_rate"),
    ("mqls_worked", "sales.coverage"),
    ("mqls_reached", "1 - (1 - sales.contact_rate) ** sales.attempts"),
    ("sqls", "qualification.sql_rate (no decay)"),
    ("opportunities", "deals.opportunity_rate"),
    ("customers", "deals.win_rate"),
)


def stage_rates(s: Scenario) -> dict[str, float]:
    """Nominal conversion into each stage of `STAGES` (as a calculator would take them)."""
    reach = 1.0 - (1.0 - s.sales.contact_rate) ** s.sales.attempts
    return {
        "mqls": effective_mql_rate(s),
        "mqls_accepted": s.handoff.acceptance_rate,
        "mqls_worked": s.sales.coverage,
        "mqls_reached": reach,
        "sqls": s.qualification.sql_rate,
        "opportunities": s.deals.opportunity_rate,
        "customers": s.deals.win_rate,
    }


def mean_lead_to_close_days(s: Scenario) -> float:
    """Mean days from arrival to close by the stage delays alone (no queue wait)."""
    return (
        _mql_delay_mean(s)
        + s.qualification.time_to_sql_days.mean
        + s.deals.time_to_opportunity_days.mean
        + s.deals.sales_cycle_days.mean
    )


def cohort_weeks(s: Scenario) -> float:
    """Weeks of counted arrivals: [warmup_days, horizon_days)."""
    return (s.run.horizon_days - s.run.warmup_days) / 7.0


@dataclass(frozen=True)
class ReverseFunnel:
    """The deterministic answer. ``prospects_per_week`` is ``inf`` when, by mean delays, no lead
    of the cohort closes by ``booked_within_days``."""

    target_revenue: float
    mean_deal_size: float
    rates: dict[str, float]
    lead_to_close_days: float
    weeks: float
    booked_within_days: float | None

    @property
    def customers(self) -> float:
        return self.target_revenue / self.mean_deal_size

    @property
    def lead_to_customer_rate(self) -> float:
        return math.prod(self.rates.values())

    @property
    def prospects(self) -> float:
        p = self.lead_to_customer_rate
        return self.customers / p if p > 0 else math.inf

    @property
    def prospects_per_week(self) -> float:
        return self.prospects / self.weeks if self.weeks > 0 else math.inf

    @property
    def mqls_per_week(self) -> float:
        return self.prospects_per_week * self.rates["mqls"]

    def table(self) -> pd.DataFrame:
        """One row per stage (prospects first): rate into it, count needed over the cohort
        window, and per week."""
        rows = [{"stage": "prospects", "rate": math.nan, "needed": self.prospects}]
        count = self.prospects
        for (name, _), rate in zip(STAGES, self.rates.values(), strict=True):
            count = count * rate
            rows.append({"stage": name, "rate": rate, "needed": count})
        out = pd.DataFrame(rows).set_index("stage")
        out["per_week"] = out["needed"] / self.weeks if self.weeks > 0 else math.inf
        return out

    def to_dict(self) -> dict:
        t = self.table()
        return {
            "customers": self.customers,
            "mean_deal_size": self.mean_deal_size,
            "lead_to_customer_rate": self.lead_to_customer_rate,
            "lead_to_close_days": self.lead_to_close_days,
            "weeks": self.weeks,
            "prospects_per_week": _finite(self.prospects_per_week),
            "mqls_per_week": _finite(self.mqls_per_week),
            "stages": {
                str(k): {"rate": _finite(r.rate), "per_week": _finite(r.per_week)}
                for k, r in t.iterrows()
            },
        }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def reverse_funnel(
    scenario: Scenario, target_revenue: float, booked_within_days: float | None = None
) -> ReverseFunnel:
    """Target / mean deal size / product of nominal stage rates, spread over the cohort weeks.

    With ``booked_within_days`` D, only leads arriving by D minus the mean lead-to-close time
    count, as in the time-phased calculator ("leads in month t close in month t + cycle").
    """
    s = scenario
    cycle = mean_lead_to_close_days(s)
    end = s.run.horizon_days
    if booked_within_days is not None:
        end = min(end, booked_within_days - cycle)
    weeks = max(0.0, end - s.run.warmup_days) / 7.0
    return ReverseFunnel(
        target_revenue=float(target_revenue),
        mean_deal_size=s.deals.deal_size.mean,
        rates=stage_rates(s),
        lead_to_close_days=cycle,
        weeks=weeks,
        booked_within_days=booked_within_days,
    )


def lead_to_close_samples(s: Scenario, n: int, seed: int = 0) -> np.ndarray:
    """Monte Carlo sample (days) of arrival -> close for a lead that wins, by the stage delays:
    time to MQL, the cadence offset of the attempt that reaches it (geometric in contact_rate,
    given that some attempt does), time to SQL, to opportunity, and the sales cycle. The queue
    wait is left out (it depends on capacity; the simulation has it)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x5EED,)))
    u = rng.random((5, n))
    mix = channel_mix(s)
    weight = _mql_channel_weights(s)
    channel = np.minimum(
        np.searchsorted(np.cumsum(weight), rng.random(n), side="right"), weight.size - 1
    )
    total = (
        mix.time_to_mql_days(channel, u[0])
        + s.qualification.time_to_sql_days.ppf(u[1])
        + s.deals.time_to_opportunity_days.ppf(u[2])
        + s.deals.sales_cycle_days.ppf(u[3])
    )
    c, k = s.sales.contact_rate, s.sales.attempts
    offsets = np.asarray(cadence_offsets(s.sales.cadence_hours, k)) / 24.0
    if 0.0 < c < 1.0 and k > 1:
        # Attempt j (0-based) reaches with prob c (1-c)^j, conditioned on reaching by attempt k.
        w = c * (1.0 - c) ** np.arange(k)
        j = np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), u[4], side="right"), k - 1)
        total = total + offsets[j]
    return total


def _mql_channel_weights(s: Scenario) -> np.ndarray:
    """Each channel's share of the MQLs (its share of prospects times its MQL rate)."""
    mix = channel_mix(s)
    share = np.diff(np.concatenate(([0.0], mix.cumulative_share)))
    w = share * mix.mql_rate
    return w / w.sum() if w.sum() > 0 else share


def _mql_delay_mean(s: Scenario) -> float:
    mix = channel_mix(s)
    return float(_mql_channel_weights(s) @ np.array([d.mean for d in mix.delays]))


def in_time_share(s: Scenario, deadline_days: float, samples: int = 20000, seed: int = 0) -> float:
    """Share of the cohort's won deals that close by ``deadline_days``, from the stage delays
    (arrival over the cohort window by the scenario's arrival profile; no queue wait)."""
    if deadline_days <= s.run.warmup_days:
        return 0.0
    delay = lead_to_close_samples(s, samples, seed)
    days = math.ceil(s.run.horizon_days)
    weight = daily_multipliers(s, days)
    day = np.arange(days, dtype=float)
    lo, hi = s.run.warmup_days, s.run.horizon_days
    # Each day's share of the window it overlaps, times its arrival-rate multiplier.
    overlap = np.clip(np.minimum(day + 1, hi) - np.maximum(day, lo), 0.0, None)
    weight = weight * overlap
    if weight.sum() <= 0:
        return 0.0
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xA77,)))
    pick = rng.choice(days, size=samples, p=weight / weight.sum())
    start = np.maximum(day[pick], lo)
    end = np.minimum(day[pick] + 1, hi)
    arrival = start + rng.random(samples) * (end - start)
    return float(np.mean(arrival + delay <= deadline_days))
