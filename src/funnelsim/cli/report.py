"""The ``report`` command: one self-contained HTML report, and optionally the charts as PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import api
from ..errors import UsageError
from .common import app, echo_err, handled, progress_flag
from .options import AllCoresWhere, QuietOpt, Runs, ScenarioArg, bundled


@app.command()
@handled
@bundled
def report(
    baseline: ScenarioArg,
    alternative: ScenarioArg,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The HTML file to write.", show_default=False),
    ],
    png: Annotated[
        Path | None, typer.Option("--png", help="Also write each chart as DIR/<chart>.png.")
    ] = None,
    runs: Runs = Runs(),
    target_revenue: Annotated[
        float | None,
        typer.Option(help="Revenue target drawn on the revenue chart, with the share reaching it."),
    ] = None,
    no_attribution: Annotated[
        bool,
        typer.Option(
            "--no-attribution",
            help="Leave out the lever attribution, which runs every coalition of the differing "
            "levers and so takes most of the time.",
        ),
    ] = False,
    levers: Annotated[
        str,
        typer.Option(
            help="themes: attribute the gap to a few themes (marketing, hand-off, sales "
            "follow-up, ...); each: to every differing lever (2^levers coalitions to run).",
        ),
    ] = "themes",
    where: AllCoresWhere = AllCoresWhere(),
    quiet: QuietOpt = False,
) -> None:
    """Write one self-contained HTML report comparing ALTERNATIVE with BASELINE: headline, key
    numbers, funnel, speed-to-lead and revenue charts, lever attribution and settings."""
    if out.exists() and out.is_dir():
        raise UsageError(f"-o: {out} is a folder; give the HTML file to write, e.g. report.html")
    if png is not None and png.exists() and not png.is_dir():
        raise UsageError(f"--png: {png} is a file; give a folder for the PNG charts")
    a = runs.load(baseline)
    b = runs.load(alternative)
    if not no_attribution and not quiet:
        echo_err(
            "attributing the revenue gap runs every coalition of the differing levers "
            "on every core (--workers 1 runs serially; --no-attribution leaves this out)"
        )
    with where.open() as ex:
        result = api.build_report(
            a,
            b,
            runs.replications,
            runs.seed,
            target=target_revenue,
            attribution=not no_attribution,
            levers=levers,
            executor=ex,
            progress=progress_flag(quiet),
        )
    path = result.write(out)
    echo_err(f"wrote {path}")
    if png is not None:
        written = result.write_pngs(png)
        echo_err(f"wrote {', '.join(p.name for p in written)} to {png}")
    typer.echo(api.headline(result.comparison).text)
