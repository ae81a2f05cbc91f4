"""Planning commands: quota (leads and reps for a revenue target), staffing (reps for the SLA)."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

from .. import api
from ..caps import MAX_REPLICATIONS
from .common import app, echo_err, handled, print_frame, print_json, progress_flag
from .options import (
    AllCoresWhere,
    BasisOpt,
    BookedOpt,
    JsonOpt,
    ParameterUncertaintyOpt,
    QuietOpt,
    Runs,
    ScenarioArg,
    SlaOpt,
    bundled,
    count_at_most,
    replications_option,
)

CandidateRepsOpt = replications_option(
    "Replications per candidate volume (default: the scenario's, raised to what --confidence "
    "and --assurance need)."
)
HeadcountRepsOpt = replications_option(
    "The most replications a rep count gets (default: the scenario's run.replications); a count "
    "whose answer is clear sooner gets fewer."
)


@dataclasses.dataclass(frozen=True)
class CandidateRuns(Runs):
    """`Runs` whose ``--replications`` is the count per candidate volume."""

    replications: CandidateRepsOpt = None


@dataclasses.dataclass(frozen=True)
class HeadcountRuns(Runs):
    """`Runs` whose ``--replications`` is the most a rep count gets."""

    replications: HeadcountRepsOpt = None


@app.command()
@handled
@bundled
def quota(
    scenario: ScenarioArg,
    target_revenue: Annotated[
        float,
        typer.Option(
            help="Revenue to reach (e.g. 6e6), counted by --revenue-basis.", show_default=False
        ),
    ],
    confidence: Annotated[
        float, typer.Option(help="Required probability of reaching the target.")
    ] = 0.9,
    assurance: Annotated[
        float,
        typer.Option(
            help="How sure the plan's hit probability is at least --confidence: the share of "
            "searches whose plan would meet it."
        ),
    ] = 0.9,
    revenue_basis: BasisOpt = None,
    booked_within_days: BookedOpt = None,
    sla_target: SlaOpt = 0.9,
    size_reps: Annotated[
        bool,
        typer.Option(
            "--size-reps",
            help="Plan with the fewest reps that keep the SLA, and re-solve the volume with them.",
        ),
    ] = False,
    by_month: Annotated[
        bool,
        typer.Option(
            "--by-month", help="Also print the monthly MQL schedule (same revenue basis)."
        ),
    ] = False,
    tolerance: Annotated[
        float, typer.Option(help="Stop when the volume is known to within this share.")
    ] = 0.01,
    validate: Annotated[
        int | None,
        typer.Option(
            help="Fresh replications that measure the plan's hit probability out of sample "
            "(default: --replications as given, else the scenario's run.replications).",
            callback=count_at_most(MAX_REPLICATIONS),
        ),
    ] = None,
    max_prospects_per_week: Annotated[
        float | None,
        typer.Option(
            help="Search no higher than this volume (default: 10x the reverse funnel, or where "
            "the reps would be offered twice their MQL time if lower)."
        ),
    ] = None,
    runs: CandidateRuns = CandidateRuns(),
    where: AllCoresWhere = AllCoresWhere(),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    parameter_uncertainty: ParameterUncertaintyOpt = False,
) -> None:
    """The smallest prospect volume (and MQLs, reps) that reaches a revenue target with a given
    probability, beside the deterministic reverse funnel."""
    s = runs.load(scenario)
    with where.open() as ex:
        plan = api.quota(
            s,
            target_revenue,
            confidence,
            revenue_basis=revenue_basis,
            booked_within_days=booked_within_days,
            assurance=assurance,
            sla_target=sla_target,
            size_reps=size_reps,
            by_month=by_month,
            replications=runs.replications,
            validate=validate,
            seed=runs.seed,
            tolerance=tolerance,
            max_prospects_per_week=max_prospects_per_week,
            executor=ex,
            progress=progress_flag(quiet),
            parameter_uncertainty=parameter_uncertainty,
        )
    if json_out:
        print_json(plan.to_dict())
        return
    _print_quota(plan)


def _print_quota(plan: api.QuotaPlan) -> None:
    from ..formatting import fmt, money, volume

    s, rf = plan.scenario, plan.reverse_funnel
    typer.echo(
        f"{s.name}: quota for {money(plan.target_revenue)} with {plan.confidence:.0%} confidence"
    )
    typer.echo(f"counted toward the target: {plan.basis.describe()}")
    typer.echo("")
    print_frame(
        "1. Deterministic reverse funnel (target / deal value / stage rates; no variance, "
        "no capacity, no response-time decay)",
        _reverse_funnel_text(rf),
    )
    window = f"{rf.weeks:.1f} weeks of arrivals whose deals count"
    value = money(rf.counted_value_per_deal)
    if rf.value_share != 1.0:
        value += f" counted of {money(rf.mean_deal_size)}"
    typer.echo(
        f"   {money(plan.target_revenue)} / {value} = {_per_week(rf.customers)} "
        f"customers; lead-to-customer {rf.lead_to_customer_rate:.3%}; mean lead-to-close "
        f"{rf.lead_to_close_days:.0f} days; {window}"
    )
    typer.echo(
        f"   => {_per_week(rf.prospects_per_week)} prospects/week, "
        f"{_per_week(rf.mqls_per_week)} MQLs/week: enough on average if the nominal rates "
        "held, which is a coin flip on the target"
    )
    typer.echo("")
    d, v = plan.design, plan.validation
    typer.echo(
        f"2. Simulated quota (common random numbers, seed {plan.seed}; "
        f"{plan.search['prospects_per_week'].nunique()} volumes tried, {plan.simulations} "
        "replications simulated)"
    )
    typer.echo(f"   chosen as {d.describe()}")
    typer.echo(
        f"   prospects/week  {_per_week(plan.prospects_per_week)}  (known to within "
        f"{plan.tolerance:.0%}: {_per_week(plan.misses_below)} is too few)"
    )
    typer.echo(f"   MQLs/week       {_per_week(plan.mqls_per_week)}")
    lo, hi = v.ci95
    typer.echo(
        f"   P(hit target)   {v.p_hit:.0%}  (out of sample: {v.hits} of {v.replications} fresh "
        f"replications; 95% CI [{lo:.0%}, {hi:.0%}])"
    )
    rlo, rhi = plan.revenue_ci95
    typer.echo(
        f"   expected revenue {money(plan.expected_revenue)}  "
        f"(95% CI [{fmt(rlo, 'currency')}, {fmt(rhi, 'currency')}])"
    )
    typer.echo("")
    typer.echo(
        f"3. Capacity at {volume(plan.prospects_per_week)} prospects/week with {_reps(plan.reps)}: "
        f"offered load {plan.offered_load:.0%}, SLA attainment {fmt(plan.sla_attainment, 'rate')} "
        f"(target {plan.sla_target:.0%}), mean first touch "
        f"{_wait(plan.first_touch_hours_mean, plan.offered_load)}"
    )
    typer.echo(f"   {plan.erlang.describe()}")
    need = plan.reps_needed
    typer.echo(
        f"   simulation: {_reps(need)} keep SLA attainment >= {plan.sla_target:.0%}"
        if need is not None
        else "   simulation: no rep count tried keeps the SLA"
    )
    print_frame("", _staffing_text(plan.staffing))
    typer.echo("")
    typer.echo(
        f"Plan: {volume(plan.prospects_per_week)} prospects/week, "
        f"{_per_week(plan.mqls_per_week)} MQLs/week, {_reps(plan.reps)} -> expected revenue "
        f"{money(plan.expected_revenue)}, P(hit {money(plan.target_revenue)}) = "
        f"{plan.p_hit_target:.0%} ({plan.basis.describe()})"
    )
    if plan.costs is not None:
        c = plan.costs
        typer.echo(
            f"   cost over the counted window: marketing {money(c['marketing_cost'])}, reps "
            f"{money(c['rep_cost'])}, total {money(c['total_cost'])}"
        )
    if plan.channels is not None:
        print_frame("   by channel:", _channels_text(plan.channels))
    if plan.monthly is not None:
        typer.echo("")
        print_frame(
            f"Monthly MQL plan (by month of MQL creation; counted: {plan.basis.describe()}; "
            f"simulated, means over the {v.replications} fresh replications):",
            _monthly_text(plan.monthly),
        )
    for note in plan.warnings:
        echo_err(f"warning: {note}")


def _reps(n: int | None) -> str:
    if n is None:
        return "none"
    return f"{n} rep" if n == 1 else f"{n} reps"


def _per_week(x: float) -> str:
    """One decimal, or three significant digits below 10 so a small quota never reads 0.0."""
    if not math.isfinite(x):
        return "unreachable"
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.3g}"


def _reverse_funnel_text(rf) -> pd.DataFrame:
    import pandas as pd

    from ..formatting import fmt

    t = rf.table()
    return pd.DataFrame(
        {
            "rate in": [fmt(r, "rate") for r in t["rate"]],
            "needed": [_per_week(x) for x in t["needed"]],
            "per week": [_per_week(x) for x in t["per_week"]],
        },
        index=t.index,
    )


def _hours(h: float) -> str:
    return "1 hour" if h == 1 else f"{h:g} hours"


def _wait(hours: float, load: float) -> str:
    """A mean wait a planner can read; an overloaded queue's mean only says how long the run
    was, so it is not quoted."""
    from ..formatting import fmt

    if math.isfinite(load) and load >= 1.0:
        return f"- (overloaded: offered load {load:.0%})"
    if math.isfinite(hours) and hours >= 48:
        return f"{hours / 24:,.1f} d"
    return fmt(hours, "hours")


def _staffing_text(table: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from ..formatting import fmt

    out = pd.DataFrame(index=table.index)
    out["runs"] = [f"{n:.0f}" for n in table["replications"]]
    out["SLA attainment"] = [
        f"{r.sla_attainment:.1%} [{fmt(r.sla_ci_low, 'rate')}, {fmt(r.sla_ci_high, 'rate')}]"
        for r in table.itertuples()
    ]
    out["Erlang C"] = [fmt(x, "rate") for x in table["erlang_sla_attainment"]]
    out["first touch (mean)"] = [
        _wait(h, u)
        for h, u in zip(table["first_touch_hours_mean"], table["offered_load"], strict=True)
    ]
    out["utilization"] = [fmt(x, "rate") for x in table["rep_utilization"]]
    out["revenue"] = [fmt(x, "currency") for x in table["revenue"]]
    out["+revenue/rep"] = [fmt(x, "currency") for x in table["marginal_revenue_per_rep"]]
    if "rep_cost" in table:
        out["rep cost"] = [fmt(x, "currency") for x in table["rep_cost"]]
        out["profit"] = [fmt(x, "currency") for x in table["profit"]]
    out[""] = [f"<- {n}" if n else "" for n in table["note"]]
    return out


def _channels_text(table: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from ..formatting import money

    return pd.DataFrame(
        {
            "share": [f"{x:.0%}" for x in table["share"]],
            "prospects/wk": [f"{x:,.1f}" for x in table["prospects_per_week"]],
            "MQLs/wk": [f"{x:,.1f}" for x in table["mqls_per_week"]],
            "cost/prospect": [money(x) for x in table["cost_per_prospect"]],
            "cost/wk": [money(x) for x in table["marketing_cost_per_week"]],
        },
        index=table.index,
    )


def _monthly_text(table: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from ..formatting import fmt, money

    return pd.DataFrame(
        {
            "MQLs to create": [f"{x:,.1f}" for x in table["mqls"]],
            "wins": [f"{x:,.2f}" for x in table["customers"]],
            "wins in time": [f"{x:,.2f}" for x in table["customers_in_time"]],
            "share in time": [fmt(x, "rate") for x in table["share_in_time"]],
            "revenue in time": [money(x) for x in table["revenue_in_time"]],
            "cumulative": [money(x) for x in table["cumulative_revenue_in_time"]],
        },
        index=table.index,
    )


@app.command()
@handled
@bundled
def staffing(
    scenario: ScenarioArg,
    sla_target: SlaOpt = 0.9,
    rep_cost_per_year: Annotated[
        float | None,
        typer.Option(
            help="Fully loaded cost of a rep per year (default: the scenario's "
            "costs.rep_cost_per_year); adds rep cost, profit and the most profitable headcount."
        ),
    ] = None,
    revenue_basis: BasisOpt = None,
    booked_within_days: BookedOpt = None,
    runs: HeadcountRuns = HeadcountRuns(),
    where: AllCoresWhere = AllCoresWhere(),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The fewest reps that keep SLA attainment >= --sla-target at the scenario's lead volume,
    the most profitable headcount that keeps it, and the current headcount beside them."""
    s = runs.load(scenario)
    with where.open() as ex:
        result = api.staffing(
            s,
            sla_target,
            replications=runs.replications,
            seed=runs.seed,
            rep_cost_per_year=rep_cost_per_year,
            revenue_basis=revenue_basis,
            booked_within_days=booked_within_days,
            executor=ex,
            progress=progress_flag(quiet),
        )
    if json_out:
        print_json(result.to_dict())
    else:
        _print_staffing(result)
    if result.reps_needed is None:
        echo_err(f"error: no rep count reaches --sla-target {sla_target:g}: {result.reason}")
        raise typer.Exit(2)


def _print_staffing(result: api.StaffingResult) -> None:
    from ..formatting import fmt, money, volume

    s = result.scenario
    cost = (
        f"; a rep costs {money(result.rep_cost_per_year)} a year"
        if result.rep_cost_per_year > 0
        else ""
    )
    typer.echo(
        f"{s.name}: headcount for SLA attainment >= {result.sla_target:.0%} (first touch within "
        f"{_hours(s.sales.sla_hours)} on the {s.sales.sla_clock} clock) at "
        f"{volume(result.prospects_per_week)} prospects/week{cost}"
    )
    typer.echo(
        f"revenue counted: {result.basis.describe()}; up to {result.replications} replications "
        f"per rep count on common random numbers, seed {result.seed}"
    )
    typer.echo(result.erlang.describe())
    print_frame("", _staffing_text(result.table()))
    t = result.table
    current = t.loc[result.current_reps]
    typer.echo(
        f"current headcount: {_reps(result.current_reps)}, SLA attainment "
        f"{fmt(current['sla_attainment'], 'rate')}"
        + (f", profit {money(current['profit'])}" if "profit" in t else "")
    )
    if result.reps_needed is not None:
        typer.echo(
            f"reps needed: {result.reps_needed} (the fewest that keep the SLA, by simulation)"
        )
    if result.reps_best is not None:
        best = t.loc[result.reps_best]
        typer.echo(
            f"most profitable keeping the SLA: {_reps(result.reps_best)}, profit "
            f"{money(best['profit'])} (each further rep adds less revenue than it costs)"
        )
        if result.reps_best != result.current_reps:
            change = best["profit"] - current["profit"]
            typer.echo(
                f"   against the current {_reps(result.current_reps)}: profit "
                f"{'+' if change >= 0 else '-'}{money(abs(change))}"
            )
    for note in result.notes:
        echo_err(f"note: {note}")
