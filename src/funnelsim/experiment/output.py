"""Write a run's results to a folder: tidy CSVs (and Parquet when pyarrow is installed)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import __version__
from ..results import period_reports, sla_breaches_by_rep_day
from .crm_export import crm_activities, crm_frame
from .replications import RunResult


def write_run(result: RunResult, out: str | Path, period: str | None = None) -> list[Path]:
    """Write ``kpis.csv`` (one row per replication), ``summary.csv``, ``ledger.csv`` and
    ``attempts.csv`` (all replications, with a ``replication`` column), ``run.json`` (scenario,
    seed, version) and, with ``period``, ``<period>_report.csv`` (tidy, one row per replication
    and period) and ``sla_breaches_by_rep_day.csv``. ``crm_export.csv`` and
    ``crm_activities.csv`` hold the first replication as a CRM would show it at the horizon, in
    the generic format `funnelsim calibrate` reads. Returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("kpis", result.kpis), ("summary", result.summary())):
        frame.to_csv(out / f"{name}.csv")
        written.append(out / f"{name}.csv")
        if _has_pyarrow():
            frame.to_parquet(out / f"{name}.parquet")
            written.append(out / f"{name}.parquet")
    if result.records:
        ledgers = pd.concat(
            [result.ledger(r).assign(replication=r) for r in result.kpis.index], ignore_index=True
        )
        attempts = pd.concat(
            [result.attempts(r).assign(replication=r) for r in result.kpis.index], ignore_index=True
        )
        for name, frame in (("ledger", ledgers), ("attempts", attempts)):
            frame.to_csv(out / f"{name}.csv", index=False)
            written.append(out / f"{name}.csv")
            if _has_pyarrow():
                frame.to_parquet(out / f"{name}.parquet", index=False)
                written.append(out / f"{name}.parquet")
    if result.records:
        rec = result.record(int(result.kpis.index[0]))
        for name, frame in (
            ("crm_export", crm_frame(rec)),
            ("crm_activities", crm_activities(rec)),
        ):
            frame.to_csv(out / f"{name}.csv", index=False)
            written.append(out / f"{name}.csv")
    if period is not None and result.records:
        path = out / f"{period}_report.csv"
        period_reports(result.records, period).to_csv(path, index=False)
        breaches = pd.concat(
            [sla_breaches_by_rep_day(r).assign(replication=r.replication) for r in result.records],
            ignore_index=True,
        )
        breaches.to_csv(out / "sla_breaches_by_rep_day.csv", index=False)
        written += [path, out / "sla_breaches_by_rep_day.csv"]
    meta = {
        "funnelsim_version": __version__,
        "scenario": result.scenario.to_dict(),
        "seed": result.seed,
        "replications": [int(r) for r in result.kpis.index],
    }
    (out / "run.json").write_text(json.dumps(meta, indent=2, default=str))
    written.append(out / "run.json")
    return written


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
