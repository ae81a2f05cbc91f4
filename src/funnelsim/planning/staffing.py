"""How many reps keep the follow-up SLA at a lead volume: an Erlang C estimate, then simulation.

The estimate treats rep time as an M/M/c queue of contact attempts. It is exact for the contract's
M/M/c reduction (24/7, one attempt, everyone reached, exponential handling) and an approximation
otherwise: ``availability`` < 1 is folded in by running the clock only while reps are available
(demand divided by ``availability * open_fraction``), re-attempts count as extra arrivals, and
leads never worked (``coverage`` < 1) count as breaches. A business calendar adds the backlog
term that dominates it in practice: the leads handed off during a closed stretch of G hours
(lam_first * G of them) all wait for the opening, and only as many as the reps can first-touch
within the SLA (reps * availability * sla_hours / mean handling) meet it; Erlang C covers the
leads handed off while the doors are open. Arrivals are taken as uniform over the week. The
simulation then steps the rep count on common random numbers until ``sla_attainment`` reaches
the target.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..distributions import Exponential
from ..errors import UsageError
from ..experiment.stats import json_number, mean_ci
from ..queueing import mmc_wait_within, servers_for_wait_within
from ..scenario import Scenario
from ..scenario.checks import company_calendar, effective_mql_rate, mean_attempts
from .evaluation import Evaluation, make_evaluator
from .reverse_funnel import cohort_weeks

# The simulated search stops stepping up once a further rep raises attainment by less than this
# while still short of the target (a plateau set by the calendar or coverage, not by headcount).
_PLATEAU = 0.002


@dataclass(frozen=True)
class ErlangEstimate:
    """The M/M/c staffing estimate. ``reps`` is None when no headcount can reach the target
    (``sla_target`` above ``sales.coverage``: leads never worked always breach)."""

    reps: int | None
    attempts_per_hour: float
    service_rate_per_hour: float
    available_share: float
    sla_hours_available: float
    wait_target: float
    exact: bool
    first_touches_per_hour: float = 0.0
    closed_gaps_hours: tuple[float, ...] = ()
    backlog_per_rep: float = 0.0  # first touches one rep makes within the SLA after opening

    def attainment(self, reps: int, coverage: float) -> float:
        """The estimate's predicted ``sla_attainment`` with ``reps`` reps."""
        lam = self.attempts_per_hour / self.available_share
        open_share = 1.0 - sum(self.closed_gaps_hours) / 168.0
        in_hours = open_share * mmc_wait_within(
            self.sla_hours_available, lam, self.service_rate_per_hour, reps
        )
        # Each closed stretch leaves lam_first * G leads for the opening; at most
        # reps * backlog_per_rep of them are touched within the SLA.
        waiting = [self.first_touches_per_hour * g for g in self.closed_gaps_hours]
        served = sum(min(b, reps * self.backlog_per_rep) for b in waiting)
        backlog = served / (self.first_touches_per_hour * 168.0) if waiting and served else 0.0
        return coverage * (in_hours + backlog)

    def to_dict(self) -> dict:
        def finite(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "reps": self.reps,
            "attempts_per_hour": finite(self.attempts_per_hour),
            "service_rate_per_hour": finite(self.service_rate_per_hour),
            "available_share": self.available_share,
            "exact": self.exact,
        }


def worked_mqls_per_week(s: Scenario, prospects_per_week: float | None = None) -> float:
    """MQLs per week that reach the reps' queue: volume * mql_rate * acceptance * coverage."""
    v = s.arrivals.prospects_per_week if prospects_per_week is None else prospects_per_week
    return v * effective_mql_rate(s) * s.handoff.acceptance_rate * s.sales.coverage


def erlang_reps(
    scenario: Scenario, sla_target: float = 0.9, prospects_per_week: float | None = None
) -> ErlangEstimate:
    """Erlang C quick estimate of the fewest reps with ``sla_attainment >= sla_target``.

    Arrivals: worked MQLs per hour times the mean attempts per worked lead; service: the mean
    handling time; the clock runs only while reps are available (see the module docstring)."""
    s = scenario
    _check_sla_target(sla_target)
    attempts = mean_attempts(s.sales.contact_rate, s.sales.attempts)
    lam = worked_mqls_per_week(s, prospects_per_week) / 168.0 * attempts
    mu = 60.0 / s.sales.handling_minutes.mean if s.sales.handling_minutes.mean > 0 else math.inf
    share = s.sales.availability * company_calendar(s).open_fraction()
    if s.sales.sla_clock == "business":
        t = s.sales.sla_hours * s.sales.availability
    else:
        t = s.sales.sla_hours * share
    coverage = s.sales.coverage
    wait_target = sla_target / coverage if coverage > 0 else math.inf
    exact = (
        share == 1.0
        and s.sales.queue == "fifo"
        and s.arrivals.weekday_profile is None
        and s.arrivals.monthly_seasonality is None
        and s.sales.attempts == 1
        and s.sales.contact_rate == 1.0
        and isinstance(s.sales.handling_minutes, Exponential)
    )
    cal = company_calendar(s)
    gaps = _closed_gaps(cal.starts, cal.ends) if not cal.always_open else ()
    lam_first = worked_mqls_per_week(s, prospects_per_week) / 168.0
    per_rep = (
        s.sales.availability * s.sales.sla_hours / (1.0 / mu) if math.isfinite(mu) else math.inf
    )
    est = ErlangEstimate(
        reps=None,
        attempts_per_hour=lam,
        service_rate_per_hour=mu,
        available_share=share,
        sla_hours_available=t,
        wait_target=wait_target,
        exact=exact,
        first_touches_per_hour=lam_first,
        closed_gaps_hours=gaps,
        backlog_per_rep=per_rep,
    )
    reps = None
    if wait_target <= 1.0:
        if lam <= 0 or not math.isfinite(mu):
            reps = 1
        elif not gaps:
            # P(W <= t) < 1 for every finite c, so a target of exactly 1 is read as 1 - 1e-6.
            reps = servers_for_wait_within(t, min(wait_target, 1.0 - 1e-6), lam / share, mu)
        else:
            reps = _fewest(lambda c: est.attainment(c, 1.0) >= min(wait_target, 1.0 - 1e-6))
    return dataclasses.replace(est, reps=reps)


def _closed_gaps(starts: tuple[float, ...], ends: tuple[float, ...]) -> tuple[float, ...]:
    """Lengths of the closed stretches of a weekly calendar, wrapping over the week's end."""
    gaps = [b - a for a, b in zip(ends, starts[1:], strict=False)]
    gaps.append(starts[0] + 168.0 - ends[-1])
    return tuple(g for g in gaps if g > 0)


def _fewest(enough: Callable[[int], bool], limit: int = 100_000) -> int | None:
    """The smallest c >= 1 with ``enough(c)`` (monotone), by doubling then bisection."""
    hi = 1
    while not enough(hi):
        hi *= 2
        if hi > limit:
            return None
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if enough(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _check_sla_target(sla_target: float) -> None:
    if not (0.0 < sla_target <= 1.0) or not math.isfinite(sla_target):
        raise UsageError(f"--sla-target must be in (0, 1], e.g. 0.9 (given: {sla_target!r})")


@dataclass(frozen=True)
class RepsSearch:
    """What the simulated rep search found: ``reps_needed`` (None: not reachable, ``reason``
    says why) and every evaluated rep count."""

    reps_needed: int | None
    evaluations: dict[int, Evaluation]
    reason: str = ""


def search_reps(
    evaluate: Callable[[float, int], Evaluation],
    prospects_per_week: float,
    sla_target: float,
    start: int,
    span: tuple[int, int] = (0, 0),
    max_reps: int | None = None,
) -> RepsSearch:
    """Fewest reps whose mean ``sla_attainment`` over the replications is >= ``sla_target``.

    Evaluates ``start - span[0] .. start + span[1]``, then steps down while the lowest still
    meets the target, or up (secant steps on attainment, then bisecting) until one does. Stops
    at a plateau (a rep adds less than 0.2 points) or at ``max_reps``."""
    cap = max_reps if max_reps is not None else max(4 * start, start + 50)
    done: dict[int, Evaluation] = {}

    def att(c: int) -> float:
        if c not in done:
            done[c] = evaluate(prospects_per_week, c)
        return done[c].mean("sla_attainment")

    def meets(c: int) -> bool:
        a = att(c)
        return math.isfinite(a) and a >= sla_target

    for c in range(max(1, start - span[0]), start + span[1] + 1):
        att(c)
    low = min(done)
    while low > 1 and meets(low):
        low -= 1
        att(low)
    ok = [c for c in done if meets(c)]
    if ok:
        return RepsSearch(min(ok), dict(sorted(done.items())))
    c = max(done)
    below = c - 1 if c - 1 in done else None
    while True:
        gap = sla_target - att(c)
        slope = (att(c) - att(below)) / (c - below) if below is not None else 0.0
        # Secant step towards the target when attainment is rising, else a cautious one.
        if slope > 0:
            step = min(max(1, math.ceil(gap / slope)), max(1, c))
        else:
            step = 1 if gap < 0.05 else max(1, c // 4)
        nxt = min(c + step, cap)
        if nxt == c:
            return RepsSearch(None, dict(sorted(done.items())), _no_reps_reason(att(c), c, cap))
        if meets(nxt):
            lo, hi = c, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if meets(mid) else (mid, hi)
            return RepsSearch(hi, dict(sorted(done.items())))
        if (att(nxt) - att(c)) / (nxt - c) < _PLATEAU:
            return RepsSearch(
                None,
                dict(sorted(done.items())),
                f"sla_attainment plateaus at {att(nxt):.1%} ({nxt} reps): more reps do not raise "
                "it, so the calendar (leads handed off while reps are off shift), "
                "sales.sla_hours or sales.coverage binds, not headcount",
            )
        below, c = c, nxt


def _no_reps_reason(att: float, reps: int, cap: int) -> str:
    return f"sla_attainment is {att:.1%} at {reps} reps, the most tried (limit {cap})"


@dataclass(frozen=True)
class StaffingResult:
    """The staffing answer: ``reps_needed`` (None when no headcount reaches the target, with
    ``reason``), the Erlang estimate, and ``table`` (one row per rep count tried)."""

    scenario: Scenario
    sla_target: float
    prospects_per_week: float
    reps_needed: int | None
    erlang: ErlangEstimate
    table: pd.DataFrame
    replications: int
    seed: int
    rep_cost_per_year: float = 0.0
    reason: str = ""
    booked_within_days: float | None = field(default=None)

    def to_dict(self) -> dict:
        """The contract's ``staffing --json`` document (plus the estimate and settings)."""
        rows = []
        for reps, r in self.table.iterrows():
            row = {"reps": int(reps)}
            row.update({k: json_number(v) for k, v in r.items()})
            rows.append(row)
        return {
            "scenario": self.scenario.name,
            "sla_target": self.sla_target,
            "reps_needed": self.reps_needed,
            "prospects_per_week": self.prospects_per_week,
            "erlang_estimate": self.erlang.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "rep_cost_per_year": self.rep_cost_per_year,
            "reason": self.reason or None,
            "table": rows,
        }


def staffing_table(
    s: Scenario,
    evaluations: dict[int, Evaluation],
    erlang: ErlangEstimate,
    rep_cost_per_year: float = 0.0,
) -> pd.DataFrame:
    """Per rep count: SLA attainment (mean and 95% CI), the Erlang prediction, mean first-touch
    wait, utilization, revenue; with a rep cost, the cost over the cohort window and revenue
    minus it."""
    rows = []
    years = cohort_weeks(s) * 7.0 / 365.0
    for c, ev in sorted(evaluations.items()):
        mean, lo, hi, _ = mean_ci(ev.frame["sla_attainment"].to_numpy(float))
        row = {
            "reps": c,
            "sla_attainment": mean,
            "sla_ci_low": lo,
            "sla_ci_high": hi,
            "erlang_sla_attainment": erlang.attainment(c, s.sales.coverage),
            "first_touch_hours_mean": ev.mean("first_touch_hours_mean"),
            "rep_utilization": ev.mean("rep_utilization"),
            "revenue": ev.mean("revenue"),
        }
        if rep_cost_per_year > 0:
            row["rep_cost"] = c * rep_cost_per_year * years
            row["revenue_minus_rep_cost"] = row["revenue"] - row["rep_cost"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("reps")


def staffing(
    scenario: Scenario,
    sla_target: float = 0.9,
    *,
    prospects_per_week: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    booked_within_days: float | None = None,
    rep_cost_per_year: float | None = None,
    span: tuple[int, int] = (2, 3),
    executor: Any = None,
    progress: bool | None = None,
) -> StaffingResult:
    """The fewest reps that keep ``sla_attainment >= sla_target`` at a lead volume (default: the
    scenario's), with a table over rep counts from the Erlang estimate minus ``span[0]`` to plus
    ``span[1]``, widened to cover the answer and the counts from two below it to one above.

    ``rep_cost_per_year`` (default: the scenario's ``costs.rep_cost_per_year``; 0: no cost
    columns) adds the reps' cost over the cohort window
    and revenue minus that cost. Raises `UsageError` when ``sla_target`` exceeds
    ``sales.coverage`` (never-worked leads always breach).
    """
    s = scenario
    _check_sla_target(sla_target)
    cost = _check_cost(
        s.costs.rep_cost_per_year if rep_cost_per_year is None else rep_cost_per_year
    )
    if sla_target > s.sales.coverage:
        raise UsageError(
            f"--sla-target {sla_target:g} cannot be met by any number of reps: sales.coverage = "
            f"{s.sales.coverage:g}, and leads never worked count as SLA breaches, so "
            f"sla_attainment is at most about {s.sales.coverage:.0%}"
        )
    volume = s.arrivals.prospects_per_week if prospects_per_week is None else prospects_per_week
    seed = s.run.seed if seed is None else int(seed)
    r = s.run.replications if replications is None else int(replications)
    if r < 1:
        raise UsageError(f"--replications must be >= 1 (given: {r})")
    est = erlang_reps(s, sla_target, volume)
    evaluate = make_evaluator(
        s,
        seed,
        range(r),
        booked_within_days=booked_within_days,
        executor=executor,
        progress=progress,
    )
    start = est.reps if est.reps is not None else s.sales.reps
    found = search_reps(evaluate, volume, sla_target, start, span)
    evaluations = dict(found.evaluations)
    if found.reps_needed is not None:
        # Show the neighbourhood of the answer even when the estimate was far from it.
        for c in range(max(1, found.reps_needed - 2), found.reps_needed + 2):
            if c not in evaluations:
                evaluations[c] = evaluate(volume, c)
    table = staffing_table(s, evaluations, est, cost)
    return StaffingResult(
        scenario=s,
        sla_target=sla_target,
        prospects_per_week=volume,
        reps_needed=found.reps_needed,
        erlang=est,
        table=table,
        replications=r,
        seed=seed,
        rep_cost_per_year=cost,
        reason=found.reason,
        booked_within_days=booked_within_days,
    )


def _check_cost(rep_cost_per_year: float) -> float:
    if not math.isfinite(rep_cost_per_year) or rep_cost_per_year < 0:
        raise UsageError(f"--rep-cost-per-year must be >= 0 (given: {rep_cost_per_year!r})")
    return float(rep_cost_per_year)
