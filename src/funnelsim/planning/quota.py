"""The lead quota for a revenue target: the smallest prospect volume that hits it with a stated
probability, checked on replications that did not choose it, with the reps to keep the SLA.

The steps, each in its own module:

1. What counts toward the target (`basis`), and the deterministic reverse funnel (`reverse_funnel`)
   as the starting point and the calculator's answer to show beside the plan.
2. Targets ruled out by the stage delays alone are diagnosed at once (`verdicts`).
3. The design (`confidence`): R replications and the rank j of their threshold volumes that makes
   P(hit) >= P hold with the stated assurance.
4. The search (`search`) for that threshold on common random numbers, to ``tolerance``.
5. The check on M fresh replications at the plan: ``p_hit_target`` and its CI, expected revenue,
   SLA attainment, the monthly schedule; and on the same replications the fewest reps that keep
   the SLA (`headcount`), with ``size_reps`` re-solving the volume with them.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..errors import UsageError
from ..experiment.progress import one_bar
from ..experiment.stats import mean_ci
from ..formatting import volume
from ..scenario import Scenario
from ..scenario.checks import effective_mql_rate, offered_load
from .basis import RevenueBasis, resolve_basis
from .channels import channel_plan, plan_costs
from .confidence import DEFAULT_ASSURANCE, Validation, check_probabilities, design
from .erlang import ErlangEstimate, check_sla_target, erlang_reps
from .evaluation import Evaluation, make_evaluator
from .headcount import Headcount, SlaSearch, fewest_for_sla
from .monthly import month_edges, monthly_frame
from .plan import QuotaPlan
from .reverse_funnel import counted_share, reverse_funnel
from .search import Stalled, search
from .staffing import staffing_table
from .verdicts import load_per_volume, precheck, unreachable

# The search goes no higher than this many times the reverse funnel's volume (all bookings
# counted), unless --max-prospects-per-week says otherwise: a quota that far from the
# calculator's answer means the plan, not the volume, needs changing.
LIMIT_FACTOR = 10.0
# ... nor where the reps would be offered more than this many times their time for MQLs.
MAX_LOAD = 2.0


@one_bar
def quota(
    scenario: Scenario,
    target_revenue: float,
    confidence: float = 0.9,
    *,
    revenue_basis: str | RevenueBasis | None = None,
    booked_within_days: float | None = None,
    assurance: float = DEFAULT_ASSURANCE,
    sla_target: float = 0.9,
    size_reps: bool = False,
    by_month: bool = False,
    replications: int | None = None,
    validate: int | None = None,
    seed: int | None = None,
    tolerance: float = 0.01,
    max_prospects_per_week: float | None = None,
    executor: Any = None,
    progress: bool | None = None,
    parameter_uncertainty: bool = False,
) -> QuotaPlan:
    """The smallest ``arrivals.prospects_per_week`` whose counted revenue reaches
    ``target_revenue`` with probability at least ``confidence``, claimed with ``assurance``:
    over repeated searches, the returned plan's true hit probability is at least ``confidence``
    in at least that share of them.

    ``revenue_basis`` says what counts (``booked``, the default: deals closed by
    ``booked_within_days``, else by the horizon; ``all-bookings``; ``recognized``), the same for
    every output; ``by_month`` only adds the monthly schedule. ``replications`` per candidate
    volume (default: the scenario's) is raised to what the claim needs. ``validate`` fresh
    replications (default: ``replications`` as asked, else the scenario's count) measure
    ``p_hit_target``. ``size_reps`` adopts the fewest reps that keep ``sla_attainment >=
    sla_target`` and re-solves the volume with them. ``max_prospects_per_week`` caps the search
    (default: 10x the reverse funnel, or the volume that offers the reps twice their MQL time if
    that is lower). ``executor`` (anything with ``submit``) runs replications in parallel.
    ``parameter_uncertainty``: every replication draws the fitted parameters (as in `run`), so
    the hit probability includes them; the candidate volume itself is the plan's decision and is
    never drawn.

    Raises `UsageError` for a bad argument or an unreachable target, naming the binding limit.
    """
    s = scenario
    _check_args(target_revenue, tolerance, max_prospects_per_week)
    check_probabilities(confidence, assurance)
    check_sla_target(sla_target)
    basis = resolve_basis(s, revenue_basis, booked_within_days)
    if replications is not None and int(replications) < 1:
        raise UsageError(f"--replications must be >= 1 (given: {replications})")
    des = design(confidence, assurance, replications, s.run.replications)
    asked = s.run.replications if replications is None else int(replications)
    m = asked if validate is None else int(validate)
    if m < 1:
        raise UsageError(
            f"--validate must be >= 1 (given: {validate}): p_hit_target is measured on fresh "
            "replications that took no part in choosing the plan"
        )
    seed = s.run.seed if seed is None else int(seed)

    rf = reverse_funnel(s, target_revenue, revenue_basis=basis)
    if rf.lead_to_customer_rate <= 0:
        zero = [k for k, v in rf.rates.items() if v <= 0]
        raise UsageError(
            f"--target-revenue {target_revenue:,.0f} is unreachable: the scenario converts no "
            f"prospect into a customer (zero rate into: {', '.join(zero)})"
        )
    plain, basis_note = _plain_volume(s, target_revenue, confidence)
    limit, limit_note = _search_limit(s, plain, basis_note, max_prospects_per_week, size_reps)
    share = counted_share(s, basis)
    needed = plain / share if share > 0 else math.inf
    verdict = precheck(s, target_revenue, basis, share, needed, limit, limit_note)
    if verdict:
        raise UsageError(verdict)

    edges, labels = month_edges(s, basis.by_day or s.run.horizon_days) if by_month else (None, None)
    r = des.replications
    fresh = tuple(range(r, r + m))
    evaluate = make_evaluator(
        s,
        seed,
        range(r),
        basis=basis,
        month_edges_h=edges,
        executor=executor,
        progress=progress,
        parameter_uncertainty=parameter_uncertainty,
    )
    # The search reads only counted revenue: its runs stop at the basis's deadline. The plan's
    # own figures (SLA, speed, the monthly schedule) come from `evaluate`, on fresh ids.
    counting = make_evaluator(
        s,
        seed,
        range(r),
        basis=basis,
        executor=executor,
        progress=progress,
        parameter_uncertainty=parameter_uncertainty,
        counted_only=True,
    )
    trace: list[dict] = []
    deal = rf.counted_value_per_deal
    reps = s.sales.reps
    start = min(needed, limit)
    if size_reps:
        first = erlang_reps(s, sla_target, start)
        reps = first.reps if first.reps is not None else reps
    notes: list[str] = []
    for i in range(3 if size_reps else 1):
        found = search(counting, reps, target_revenue, des, start, limit, tolerance, trace, deal)
        if isinstance(found, Stalled):
            raise UsageError(
                unreachable(s, target_revenue, confidence, basis, found, share, limit_note)
            )
        plan_volume = found.volume
        est = erlang_reps(s, sla_target, plan_volume)
        hc = Headcount(evaluate, plan_volume, fresh)
        sla = _reps_for_sla(hc, s, sla_target, est, reps)
        if not size_reps or sla.reps_needed is None or sla.reps_needed == reps:
            break
        if i == 2:
            notes.append(
                f"--size-reps did not settle: the plan's {reps} reps were sized for the previous "
                f"volume; {sla.reps_needed} reps keep the SLA at this one"
            )
            break
        reps, start = sla.reps_needed, plan_volume

    final = hc.row(reps, len(fresh))
    validation = Validation(final.hits(target_revenue), m, r)
    load = offered_load(final.scenario)
    sla_att = final.mean("sla_attainment")
    notes += _capacity_notes(final, load, sla_att, sla_target, sla)
    notes += _validation_notes(validation, confidence)
    if replications is not None and des.replications > int(replications):
        notes.append(
            f"--replications {replications} is too few for P(hit) >= {confidence:.0%} with "
            f"{assurance:.0%} assurance; the plan was chosen on {des.replications}"
        )
    _, rlo, rhi, _ = mean_ci(final.values("revenue"))
    costs = plan_costs(s, plan_volume, reps)
    monthly = None
    if by_month and final.monthly is not None and labels is not None:
        monthly = monthly_frame(final.monthly, m, labels)
    marks = {reps: "plan"}
    if sla.reps_needed is not None:
        marks[sla.reps_needed] = ("plan, " if sla.reps_needed == reps else "") + "fewest for SLA"
    return QuotaPlan(
        scenario=final.scenario,
        target_revenue=float(target_revenue),
        confidence=confidence,
        basis=basis,
        design=des,
        prospects_per_week=plan_volume,
        misses_below=found.misses_below,
        tolerance=tolerance,
        mqls_per_week=plan_volume * effective_mql_rate(s),
        reps=reps,
        reps_needed=sla.reps_needed,
        sla_target=sla_target,
        size_reps=size_reps,
        hits=found.hits,
        validation=validation,
        seed=seed,
        expected_revenue=final.mean("revenue"),
        revenue_ci95=(rlo, rhi),
        sla_attainment=sla_att,
        first_touch_hours_mean=final.mean("first_touch_hours_mean"),
        offered_load=load,
        reverse_funnel=rf,
        erlang=est,
        staffing=staffing_table(s, hc.rows, est, 0.0, marks),
        search=pd.DataFrame(trace),
        simulations=evaluate.runs + counting.runs,  # type: ignore[attr-defined]
        channels=channel_plan(s, plan_volume) if s.arrivals.channels else None,
        costs=costs if costs["total_cost"] > 0 else None,
        monthly=monthly,
        warnings=tuple(notes),
    )


def _search_limit(
    s: Scenario, plain: float, plain_note: str, given: float | None, size_reps: bool
) -> tuple[float, str]:
    """The highest volume the search tries, and what it is: ``given``, else the lower of
    `LIMIT_FACTOR` times the reverse funnel and, unless the reps are sized to the volume, the
    volume at which they would be offered `MAX_LOAD` times their MQL time (beyond it most
    leads are never worked in time: not a plan; and every replication simulates a backlog)."""
    if given is not None:
        return given, "--max-prospects-per-week"
    limit, note = LIMIT_FACTOR * plain, f"{LIMIT_FACTOR:g}x {plain_note}"
    per = load_per_volume(s, s.sales.reps)
    if not size_reps and per > 0 and MAX_LOAD / per < limit:
        limit = MAX_LOAD / per
        note = f"the {s.sales.reps} reps would be offered {MAX_LOAD:.0%} of their MQL time"
    return limit, note


def _plain_volume(s: Scenario, target: float, confidence: float) -> tuple[float, str]:
    """The reverse funnel's volume with every booking counted, and what it is called. A target
    below a deal or two still needs whole deals: with Poisson many customers, P(at least one) >=
    confidence takes -ln(1 - confidence) of them on average, so no less than that volume."""
    everything = resolve_basis(s, "all-bookings")
    plain = reverse_funnel(s, target, revenue_basis=everything)
    few = -math.log1p(-confidence)
    floor = reverse_funnel(s, few * plain.mean_deal_size, revenue_basis=everything)
    if floor.prospects_per_week > plain.prospects_per_week:
        return floor.prospects_per_week, f"the volume that averages {few:.2g} deals"
    return plain.prospects_per_week, "the reverse funnel with every booking counted"


def _check_args(target: float, tolerance: float, limit: float | None) -> None:
    if not isinstance(target, int | float) or not math.isfinite(target) or target <= 0:
        raise UsageError(f"--target-revenue must be a positive amount (given: {target!r})")
    if not (0.0 < tolerance <= 0.5):
        raise UsageError(f"tolerance must be in (0, 0.5], e.g. 0.01 (given: {tolerance!r})")
    if limit is not None and (not math.isfinite(limit) or limit <= 0):
        raise UsageError(f"--max-prospects-per-week must be > 0 (given: {limit!r})")


def _reps_for_sla(
    hc: Headcount, s: Scenario, sla_target: float, est: ErlangEstimate, reps: int
) -> SlaSearch:
    """The simulated rep search at the plan's volume, starting at the Erlang estimate."""
    if sla_target > s.sales.coverage:
        hc.row(reps)
        return SlaSearch(
            None,
            f"sales.coverage = {s.sales.coverage:g} caps sla_attainment below --sla-target "
            f"{sla_target:g} (leads never worked count as breaches)",
        )
    start = est.reps if est.reps is not None else reps
    return fewest_for_sla(hc, sla_target, start, est.attainment)


def _capacity_notes(
    ev: Evaluation, load: float, sla_att: float, sla_target: float, found: SlaSearch
) -> list[str]:
    notes = []
    if load >= 1.0:
        notes.append(
            f"capacity: at {volume(ev.prospects_per_week)} prospects/week the {ev.reps} reps are "
            f"offered {load:.0%} of their time for MQLs, so they keep up with about "
            f"{volume(ev.prospects_per_week / load)}; the queue grows and slow follow-up costs "
            "conversion"
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


def _validation_notes(v: Validation, confidence: float) -> list[str]:
    lo, hi = v.ci95
    if hi < confidence:
        return [
            f"the plan hit the target in only {v.hits} of {v.replications} fresh replications "
            f"(95% CI [{lo:.0%}, {hi:.0%}], below {confidence:.0%}): revenue is not monotone in "
            "volume here (capacity couples leads); raise --replications or --validate"
        ]
    if hi - lo > 0.3:
        return [
            f"the out-of-sample hit rate is known only to [{lo:.0%}, {hi:.0%}] from "
            f"{v.replications} fresh replications; raise --validate for a firmer figure"
        ]
    return []
