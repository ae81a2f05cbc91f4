"""The deterministic reverse funnel every planner knows, and the delay arithmetic around it.

``customers = target / counted value of a deal``, then up the funnel dividing by each stage's
nominal rate, then spread over the weeks whose leads can still close in time. It ignores variance
(it hits the target about half the time), capacity, and response-time decay. `quota` starts from
it and shows it beside the simulated answer. What counts is the plan's `RevenueBasis`: a booking
counts at its contract value; recognised recurring revenue only for the months billed by the
horizon.
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
from .basis import RevenueBasis, resolve_basis

_MONTH_DAYS = 365.0 / 12.0

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
    of the cohort closes in time to count. ``value_share`` is the share of a deal's contract value
    that counts (below 1 only for recognised recurring revenue: the months billed by then)."""

    target_revenue: float
    mean_deal_size: float
    rates: dict[str, float]
    lead_to_close_days: float
    weeks: float
    basis: RevenueBasis
    value_share: float = 1.0

    @property
    def booked_within_days(self) -> float | None:
        return self.basis.by_day if self.basis.kind == "booked" else None

    @property
    def counted_value_per_deal(self) -> float:
        return self.mean_deal_size * self.value_share

    @property
    def customers(self) -> float:
        v = self.counted_value_per_deal
        return self.target_revenue / v if v > 0 else math.inf

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

    def _repr_html_(self) -> str:
        from ..formatting import html_table

        return html_table(
            self.table(),
            f"reverse funnel: {self.target_revenue:,.0f} ({self.basis.describe()})",
            column_units={"rate": "rate", "needed": "number", "per_week": "number"},
        )

    def to_dict(self) -> dict:
        t = self.table()
        return {
            "revenue_basis": self.basis.to_dict(),
            "customers": _finite(self.customers),
            "mean_deal_size": self.mean_deal_size,
            "value_share": self.value_share,
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
    scenario: Scenario,
    target_revenue: float,
    booked_within_days: float | None = None,
    *,
    revenue_basis: str | RevenueBasis | None = None,
) -> ReverseFunnel:
    """Target / counted value of a deal / product of nominal stage rates, spread over the weeks
    of arrivals whose deals count.

    ``revenue_basis`` (default ``booked``, by ``booked_within_days`` or else the horizon; see
    `resolve_basis`): with a day D, only leads arriving by D minus the mean lead-to-close time
    count, as in the time-phased calculator ("leads in month t close in month t + cycle"). For
    recognised recurring revenue a deal closing at day t counts ``(D - t) / 365`` of its annual
    value (billed monthly to D), averaged over the deals that close in time.
    """
    s = scenario
    b = resolve_basis(s, revenue_basis, booked_within_days)
    cycle = mean_lead_to_close_days(s)
    end = s.run.horizon_days
    if b.by_day is not None:
        end = min(end, b.by_day - cycle)
    weeks = max(0.0, end - s.run.warmup_days) / 7.0
    share = 1.0
    if b.kind == "recognized" and s.deals.revenue == "recurring" and b.by_day is not None:
        # Closes spread evenly over [warmup + cycle, D]: on average half that span is billed.
        share = max(0.0, b.by_day - s.run.warmup_days - cycle) / 2.0 / 365.0
    return ReverseFunnel(
        target_revenue=float(target_revenue),
        mean_deal_size=s.deals.deal_size.mean,
        rates=stage_rates(s),
        lead_to_close_days=cycle,
        weeks=weeks,
        basis=b,
        value_share=share,
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
    close = _close_day_samples(s, samples, seed)
    return 0.0 if close is None else float(np.mean(close <= deadline_days))


def counted_share(s: Scenario, basis: RevenueBasis, samples: int = 20000, seed: int = 0) -> float:
    """Expected counted value of a cohort deal, as a share of its contract value, from the stage
    delays (no queue wait): 1 for all bookings, the in-time share for bookings by day D, and for
    recognised revenue the share closed before D (one-time) or the expected months billed by D
    over 12 (recurring, churn included; above 1 when D leaves more than a year of billing)."""
    if basis.kind == "all-bookings" or basis.by_day is None:
        return 1.0
    close = _close_day_samples(s, samples, seed)
    if close is None:
        return 0.0
    if basis.kind == "booked":
        return float(np.mean(close <= basis.by_day))
    before = close < basis.by_day
    if s.deals.revenue != "recurring":
        return float(np.mean(before))
    months = np.where(before, np.ceil((basis.by_day - close) / _MONTH_DAYS), 0.0)
    c = s.deals.monthly_churn
    billed = months if c <= 0 else (1.0 - (1.0 - c) ** months) / c
    return float(np.mean(billed)) / 12.0


def _close_day_samples(s: Scenario, samples: int, seed: int) -> np.ndarray | None:
    """Close days of cohort leads that win: arrival (by the arrival profile over the cohort
    window) plus the stage delays; None when the window is empty."""
    delay = lead_to_close_samples(s, samples, seed)
    days = math.ceil(s.run.horizon_days)
    weight = daily_multipliers(s, days)
    day = np.arange(days, dtype=float)
    lo, hi = s.run.warmup_days, s.run.horizon_days
    # Each day's share of the window it overlaps, times its arrival-rate multiplier.
    overlap = np.clip(np.minimum(day + 1, hi) - np.maximum(day, lo), 0.0, None)
    weight = weight * overlap
    if weight.sum() <= 0:
        return None
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xA77,)))
    pick = rng.choice(days, size=samples, p=weight / weight.sum())
    start = np.maximum(day[pick], lo)
    end = np.minimum(day[pick] + 1, hi)
    arrival = start + rng.random(samples) * (end - start)
    return arrival + delay
