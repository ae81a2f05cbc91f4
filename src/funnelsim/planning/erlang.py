"""The Erlang C staffing estimate: how many reps keep the follow-up SLA, before any simulation.

Exact on the contract's M/M/c reduction: a 24/7 calendar, reps fully available, a FIFO queue, one
attempt per worked lead, exponential handling, no vacations or ramping new hires, no arrival
profile, no recycling or feedback, one shared pool. Then the share of accepted MQLs first touched
within t is ``coverage * (1 - C(c, a) exp(-(c mu - lam) t))`` and ``exact`` is true.

Everywhere else it is an approximation (``exact`` false, ``approximations`` says why) and the
simulation decides. The approximation follows the week hour by hour (hand-offs spread evenly over
it), on the clock the SLA is measured on:

- Reps serve attempts only in their available time: the queue runs on an "available-time" clock,
  on which attempts arrive at ``lam / (open share * availability)``. Availability is cut for
  vacations and for new hires' average speed over the cohort window.
- A lead handed off while the team works has the open hours within its SLA window as budget: on
  the business clock ``sla_hours``; on the calendar clock only the working hours inside the next
  ``sla_hours`` (a lead handed off at 16:30 with a 1-hour SLA has half an hour). It meets the SLA
  with the Erlang C probability of waiting less than that budget in available time.
- A lead handed off while the team is off waits for the opening behind the backlog of its closed
  stretch. On the business clock no SLA time passes meanwhile; on the calendar clock overnight
  and weekend hours count, so a lead handed off more than ``sla_hours`` before the opening has
  already breached. Its chance to be first-touched within its remaining budget depends on its
  place in the backlog: FIFO serves the oldest first, LIFO the newest, priority in score order
  (taken as random in arrival time), with the team's whole available time on first touches.

``ceiling`` is the attainment no headcount beats (on the calendar clock: the leads handed off in
working hours or within ``sla_hours`` of an opening), so the estimate never promises a target the
calendar rules out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..calendar import WEEK, WeekCalendar
from ..distributions import Exponential
from ..errors import UsageError
from ..queueing import erlang_c
from ..scenario import Scenario
from ..scenario.checks import company_calendar, effective_mql_rate, mean_attempts

# Hand-off instants per hour of the week on which the approximation is evaluated.
_GRID_PER_HOUR = 12
MAX_REPS = 100_000


@dataclass(frozen=True)
class ErlangEstimate:
    """The staffing estimate: ``reps`` (None when no headcount reaches the target), whether it is
    ``exact``, and the ``approximations`` that make it not."""

    reps: int | None
    exact: bool
    approximations: tuple[str, ...]
    sla_clock: str
    sla_target: float
    coverage: float
    attempts_per_hour: float
    first_touches_per_hour: float
    service_rate_per_hour: float
    available_share: float  # of each open hour, after vacations and ramp-up
    open_share: float
    ceiling: float
    # Per grid instant of the week: open or not, the SLA budget in open hours, and for closed
    # instants the backlog ahead of the lead (FIFO), behind it (LIFO) and the whole stretch's.
    grid_open: tuple[bool, ...] = field(default=(), repr=False)
    grid_budget: tuple[float, ...] = field(default=(), repr=False)
    grid_before: tuple[float, ...] = field(default=(), repr=False)
    grid_after: tuple[float, ...] = field(default=(), repr=False)
    grid_stretch: tuple[float, ...] = field(default=(), repr=False)
    queue: str = "fifo"
    team_speed_loss: float = 0.0  # rep-equivalents lost to new hires' ramp-up

    def attainment(self, reps: int, coverage: float | None = None) -> float:
        """The estimate's ``sla_attainment`` with ``reps`` reps (``coverage`` default: the
        scenario's)."""
        cov = self.coverage if coverage is None else coverage
        if self.attempts_per_hour <= 0 or not math.isfinite(self.service_rate_per_hour):
            return cov * self.ceiling
        speed = max(0.0, 1.0 - self.team_speed_loss / reps)
        mu = self.service_rate_per_hour * speed
        avail = self.available_share
        lam = self.attempts_per_hour / (self.open_share * avail)  # per available hour
        is_open = np.asarray(self.grid_open, bool)
        budget = np.asarray(self.grid_budget, float)
        meet = np.zeros(budget.size)
        if lam < reps * mu:
            c = erlang_c(reps, lam / mu)
            rate = reps * mu - lam
            meet[is_open] = np.where(
                budget[is_open] > 0, 1.0 - c * np.exp(-rate * avail * budget[is_open]), 0.0
            )
        closed = ~is_open
        if closed.any():
            # First touches per open hour while the team clears a backlog (mostly first touches:
            # re-attempts fall due hours after a lead's first one).
            kappa = reps * avail * mu
            cleared = kappa * budget[closed]
            ahead = {
                "fifo": np.asarray(self.grid_before, float)[closed],
                "lifo": np.asarray(self.grid_after, float)[closed],
            }.get(self.queue)
            if ahead is not None:
                meet[closed] = (budget[closed] > 0) & (
                    self.first_touches_per_hour * ahead <= cleared
                )
            else:
                backlog = self.first_touches_per_hour * np.asarray(self.grid_stretch)[closed]
                meet[closed] = np.where(
                    budget[closed] > 0, np.minimum(1.0, cleared / np.maximum(backlog, 1e-12)), 0.0
                )
        return float(cov * meet.mean())

    def describe(self) -> str:
        """One line for every output: the estimate and whether it can be trusted."""
        n = "no headcount" if self.reps is None else f"{self.reps} reps"
        if self.exact:
            return f"Erlang C estimate: {n} (exact: this is an M/M/c queue)"
        return (
            f"Erlang C estimate: {n} (approximate: {'; '.join(self.approximations)}; simulation "
            "decides)"
        )

    def to_dict(self) -> dict:
        def finite(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "reps": self.reps,
            "exact": self.exact,
            "approximations": list(self.approximations),
            "sla_clock": self.sla_clock,
            "ceiling": self.ceiling * self.coverage,
            "attempts_per_hour": finite(self.attempts_per_hour),
            "service_rate_per_hour": finite(self.service_rate_per_hour),
            "available_share": self.available_share,
        }


def approximations(s: Scenario) -> tuple[str, ...]:
    """Why the M/M/c reduction does not hold for ``s`` (empty: it is exact)."""
    sales, out = s.sales, []
    if sales.calendar != "24/7":
        out.append(f"business calendar ({sales.sla_clock} SLA clock)")
    if sales.availability < 1.0:
        out.append(f"availability {sales.availability:g}")
    if sales.queue != "fifo":
        out.append(f"{sales.queue} queue")
    if sales.attempts > 1 and sales.contact_rate < 1.0:
        out.append(f"up to {sales.attempts} attempts per lead")
    if not isinstance(sales.handling_minutes, Exponential):
        out.append("handling time not exponential")
    if sales.vacation_days_per_year > 0:
        out.append("vacations")
    if sales.new_hires > 0:
        out.append("new hires ramping up")
    if sales.routing != "pool":
        out.append(f"{sales.routing} routing (each owner is a queue of its own)")
    if sales.pull_times:
        out.append("batch pulls")
    a = s.arrivals
    if (
        a.weekday_profile is not None
        or a.monthly_seasonality is not None
        or a.hourly_profile is not None
    ):
        out.append("arrival profile")
    if s.nurture.recycle:
        out.append("nurture recycling (returning MQLs)")
    if s.feedback.enabled:
        out.append("feedback learning")
    return tuple(out)


def worked_mqls_per_week(s: Scenario, prospects_per_week: float | None = None) -> float:
    """First hand-offs per week that reach the reps' queue: volume * mql_rate * acceptance *
    coverage (recycled ones are not in it)."""
    v = s.arrivals.prospects_per_week if prospects_per_week is None else prospects_per_week
    return v * effective_mql_rate(s) * s.handoff.acceptance_rate * s.sales.coverage


def erlang_reps(
    scenario: Scenario, sla_target: float = 0.9, prospects_per_week: float | None = None
) -> ErlangEstimate:
    """The Erlang C estimate of the fewest reps with ``sla_attainment >= sla_target`` at
    ``prospects_per_week`` (default: the scenario's); see the module docstring."""
    s = scenario
    check_sla_target(sla_target)
    sales = s.sales
    first = worked_mqls_per_week(s, prospects_per_week) / WEEK
    lam = first * mean_attempts(sales.contact_rate, sales.attempts)
    mean_h = sales.handling_minutes.mean / 60.0
    mu = 1.0 / mean_h if mean_h > 0 else math.inf
    cal = company_calendar(s)
    grid = _week_grid(cal, sales.sla_hours, sales.sla_clock)
    avail = sales.availability * (1.0 - _vacation_share(s))
    est = ErlangEstimate(
        reps=None,
        exact=not approximations(s),
        approximations=approximations(s),
        sla_clock=sales.sla_clock,
        sla_target=sla_target,
        coverage=sales.coverage,
        attempts_per_hour=lam,
        first_touches_per_hour=first,
        service_rate_per_hour=mu,
        available_share=avail,
        open_share=cal.open_fraction(),
        ceiling=float(np.mean(np.asarray(grid["budget"]) > 0)),
        grid_open=grid["open"],
        grid_budget=grid["budget"],
        grid_before=grid["before"],
        grid_after=grid["after"],
        grid_stretch=grid["stretch"],
        queue=sales.queue,
        team_speed_loss=sales.new_hires * (1.0 - _mean_ramp_speed(s)),
    )
    reps = None
    if sla_target <= est.coverage * est.ceiling + 1e-12:
        # A target of exactly the ceiling is read as just under it (never quite reached).
        goal = min(sla_target, est.coverage * est.ceiling * (1.0 - 1e-6))
        reps = _fewest(lambda c: est.attainment(c) >= goal)
    return replace(est, reps=reps)


def _week_grid(cal: WeekCalendar, sla_hours: float, clock: str) -> dict[str, tuple]:
    """Hand-off instants over one week: open or not, the SLA budget in open hours, and for the
    closed ones the hours of their closed stretch before them, after them, and in all."""
    week = WeekCalendar(cal.starts, cal.ends, 0.0)
    t = (np.arange(int(WEEK * _GRID_PER_HOUR)) + 0.5) / _GRID_PER_HOUR
    starts, ends = np.asarray(week.starts), np.asarray(week.ends)
    i = np.searchsorted(ends, t, side="right")
    is_open = (i < starts.size) & (starts[np.minimum(i, starts.size - 1)] <= t)
    nxt = np.where(i < starts.size, starts[np.minimum(i, starts.size - 1)], starts[0] + WEEK)
    prev = np.where(i > 0, ends[np.maximum(i - 1, 0)], ends[-1] - WEEK)
    if clock == "business":
        budget = np.full(t.size, float(sla_hours))
    else:
        budget = week.open_hours_between(t, t + sla_hours)
    before = np.where(is_open, 0.0, t - prev)
    after = np.where(is_open, 0.0, nxt - t)
    return {
        "open": tuple(bool(x) for x in is_open),
        "budget": tuple(float(x) for x in budget),
        "before": tuple(float(x) for x in before),
        "after": tuple(float(x) for x in after),
        "stretch": tuple(float(x) for x in before + after),
    }


def _vacation_share(s: Scenario) -> float:
    """Share of working days a rep is away."""
    days = 365.0 if s.sales.calendar == "24/7" else len(s.sales.workdays) * 365.0 / 7.0
    return min(1.0, s.sales.vacation_days_per_year / days)


def _mean_ramp_speed(s: Scenario) -> float:
    """A new hire's mean speed over the cohort window (linear ramp from the start productivity)."""
    w, h, ramp = s.run.warmup_days, s.run.horizon_days, s.sales.ramp_days
    if h <= w or s.sales.new_hires == 0:
        return 1.0

    def ramped(t: float) -> float:  # integral of min(t / ramp, 1) from 0 to t
        return t * t / (2 * ramp) if t <= ramp else ramp / 2 + (t - ramp)

    share = (ramped(h) - ramped(w)) / (h - w)
    p0 = s.sales.ramp_start_productivity
    return p0 + (1.0 - p0) * share


def _fewest(enough, limit: int = MAX_REPS) -> int | None:
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


def check_sla_target(sla_target: float) -> None:
    if (
        isinstance(sla_target, bool)
        or not isinstance(sla_target, int | float)
        or not (0.0 < sla_target <= 1.0)
    ):
        raise UsageError(f"--sla-target must be in (0, 1], e.g. 0.9 (given: {sla_target!r})")
