"""Options every experiment command shares: where runs execute, and how many replications."""

from __future__ import annotations

from typing import Annotated

import typer

WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Run replications in a pool of N worker processes (default: serially, here). "
        "With --executor dask: the size of the local cluster.",
    ),
]
# Attribution runs 2^k coalitions x replications: it uses every core unless told otherwise
# (results are identical on any executor, so nothing is lost by it).
AllCoresWorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Run in a pool of N worker processes (default: one per CPU core; 1 runs serially, "
        "here). With --executor dask: the size of the local cluster.",
    ),
]


def workers_or_all_cores(executor: str | None, workers: int | None) -> int | None:
    """``workers`` if given; else one per CPU core when no executor was chosen either."""
    if workers is not None or executor is not None:
        return workers
    import os

    return os.cpu_count() or 1


ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="Where runs execute: serial (default), process, dask (a local Dask cluster) or "
        "dask:ADDRESS (a running scheduler, e.g. dask:tcp://10.0.0.5:8786). Results are "
        "identical whichever you choose.",
    ),
]
PrecisionOpt = Annotated[
    float | None,
    typer.Option(
        "--precision",
        help="Add replications in batches until each --precision-kpi's 95% CI half-width is "
        "within this share of its mean (e.g. 0.05 for ±5%); --replications is the first batch "
        "(default 10).",
    ),
]
DiffPrecisionOpt = Annotated[
    float | None,
    typer.Option(
        "--precision",
        help="Add paired replications in batches until the 95% CI half-width of each "
        "--precision-kpi's difference is within this share of the difference itself (e.g. "
        "0.05: the gap known to ±5% of the gap); --replications is the first batch (default "
        "10). A difference near zero cannot be known to a share of itself: it runs to "
        "--max-replications and reports the target not met.",
    ),
]
MaxRepsOpt = Annotated[
    int | None,
    typer.Option("--max-replications", help="The most replications --precision may use (100)."),
]
PrecisionKpiOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--precision-kpi", help="A KPI that --precision applies to (repeatable; default revenue)."
    ),
]
ParameterUncertaintyOpt = Annotated[
    bool,
    typer.Option(
        "--parameter-uncertainty",
        help="Draw the fitted parameters (the [uncertainty] section `calibrate` writes) anew for "
        "every pair of replications, so intervals include the fit's own uncertainty.",
    ),
]
