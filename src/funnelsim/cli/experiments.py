"""Experiment commands: sweep (design points into a resumable folder) and attribute (which lever
is worth the most)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

from .. import api
from ..errors import UsageError
from .common import app, echo_err, handled, print_frame, print_json, progress_flag
from .options import (
    AllCoresWhere,
    JsonOpt,
    OverwriteOpt,
    ParameterUncertaintyOpt,
    QuietOpt,
    Runs,
    ScenarioArg,
    Where,
    bundled,
)

# The KPIs a sweep prints per point; every KPI is in summary.csv.
HEADLINE = ("revenue", "customers", "sla_attainment", "first_touch_hours_mean")
MAX_PRINTED_POINTS = 50
DIFF_KPI = "revenue"  # the paired difference printed per point under --baseline


@app.command()
@handled
@bundled
def sweep(
    scenario: ScenarioArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for sweep.sqlite (every finished run), results.csv, summary.csv, "
            "failures.csv and manifest.json; rerunning the same command on it computes only "
            "what is missing.",
        ),
    ],
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid", help="KEY=V1,V2,...: every combination of these values (repeatable)."
        ),
    ] = None,
    lhs: Annotated[
        list[str] | None,
        typer.Option("--lhs", help="KEY=LOW:HIGH: a Latin hypercube dimension (repeatable)."),
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", help="Number of Latin hypercube points.")
    ] = None,
    points: Annotated[
        Path | None,
        typer.Option(
            "--points",
            help="CSV file of points: a header of dotted keys, one row per point (an empty "
            "cell keeps the scenario's value).",
        ),
    ] = None,
    runs: Runs = Runs(),
    where: Where = Where(),
    chunk_size: Annotated[
        int | None,
        typer.Option("--chunk-size", help="Replications per task (default: sized to workers)."),
    ] = None,
    quiet: QuietOpt = False,
    parameter_uncertainty: ParameterUncertaintyOpt = False,
    overwrite: OverwriteOpt = False,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="Compare every point with this one, replication by replication (paired 95% "
            "CIs on common random numbers): a point id, KEY=VALUE[,KEY=VALUE] or 'scenario' "
            "(the scenario at its own values, added as a point if none is).",
        ),
    ] = None,
) -> None:
    """Run a scenario at many points (grid, Latin hypercube or CSV) on common random numbers.

    Exit status 1 when some points failed (they are listed, and in failures.csv); the other
    points' results are complete.
    """
    import pandas as pd

    from ..experiment.design import parse_grid_options, parse_lhs_options

    s = runs.load(scenario)
    chosen = [
        name for name, given in (("--grid", grid), ("--lhs", lhs), ("--points", points)) if given
    ]
    if len(chosen) != 1:
        raise UsageError(
            "give exactly one design: --grid KEY=V1,V2,... (repeatable), --lhs KEY=LOW:HIGH "
            "(repeatable) with --samples N, or --points FILE.csv "
            f"(given: {', '.join(chosen) or 'none'})"
        )
    if samples is not None and not lhs:
        raise UsageError("--samples only applies to --lhs")
    run_seed = s.run.seed if runs.seed is None else runs.seed
    if grid:
        design = api.grid_points(parse_grid_options(grid))
    elif lhs:
        if samples is None:
            raise UsageError("--lhs needs --samples N, the number of points")
        design = api.latin_hypercube(s, parse_lhs_options(lhs), samples, run_seed)
    else:
        design = api.read_points(points)
    with where.open() as ex:
        result = api.sweep(
            s,
            design,
            runs.replications,
            run_seed,
            executor=ex,
            out=out,
            progress=progress_flag(quiet),
            chunk_size=chunk_size,
            parameter_uncertainty=parameter_uncertainty,
            overwrite=overwrite,
            baseline=baseline,
        )
    echo_err(result.describe())
    _print_sweep(result)
    if not result.ok:
        echo_err(f"{len(result.failures)} failed (see {out / 'failures.csv'}):")
        for _, f in result.failures.iterrows():
            what = ", ".join(f"{k}={f[k]}" for k in result.keys)
            rep = "" if pd.isna(f["replication"]) else f" replication {f['replication']}"
            echo_err(f"  point {f['point']} ({what}){rep}: {f['error']}")
        raise typer.Exit(1)


def _print_sweep(result: api.SweepResult) -> None:
    import pandas as pd

    from ..formatting import fmt, unit_of

    summary = result.per_point()
    if len(summary) > MAX_PRINTED_POINTS:
        typer.echo(f"{len(summary)} points: see {result.out / 'summary.csv'}")
        return
    rows = []
    for _, r in summary.iterrows():
        row = {"point": r["point"], **{k: r[k] for k in result.keys}, "n": r["n"]}
        for kpi in HEADLINE:
            if f"{kpi}_mean" in summary.columns:
                row[kpi] = fmt(r[f"{kpi}_mean"], unit_of(kpi))
        if result.baseline is not None:
            row[f"{DIFF_KPI} vs {result.baseline}"] = _paired(r, DIFF_KPI)
        rows.append(row)
    against = (
        f"; the last column is each point's {DIFF_KPI} minus point {result.baseline}'s with "
        "its paired 95% CI (every KPI's in summary.csv)"
        if result.baseline is not None
        else ""
    )
    print_frame(
        f"{result.scenario.name}: mean over {result.replications} replications per point "
        f"(95% CIs in {result.out / 'summary.csv'}){against}",
        pd.DataFrame(rows).set_index("point"),
    )


def _paired(row: pd.Series, kpi: str) -> str:
    """A point's difference from the baseline with its paired CI: "+$1.02M [+$0.81M, +$1.23M]"."""
    from ..formatting import fmt, unit_of

    unit = unit_of(kpi)

    def signed(v: float) -> str:
        text = fmt(v, unit)
        return text if text.startswith("-") or not math.isfinite(v) else f"+{text}"

    lo, hi = row[f"{kpi}_diff_ci_low"], row[f"{kpi}_diff_ci_high"]
    return f"{signed(row[f'{kpi}_diff'])} [{signed(lo)}, {signed(hi)}]"


@app.command()
@handled
@bundled
def attribute(
    baseline: ScenarioArg,
    alternative: ScenarioArg,
    runs: Runs = Runs(),
    json_out: JsonOpt = False,
    kpi: Annotated[str, typer.Option("--kpi", help="The KPI whose gap is split.")] = "revenue",
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="NAME=KEY1,KEY2: switch these keys together as one lever (repeatable); other "
            "differing keys are levers of their own.",
        ),
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="themes: group the differing keys by what they are about (marketing, hand-off, "
            "sales follow-up, nurture & feedback, ...), as the HTML report does; levers: the "
            "named alignment levers (two-way SLA, shared definition, ...); keys: every "
            "differing key is its own lever.",
        ),
    ] = "themes",
    exact_max_groups: Annotated[
        int,
        typer.Option(
            "--exact-max-groups",
            help="Exact Shapley values up to this many groups (2^k coalitions), sampled beyond.",
        ),
    ] = 8,
    permutations: Annotated[
        int | None,
        typer.Option("--permutations", help="Random orders for sampled Shapley values (even; 32)."),
    ] = None,
    where: AllCoresWhere = AllCoresWhere(),
    quiet: QuietOpt = False,
) -> None:
    """Split the revenue gap between two scenarios into each differing lever's contribution
    (Shapley values on common random numbers): which lever is worth the most?"""
    from ..formatting import unit_of

    a = runs.load(baseline)
    b = runs.load(alternative)
    groups = _parse_groups(group or [])
    with where.open() as ex:
        result = api.attribute(
            a,
            b,
            runs.replications,
            runs.seed,
            kpi=kpi,
            groups=groups,
            by=by,
            exact_max_groups=exact_max_groups,
            permutations=permutations,
            executor=ex,
            progress=progress_flag(quiet),
        )
    if json_out:
        print_json(result.to_dict())
        return
    how = (
        f"exact Shapley values over {result.coalitions} coalitions"
        if result.method == "exact"
        else f"Shapley values from {result.permutations} random orders "
        f"({result.coalitions} coalitions)"
    )
    if result.inert:
        how += f"; {', '.join(result.inert)} moved {kpi} in no replication (0)"
    print_frame(
        f"{kpi}: {b.name} vs {a.name}, {result.replications} replications, seed {result.seed}; "
        f"{how}; the steps add up to the gap",
        _waterfall_text(result.table(), unit_of(kpi)),
    )


def _parse_groups(items: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        keys = [k.strip() for k in raw.split(",") if k.strip()]
        if not sep or not name.strip() or not keys:
            raise UsageError(
                f"--group must look like NAME=KEY1,KEY2, e.g. "
                f"cadence=sales.attempts,sales.cadence_hours (given: {item!r})"
            )
        if name.strip() in groups:
            raise UsageError(f"--group {name.strip()} is given twice")
        groups[name.strip()] = keys
    return groups


def _waterfall_text(table: pd.DataFrame, unit: str) -> pd.DataFrame:
    import pandas as pd

    from ..formatting import fmt

    rows = []
    for step, r in table.iterrows():
        ends = step in ("baseline", "alternative")
        value = fmt(r["value"], unit)
        if not ends and unit != "rate" and r["value"] >= 0:
            value = "+" + value
        if unit == "rate" and not ends:
            value = f"{r['value'] * 100:+.2f} pts"
        ci = (
            ""
            if ends or math.isnan(r["ci_low"])
            else f"[{_signed(r['ci_low'], unit)}, {_signed(r['ci_high'], unit)}]"
        )
        rows.append(
            {
                "step": step,
                "value": value,
                "95% CI": ci,
                "cumulative": fmt(r["cumulative"], unit),
                "share of gap": "" if math.isnan(r["share"]) else f"{r['share']:.0%}",
                "keys": "" if ends else _few(r["keys"]),
            }
        )
    return pd.DataFrame(rows).set_index("step")


def _few(keys: str, most: int = 3) -> str:
    """The first few of a step's comma-separated keys, so the table fits a screen."""
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    more = len(parts) - most
    return ", ".join(parts[:most]) + (f" (+{more} more)" if more > 0 else "")


def _signed(value: float, unit: str) -> str:
    from ..formatting import fmt

    if unit == "rate":
        return f"{value * 100:+.2f} pts"
    text = fmt(value, unit)
    return text if value < 0 else "+" + text
