"""One replication of the whole funnel: prospect -> MQL -> hand-off -> sales queue -> SQL ->
opportunity -> customer, with recycling through nurture and marketing's feedback loop.

Stages that need no shared resource and no time order are drawn in bulk with numpy, each from its
own named stream and indexed by prospect (common random numbers): arrivals, channels, scores,
the first MQL, and the deal stages after an SQL. What happens between hand-off and qualification
depends on the order of events (reps are shared, policies change at reviews, leads return from
nurture), so it runs in SimPy (`sales.run_sales`). The run drains: every lead is followed to its
final outcome, however long after the horizon that is.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..calendar import WeekCalendar
from ..scenario import Scenario
from ..scenario.checks import company_calendar
from .arrivals import arrival_times
from .channels import channel_mix
from .record import FunnelRecord
from .sales import Draws, Feedback, Ramp, RepCalendar, Rules, cadence_offsets, run_sales
from .scoring import stage_probability
from .streams import stream, uniforms

_EPS = 1e-12
MONTH_H = 365.0 * 24.0 / 12.0


def rep_calendars(s: Scenario, seed: int = 0, replication: int = 0) -> list[RepCalendar]:
    """Each rep's calendar for MQL work: working hours cut to their focus blocks (staggered
    between reps), minus the rep's vacation days."""
    base = company_calendar(s)
    block_h = s.sales.focus_block_minutes / 60.0
    away = _vacations(s, base, seed, replication)
    return [
        RepCalendar(
            base.with_focus_blocks(s.sales.availability, block_h, block_h * i / s.sales.reps),
            away[i],
        )
        for i in range(s.sales.reps)
    ]


def _vacations(s: Scenario, base: WeekCalendar, seed: int, r: int) -> list[frozenset[int]]:
    per_year = s.sales.vacation_days_per_year
    if per_year <= 0:
        return [frozenset()] * s.sales.reps
    rng = stream(seed, r, "vacation")
    years = math.ceil(s.run.horizon_days / 365.0) + 1
    day = np.arange(365 * years)
    workday = base.open_hours_between(day * 24.0, day * 24.0 + 24.0) > 0
    by_year = [day[(day // 365 == y) & workday] for y in range(years)]
    out = []
    for _ in range(s.sales.reps):
        days: list[int] = []
        for candidates in by_year:
            take = int(per_year) + int(rng.random() < per_year - int(per_year))
            days += rng.choice(candidates, size=min(take, candidates.size), replace=False).tolist()
        out.append(frozenset(days))
    return out


def sales_rules(s: Scenario) -> Rules:
    """The hand-off and sales rules of a scenario, as the engine takes them."""
    nurture, fb = s.nurture, s.feedback
    return Rules(
        acceptance_rate=s.handoff.acceptance_rate,
        score_strength=s.marketing.score_strength,
        coverage=s.sales.coverage,
        sql_rate=s.qualification.sql_rate,
        sql_uplift=1.0 + s.handoff.context_sql_uplift * s.handoff.context_shared,
        decay_floor=s.qualification.decay_floor,
        decay_tau_h=s.qualification.decay_tau_hours,
        cadence=cadence_offsets(s.sales.cadence_hours, s.sales.attempts),
        queue=s.sales.queue,
        recycle=frozenset(nurture.outcomes) if nurture.recycle else frozenset(),
        nurture_hazard_per_h=-math.log1p(-min(nurture.remql_per_month, 1 - 1e-12)) / MONTH_H,
        max_nurture_h=nurture.max_nurture_months * MONTH_H,
        max_cycles=nurture.max_cycles if nurture.recycle else 1,
        feedback=Feedback(
            review_h=fb.review_days * 24.0,
            learning_rate=fb.learning_rate,
            acceptance_ceiling=fb.acceptance_ceiling,
            quality_ceiling=fb.quality_ceiling,
            filter_ceiling=fb.filter_ceiling,
            until_h=s.run.horizon_days * 24.0,
        )
        if fb.enabled
        else None,
        n_kinds=len(s.handoff.rejection_reasons),
    )


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

    # Leads that become MQLs at least once, in the order of their first hand-off.
    lead_id = np.flatnonzero(draw("mql") < mix.mql_rate[channel])
    first_at = arrival[lead_id] + 24.0 * mix.time_to_mql_days(
        channel[lead_id], draw("time_to_mql")[lead_id]
    )
    order = np.argsort(first_at, kind="stable")
    lead_id, first_at = lead_id[order], first_at[order]

    # The reason sales would give if it rejected the lead: a property of the lead.
    names = tuple(s.handoff.rejection_reasons)
    weights = np.fromiter(s.handoff.rejection_reasons.values(), float)
    cum = np.cumsum(weights) / weights.sum()
    kind = np.minimum(np.searchsorted(cum, draw("reason")[lead_id], side="right"), len(cum) - 1)

    rules = sales_rules(s)
    n_att = rules.attempts

    def per_cycle(name: str, c: int) -> np.ndarray:
        return draw(name if c == 0 else f"{name}.{c}")[lead_id]

    cycles = range(rules.max_cycles)
    handling = s.sales.handling_minutes
    draws = Draws(
        accept=[per_cycle("accept", c) for c in cycles],
        cover=[per_cycle("coverage", c) for c in cycles],
        reach=[
            _reaching_attempt(per_cycle("contact", c), s.sales.contact_rate, n_att) for c in cycles
        ],
        qualify=[per_cycle("qualify", c) for c in cycles],
        nurture=[per_cycle("nurture", c) for c in cycles[:-1]],
        hold=[per_cycle("hold", c) for c in cycles] if rules.feedback else [],
        handling=[
            np.vstack([handling.ppf(per_cycle(f"handling{k}", c)) / 60.0 for k in range(n_att)])
            for c in cycles
        ],
    )
    calendars = rep_calendars(s, seed, r)
    ramp = Ramp(s.sales.ramp_start_productivity, s.sales.ramp_days * 24.0)
    new_from = s.sales.reps - s.sales.new_hires
    productivity = [ramp if i >= new_from else None for i in range(s.sales.reps)]
    out = run_sales(first_at, score_z[lead_id], kind, draws, rules, calendars, productivity)

    # Hand-off rows, in the order they happened.
    lead = np.asarray(out.lead, dtype=np.int64)
    mql_id = lead_id[lead]
    mql_at = np.asarray(out.at, dtype=float)
    accepted = np.asarray(out.accepted, dtype=bool)
    worked = np.asarray(out.worked, dtype=bool)
    reason = np.where(accepted, -1, np.asarray(out.kind)).astype(np.int8)
    z_row = np.asarray(out.z, dtype=float)
    m = lead.size
    cols = np.arange(m)
    contact_k = np.asarray(out.contact_attempt, dtype=np.int64)
    reached = contact_k > 0
    first_touch_at = out.start[0] if m else np.empty(0)
    contact_at = np.full(m, np.nan)
    talk_end = np.full(m, np.nan)
    contact_at[reached] = out.start[contact_k[reached] - 1, cols[reached]]
    talk_end[reached] = contact_at[reached] + out.hours[contact_k[reached] - 1, cols[reached]]
    attempts_made = np.sum(~np.isnan(out.start), axis=0).astype(np.int8)
    sla_met = _sla_met(s, mql_at, first_touch_at)

    # Deals: an SQL happens at most once per prospect, so per-prospect draws stay paired.
    sql = np.asarray(out.sql, dtype=bool)
    q = s.qualification
    sql_at = np.where(
        sql, talk_end + 24.0 * q.time_to_sql_days.ppf(draw("time_to_sql")[mql_id]), np.nan
    )
    d = s.deals
    ctx = s.handoff.context_shared
    opportunity = sql & (draw("opportunity")[mql_id] < d.opportunity_rate)
    opportunity_at = np.where(
        opportunity,
        sql_at + 24.0 * d.time_to_opportunity_days.ppf(draw("time_to_opportunity")[mql_id]),
        np.nan,
    )
    amount = np.where(opportunity, d.deal_size.ppf(draw("deal_size")[mql_id]), np.nan)
    win_uplift = 1.0 + s.handoff.context_win_uplift * ctx
    p_win = win_uplift * stage_probability(d.win_rate, s.marketing.score_strength, z_row)
    won = opportunity & (draw("win")[mql_id] < p_win)
    # Without context the buyer repeats discovery: the cycle stretches by the unshared share.
    cycle_days = d.sales_cycle_days.ppf(draw("sales_cycle")[mql_id]) + (
        1.0 - ctx
    ) * s.handoff.rediscovery_days.ppf(draw("rediscovery")[mql_id])
    closed_at = np.where(opportunity, opportunity_at + 24.0 * cycle_days, np.nan)
    billed_months = _billed_months(draw("churn")[mql_id], d.monthly_churn, d.revenue)

    warmup_h, horizon_h = s.run.warmup_days * 24.0, s.run.horizon_days * 24.0
    end = out.start + out.hours
    busy = _busy_open_hours(out.start, end, out.rep, calendars, warmup_h, horizon_h)
    worked_row = np.flatnonzero(worked)
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
        cycle=np.asarray(out.cycle, dtype=np.int8),
        mql_at=mql_at,
        row_score_z=z_row,
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
        returned_at=np.asarray(out.returned_at, dtype=float),
        held_id=lead_id[np.asarray(out.held_lead, dtype=np.int64)],
        held_at=np.asarray(out.held_at, dtype=float),
        policy=np.asarray(out.policy, dtype=float).reshape(-1, 6),
        worked_row=worked_row,
        attempt_start=out.start[:, worked_row],
        attempt_hours=out.hours[:, worked_row],
        attempt_rep=out.rep[:, worked_row],
        rep_available_h=sum(c.open_hours_between(warmup_h, horizon_h) for c in calendars),
        rep_busy_h=busy,
    )


def _busy_open_hours(
    start: np.ndarray,
    end: np.ndarray,
    rep: np.ndarray,
    calendars: list[RepCalendar],
    lo: float,
    hi: float,
) -> float:
    """Attempt time inside each rep's own open hours within [lo, hi). An attempt that runs past
    the end of a shift is overtime, not available time used, so utilisation stays a share."""
    made = ~np.isnan(start)
    s, e, who = np.clip(start[made], lo, hi), np.clip(end[made], lo, hi), rep[made]
    total = 0.0
    for i, cal in enumerate(calendars):
        mine = who == i
        if mine.any():
            total += float(cal.open_hours_within(s[mine], e[mine]).sum())
    return total


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
