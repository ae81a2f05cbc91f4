"""Every option more than one command takes, declared once: its name, default and help.

Single options are `Annotated` types (``seed: SeedOpt = None``). Options that always travel
together are a frozen dataclass whose fields are such types: a command names the bundle once
(``where: Where``) and `bundled` spreads its fields into the signature Typer reads, then hands the
command one instance. Only the standard library and Typer are imported here, so ``--help`` stays
fast.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..caps import MAX_REPLICATIONS


def count_at_most(most: int):
    """A Typer option callback refusing (exit 2) a count above ``most`` before the command
    starts, where a huge count would hang building its work; the command's own checks say what
    is wrong with a small one."""

    def check(value: int | None) -> int | None:
        if value is not None and value > most:
            raise typer.BadParameter(f"must be at most {most:,} (given: {value})")
        return value

    return check


replications_in_range = count_at_most(MAX_REPLICATIONS)


def replications_option(help: str) -> Any:
    """``--replications`` (bounded by `MAX_REPLICATIONS`) with a command's own help text."""
    return Annotated[int | None, typer.Option(help=help, callback=replications_in_range)]


ScenarioArg = Annotated[Path, typer.Argument(help="Scenario file (TOML).", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a scenario key, e.g. --set sales.reps=7 (repeatable)."),
]
SeedOpt = Annotated[int | None, typer.Option(help="Base seed (default: the scenario's run.seed).")]
RepsOpt = replications_option("Replications (default: the scenario's run.replications).")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Write into --out even when it holds files funnelsim did not write (files of the "
        "same names are replaced).",
    ),
]
ParameterUncertaintyOpt = Annotated[
    bool,
    typer.Option(
        "--parameter-uncertainty",
        help="Draw the fitted parameters (the \\[uncertainty] section `calibrate` writes) anew "
        "for every pair of replications, so intervals include the fit's own uncertainty.",
    ),
]


@dataclasses.dataclass(frozen=True)
class Runs:
    """``--set``, ``--seed``, ``--replications``: the scenario as run, its base seed and count."""

    sets: SetOpt = None
    seed: SeedOpt = None
    replications: RepsOpt = None

    def load(self, path: Path):
        """The scenario file at ``path`` with every ``--set`` applied (`funnelsim.load`)."""
        from .. import api

        return api.load(path, self.sets or [])


class Period(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


# -------------------------------------------------------------------- where runs execute

WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Run replications in a pool of N worker processes (default: serially, here). "
        "With --executor dask: the size of the local cluster.",
    ),
]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="Where runs execute: serial (default), process, dask (a local Dask cluster) or "
        "dask:ADDRESS (a running scheduler, e.g. dask:tcp://10.0.0.5:8786). Results are "
        "identical whichever you choose.",
    ),
]


@dataclasses.dataclass(frozen=True)
class Where:
    """``--workers`` and ``--executor``: where a command's runs execute."""

    workers: WorkersOpt = None
    executor: ExecutorOpt = None

    def open(self):
        """The executor to pass to the API, as a context manager that shuts it down."""
        from .. import api

        return api.open_executor(self.executor, self.workers)


# Attribution, the report, quota and staffing run hundreds of replications: they use every
# core unless told otherwise (results are identical on any executor, so nothing is lost).
AllCoresWorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Run in a pool of N worker processes (default: one per CPU core; 1 runs serially, "
        "here). With --executor dask: the size of the local cluster.",
    ),
]


@dataclasses.dataclass(frozen=True)
class AllCoresWhere(Where):
    """`Where` for the commands that run hundreds of replications (attribute, report, quota,
    staffing): one worker per CPU core unless ``--workers`` or ``--executor`` says otherwise."""

    workers: AllCoresWorkersOpt = None

    def open(self):
        from .. import api

        return api.open_executor(self.executor, workers_or_all_cores(self.executor, self.workers))


def workers_or_all_cores(executor: str | None, workers: int | None) -> int | None:
    """``workers`` if given; else one per CPU core when no executor was chosen either."""
    if workers is not None or executor is not None:
        return workers
    import os

    return os.cpu_count() or 1


# -------------------------------------------------------------------- how many replications

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


@dataclasses.dataclass(frozen=True)
class Precision:
    """``--precision``, ``--max-replications``, ``--precision-kpi`` of a run: the half-width
    as a share of each KPI's mean."""

    precision: PrecisionOpt = None
    max_replications: MaxRepsOpt = None
    precision_kpi: PrecisionKpiOpt = None

    def kwargs(self) -> dict[str, Any]:
        """The API's keyword arguments (`funnelsim.run`, `funnelsim.compare`)."""
        return {
            "precision": self.precision,
            "max_replications": self.max_replications,
            "precision_kpis": self.precision_kpi,
        }


@dataclasses.dataclass(frozen=True)
class DiffPrecision(Precision):
    """The same for a comparison, whose yardstick is the difference itself."""

    precision: DiffPrecisionOpt = None


# -------------------------------------------------------------------- planning

SlaOpt = Annotated[
    float,
    typer.Option(help="Keep the share of accepted MQLs first touched within sla_hours >= this."),
]
BasisOpt = Annotated[
    str | None,
    typer.Option(
        "--revenue-basis",
        help="What counts toward the target: booked, the default (deals closed by "
        "--booked-within-days, else by the horizon: this year's bookings); all-bookings (every "
        "deal the cohort wins, whenever it closes); or recognized (revenue recognised by the "
        "horizon).",
        show_default=False,
    ),
]
BookedOpt = Annotated[
    float | None,
    typer.Option(
        help="With --revenue-basis booked: count deals closed by this day (default: the "
        "horizon; the fiscal-year view)."
    ),
]


# -------------------------------------------------------------------- bundles into signatures


def bundled(fn):
    """Spread each parameter annotated with a bundle dataclass (`Where`, `Precision`, ...) into
    one Typer option per field, in place, and call ``fn`` with the bundle built from them."""
    hints = typing.get_type_hints(fn, include_extras=True)
    params: list[inspect.Parameter] = []
    bundles: dict[str, type] = {}
    for p in inspect.signature(fn).parameters.values():
        hint = hints.get(p.name, p.annotation)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            bundles[p.name] = hint
            fields = typing.get_type_hints(hint, include_extras=True)
            params += [
                inspect.Parameter(
                    f.name, p.KEYWORD_ONLY, default=f.default, annotation=fields[f.name]
                )
                for f in dataclasses.fields(hint)
            ]
        else:
            params.append(p.replace(kind=p.KEYWORD_ONLY, annotation=hint))

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        for name, cls in bundles.items():
            kwargs[name] = cls(**{f.name: kwargs.pop(f.name) for f in dataclasses.fields(cls)})
        return fn(**kwargs)

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper
