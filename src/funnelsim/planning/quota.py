"""The lead quota for a revenue target: the smallest prospect volume that hits it with a stated
probability, the reps to keep the SLA at that volume, and the plan they make together.

How the search works:

1. Start from the deterministic reverse funnel (divided by the share of deals that can close in
   time when only revenue booked by day D counts).
2. Evaluate a candidate volume by simulating the same R replication ids on the same seed, so all
   candidates share their random numbers; its hit probability is the share of replications whose
   cohort revenue reaches the target. Bracket the answer by halving or doubling, then bisect
   until the bracket is within ``tolerance`` (relative). The answer is the upper end: a volume
   whose hit share is at least ``confidence``, with the largest volume known to miss within
   ``tolerance`` below it.
3. Say when the target is out of reach: when doubling the volume clearly stops raising revenue
   (saturation: judged on the paired CI of the gain, where mean revenue stands well above its
   noise or the reps are overloaded) or the volume passes ``max_volume_factor`` times the reverse
   funnel (or times the volume that averages -ln(1 - P) deals, for a target below that), name
   the limit that binds: capacity (the reps are overloaded) or the horizon (deals close after
   day D).

Because every replication r has a threshold volume above which it hits (with ample capacity
exactly so), the answer is the empirical ``confidence`` quantile of those thresholds over the R
replications, found to within ``tolerance``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..experiment.stats import json_number, mean_ci
from ..formatting import volume
from ..scenario import Scenario
from ..scenario.checks import effective_mql_rate, offered_load
from .channels import channel_plan, plan_costs
from .evaluation import Evaluation, make_evaluator, wilson_interval
from .monthly import month_edges, monthly_frame
from .reverse_funnel import (
    ReverseFunnel,
    in_time_share,
    lead_to_close_samples,
    reverse_funnel,
)
from .staffing import ErlangEstimate, RepsSearch, erlang_reps, search_reps, staffing_table

# Doubling the volume must raise mean counted revenue by at least this share, or revenue has
# saturated (a linear funnel doubles it). A smaller bracketing step scales it down in proportion.
_SATURATION_GAIN = 0.10
# Saturation is judged where mean revenue stands well above its noise (95% CI half-width at most
# this share of the mean) or capacity binds. At a trickle of leads revenue is a few deals or none,
# and a doubling often adds none by chance (a quota for a small target read as "saturated").
_SATURATION_PRECISION = 0.5


@dataclass(frozen=True)
class Validation:
    """The plan re-simulated on fresh replication ids: hits out of ``replications``."""

    hits: int
    replications: int
    first_replication: int

    @property
    def p_hit(self) -> float:
        return self.hits / self.replications

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.hits, self.replications)

    def to_dict(self) -> dict:
        return {
            "p_hit_target": self.p_hit,
            "p_hit_ci95": list(self.ci95),
            "replications": self.replications,
            "replication_ids": [self.first_replication, self.first_replication + self.replications],
        }


@dataclass(frozen=True)
class QuotaPlan:
    """The plan: ``prospects_per_week``, ``mqls_per_week`` and ``reps``, with the hit probability
    and expected revenue at that plan, the deterministic reverse funnel beside it, the reps the
    SLA needs (``reps_needed``; the plan adopts them when sized with ``size_reps``), and the
    search trace. ``channels`` splits the plan over the scenario's lead channels (None without
    channels), ``costs`` is its expected cost over the counted window (None when the scenario
    has no cost knobs set), and ``monthly`` the time-phased plan when asked for."""

    scenario: Scenario
    target_revenue: float
    confidence: float
    booked_within_days: float | None
    prospects_per_week: float
    misses_below: float
    tolerance: float
    mqls_per_week: float
    reps: int
    reps_needed: int | None
    sla_target: float
    size_reps: bool
    hits: int
    replications: int
    seed: int
    expected_revenue: float
    revenue_ci95: tuple[float, float]
    sla_attainment: float
    first_touch_hours_mean: float
    offered_load: float
    reverse_funnel: ReverseFunnel
    erlang: ErlangEstimate
    staffing: pd.DataFrame
    search: pd.DataFrame
    channels: pd.DataFrame | None = None
    costs: dict[str, float] | None = None
    monthly: pd.DataFrame | None = None
    validation: Validation | None = None
    warnings: tuple[str, ...] = ()

    @property
    def p_hit_target(self) -> float:
        return self.hits / self.replications

    @property
    def p_hit_ci95(self) -> tuple[float, float]:
        return wilson_interval(self.hits, self.replications)

    def table(self) -> pd.DataFrame:
        """The plan beside the deterministic reverse funnel, one row per quantity."""
        rf = self.reverse_funnel
        lo, hi = self.p_hit_ci95
        rows = [
            ("prospects_per_week", rf.prospects_per_week, self.prospects_per_week),
            ("mqls_per_week", rf.mqls_per_week, self.mqls_per_week),
            ("reps", math.nan, self.reps),
            ("reps_needed_for_sla", math.nan, _num(self.reps_needed)),
            ("p_hit_target", math.nan, self.p_hit_target),
            ("p_hit_ci95_low", math.nan, lo),
            ("p_hit_ci95_high", math.nan, hi),
            ("expected_revenue", self.target_revenue, self.expected_revenue),
            ("sla_attainment", math.nan, self.sla_attainment),
            ("offered_load", math.nan, self.offered_load),
        ]
        for name, value in (self.costs or {}).items():
            rows.append((name, math.nan, value))
        out = pd.DataFrame(rows, columns=["quantity", "reverse_funnel", "simulated_plan"])
        return out.set_index("quantity")

    def to_dict(self) -> dict:
        """The contract's ``quota --json`` document, plus the detail behind it."""
        lo, hi = self.p_hit_ci95
        doc = {
            "scenario": self.scenario.name,
            "target_revenue": self.target_revenue,
            "confidence": self.confidence,
            "prospects_per_week": self.prospects_per_week,
            "mqls_per_week": self.mqls_per_week,
            "p_hit_target": self.p_hit_target,
            "reps_needed": self.reps_needed,
            "p_hit_ci95": [lo, hi],
            "reps": self.reps,
            "size_reps": self.size_reps,
            "booked_within_days": self.booked_within_days,
            "misses_below": self.misses_below,
            "tolerance": self.tolerance,
            "replications": self.replications,
            "seed": self.seed,
            "candidates_evaluated": len(self.search),
            "expected_revenue": json_number(self.expected_revenue),
            "revenue_ci95": [json_number(x) for x in self.revenue_ci95],
            "sla_target": self.sla_target,
            "sla_attainment": json_number(self.sla_attainment),
            "first_touch_hours_mean": json_number(self.first_touch_hours_mean),
            "offered_load": self.offered_load,
            "erlang_reps_estimate": self.erlang.reps,
            "reverse_funnel": self.reverse_funnel.to_dict(),
            "staffing": _records(self.staffing, "reps"),
            "search": _records(self.search, None),
            "warnings": list(self.warnings),
        }
        if self.channels is not None:
            doc["channels"] = _records(self.channels, "channel")
        if self.costs is not None:
            doc["costs"] = dict(self.costs)
        if self.validation is not None:
            doc["validation"] = self.validation.to_dict()
        if self.monthly is not None:
            doc["monthly"] = _records(self.monthly, "month")
        return doc


def _num(x: int | None) -> float:
    return math.nan if x is None else float(x)


def _records(frame: pd.DataFrame, index_name: str | None) -> list[dict]:
    out = []
    for idx, row in frame.iterrows():
        rec: dict[str, Any] = {index_name: idx} if index_name else {}
        if index_name == "reps":
            rec["reps"] = int(idx)
        for k, v in row.items():
            rec[str(k)] = v if isinstance(v, str) else json_number(v)
        out.append(rec)
    return out


def quota(
    scenario: Scenario,
    target_revenue: float,
    confidence: float = 0.9,
    *,
    booked_within_days: float | None = None,
    sla_target: float = 0.9,
    size_reps: bool = False,
    by_month: bool = False,
    replications: int | None = None,
    seed: int | None = None,
    tolerance: float = 0.01,
    validate: int = 0,
    max_volume_factor: float = 64.0,
    executor: Any = None,
    progress: bool | None = None,
    parameter_uncertainty: bool = False,
) -> QuotaPlan:
    """The smallest ``arrivals.prospects_per_week`` whose cohort revenue reaches
    ``target_revenue`` in at least a share ``confidence`` of ``replications`` (default: the
    scenario's) common-random-number replications, to within ``tolerance`` (relative).

    ``booked_within_days`` D counts only deals closed by day D. ``by_month`` adds the monthly MQL
    plan and counts only deals closed by D, or by the horizon when D is not given.
    ``size_reps`` adopts the fewest reps that keep ``sla_attainment >= sla_target`` and re-solves
    the volume with them (more reps answer faster, so fewer leads are needed). ``validate`` > 0
    re-simulates the plan on that many fresh replication ids. ``executor`` (anything with
    ``submit``) runs replications in parallel. ``parameter_uncertainty``: every replication
    draws the fitted parameters (as in `run`), so the hit probability includes them; the
    candidate volume itself is the plan's decision and is never drawn.

    Raises `UsageError` for a bad argument or an unreachable target, naming the binding limit.
    """
    s = scenario
    _check_args(target_revenue, confidence, tolerance, booked_within_days, validate, sla_target)
    if by_month and booked_within_days is None:
        booked_within_days = s.run.horizon_days
    r = s.run.replications if replications is None else int(replications)
    if r < 1:
        raise UsageError(f"--replications must be >= 1 (given: {r})")
    seed = s.run.seed if seed is None else int(seed)

    rf = reverse_funnel(s, target_revenue, booked_within_days)
    if rf.lead_to_customer_rate <= 0:
        zero = [k for k, v in rf.rates.items() if v <= 0]
        raise UsageError(
            f"--target-revenue {target_revenue:,.0f} is unreachable: the scenario converts no "
            f"prospect into a customer (zero rate into: {', '.join(zero)})"
        )
    plain = reverse_funnel(s, target_revenue, None).prospects_per_week
    # A target below a deal or two still needs whole deals: with Poisson many customers,
    # P(at least one) >= confidence takes -ln(1 - confidence) of them on average. The search
    # starts, and its limit is measured, from no less than that volume.
    few = -math.log1p(-confidence)
    floor = reverse_funnel(s, few * rf.mean_deal_size, None).prospects_per_week
    basis = "the reverse funnel"
    if floor > plain:
        plain, basis = floor, f"the volume that averages {few:.2g} deals"
    limit_note = f"{max_volume_factor:g}x {basis}"
    start, share = plain, 1.0
    if booked_within_days is not None:
        share = in_time_share(s, booked_within_days)
        if share <= 0:
            raise UsageError(_horizon_message(s, target_revenue, booked_within_days, share))
        start = plain / share
    limit = max_volume_factor * plain
    if start > limit:
        raise UsageError(
            _horizon_message(s, target_revenue, booked_within_days, share, limit, limit_note)
        )

    edges, labels = month_edges(s, booked_within_days) if by_month else (None, None)
    evaluate = make_evaluator(
        s,
        seed,
        range(r),
        booked_within_days=booked_within_days,
        month_edges_h=edges,
        executor=executor,
        progress=progress,
        parameter_uncertainty=parameter_uncertainty,
    )
    trace: list[dict] = []

    def traced(volume: float, reps: int, phase: str) -> Evaluation:
        ev = evaluate(volume, reps)
        trace.append(
            {
                "phase": phase,
                "prospects_per_week": volume,
                "reps": reps,
                "p_hit": ev.p_hit(target_revenue),
                "revenue_mean": ev.mean("revenue"),
                "sla_attainment": ev.mean("sla_attainment"),
            }
        )
        return ev

    reps = s.sales.reps
    if size_reps:
        first = erlang_reps(s, sla_target, start)
        reps = first.reps if first.reps is not None else reps
    notes: list[str] = []
    rounds = 3 if size_reps else 1
    for i in range(rounds):
        ev, misses_below = _search_volume(
            traced,
            reps,
            target_revenue,
            confidence,
            start,
            tolerance,
            limit,
            limit_note,
            booked_within_days,
            step=2.0 if i == 0 else 1.25,  # later rounds start next to the answer
        )
        volume = ev.prospects_per_week
        est = erlang_reps(s, sla_target, volume)
        found = _reps_for_sla(evaluate, s, volume, sla_target, est, reps)
        if not size_reps or found.reps_needed is None or found.reps_needed == reps:
            break
        if i == rounds - 1:
            notes.append(
                f"--size-reps did not settle: the plan's {reps} reps were sized for the previous "
                f"volume; {found.reps_needed} reps keep the SLA at this one"
            )
            break
        reps, start = found.reps_needed, volume

    final = ev
    validation = None
    if validate > 0:
        fresh = make_evaluator(
            s,
            seed,
            range(r, r + validate),
            booked_within_days=booked_within_days,
            executor=executor,
            progress=progress,
            parameter_uncertainty=parameter_uncertainty,
        )(final.prospects_per_week, final.reps)
        validation = Validation(fresh.hits(target_revenue), validate, r)

    load = offered_load(final.scenario)
    sla_att = final.mean("sla_attainment")
    notes += _capacity_notes(final, load, sla_att, sla_target, found)
    lo, hi = wilson_interval(final.hits(target_revenue), r)
    if hi - lo > 0.2:
        notes.append(
            f"with {r} replications per volume the hit probability is known only to "
            f"[{lo:.0%}, {hi:.0%}]; raise --replications for a firmer quota"
        )
    _, rlo, rhi, _ = mean_ci(final.frame["revenue"].to_numpy(float))
    costs = plan_costs(s, final.prospects_per_week, final.reps)
    monthly = None
    if by_month and final.monthly is not None and labels is not None:
        monthly = monthly_frame(final.monthly, r, labels)
    return QuotaPlan(
        scenario=final.scenario,
        target_revenue=float(target_revenue),
        confidence=confidence,
        booked_within_days=booked_within_days,
        prospects_per_week=final.prospects_per_week,
        misses_below=misses_below,
        tolerance=tolerance,
        mqls_per_week=final.prospects_per_week * effective_mql_rate(s),
        reps=final.reps,
        reps_needed=found.reps_needed,
        sla_target=sla_target,
        size_reps=size_reps,
        hits=final.hits(target_revenue),
        replications=r,
        seed=seed,
        expected_revenue=final.mean("revenue"),
        revenue_ci95=(rlo, rhi),
        sla_attainment=sla_att,
        first_touch_hours_mean=final.mean("first_touch_hours_mean"),
        offered_load=load,
        reverse_funnel=rf,
        erlang=est,
        staffing=staffing_table(s, found.evaluations, est),
        search=pd.DataFrame(trace),
        channels=channel_plan(s, final.prospects_per_week) if s.arrivals.channels else None,
        costs=costs if costs["total_cost"] > 0 else None,
        monthly=monthly,
        validation=validation,
        warnings=tuple(notes),
    )


def _check_args(
    target: float,
    confidence: float,
    tolerance: float,
    booked: float | None,
    validate: int,
    sla_target: float,
) -> None:
    if not math.isfinite(target) or target <= 0:
        raise UsageError(f"--target-revenue must be a positive amount (given: {target!r})")
    if not (0.0 < confidence < 1.0):
        raise UsageError(
            f"--confidence must be strictly between 0 and 1, e.g. 0.9 (given: {confidence!r})"
        )
    if not (0.0 < tolerance <= 0.5):
        raise UsageError(f"tolerance must be in (0, 0.5], e.g. 0.01 (given: {tolerance!r})")
    if booked is not None and (not math.isfinite(booked) or booked <= 0):
        raise UsageError(f"--booked-within-days must be > 0 (given: {booked!r})")
    if validate < 0:
        raise UsageError(f"--validate must be >= 0 (given: {validate!r})")
    if not (0.0 < sla_target <= 1.0):
        raise UsageError(f"--sla-target must be in (0, 1], e.g. 0.9 (given: {sla_target!r})")


def _search_volume(
    evaluate: Callable[[float, int, str], Evaluation],
    reps: int,
    target: float,
    confidence: float,
    start: float,
    tolerance: float,
    limit: float,
    limit_note: str,
    booked: float | None,
    step: float = 2.0,
) -> tuple[Evaluation, float]:
    """Bracket by factors of ``step`` (doubling or halving), then bisect. Returns the evaluation
    at the answer and the largest volume known to miss (0 when even tiny volumes hit)."""

    def hit(ev: Evaluation) -> bool:
        # At least a share `confidence` of replications; the epsilon absorbs float error in P*R.
        return ev.hits(target) >= confidence * ev.replications - 1e-9

    ev = evaluate(start, reps, "bracket")
    if hit(ev):
        hi_ev = ev
        for _ in range(40):
            down = evaluate(hi_ev.prospects_per_week / step, reps, "bracket")
            if not hit(down):
                lo = down.prospects_per_week
                break
            hi_ev = down
        else:
            return hi_ev, 0.0  # a target so small that a trickle of leads hits it
    else:
        lo_ev = ev
        while True:
            up_volume = lo_ev.prospects_per_week * step
            if up_volume > limit:
                raise UsageError(
                    _unreachable_message(lo_ev, target, confidence, booked, limit, limit_note)
                )
            up = evaluate(up_volume, reps, "bracket")
            if hit(up):
                hi_ev, lo = up, lo_ev.prospects_per_week
                break
            if _saturated(lo_ev, up, step):
                raise UsageError(_unreachable_message(up, target, confidence, booked, None, ""))
            lo_ev = up
    while hi_ev.prospects_per_week - lo > tolerance * hi_ev.prospects_per_week:
        mid = evaluate((hi_ev.prospects_per_week + lo) / 2, reps, "bisect")
        if hit(mid):
            hi_ev = mid
        else:
            lo = mid.prospects_per_week
    return hi_ev, lo


def _saturated(before: Evaluation, after: Evaluation, step: float) -> bool:
    """True when ``step`` times the volume clearly stopped raising revenue: the paired 95% CI of
    the gain (the same replications at both volumes) lies wholly below the least growth a working
    funnel shows, where that is telling: mean revenue at ``before`` is known to within
    `_SATURATION_PRECISION` of itself, or the reps are already offered more work than they have
    time for (so extra leads only queue). Otherwise, at a trickle of deals, no growth is just
    chance; then False, and the search goes on to its volume limit."""
    b = before.frame["revenue"].to_numpy(float)
    a = after.frame["revenue"].to_numpy(float)
    mean, lo, _, n = mean_ci(b)
    if n < 2 or a.shape != b.shape:
        return False
    precise = mean > 0 and mean - lo <= _SATURATION_PRECISION * mean
    if not (precise or offered_load(before.scenario) >= 1.0):
        return False
    _, _, gain_high, _ = mean_ci(a - b)
    return bool(gain_high <= _SATURATION_GAIN * (step - 1) * mean)


def _reps_for_sla(
    evaluate: Callable[[float, int], Evaluation],
    s: Scenario,
    volume: float,
    sla_target: float,
    est: ErlangEstimate,
    reps: int,
) -> RepsSearch:
    """The simulated rep search at the quota volume, starting at the Erlang estimate."""
    if sla_target > s.sales.coverage:
        return RepsSearch(
            None,
            {reps: evaluate(volume, reps)},
            f"sales.coverage = {s.sales.coverage:g} caps sla_attainment below --sla-target "
            f"{sla_target:g} (leads never worked count as breaches)",
        )
    start = est.reps if est.reps is not None else reps
    return search_reps(evaluate, volume, sla_target, start)


def _capacity_notes(
    ev: Evaluation, load: float, sla_att: float, sla_target: float, found: RepsSearch
) -> list[str]:
    notes = []
    if load >= 1.0:
        notes.append(
            f"capacity: at {volume(ev.prospects_per_week)} prospects/week the {ev.reps} reps are "
            f"offered {load:.0%} of their time for MQLs; the queue grows without bound and slow "
            "follow-up costs conversion"
        )
    if math.isfinite(sla_att) and sla_att < sla_target:
        need = (
            f"{found.reps_needed} reps would keep it (use --size-reps to plan with them)"
            if found.reps_needed is not None
            else f"no headcount keeps it: {found.reason}"
        )
        notes.append(
            f"SLA attainment at the quota volume is {sla_att:.1%}, below the {sla_target:.0%} "
            f"target; {need}"
        )
    elif found.reps_needed is None:
        notes.append(f"reps needed for the SLA: none found ({found.reason})")
    return notes


def _horizon_message(
    s: Scenario,
    target: float,
    booked: float | None,
    share: float,
    limit: float | None = None,
    limit_note: str = "",
) -> str:
    delays = lead_to_close_samples(s, 20000)
    head = f"--target-revenue {target:,.0f} is unreachable within the horizon: "
    window = (
        f"the cohort arrives from day {s.run.warmup_days:g} to day {s.run.horizon_days:g}, "
        f"and a won deal takes {delays.mean():.0f} days on average from arrival to close "
        f"(1% take under {float(np.quantile(delays, 0.01)):.0f} days)"
    )
    if booked is not None and booked <= s.run.warmup_days:
        return head + (
            f"--booked-within-days {booked:g} ends before the counted cohort starts arriving "
            f"(run.warmup_days = {s.run.warmup_days:g})"
        )
    if share <= 0:
        return head + (
            f"the sales cycle outlasts the window: {window}, so no deal closes within the "
            f"{booked - s.run.warmup_days:g} days from day {s.run.warmup_days:g} to day "
            f"{booked:g}; raise --booked-within-days or shorten the cycle"
        )
    most = volume(math.inf if limit is None else limit)
    return head + (
        f"the horizon binds: {window}, so only {share:.2%} of the deals close by day "
        f"{booked:g}; that needs more than {most} prospects/week (the search limit, "
        f"{limit_note}); raise --booked-within-days"
    )


def _unreachable_message(
    ev: Evaluation,
    target: float,
    confidence: float,
    booked: float | None,
    limit: float | None,
    limit_note: str,
) -> str:
    load = offered_load(ev.scenario)
    p = ev.p_hit(target)
    head = (
        f"--target-revenue {target:,.0f} is unreachable: at {volume(ev.prospects_per_week)} "
        f"prospects/week revenue reaches it in {p:.0%} of replications (needed {confidence:.0%}), "
        + (
            f"and the search stops at {volume(limit)} prospects/week ({limit_note}); "
            if limit is not None
            else "and doubling the volume no longer raises revenue; "
        )
    )
    if load >= 1.0:
        late = (
            f", so their deals close after day {booked:g} and do not count"
            if booked is not None
            else ""
        )
        return head + (
            f"capacity binds: the {ev.reps} reps are offered {load:.0%} of their MQL time, so "
            f"extra leads only lengthen the queue (SLA attainment {ev.mean('sla_attainment'):.0%}, "
            f"mean first touch {ev.mean('first_touch_hours_mean'):,.0f} h){late}; add reps "
            "(--set sales.reps=N) or use --size-reps"
        )
    if booked is not None:
        all_rev = ev.mean("revenue_all")
        return head + (
            f"the horizon binds: of {all_rev:,.0f} mean cohort revenue only "
            f"{ev.mean('revenue'):,.0f} closes by day {booked:g}; raise --booked-within-days"
        )
    return head + "revenue saturates although the reps are not overloaded"
