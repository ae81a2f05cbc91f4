"""Write a run's results to a folder: tidy CSVs (and Parquet when pyarrow is installed).

Every table is computed before the first file is written, so a run that cannot be reported
(say, a period report too long to build) leaves the folder as it was. Each file is then written
atomically and never through a symbolic link (`funnelsim.files`), and a folder holding files
funnelsim did not write is refused unless ``overwrite``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..errors import UsageError
from ..files import FileProblem, check_folder_path, claim, open_folder
from ..results import period_reports, sla_breaches_by_rep_day
from .crm_export import crm_activities, crm_frame
from .replications import RunResult

RUN_KIND = "funnelsim run"


def check_out(out: str | Path, kind: str = RUN_KIND, overwrite: bool = False) -> Path:
    """Refuse (`UsageError`) an ``--out`` folder that could not take ``kind`` results, before any
    work: a file, a symbolic link, or a folder holding files funnelsim did not write (unless
    ``overwrite``). Creates the folder when missing; writes nothing into it."""
    out = Path(out)
    try:
        check_folder_path(out)
        with open_folder(out) as folder:
            claim(folder, kind, overwrite, mark=False)
    except FileProblem as exc:
        raise UsageError(f"--out {out}: {exc}") from None
    return out


def write_run(
    result: RunResult, out: str | Path, period: str | None = None, overwrite: bool = False
) -> list[Path]:
    """Write ``kpis.csv`` (one row per replication), ``summary.csv``, ``ledger.csv`` and
    ``attempts.csv`` (all replications, with a ``replication`` column), ``run.json`` (scenario,
    seed, version) and, with ``period``, ``<period>_report.csv`` (tidy, one row per replication
    and period) and ``sla_breaches_by_rep_day.csv``. ``crm_export.csv`` and
    ``crm_activities.csv`` hold the first replication as a CRM would show it at the horizon, in
    the generic format `funnelsim calibrate` reads. Returns the paths written.

    ``out`` must be new, empty or a folder funnelsim wrote a run into; ``overwrite=True`` writes
    into any folder, replacing files of the same names. `UsageError` otherwise."""
    tables = run_tables(result, period)
    meta = {
        "kind": RUN_KIND,
        "funnelsim_version": __version__,
        "scenario": result.scenario.to_dict(),
        "seed": result.seed,
        "replications": [int(r) for r in result.kpis.index],
    }
    out = Path(out)
    parquet = _has_pyarrow()
    written = []
    try:
        with open_folder(out) as folder:
            claim(folder, RUN_KIND, overwrite)
            folder.remove_stale_temporaries()  # a killed earlier run's half-written files
            for name, frame, index in tables:
                written.append(folder.write_csv(f"{name}.csv", frame, index=index))
                if parquet and name in PARQUET_TABLES:
                    written.append(folder.write_parquet(f"{name}.parquet", frame, index=index))
            written.append(folder.write_json("run.json", meta))
    except FileProblem as exc:
        raise UsageError(f"--out {out}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    return written


PARQUET_TABLES = ("kpis", "summary", "ledger", "attempts")


def run_tables(result: RunResult, period: str | None) -> list[tuple[str, pd.DataFrame, bool]]:
    """Every table `write_run` writes, as (name, frame, write the index?), all computed first."""
    tables: list[tuple[str, pd.DataFrame, Any]] = [
        ("kpis", result.kpis, True),
        ("summary", result.summary(), True),
    ]
    if result.records:
        ids = result.kpis.index
        ledgers = pd.concat(
            [result.ledger(r).assign(replication=r) for r in ids], ignore_index=True
        )
        attempts = pd.concat(
            [result.attempts(r).assign(replication=r) for r in ids], ignore_index=True
        )
        tables += [("ledger", ledgers, False), ("attempts", attempts, False)]
        rec = result.record(int(ids[0]))
        tables += [
            ("crm_export", crm_frame(rec), False),
            ("crm_activities", crm_activities(rec), False),
        ]
    if period is not None and result.records:
        breaches = pd.concat(
            [sla_breaches_by_rep_day(r).assign(replication=r.replication) for r in result.records],
            ignore_index=True,
        )
        tables += [
            (f"{period}_report", period_reports(result.records, period), False),
            ("sla_breaches_by_rep_day", breaches, False),
        ]
    return tables


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
