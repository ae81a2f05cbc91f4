"""Run R replications of a scenario and collect KPIs (and, optionally, each run's record)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..model import FunnelRecord
from ..results import KPI_NAMES, attempts_frame, ledger_frame
from ..scenario import Scenario
from . import uncertainty
from .engine import Job, execute
from .limits import MAX_REPLICATIONS, check_count
from .precision import PrecisionReport, plan, replicate_until_precise
from .progress import one_bar
from .stats import json_number, null_reason, summarize


@dataclass(frozen=True)
class RunResult:
    """R replications of one scenario.

    ``kpis`` has one row per replication (index ``replication``) and one column per KPI.
    ``precision`` says how the count was reached when a run asked for a precision.
    With ``parameter_uncertainty`` each replication ran on a draw of the fitted parameters
    (``held``: the uncertain keys the scenario holds at its own value), and `summary` gives
    intervals for the true funnel's mean with the variance split between parameters and luck.
    """

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    records: tuple[FunnelRecord, ...] = field(default=(), repr=False)
    precision: PrecisionReport | None = None
    parameter_uncertainty: bool = False
    held: tuple[str, ...] = ()

    @property
    def replications(self) -> int:
        return len(self.kpis)

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """One row per KPI (index ``kpi``): ``scenario``, ``mean``, ``ci_low``, ``ci_high`` (the
        t interval at ``level``), ``n`` (replications where the KPI is defined), ``half_width``
        and ``std``. With parameter uncertainty the interval is for the true funnel's mean, and
        ``draws``, ``sd_parameters``, ``sd_simulation`` and ``parameter_share`` (of one run's
        variance) are added."""
        out = self.summary(level)
        out.insert(0, "scenario", self.scenario.name)
        return out

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """`table` without its ``scenario`` column (the same rows, the same numbers)."""
        if self.parameter_uncertainty:
            return uncertainty.summary(self.kpis, level)
        return summarize(self.kpis, level)

    def _repr_html_(self) -> str:
        from ..formatting import html_table, unit_of

        return html_table(
            self.summary(),
            f"{self.scenario.name}: {self.replications} replications, seed {self.seed}",
            row_unit=lambda kpi: unit_of(str(kpi)),
        )

    def describe_uncertainty(self) -> str:
        """One line on the parameter draws (empty without parameter uncertainty)."""
        if not self.parameter_uncertainty:
            return ""
        draws = len({uncertainty.draw_index(r) for r in self.kpis.index})
        return uncertainty.describe(self.held, draws)

    def record(self, replication: int = 0) -> FunnelRecord:
        if not self.records:
            raise UsageError("this run kept no ledgers; run with keep_records=True")
        return self.records[self.kpis.index.get_loc(replication)]

    def ledger(self, replication: int = 0) -> pd.DataFrame:
        """One row per prospect of that replication (see `funnelsim.results.ledger_frame`)."""
        return ledger_frame(self.record(replication))

    def attempts(self, replication: int = 0) -> pd.DataFrame:
        """One row per contact attempt of that replication."""
        return attempts_frame(self.record(replication))

    def to_dict(self) -> dict:
        """The contract's ``run --json`` document."""
        summ = self.summary()
        kpis = {}
        for name in self.kpis.columns:
            row = summ.loc[name]
            kpis[name] = {
                "mean": json_number(row["mean"]),
                "ci95": [json_number(row["ci_low"]), json_number(row["ci_high"])],
                "values": [json_number(v) for v in self.kpis[name]],
            }
            reason = null_reason(self.kpis[name].to_numpy(float), self.kpis.index)
            if reason is not None:
                kpis[name]["null_reason"] = reason
        doc = {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": self.replications,
            "horizon_days": self.scenario.run.horizon_days,
            "kpis": kpis,
        }
        if self.precision is not None:
            doc.update(self.precision.to_dict())
        if self.parameter_uncertainty:
            doc["parameter_uncertainty"] = uncertainty_doc(summ, self.held)
        return doc


def uncertainty_doc(summ: pd.DataFrame, held: tuple[str, ...]) -> dict:
    """The ``parameter_uncertainty`` part of ``run --json`` and ``compare --json``."""
    return {
        "method": uncertainty.METHOD,
        "replications_per_draw": uncertainty.PER_DRAW,
        "draws": int(summ["draws"].max()) if len(summ) else 0,
        "held_keys": list(held),
        "parameter_share": {k: json_number(v) for k, v in summ["parameter_share"].items()},
    }


@one_bar
def run(
    scenario: Scenario,
    replications: int | Sequence[int] | None = None,
    seed: int | None = None,
    *,
    keep_records: bool = False,
    progress: bool | None = None,
    executor: Any = None,
    chunk_size: int | None = None,
    extra_kpis: Callable[[FunnelRecord], Mapping[str, float]] | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    precision_kpis: Iterable[str] | None = None,
    parameter_uncertainty: bool = False,
    on_record: Callable[[FunnelRecord], None] | None = None,
    until_h: float | None = None,
) -> RunResult:
    """Run replications ``0..R-1`` (or the given replication ids) and return a `RunResult`.

    ``replications`` and ``seed`` default to the scenario's ``[run]`` values. ``progress``: True
    shows a bar (a widget in Jupyter), None shows one only on a terminal, False never.
    ``keep_records``: keep each replication's per-prospect record (for `RunResult.ledger`,
    `RunResult.attempts`, period reports and speed-to-lead charts). Off by default, as in every
    other call: a record holds every prospect and attempt, so a long run would otherwise hold
    gigabytes nobody asked for.

    ``executor``: where replications run; None runs them here, one after another, or pass a
    `concurrent.futures` executor, a Dask client, or one from `open_executor`. The numbers never
    depend on it. ``chunk_size``: replications per task (default: sized to the executor).
    ``extra_kpis``: your own ``f(record) -> {name: number}``, computed next to the built-in KPIs
    (for a process pool it must be importable from a module).

    ``precision``: a relative CI half-width, e.g. 0.05. Replications are then added in batches
    (the first batch is ``replications``, default 10) until every KPI in ``precision_kpis``
    (default revenue) has a 95% CI within ±precision of its mean, or ``max_replications``
    (default 100) is reached; ``result.precision`` reports the count reached.

    ``parameter_uncertainty``: each replication draws the fitted parameters from the
    scenario's ``[uncertainty]`` section (written by `calibrate`), two replications per draw;
    the summary's intervals then include "we do not know our own funnel exactly" and split the
    variance between parameters and luck (see `funnelsim.experiment.uncertainty`).

    ``on_record``: called here with each replication's record as soon as it finishes (in the
    order they finish), which is then dropped: the result keeps no records, and memory holds
    only the replications in flight, however many run (`run_to_folder` uses it).

    ``until_h``: simulate each replication only until that hour since day 0 (see `simulate`):
    what happened by then is exactly the full run's, for less work; every KPI that looks past
    it is cut short. For a caller that needs one such KPI only (a quota search and its bookings
    by the deadline, through ``extra_kpis``).
    """
    held = uncertain_setup(scenario) if parameter_uncertainty else ()
    seed = scenario.run.seed if seed is None else int(seed)
    precision_kpis = None if precision_kpis is None else tuple(precision_kpis)
    settings = plan(
        precision,
        max_replications,
        replications if precision is not None else None,
        precision_kpis,
        precision_kpi_names(precision_kpis, extra_kpis),
    )
    options: dict[str, Any] = dict(
        executor=executor,
        chunk_size=chunk_size,
        keep_records=keep_records,
        extra_kpis=extra_kpis,
        progress=progress,
        desc=scenario.name,
    )
    if on_record is not None:
        # One replication per task, so that no task holds many records before handing them on.
        options.update(keep_records=True, chunk_size=chunk_size or 1)

        def hand_on(outcomes: list) -> None:
            for i, o in enumerate(outcomes):
                if o.record is not None:
                    on_record(o.record)
                    outcomes[i] = replace(o, record=None)

        options["on_outcomes"] = hand_on
    pu = bool(parameter_uncertainty)
    if settings is None:
        outcomes = execute(
            [Job(0, scenario, tuple(replication_ids(scenario, replications)), pu, until_h=until_h)],
            seed,
            **options,
        )
        return replace(
            result_from_outcomes(scenario, seed, outcomes), parameter_uncertainty=pu, held=held
        )

    done: list = []

    def run_batch(ids: list[int]) -> None:
        done.extend(execute([Job(0, scenario, tuple(ids), pu, until_h=until_h)], seed, **options))

    def measure() -> dict[str, tuple[np.ndarray, float]]:
        kpis = result_from_outcomes(scenario, seed, done).kpis
        out = {}
        for k in settings.kpis:
            x = kpi_values(kpis, k)
            finite = x[np.isfinite(x)]
            out[k] = (x, float(finite.mean()) if finite.size else float("nan"))
        return out

    report = replicate_until_precise(run_batch, measure, settings)
    result = result_from_outcomes(scenario, seed, done)
    return RunResult(result.scenario, seed, result.kpis, result.records, report, pu, held)


def uncertain_setup(scenario: Scenario) -> tuple[str, ...]:
    """Check that the scenario carries parameter uncertainty and that its keys resolve; returns
    the keys it holds at its own value."""
    uncertainty.require(scenario)
    return uncertainty.held_keys(scenario)


def outcome_frame(outcomes: Sequence[Any]) -> pd.DataFrame:
    """KPIs of engine outcomes, one row per replication, built-in KPIs first, in order."""
    rows = [o.kpis for o in outcomes]
    extra = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in KPI_NAMES]
    index = pd.Index([o.replication for o in outcomes], name="replication")
    return pd.DataFrame(rows, index=index, columns=list(KPI_NAMES) + extra)


def result_from_outcomes(scenario: Scenario, seed: int, outcomes: Sequence[Any]) -> RunResult:
    outcomes = sorted(outcomes, key=lambda o: o.replication)
    records = tuple(o.record for o in outcomes if o.record is not None)
    return RunResult(scenario, seed, outcome_frame(outcomes), records)


def kpi_values(kpis: pd.DataFrame, name: str) -> np.ndarray:
    if name not in kpis.columns:
        raise UsageError(
            f"--precision-kpi: unknown KPI {name} (known: {', '.join(map(str, kpis.columns))})"
        )
    return kpis[name].to_numpy(dtype=float)


def precision_kpi_names(
    requested: Iterable[str] | None, extra_kpis: Callable[..., Any] | None
) -> tuple[str, ...]:
    # Names of extra KPIs are only known once a replication has run; they are checked then.
    if extra_kpis is not None:
        return tuple(KPI_NAMES) + tuple(requested or ())
    return tuple(KPI_NAMES)


def replication_ids(scenario: Scenario, replications: int | Sequence[int] | None) -> list[int]:
    """The replication ids to run: ``0..R-1`` for a count (default: the scenario's), or as given."""
    if replications is None:
        return list(range(scenario.run.replications))
    if isinstance(replications, int | np.integer):
        return list(range(check_count(replications, "--replications", MAX_REPLICATIONS)))
    ids = list(replications)
    check_count(len(ids), "the number of replication ids", MAX_REPLICATIONS)
    return [check_count(r, "a replication id", 2**31 - 1, least=0) for r in ids]
