"""Why a revenue target cannot be reached, in the units a planner uses: days (the horizon), reps
(capacity) and prospects per week (the volume limit).

A verdict comes either before any simulation, when the stage delays alone rule the target out
(no deal can close in time, or the reverse funnel needs far beyond the volume limit), or from the
search (`search.Stalled`): the volume limit was reached, or more volume stopped raising counted
revenue. It never quotes waits from an overloaded queue (they grow with the horizon and mean
nothing to a planner); it says how many prospects a week the reps keep up with, and how many reps
would keep up.
"""

from __future__ import annotations

import math

import numpy as np

from ..formatting import money, volume
from ..scenario import Scenario
from ..scenario.checks import offered_load
from .basis import RevenueBasis
from .reverse_funnel import lead_to_close_samples
from .search import Stalled

# The analytic verdict needs the reverse funnel to exceed the limit by this factor: simulation
# can find more revenue per lead than the nominal rates (recycling, context, lead scoring).
ANALYTIC_MARGIN = 2.0
# Below this share of deal value counting, the horizon is named as a binding limit.
_HORIZON_SHARE = 0.8


def precheck(
    s: Scenario,
    target: float,
    basis: RevenueBasis,
    share: float,
    needed: float,
    limit: float,
    limit_note: str,
) -> str | None:
    """The verdict that needs no simulation, or None. ``share``: the counted share of a deal's
    value by the stage delays; ``needed``: the reverse funnel's volume divided by it."""
    head = _head(target, basis)
    if basis.by_day is not None and basis.by_day <= s.run.warmup_days:
        return head + (
            f"day {basis.by_day:g} is before the counted cohort starts arriving "
            f"(run.warmup_days = {s.run.warmup_days:g})"
        )
    if share <= 0:
        return (
            head + "horizon binds: " + _horizon_clause(s, basis, 0.0) + "; " + _horizon_fix(basis)
        )
    if needed > ANALYTIC_MARGIN * limit:
        return (
            head
            + (
                f"by the reverse funnel it needs about {volume(needed)} prospects/week, more than "
                f"{ANALYTIC_MARGIN:g}x the search limit of {volume(limit)} ({limit_note}); "
            )
            + _limits(s, s.sales.reps, needed, basis, share, growing=True)
        )
    return None


def unreachable(
    s: Scenario,
    target: float,
    confidence: float,
    basis: RevenueBasis,
    stalled: Stalled,
    share: float,
    limit_note: str,
) -> str:
    """The verdict from a search that stalled."""
    ev = stalled.evidence
    v = ev.prospects_per_week
    seen = (
        f"at {volume(v)} prospects/week it is reached in {stalled.hits} of "
        f"{stalled.replications} replications (needed: {confidence:.0%}; counted revenue "
        f"averages {money(ev.mean('revenue'))})"
    )
    if stalled.why == "limit":
        why = (
            f"{seen}, and {volume(v)} is the search limit ({limit_note}; raise it with "
            "--max-prospects-per-week); "
        )
    else:
        why = f"{seen}, and raising the volume to it no longer raised counted revenue; "
    growing = stalled.why == "limit" and ev.mean("revenue") > 0
    return _head(target, basis) + why + _limits(s, ev.reps, v, basis, share, growing)


def _head(target: float, basis: RevenueBasis) -> str:
    return f"--target-revenue {target:,.0f} is unreachable, counting {basis.describe()}: "


def load_per_volume(s: Scenario, reps: int) -> float:
    """Offered load per prospect a week with ``reps`` reps (the load is linear in volume)."""
    v = s.arrivals.prospects_per_week
    return offered_load(s) * s.sales.reps / reps / v if v > 0 else 0.0


def _limits(
    s: Scenario, reps: int, v: float, basis: RevenueBasis, share: float, growing: bool
) -> str:
    """What binds at volume ``v``: capacity (named in reps and prospects/week), the horizon (in
    days), or, when neither, volume itself (``growing``: revenue still grows with volume)."""
    parts = []
    load = load_per_volume(s, reps) * v
    if load >= 1.0:
        keep_up = v / load
        need = math.ceil(load * reps)
        team = "1 rep keeps" if reps == 1 else f"{reps} reps keep"
        parts.append(
            f"capacity binds: {team} up with about {volume(keep_up)} "
            f"prospects/week; at {volume(v)} they are offered {load:.0%} of their MQL time, "
            "so extra leads queue, are touched late and convert less or close late; about "
            f"{need} reps keep up at that volume (--set sales.reps={need}, or --size-reps)"
        )
    # The horizon binds when a good part of the deal value cannot count, or when nothing else
    # explains the shortfall.
    if basis.by_day is not None and (share < _HORIZON_SHARE or (not parts and share < 0.999)):
        parts.append(
            "horizon binds: " + _horizon_clause(s, basis, share) + "; " + _horizon_fix(basis)
        )
    if not parts:
        parts.append(
            "volume binds: revenue grows with volume, but not enough within the search limit"
            if growing
            else "revenue stops growing with volume although the reps keep up (check "
            "sales.coverage, nurture and feedback settings)"
        )
    return "; ".join(parts)


def _horizon_clause(s: Scenario, basis: RevenueBasis, share: float) -> str:
    delays = lead_to_close_samples(s, 20000)
    what = "can close by" if basis.kind == "booked" else "can be recognised by"
    return (
        f"a won deal takes {_days(delays.mean())} from arrival to close on average (stage "
        f"delays alone; 1% take under {_days(float(np.quantile(delays, 0.01)))}), and the "
        "cohort "
        f"arrives from day {s.run.warmup_days:g} to day {s.run.horizon_days:g}, so only "
        f"{share:.1%} of its deal value {what} day {basis.by_day:g}"
    )


def _days(x: float) -> str:
    if x < 0.5:
        return "less than a day"
    return "1 day" if round(x) == 1 else f"{x:,.0f} days"


def _horizon_fix(basis: RevenueBasis) -> str:
    if basis.kind == "booked":
        return "raise --booked-within-days, or count --revenue-basis all-bookings"
    return "lengthen run.horizon_days, or count --revenue-basis all-bookings"
