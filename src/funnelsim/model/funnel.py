"""One replication of the whole funnel: prospect -> MQL -> hand-off -> sales queue -> SQL ->
opportunity -> customer.

Stages that need no shared resource are drawn in bulk with numpy, each from its own named stream
and indexed by prospect (common random numbers). Only the sales team, where leads compete for
reps, runs in SimPy (`sales.simulate_sales`). The run drains: every lead is followed to its final
outcome, however long after the horizon that is.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..calendar import WeekCalendar
from ..scenario import Scenario
from ..scenario.checks import company_calendar
from .arrivals import arrival_times
from .channels import channel_mix
from .record import FunnelRecord
from .sales import cadence_offsets, simulate_sales
from .scoring import stage_probability
from .streams import uniforms

_EPS = 1e-12


def rep_calendars(s: Scenario) -> list[WeekCalendar]:
    """Each rep's calendar for MQL work: working hours cut to their focus blocks, staggered."""
    base = company_calendar(s)
    block_h = s.sales.focus_block_minutes / 60.0
    return [
        base.with_focus_blocks(s.sales.availability, block_h, block_h * i / s.sales.reps)
        for i in range(s.sales.reps)
    ]


def decay(wait_h: np.ndarray, floor: float, tau_h: float) -> np.ndarray:
    """Response-time decay multiplier ``floor + (1 - floor) * exp(-wait / tau)``."""
    return floor + (1.0 - floor) * np.exp(-wait_h / tau_h)


def simulate(scenario: Scenario, seed: int | None = None, replication: int = 0) -> FunnelRecord:
    """Simulate one replication and return its columnar record.

    ``seed`` defaults to the scenario's ``run.seed``. Replication r's numbers depend only on
    (seed, r), never on how many replications run or in what order.
    """
    s = scenario
    seed = s.run.seed if seed is None else seed
    r = replication
    arrival = arrival_times(s, seed, r)
    n = arrival.size

    def draw(name: str) -> np.ndarray:
        return uniforms(seed, r, name, n)

    mix = channel_mix(s)
    channel = mix.assign(draw("channel"))
    score_z = special.ndtri(np.clip(draw("score"), _EPS, 1 - _EPS)) + mix.score_shift[channel]
    mql_id = np.flatnonzero(draw("mql") < mix.mql_rate[channel])
    z = score_z[mql_id]
    mql_at = arrival[mql_id] + 24.0 * mix.time_to_mql_days(
        channel[mql_id], draw("time_to_mql")[mql_id]
    )
    strength = s.marketing.score_strength
    ctx = s.handoff.context_shared

    # Hand-off: sales accepts or rejects, giving a reason.
    accepted = draw("accept")[mql_id] < stage_probability(s.handoff.acceptance_rate, strength, z)
    names = tuple(s.handoff.rejection_reasons)
    weights = np.fromiter(s.handoff.rejection_reasons.values(), float)
    cum = np.cumsum(weights) / weights.sum()
    reason = np.where(
        accepted,
        -1,
        np.minimum(np.searchsorted(cum, draw("reason")[mql_id], side="right"), len(cum) - 1),
    ).astype(np.int8)

    # Coverage: the rest of the accepted leads fall into the black hole, never touched.
    worked = accepted & (draw("coverage")[mql_id] < s.sales.coverage)
    worked_row = np.flatnonzero(worked)
    worked_row = worked_row[np.argsort(mql_at[worked_row], kind="stable")]
    w_id = mql_id[worked_row]

    n_att = s.sales.attempts
    reaching = _reaching_attempt(draw("contact")[w_id], s.sales.contact_rate, n_att)
    handling = np.empty((n_att, w_id.size))
    for k in range(n_att):
        handling[k] = s.sales.handling_minutes.ppf(draw(f"handling{k}")[w_id]) / 60.0
    calendars = rep_calendars(s)
    out = simulate_sales(
        mql_at[worked_row],
        z[worked_row],
        reaching,
        handling,
        cadence_offsets(s.sales.cadence_hours, n_att),
        calendars,
        s.sales.queue,
    )

    m = mql_id.size
    first_touch_at = np.full(m, np.nan)
    contact_at = np.full(m, np.nan)
    attempts_made = np.zeros(m, np.int8)
    first_touch_at[worked_row] = out.start[0]
    attempts_made[worked_row] = np.sum(~np.isnan(out.start), axis=0)
    reached_w = reaching <= n_att
    cols = np.flatnonzero(reached_w)
    contact_at[worked_row[cols]] = out.start[reaching[cols] - 1, cols]
    talk_end = np.full(m, np.nan)
    talk_end[worked_row[cols]] = (
        out.start[reaching[cols] - 1, cols] + handling[reaching[cols] - 1, cols]
    )

    sla_met = _sla_met(s, mql_at, first_touch_at)

    # Qualification at the first reaching attempt, decayed by the wait since hand-off.
    reached = ~np.isnan(contact_at)
    sql_uplift = 1.0 + s.handoff.context_sql_uplift * ctx
    p_sql = (
        sql_uplift
        * stage_probability(s.qualification.sql_rate, strength, z)
        * decay(
            np.where(reached, contact_at - mql_at, 0.0),
            s.qualification.decay_floor,
            s.qualification.decay_tau_hours,
        )
    )
    sql = reached & (draw("qualify")[mql_id] < p_sql)
    sql_at = np.where(
        sql,
        talk_end + 24.0 * s.qualification.time_to_sql_days.ppf(draw("time_to_sql")[mql_id]),
        np.nan,
    )

    d = s.deals
    opportunity = sql & (draw("opportunity")[mql_id] < d.opportunity_rate)
    opportunity_at = np.where(
        opportunity,
        sql_at + 24.0 * d.time_to_opportunity_days.ppf(draw("time_to_opportunity")[mql_id]),
        np.nan,
    )
    amount = np.where(opportunity, d.deal_size.ppf(draw("deal_size")[mql_id]), np.nan)
    win_uplift = 1.0 + s.handoff.context_win_uplift * ctx
    p_win = win_uplift * stage_probability(d.win_rate, strength, z)
    won = opportunity & (draw("win")[mql_id] < p_win)
    # Without context the buyer repeats discovery: the cycle stretches by the unshared share.
    cycle_days = d.sales_cycle_days.ppf(draw("sales_cycle")[mql_id]) + (
        1.0 - ctx
    ) * s.handoff.rediscovery_days.ppf(draw("rediscovery")[mql_id])
    closed_at = np.where(opportunity, opportunity_at + 24.0 * cycle_days, np.nan)
    billed_months = _billed_months(draw("churn")[mql_id], d.monthly_churn, d.revenue)

    warmup_h, horizon_h = s.run.warmup_days * 24.0, s.run.horizon_days * 24.0
    busy = np.clip(out.start + handling, warmup_h, horizon_h) - np.clip(
        out.start, warmup_h, horizon_h
    )
    available = sum(
        float(c.open_hours_between(np.asarray(warmup_h), np.asarray(horizon_h))) for c in calendars
    )
    return FunnelRecord(
        scenario=s.name,
        seed=seed,
        replication=r,
        start_date=s.run.start_date,
        horizon_h=horizon_h,
        warmup_h=warmup_h,
        sla_hours=s.sales.sla_hours,
        reason_names=names,
        channel_names=mix.names,
        channel_cost=mix.cost_per_prospect,
        recurring=d.revenue == "recurring",
        reps=s.sales.reps,
        attempts_allowed=n_att,
        mql_commitment_per_week=s.marketing.mql_commitment_per_week or np.nan,
        rep_cost_per_year=s.costs.rep_cost_per_year,
        arrival=arrival,
        channel=channel,
        score_z=score_z.astype(np.float32),
        mql_id=mql_id,
        mql_at=mql_at,
        accepted=accepted,
        reason=reason,
        worked=worked,
        attempts_made=attempts_made,
        first_touch_at=first_touch_at,
        contact_at=contact_at,
        sla_met=sla_met,
        sql=sql,
        sql_at=sql_at,
        opportunity=opportunity,
        opportunity_at=opportunity_at,
        won=won,
        closed_at=closed_at,
        amount=amount,
        billed_months=billed_months,
        worked_row=worked_row,
        attempt_start=out.start,
        attempt_hours=np.where(np.isnan(out.start), np.nan, handling),
        attempt_rep=out.rep,
        rep_available_h=available,
        rep_busy_h=float(np.nansum(busy)),
    )


def _billed_months(u: np.ndarray, churn: float, revenue: str) -> np.ndarray:
    """Months a customer pays before churning: geometric on 1, 2, ... (inf with no churn)."""
    if revenue != "recurring" or churn <= 0.0:
        return np.full(u.size, np.inf)
    if churn >= 1.0:
        return np.ones(u.size)
    return np.floor(np.log1p(-u) / np.log1p(-churn)) + 1.0


def _reaching_attempt(u: np.ndarray, contact_rate: float, attempts: int) -> np.ndarray:
    """The 1-based attempt at which each lead is first reached (geometric by inverse transform);
    ``attempts + 1`` stands for never."""
    never = attempts + 1
    if contact_rate >= 1.0:
        return np.ones(u.size, np.int64)
    if contact_rate <= 0.0:
        return np.full(u.size, never, np.int64)
    k = np.floor(np.log1p(-u) / np.log1p(-contact_rate)).astype(np.int64) + 1
    return np.minimum(k, never)


def _sla_met(s: Scenario, handoff: np.ndarray, first_touch: np.ndarray) -> np.ndarray:
    touched = ~np.isnan(first_touch)
    wait = np.full(handoff.size, np.inf)
    if s.sales.sla_clock == "business":
        cal = company_calendar(s)
        wait[touched] = cal.open_hours_between(handoff[touched], first_touch[touched])
    else:
        wait[touched] = first_touch[touched] - handoff[touched]
    return wait <= s.sales.sla_hours
