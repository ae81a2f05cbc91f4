"""Run R replications of a scenario and collect KPIs (and, optionally, each run's record)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..errors import UsageError
from ..model import FunnelRecord, simulate
from ..results import KPI_NAMES, attempts_frame, compute_kpis, ledger_frame
from ..scenario import Scenario
from .progress import progress_bar
from .stats import json_number, summarize


@dataclass(frozen=True)
class RunResult:
    """R replications of one scenario.

    ``kpis`` has one row per replication (index ``replication``) and one column per KPI.
    """

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    records: tuple[FunnelRecord, ...] = field(default=(), repr=False)

    @property
    def replications(self) -> int:
        return len(self.kpis)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Per KPI: mean, ci_low, ci_high, half_width, std and n over the replications."""
        return summarize(self.kpis, level)

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
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": self.replications,
            "horizon_days": self.scenario.run.horizon_days,
            "kpis": kpis,
        }


def replicate(scenario: Scenario, seed: int, replication: int, keep_record: bool = False):
    """One replication: ``(kpis, record or None)``. Top-level so that executors can pickle it."""
    rec = simulate(scenario, seed, replication)
    return compute_kpis(rec), (rec if keep_record else None)


def run(
    scenario: Scenario,
    replications: int | Sequence[int] | None = None,
    seed: int | None = None,
    *,
    keep_records: bool = True,
    progress: bool | None = None,
) -> RunResult:
    """Run replications ``0..R-1`` (or the given replication ids) and return a `RunResult`.

    ``replications`` and ``seed`` default to the scenario's ``[run]`` values. ``progress``: True
    shows a bar (a widget in Jupyter), None shows one only on a terminal, False never.
    """
    seed = scenario.run.seed if seed is None else int(seed)
    reps = _replication_ids(scenario, replications)
    rows, records = [], []
    with progress_bar(len(reps), f"{scenario.name}", progress) as bar:
        for r in reps:
            k, rec = replicate(scenario, seed, r, keep_records)
            rows.append(k)
            if rec is not None:
                records.append(rec)
            bar.update(1)
    kpis = pd.DataFrame(rows, index=pd.Index(reps, name="replication"), columns=list(KPI_NAMES))
    return RunResult(scenario, seed, kpis, tuple(records))


def _replication_ids(scenario: Scenario, replications: int | Sequence[int] | None) -> list[int]:
    if replications is None:
        return list(range(scenario.run.replications))
    if isinstance(replications, int):
        if replications < 1:
            raise UsageError(f"replications must be >= 1 (given: {replications})")
        return list(range(replications))
    return [int(r) for r in replications]
