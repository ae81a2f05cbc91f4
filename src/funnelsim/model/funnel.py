"""One replication of the whole funnel: prospect -> MQL -> hand-off -> sales queue -> SQL ->
opportunity -> customer, with recycling through nurture and marketing's feedback loop.

Stages that need no shared resource and no time order are drawn in bulk with numpy, each from its
own named stream and keyed by prospect (common random numbers): arrivals, channels, scores, the
first MQL (`leads`), and the deal stages after an SQL (here). What happens between hand-off and
qualification depends on the order of events (reps are shared, policies change at reviews, leads
return from nurture), so it runs in SimPy (`sales.run_sales`). The run drains: every counted lead
is followed to its final outcome, however long after the horizon that is, and arrivals go on
after the horizon (never counted) while the cohort still has work, so its last hand-offs meet a
steady queue.
"""

from __future__ import annotations

import math

import numpy as np

from ..calendar import DAY_INDEX
from ..errors import Problem, ScenarioError, UsageError
from ..scenario import Scenario
from ..scenario.checks import BYTES_PER_PROSPECT, MAX_REPLICATION_BYTES
from .channels import channel_mix
from .leads import LeadPlan, LeadSource, delay_bound_h
from .record import FunnelRecord
from .reps import Ramp, RepCalendar, rep_calendars
from .routing import PullSchedule
from .sales import Feedback, Rules, attempt_matrix, cadence_offsets, run_sales
from .scoring import mqls_population, stage_scores
from .streams import Streams

MONTH_H = 365.0 * 24.0 / 12.0
WEEK_H = 168.0
_YEAR_H = 365.0 * 24.0
# Tail arrivals stop this long after the cohort's last possible hand-off and attempt, even if a
# cohort lead is still waiting (an overloaded lifo or priority queue can starve it for ever).
_TAIL_MARGIN_H = 30.0 * 24.0


def sales_rules(s: Scenario) -> Rules:
    """The hand-off and sales rules of a scenario, as the engine takes them."""
    nurture, fb = s.nurture, s.feedback
    mix = channel_mix(s)
    shares = np.diff(np.concatenate(([0.0], mix.cumulative_share)))
    scores = stage_scores(
        s.marketing.score_strength,
        mqls_population(shares, mix.mql_rate, mix.score_shift),
        s.handoff.acceptance_rate,
        s.qualification.sql_rate,
        s.deals.win_rate,
    )
    return Rules(
        acceptance_rate=s.handoff.acceptance_rate,
        coverage=s.sales.coverage,
        sql_uplift=1.0 + s.handoff.context_sql_uplift * s.handoff.context_shared,
        decay_floor=s.qualification.decay_floor,
        decay_tau_h=s.qualification.decay_tau_hours,
        cadence=cadence_offsets(s.sales.cadence_hours, s.sales.attempts),
        queue=s.sales.queue,
        scores=scores,
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
        routing=s.sales.routing,
        reassign_after_h=s.sales.reassign_after_hours,
        pulls=pull_schedule(s),
    )


def pull_schedule(s: Scenario) -> PullSchedule | None:
    """The team's batch pulls: ``sales.pull_times`` on each working day (every day for 24/7)."""
    if s.sales.pull_times is None:
        return None
    days = range(7) if s.sales.calendar == "24/7" else [DAY_INDEX[d] for d in s.sales.workdays]
    return PullSchedule(s.sales.pull_times, days, 24.0 * s.run.start_date.weekday())


def tail_cap_h(s: Scenario, rules: Rules) -> float:
    """The latest time any arrival is simulated: past the horizon by the longest first-hand-off
    delay, every nurture cycle and the whole cadence, plus a margin (30 days, or the horizon if
    shorter: a queue that still holds a cohort lead that long after a short cohort is
    overloaded, and arrivals at a high rate for a month would cost far more than the run)."""
    nurture = (rules.max_cycles - 1) * rules.max_nurture_h if rules.recycle else 0.0
    horizon_h = s.run.horizon_days * 24.0
    return (
        horizon_h
        + delay_bound_h(channel_mix(s))
        + nurture
        + rules.cadence[-1]
        + min(_TAIL_MARGIN_H, horizon_h)
    )


def simulated_span_h(s: Scenario) -> tuple[float, float]:
    """The most of time one replication simulates arrivals in: (from, to) in hours, from the
    pre-history (leads that arrive before day 0 but are handed off after it) to the tail cap."""
    return -delay_bound_h(channel_mix(s)), tail_cap_h(s, sales_rules(s))


def check_simulated_work(s: Scenario) -> None:
    """Refuse (`ScenarioError`) a scenario whose simulated arrivals, the cohort's and those
    before and after it that keep its queue steady, could not fit in memory. The cohort alone
    is checked when the scenario loads; this adds the pre-history and the tail, which need the
    delay distributions."""
    _check_span(s, *simulated_span_h(s))


def _check_span(s: Scenario, lo: float, hi: float) -> None:
    prospects = s.arrivals.prospects_per_week / WEEK_H * (hi - lo)
    if prospects * BYTES_PER_PROSPECT <= MAX_REPLICATION_BYTES:
        return
    raise ScenarioError(
        [
            Problem(
                "arrivals.prospects_per_week",
                f"{s.arrivals.prospects_per_week:,.6g} a week is simulated from day "
                f"{lo / 24:,.0f} to day {hi / 24:,.0f} (the cohort's leads hand off up to "
                f"{-lo / 24:,.0f} days after they arrive, and the queue they meet is kept "
                f"steady until the last is worked), up to {prospects:,.3g} prospects per "
                f"replication, about {prospects * BYTES_PER_PROSPECT / 1e9:,.1f} GB; at most "
                f"{MAX_REPLICATION_BYTES / 1e9:g} GB are allowed: lower the volume, the delay "
                "to MQL (marketing.time_to_mql_days) or the nurture cycles",
                s.arrivals.prospects_per_week,
            )
        ],
        s.name,
    )


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    replication: int = 0,
    until_h: float | None = None,
) -> FunnelRecord:
    """Simulate one replication and return its columnar record.

    ``seed`` defaults to the scenario's ``run.seed``. Replication r's numbers depend only on
    (seed, r), never on how many replications run or in what order.

    ``until_h``: stop the sales engine at that hour since day 0. Nothing that happens before it
    depends on what comes after (arrivals, hand-offs and attempts run forward in time, and
    deal draws are keyed by prospect), so every event before ``until_h`` is exactly that of the
    full run, at a fraction of the cost: bookings closed by then, say. Everything after it is
    missing, so the other KPIs of such a record are cut short and mean nothing.
    """
    s = scenario
    if until_h is not None and (
        isinstance(until_h, bool)
        or not (isinstance(until_h, int | float) and 0 < until_h < math.inf)
    ):
        raise UsageError(f"until_h must be a number of hours above 0 (given: {until_h!r})")
    seed = s.run.seed if seed is None else seed
    r = replication
    streams = Streams(seed, r)
    mix = channel_mix(s)
    names = tuple(s.handoff.rejection_reasons)
    weights = np.fromiter(s.handoff.rejection_reasons.values(), float)
    rules = sales_rules(s)
    n_att = rules.attempts
    cap_h = tail_cap_h(s, rules)
    _check_span(s, -delay_bound_h(mix), cap_h)  # the span the lead source will simulate
    plan = LeadPlan(
        max_cycles=rules.max_cycles,
        attempts=n_att,
        contact_rate=s.sales.contact_rate,
        handling_minutes=s.sales.handling_minutes,
        recycle=bool(rules.recycle),
        feedback=rules.feedback is not None,
        tail_cap_h=cap_h,
    )
    source = LeadSource(s, streams, mix, plan, np.cumsum(weights) / weights.sum())
    calendars = rep_calendars(s, seed, r, days=cap_h / 24.0 + 365.0)
    ramp = Ramp(s.sales.ramp_start_productivity, s.sales.ramp_days * 24.0)
    new_from = s.sales.reps - s.sales.new_hires
    productivity = [ramp if i >= new_from else None for i in range(s.sales.reps)]
    out = run_sales(source, rules, calendars, productivity, until_h)

    warmup_h, horizon_h = s.run.warmup_days * 24.0, s.run.horizon_days * 24.0
    people = _prospects(source, out, horizon_h)
    lead_pos, lead_ids = people["lead_pos"], people["lead_ids"]

    # Hand-off rows, in the order they happened.
    lead = np.asarray(out.lead, dtype=np.int64)
    mql_id = lead_pos[lead]
    row_ids = lead_ids[lead]
    mql_at = np.asarray(out.at, dtype=float)
    accepted = np.asarray(out.accepted, dtype=bool)
    worked = np.asarray(out.worked, dtype=bool)
    reason = np.where(accepted, -1, np.asarray(out.kind, dtype=np.int64)).astype(np.int16)
    z_row = np.asarray(out.z, dtype=float)
    m = lead.size
    start, rep, hours = attempt_matrix(out, n_att)
    cols = np.arange(m)
    contact_k = np.asarray(out.contact_attempt, dtype=np.int64)
    reached = contact_k > 0
    first_touch_at = start[0] if m else np.empty(0)
    contact_at = np.full(m, np.nan)
    talk_end = np.full(m, np.nan)
    contact_at[reached] = start[contact_k[reached] - 1, cols[reached]]
    talk_end[reached] = contact_at[reached] + hours[contact_k[reached] - 1, cols[reached]]
    attempts_made = np.sum(~np.isnan(start), axis=0).astype(np.int8)
    sla_met = _sla_met(s, mql_at, first_touch_at)

    # Deals: an SQL happens at most once per prospect, so per-prospect draws stay paired.
    sql = np.asarray(out.sql, dtype=bool)
    deals = _deals(s, rules, streams, row_ids[sql], z_row[sql], talk_end[sql])

    def on_sql(values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        full = np.full(m, fill, dtype=values.dtype if values.dtype == bool else float)
        full[sql] = values
        return full

    cohort_row = people["cohort_lead"][lead]
    end = start + hours
    busy, available = _rep_time(start, end, rep, calendars, warmup_h, horizon_h)
    worked_row = np.flatnonzero(worked)
    return FunnelRecord(
        scenario=s.name,
        seed=seed,
        replication=r,
        start_date=s.run.start_date,
        horizon_h=horizon_h,
        warmup_h=warmup_h,
        sla_hours=s.sales.sla_hours,
        sla_clock=s.sales.sla_clock,
        reason_names=names,
        channel_names=mix.names,
        channel_cost=mix.cost_per_prospect,
        recurring=s.deals.revenue == "recurring",
        reps=s.sales.reps,
        attempts_allowed=n_att,
        mql_commitment_per_week=s.marketing.mql_commitment_per_week or np.nan,
        rep_cost_per_year=s.costs.rep_cost_per_year,
        arrival=people["arrival"],
        channel=people["channel"],
        score_z=people["z"].astype(np.float32),
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
        sql_at=on_sql(deals["sql_at"]),
        opportunity=on_sql(deals["opportunity"], False),
        opportunity_at=on_sql(deals["opportunity_at"]),
        won=on_sql(deals["won"], False),
        closed_at=on_sql(deals["closed_at"]),
        amount=on_sql(deals["amount"]),
        billed_months=on_sql(deals["billed_months"]),
        returned_at=np.asarray(out.returned_at, dtype=float),
        held_id=lead_pos[np.asarray(out.held_lead, dtype=np.int64)],
        held_at=np.asarray(out.held_at, dtype=float),
        policy=np.asarray(out.policy, dtype=float).reshape(-1, 6),
        worked_row=worked_row,
        attempt_start=start[:, worked_row],
        attempt_hours=hours[:, worked_row],
        attempt_rep=rep[:, worked_row].astype(np.int16),
        rep_available_h=available,
        rep_busy_h=busy,
        cohort_rep_years=cohort_rep_years(
            start, hours, np.broadcast_to(cohort_row, start.shape), s.sales.reps, out.cohort_done_at
        ),
        cohort_done_at=out.cohort_done_at,
    )


def _prospects(source: LeadSource, out, horizon_h: float) -> dict[str, np.ndarray]:
    """The record's prospects in arrival order: every prospect that arrived in [0, horizon), plus
    the leads from before day 0 or after the horizon that the engine handed off (or held back).
    Also, per engine lead: its place among them (``lead_pos``), its draw id and cohort flag."""
    batches = out.leads
    lead_chunk = np.concatenate([b.chunk for b in batches])
    lead_index = np.concatenate([b.index for b in batches])
    arrival = np.concatenate([b.arrival for b in batches])
    n = arrival.size
    seen = np.zeros(n, bool)
    seen[np.asarray(out.lead, dtype=np.int64)] = True
    seen[np.asarray(out.held_lead, dtype=np.int64)] = True
    main = (arrival >= 0.0) & (arrival < horizon_h)
    extra = ~main & seen

    # The horizon's prospects, chunk by chunk; a lead's place is its chunk's offset plus its
    # rank in the chunk's arrival order.
    kept = [(cp, cp.times < horizon_h) for cp in source.prospects]
    counts = [int(k.sum()) for _, k in kept]
    pre = extra & (arrival < 0.0)
    post = extra & (arrival >= horizon_h)
    n_pre = int(pre.sum())
    lead_pos = np.full(n, -1, np.int64)
    by_chunk = {
        cp.chunk: (cp, off) for (cp, _), off in zip(kept, _offsets(counts, n_pre), strict=True)
    }
    for k in np.unique(lead_chunk[main]):
        cp, off = by_chunk[int(k)]
        rank = np.empty(cp.index.size, np.int64)
        rank[cp.index] = np.arange(cp.index.size)
        mine = main & (lead_chunk == k)
        lead_pos[mine] = off + rank[lead_index[mine]]
    offset = n_pre + sum(counts)

    def ordered(mask: np.ndarray, first: int) -> np.ndarray:
        idx = np.flatnonzero(mask)
        idx = idx[np.argsort(arrival[idx], kind="stable")]
        lead_pos[idx] = first + np.arange(idx.size)
        return idx

    pre_idx, post_idx = ordered(pre, 0), ordered(post, offset)
    lead_channel = np.concatenate([b.channel for b in batches])
    lead_z = np.concatenate([b.z for b in batches])
    main_t = [cp.times[k] for cp, k in kept]
    main_c = [cp.channel[k] for cp, k in kept]
    main_z = [cp.z[k] for cp, k in kept]
    return {
        "arrival": np.concatenate([arrival[pre_idx], *main_t, arrival[post_idx]]),
        "channel": np.concatenate([lead_channel[pre_idx], *main_c, lead_channel[post_idx]]).astype(
            np.int16
        ),
        "z": np.concatenate([lead_z[pre_idx], *main_z, lead_z[post_idx]]),
        "lead_pos": lead_pos,
        "lead_ids": np.concatenate([b.ids for b in batches]),
        "cohort_lead": np.concatenate([b.cohort for b in batches]),
    }


def _offsets(counts: list[int], first: int) -> list[int]:
    out, acc = [], first
    for c in counts:
        out.append(acc)
        acc += c
    return out


def _deals(
    s: Scenario,
    rules: Rules,
    streams: Streams,
    ids: np.ndarray,
    z: np.ndarray,
    talk_end: np.ndarray,
) -> dict[str, np.ndarray]:
    """SQL -> opportunity -> customer for the SQL rows, from per-prospect draws."""
    q, d = s.qualification, s.deals
    ctx = s.handoff.context_shared

    def u(name: str) -> np.ndarray:
        return streams.at(name, ids)

    sql_at = talk_end + 24.0 * q.time_to_sql_days.ppf(u("time_to_sql"))
    opportunity = u("opportunity") < d.opportunity_rate
    opportunity_at = np.where(
        opportunity,
        sql_at + 24.0 * d.time_to_opportunity_days.ppf(u("time_to_opportunity")),
        np.nan,
    )
    amount = np.where(opportunity, d.deal_size.ppf(u("deal_size")), np.nan)
    win_uplift = 1.0 + s.handoff.context_win_uplift * ctx
    p_win = win_uplift * rules.scores.win(z)
    won = opportunity & (u("win") < p_win)
    # Without context the buyer repeats discovery: the cycle stretches by the unshared share.
    cycle_days = d.sales_cycle_days.ppf(u("sales_cycle")) + (
        1.0 - ctx
    ) * s.handoff.rediscovery_days.ppf(u("rediscovery"))
    closed_at = np.where(opportunity, opportunity_at + 24.0 * cycle_days, np.nan)
    return {
        "sql_at": sql_at,
        "opportunity": opportunity,
        "opportunity_at": opportunity_at,
        "won": won,
        "closed_at": closed_at,
        "amount": amount,
        "billed_months": _billed_months(u("churn"), d.monthly_churn, d.revenue),
    }


def _rep_time(
    start: np.ndarray,
    end: np.ndarray,
    rep: np.ndarray,
    calendars: list[RepCalendar],
    lo: float,
    hi: float,
) -> tuple[float, float]:
    """(busy, available) rep hours within [lo, hi): busy is all attempt time, and available is
    the reps' open MQL hours plus the attempt time that ran outside them (an attempt that runs
    past its focus block is worked, so that time was available too). Utilisation stays a share."""
    made = ~np.isnan(start)
    s, e, who = np.clip(start[made], lo, hi), np.clip(end[made], lo, hi), rep[made]
    busy = float((e - s).sum())
    inside = 0.0
    for i, cal in enumerate(calendars):
        mine = who == i
        if mine.any():
            inside += float(cal.open_hours_within(s[mine], e[mine]).sum())
    available = sum(c.open_hours_between(lo, hi) for c in calendars) + busy - inside
    return busy, available


def cohort_rep_years(
    start: np.ndarray,
    hours: np.ndarray,
    cohort: np.ndarray,
    reps: int,
    until: float = math.inf,
) -> float:
    """Rep-years charged to the cohort: week by week (from day 0), the team's time that week
    times the cohort's share of the attempt time worked that week, up to ``until`` (when the
    cohort's last work ended: the tail of uncounted arrivals stops then, so later weeks are
    nobody's). Idle time is charged to the work of its week, so more reps cost more, and the
    cohort pays for the weeks after the horizon in which its leads still use the reps. An
    attempt that straddles a week boundary counts in both weeks, in proportion."""
    if not until > 0:  # NaN: the cohort had no work
        return 0.0
    made = ~np.isnan(start)
    s, h, c = start[made], hours[made], cohort[made]
    e = np.minimum(s + h, until)
    keep = s < until
    s, e, c = s[keep], e[keep], c[keep]
    if s.size == 0:
        return 0.0
    w0 = np.floor(s / WEEK_H).astype(np.int64)
    cut = np.minimum(e, (w0 + 1) * WEEK_H)
    first, second = cut - s, e - cut
    lo = int(w0.min())
    weeks = int(np.floor(e.max() / WEEK_H)) - lo + 2
    idx = w0 - lo
    total = np.bincount(idx, first, weeks) + np.bincount(idx + 1, second, weeks)
    mine = np.bincount(idx, first * c, weeks) + np.bincount(idx + 1, second * c, weeks)
    share = np.divide(mine, total, out=np.zeros(weeks), where=total > 0)
    # Each week costs a whole week, but the week `until` falls in only up to `until`.
    length = np.ones(weeks)
    if math.isfinite(until):
        last = int(np.floor(until / WEEK_H)) - lo
        if 0 <= last < weeks:
            length[last] = until / WEEK_H - np.floor(until / WEEK_H)
            length[last + 1 :] = 0.0
    return float((share * length).sum() * reps * WEEK_H / _YEAR_H)


def _billed_months(u: np.ndarray, churn: float, revenue: str) -> np.ndarray:
    """Months a customer pays before churning: geometric on 1, 2, ... (inf with no churn)."""
    if revenue != "recurring" or churn <= 0.0:
        return np.full(u.size, np.inf)
    if churn >= 1.0:
        return np.ones(u.size)
    return np.floor(np.log1p(-u) / np.log1p(-churn)) + 1.0


def _sla_met(s: Scenario, handoff: np.ndarray, first_touch: np.ndarray) -> np.ndarray:
    from ..scenario.checks import company_calendar

    touched = ~np.isnan(first_touch)
    wait = np.full(handoff.size, np.inf)
    if s.sales.sla_clock == "business":
        cal = company_calendar(s)
        wait[touched] = cal.open_hours_between(handoff[touched], first_touch[touched])
    else:
        wait[touched] = first_touch[touched] - handoff[touched]
    return wait <= s.sales.sla_hours
