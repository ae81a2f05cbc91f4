"""Cross-field sense checks: settings that run but probably do not mean what the author thinks."""

from __future__ import annotations

from dataclasses import dataclass

from ..calendar import WeekCalendar
from ..errors import Problem
from .schema import DEFAULT_REJECTION_REASONS, Sales, Scenario

# About 0.8 KB of memory per prospect at the peak of a replication (a 1M-prospect replication
# peaks near 800 MB): more than this cannot run on an ordinary machine.
MAX_PROSPECTS = 10_000_000
# What one replication may take at its peak, estimated before it runs (see `estimate_work`).
MAX_REPLICATION_BYTES = 8e9
# From benchmarks/bench_memory.py (peak RSS of one replication in a fresh process): the least
# squares fit over prospects and lead x cycle x attempt slots is 667 and 49 bytes, but it
# underestimates one-cycle runs with many attempts (every hand-off then fills its slots) by up
# to 30%. These are the envelope instead: the estimate is 1.07 to 2.0 times the measured peak,
# never below it (2.0 with many cycles, whose slots a lead leaving the funnel early never fills).
BYTES_PER_PROSPECT = 700.0
BYTES_PER_SLOT = 100.0


@dataclass(frozen=True)
class Work:
    """What one replication of a scenario is expected to hold: ``prospects``, MQL ``leads``, the
    lead x cycle x attempt ``slots`` drawn for them, the peak ``bytes`` they take, and an upper
    estimate of the contact ``attempts`` made."""

    prospects: float
    leads: float
    slots: float
    bytes: float
    attempts: float


def estimate_work(s: Scenario) -> Work:
    """The expected size of one replication, from the scenario alone (nothing runs)."""
    prospects = s.arrivals.prospects_per_week * s.run.horizon_days / 7.0
    leads = prospects * effective_mql_rate(s)
    cycles = s.nurture.max_cycles if s.nurture.recycle else 1
    slots = leads * cycles * s.sales.attempts
    worked = s.handoff.acceptance_rate * s.sales.coverage
    attempts = leads * cycles * worked * mean_attempts(s.sales.contact_rate, s.sales.attempts)
    peak = BYTES_PER_PROSPECT * prospects + BYTES_PER_SLOT * slots
    return Work(prospects, leads, slots, peak, attempts)


def hard_checks(s: Scenario) -> list[Problem]:
    """Problems that make a valid-looking scenario impossible to run."""
    work = estimate_work(s)
    per_week = f"{s.arrivals.prospects_per_week:,.6g} a week over {s.run.horizon_days:g} days"
    if work.prospects > MAX_PROSPECTS:
        return [
            Problem(
                "arrivals.prospects_per_week",
                f"{per_week} is about {work.prospects:,.3g} prospects per replication; at most "
                f"{MAX_PROSPECTS:,} fit in memory (a million take about 0.8 GB)",
            )
        ]
    if work.bytes > MAX_REPLICATION_BYTES:
        cycles = s.nurture.max_cycles if s.nurture.recycle else 1
        return [
            Problem(
                "arrivals.prospects_per_week",
                f"{per_week}, with sales.attempts = {s.sales.attempts} and "
                f"{cycles} MQL cycle(s) per lead (nurture.max_cycles), needs about "
                f"{work.bytes / 1e9:,.1f} GB for one replication; at most "
                f"{MAX_REPLICATION_BYTES / 1e9:g} GB are allowed: lower the volume, the "
                "attempts or the cycles",
            )
        ]
    return []


def sense_checks(s: Scenario) -> list[Problem]:
    """Warnings about a valid scenario; each names the dotted key it is about."""
    out: list[Problem] = []
    sales = s.sales
    if sales.calendar == "24/7":
        for key in ("work_hours", "workdays"):
            # Compared with the default, not "was it written": a saved scenario writes them all.
            if getattr(sales, key) != Sales.model_fields[key].default:
                out.append(Problem(f"sales.{key}", 'has no effect with sales.calendar = "24/7"'))
        if sales.sla_clock == "business":
            out.append(
                Problem("sales.sla_clock", '"business" counts every hour with a 24/7 calendar')
            )
    else:
        gap = _longest_closed_gap_hours(s)
        if sales.sla_clock == "calendar" and sales.sla_hours < gap:
            out.append(
                Problem(
                    "sales.sla_hours",
                    f"{sales.sla_hours:g} h on the calendar clock is shorter than the longest "
                    f"closed stretch of the business calendar ({gap:g} h): leads handed off then "
                    'breach the SLA whatever the reps do; consider sla_clock = "business"',
                )
            )
    if sales.routing == "pool" and sales.reassign_after_hours is not None:
        out.append(
            Problem(
                "sales.reassign_after_hours",
                'has no effect with sales.routing = "pool": pool leads have no owner',
            )
        )
    if (
        s.handoff.acceptance_rate == 1.0
        and s.handoff.rejection_reasons != DEFAULT_REJECTION_REASONS
    ):
        out.append(
            Problem(
                "handoff.rejection_reasons", "has no effect: acceptance_rate = 1 rejects nothing"
            )
        )
    load = offered_load(s)
    if load >= 1.0:
        out.append(
            Problem(
                "sales.reps",
                f"the reps are offered {load:.0%} of the time they have for MQLs: the queue grows "
                "without bound over the horizon",
            )
        )
    return out


def company_calendar(s: Scenario) -> WeekCalendar:
    """The team's working calendar (before each rep's focus blocks), day 0 on its weekday."""
    offset = 24.0 * s.run.start_date.weekday()
    if s.sales.calendar == "24/7":
        return WeekCalendar.always(offset)
    return WeekCalendar.business(s.sales.work_hours, s.sales.workdays, offset)


def _longest_closed_gap_hours(s: Scenario) -> float:
    return company_calendar(s).longest_closed_gap()


def offered_load(s: Scenario) -> float:
    """Rep-hours of attempts asked for per rep-hour available for MQL work (>= 1: unstable)."""
    mqls_per_hour = s.arrivals.prospects_per_week / 168.0 * effective_mql_rate(s)
    worked_per_hour = mqls_per_hour * s.handoff.acceptance_rate * s.sales.coverage
    attempts = mean_attempts(s.sales.contact_rate, s.sales.attempts)
    demand = worked_per_hour * attempts * s.sales.handling_minutes.mean / 60.0
    supply = s.sales.reps * s.sales.availability * company_calendar(s).open_fraction()
    return demand / supply


def effective_mql_rate(s: Scenario) -> float:
    """The share of all prospects that become MQLs, over the channel mix if there is one."""
    chans = s.arrivals.channels
    if not chans:
        return s.marketing.mql_rate
    total = sum(c.share for c in chans)
    rate = s.marketing.mql_rate
    return sum(c.share * (rate if c.mql_rate is None else c.mql_rate) for c in chans) / total


def mean_attempts(contact_rate: float, attempts: int) -> float:
    """Expected attempts per worked lead: stop at the first reach or after ``attempts``."""
    if contact_rate >= 1.0:
        return 1.0
    if contact_rate <= 0.0:
        return float(attempts)
    q = 1.0 - contact_rate
    return (1.0 - q**attempts) / contact_rate
