"""Core commands: validate, run, compare."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import api
from .common import (
    app,
    echo_err,
    frame_records,
    handled,
    print_frame,
    print_json,
    progress_flag,
)
from .options import (
    DiffPrecision,
    JsonOpt,
    OverwriteOpt,
    ParameterUncertaintyOpt,
    Period,
    Precision,
    QuietOpt,
    Runs,
    ScenarioArg,
    SetOpt,
    Where,
    bundled,
)


def _slas(*scenarios) -> tuple:
    return tuple((x.sales.sla_hours, x.sales.sla_clock) for x in scenarios)


@app.command()
@handled
def validate(scenario: ScenarioArg, sets: SetOpt = None) -> None:
    """Check a scenario file without running it."""
    s = api.load(scenario, sets or [])
    typer.echo(f"{scenario}: ok ({s.name})")


@app.command()
@handled
@bundled
def run(
    scenario: ScenarioArg,
    runs: Runs = Runs(),
    json_out: JsonOpt = False,
    out: Annotated[
        Path | None, typer.Option(help="Write KPIs, summary, ledger and attempts to this folder.")
    ] = None,
    quiet: QuietOpt = False,
    report: Annotated[
        Period | None,
        typer.Option(help="Also print (and with --out write) a per-period report of the cohort."),
    ] = None,
    where: Where = Where(),
    precision: Precision = Precision(),
    parameter_uncertainty: ParameterUncertaintyOpt = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run one scenario for R replications and print every KPI with its 95% CI."""
    from ..formatting import period_text_frame, share_text_frame, summary_text_frame

    s = runs.load(scenario)
    if out is not None:
        api.check_out_folder(out, overwrite=overwrite)
    period = report.value if report else None
    options = dict(
        progress=progress_flag(quiet),
        parameter_uncertainty=parameter_uncertainty,
        **precision.kwargs(),
    )
    with where.open() as ex:
        if out is not None:
            # Written as each replication finishes, so memory does not grow with R.
            folder = api.run_to_folder(
                s,
                out,
                runs.replications,
                runs.seed,
                period=period,
                overwrite=overwrite,
                executor=ex,
                **options,
            )
            result = folder.result
        else:
            result = api.run(
                s,
                runs.replications,
                runs.seed,
                keep_records=period is not None,
                executor=ex,
                **options,
            )
    if result.precision is not None and not json_out:
        echo_err(result.precision.describe())
    if result.parameter_uncertainty and not json_out:
        echo_err(result.describe_uncertainty())
    if out is not None:
        echo_err(f"wrote {', '.join(p.name for p in folder.written)} to {out}")
        periods = folder.mean_periods() if period else None
    else:
        periods = api.mean_period_report(result.records, period) if period else None
    if json_out:
        doc = result.to_dict()
        if periods is not None:
            doc["report"] = {"period": period, "rows": frame_records(periods)}
        print_json(doc)
        return
    print_frame(
        f"{s.name}: {result.replications} replications, seed {result.seed}, "
        f"horizon {s.run.horizon_days:g} days (cohort: arrivals from day {s.run.warmup_days:g})",
        summary_text_frame(result.summary(), (s.sales.sla_hours, s.sales.sla_clock)),
    )
    if result.parameter_uncertainty:
        print_frame(
            "\nshare of one run's variance due to the parameters (the rest is the "
            "simulation's luck)",
            share_text_frame(result.summary()),
        )
    if periods is not None:
        print_frame(
            f"\n{period} report (mean over {result.replications} replications; events dated "
            "when they happen, so late closes land after the horizon)",
            period_text_frame(periods),
        )


@app.command()
@handled
@bundled
def compare(
    baseline: ScenarioArg,
    alternative: ScenarioArg,
    runs: Runs = Runs(),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    where: Where = Where(),
    precision: DiffPrecision = DiffPrecision(),
    parameter_uncertainty: ParameterUncertaintyOpt = False,
) -> None:
    """Compare two scenarios on common random numbers, with paired 95% CIs of the differences.

    With --precision, the yardstick is the difference itself: paired replications are added
    until each difference's CI half-width is within that share of the difference."""
    from ..formatting import comparison_text_frame, share_text_frame

    a = runs.load(baseline)
    b = runs.load(alternative)
    with where.open() as ex:
        comp = api.compare(
            a,
            b,
            runs.replications,
            runs.seed,
            progress=progress_flag(quiet),
            executor=ex,
            parameter_uncertainty=parameter_uncertainty,
            **precision.kwargs(),
        )
    if comp.precision is not None and not json_out:
        echo_err(comp.precision.describe())
    if comp.parameter_uncertainty and not json_out:
        echo_err(comp.baseline.describe_uncertainty())
        if comp.alternative.held:
            echo_err(f"{b.name} holds at its own value: {', '.join(comp.alternative.held)}")
    if json_out:
        print_json(comp.to_dict())
        return
    print_frame(
        f"{b.name} vs {a.name}: {comp.baseline.replications} paired replications, seed "
        f"{comp.baseline.seed} (diff = {b.name} - {a.name}; * = the 95% CI excludes zero). "
        "Speed to lead first, on one yardstick for both (wall clock, share of accepted MQLs); "
        "sla_attainment is each team's own promise.",
        comparison_text_frame(comp.table(), slas=_slas(a, b)),
    )
    if comp.parameter_uncertainty:
        print_frame(
            "\nshare of the difference's variance due to the parameters",
            share_text_frame(comp.table()),
        )
