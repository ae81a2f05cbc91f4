"""Planning commands: quota (leads and reps for a revenue target), staffing (reps for the SLA)."""

from __future__ import annotations

import math
from typing import Annotated

import pandas as pd
import typer

from .. import api
from ..formatting import fmt, money, volume
from ..scenario.schema import MAX_REPLICATIONS
from .common import (
    JsonOpt,
    QuietOpt,
    RepsOpt,
    ScenarioArg,
    SeedOpt,
    SetOpt,
    app,
    count_at_most,
    echo_err,
    handled,
    print_frame,
    print_json,
    progress_flag,
    replications_in_range,
)
from .execution import ExecutorOpt, WorkersOpt

SlaOpt = Annotated[
    float,
    typer.Option(help="Keep the share of accepted MQLs first touched within sla_hours >= this."),
]


@app.command()
@handled
def quota(
    scenario: ScenarioArg,
    target_revenue: Annotated[
        float,
        typer.Option(help="Cohort revenue to reach (e.g. 6e6).", show_default=False),
    ],
    confidence: Annotated[
        float, typer.Option(help="Required probability of reaching the target.")
    ] = 0.9,
    booked_within_days: Annotated[
        float | None,
        typer.Option(help="Count only deals closed by this day (the fiscal-year view)."),
    ] = None,
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
            "--by-month",
            help="Print the monthly MQL plan; counts only deals closed by --booked-within-days, "
            "else by the horizon.",
        ),
    ] = False,
    tolerance: Annotated[
        float, typer.Option(help="Stop when the volume is known to within this share.")
    ] = 0.01,
    validate: Annotated[
        int,
        typer.Option(
            help="Re-simulate the plan on this many fresh replications.",
            callback=count_at_most(MAX_REPLICATIONS),
        ),
    ] = 0,
    sets: SetOpt = None,
    seed: SeedOpt = None,
    replications: Annotated[
        int | None,
        typer.Option(
            help="Replications per candidate volume (default: the scenario's).",
            callback=replications_in_range,
        ),
    ] = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The smallest prospect volume (and MQLs, reps) that reaches a revenue target with a given
    probability, beside the deterministic reverse funnel."""
    s = api.load(scenario, sets or [])
    with api.open_executor(executor, workers) as ex:
        plan = api.quota(
            s,
            target_revenue,
            confidence,
            booked_within_days=booked_within_days,
            sla_target=sla_target,
            size_reps=size_reps,
            by_month=by_month,
            replications=replications,
            seed=seed,
            tolerance=tolerance,
            validate=validate,
            executor=ex,
            progress=progress_flag(quiet),
        )
    if json_out:
        print_json(plan.to_dict())
        return
    _print_quota(plan)


def _print_quota(plan: api.QuotaPlan) -> None:
    s, rf = plan.scenario, plan.reverse_funnel
    booked = (
        f", counting deals closed by day {plan.booked_within_days:g}"
        if plan.booked_within_days is not None
        else ""
    )
    typer.echo(
        f"{s.name}: quota for {money(plan.target_revenue)} of cohort revenue with "
        f"{plan.confidence:.0%} confidence{booked}"
    )
    typer.echo("")
    print_frame(
        "1. Deterministic reverse funnel (target / mean deal size / stage rates; no variance, "
        "no capacity, no response-time decay)",
        _reverse_funnel_text(rf),
    )
    window = f"{rf.weeks:.1f} weeks of arrivals"
    typer.echo(
        f"   {money(plan.target_revenue)} / {money(rf.mean_deal_size)} = {_per_week(rf.customers)} "
        f"customers; lead-to-customer {rf.lead_to_customer_rate:.3%}; mean lead-to-close "
        f"{rf.lead_to_close_days:.0f} days; {window}"
    )
    typer.echo(
        f"   => {_per_week(rf.prospects_per_week)} prospects/week, "
        f"{_per_week(rf.mqls_per_week)} MQLs/week: enough on average if the nominal rates "
        "held, which is a coin flip on the target"
    )
    typer.echo("")
    lo, hi = plan.p_hit_ci95
    typer.echo(
        f"2. Simulated quota ({plan.replications} replications per volume on common random "
        f"numbers, seed {plan.seed}; {len(plan.search)} volumes tried)"
    )
    typer.echo(
        f"   prospects/week  {_per_week(plan.prospects_per_week)}  (known to within "
        f"{plan.tolerance:.0%}: {_per_week(plan.misses_below)} misses)"
    )
    typer.echo(f"   MQLs/week       {_per_week(plan.mqls_per_week)}")
    typer.echo(
        f"   P(hit target)   {plan.p_hit_target:.0%}  (95% CI [{lo:.0%}, {hi:.0%}], "
        f"{plan.hits} of {plan.replications} replications)"
    )
    rlo, rhi = plan.revenue_ci95
    typer.echo(
        f"   expected revenue {money(plan.expected_revenue)}  "
        f"(95% CI [{fmt(rlo, 'currency')}, {fmt(rhi, 'currency')}])"
    )
    if plan.validation is not None:
        v = plan.validation
        vlo, vhi = v.ci95
        typer.echo(
            f"   fresh-seed check: {v.p_hit:.0%} of {v.replications} new replications hit "
            f"(95% CI [{vlo:.0%}, {vhi:.0%}])"
        )
    typer.echo("")
    typer.echo(
        f"3. Capacity at {volume(plan.prospects_per_week)} prospects/week with {_reps(plan.reps)}: "
        f"offered load {plan.offered_load:.0%}, SLA attainment {fmt(plan.sla_attainment, 'rate')} "
        f"(target {plan.sla_target:.0%}), mean first touch "
        f"{fmt(plan.first_touch_hours_mean, 'hours')}"
    )
    est = plan.erlang.reps
    typer.echo(
        f"   Erlang C estimate: {_reps(est)}"
        + (
            ""
            if plan.erlang.exact
            else " (an approximation: Erlang C for leads handed off in working hours plus the "
            "closed-hours backlog at each opening; re-attempts and queue order only roughly)"
        )
    )
    need = plan.reps_needed
    typer.echo(
        f"   simulation: {_reps(need)} keep SLA attainment >= {plan.sla_target:.0%}"
        if need is not None
        else "   simulation: no rep count tried keeps the SLA"
    )
    print_frame("", _staffing_text(plan.staffing, need))
    typer.echo("")
    typer.echo(
        f"Plan: {volume(plan.prospects_per_week)} prospects/week, "
        f"{_per_week(plan.mqls_per_week)} MQLs/week, {_reps(plan.reps)} -> expected revenue "
        f"{money(plan.expected_revenue)}, "
        f"P(hit {money(plan.target_revenue)}) = {plan.p_hit_target:.0%}"
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
            f"Monthly MQL plan (by month of MQL creation; revenue counted if the deal closes by "
            f"day {plan.booked_within_days:g}; simulated, means per replication):",
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
    t = rf.table()
    return pd.DataFrame(
        {
            "rate in": [fmt(r, "rate") for r in t["rate"]],
            "needed": [_per_week(x) for x in t["needed"]],
            "per week": [_per_week(x) for x in t["per_week"]],
        },
        index=t.index,
    )


def _staffing_text(table: pd.DataFrame, answer: int | None) -> pd.DataFrame:
    out = pd.DataFrame(index=table.index)
    out["SLA attainment"] = [
        f"{r.sla_attainment:.1%} [{fmt(r.sla_ci_low, 'rate')}, {fmt(r.sla_ci_high, 'rate')}]"
        for r in table.itertuples()
    ]
    out["Erlang C"] = [fmt(x, "rate") for x in table["erlang_sla_attainment"]]
    out["first touch (mean)"] = [fmt(x, "hours") for x in table["first_touch_hours_mean"]]
    out["utilization"] = [fmt(x, "rate") for x in table["rep_utilization"]]
    out["revenue"] = [fmt(x, "currency") for x in table["revenue"]]
    if "rep_cost" in table:
        out["rep cost"] = [fmt(x, "currency") for x in table["rep_cost"]]
        out["revenue - rep cost"] = [fmt(x, "currency") for x in table["revenue_minus_rep_cost"]]
    out[""] = ["<- fewest" if c == answer else "" for c in table.index]
    return out


def _channels_text(table: pd.DataFrame) -> pd.DataFrame:
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
def staffing(
    scenario: ScenarioArg,
    sla_target: SlaOpt = 0.9,
    rep_cost_per_year: Annotated[
        float | None,
        typer.Option(
            help="Fully loaded cost of a rep per year (default: the scenario's "
            "costs.rep_cost_per_year); adds revenue minus rep cost."
        ),
    ] = None,
    sets: SetOpt = None,
    seed: SeedOpt = None,
    replications: RepsOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The fewest reps that keep SLA attainment >= --sla-target at the scenario's lead volume,
    with a table over rep counts."""
    s = api.load(scenario, sets or [])
    with api.open_executor(executor, workers) as ex:
        result = api.staffing(
            s,
            sla_target,
            replications=replications,
            seed=seed,
            rep_cost_per_year=rep_cost_per_year,
            executor=ex,
            progress=progress_flag(quiet),
        )
    if json_out:
        print_json(result.to_dict())
    else:
        est = result.erlang.reps
        print_frame(
            f"{s.name}: reps for SLA attainment >= {sla_target:.0%} (first touch within "
            f"{s.sales.sla_hours:g} {s.sales.sla_clock} hours) at "
            f"{volume(result.prospects_per_week)} prospects/week; {result.replications} "
            f"replications per rep count, seed {result.seed}; Erlang C estimate: "
            f"{_reps(est)}"
            + ("" if result.erlang.exact else " (approximate for this calendar and cadence)"),
            _staffing_text(result.table, result.reps_needed),
        )
        if result.reps_needed is not None:
            typer.echo(f"reps needed: {result.reps_needed}")
    if result.reps_needed is None:
        echo_err(f"error: no rep count reaches --sla-target {sla_target:g}: {result.reason}")
        raise typer.Exit(2)
