"""Write a run's results to a folder: tidy CSVs (and Parquet when pyarrow is installed).

`write_run` writes a finished run held in memory; `run_to_folder` runs and writes as it goes:
each replication's rows go to a hidden part file as soon as it finishes and its record is
dropped, so memory does not grow with the number of replications. Either way no file of the
folder is replaced until everything is computed, so a run that fails (or cannot be reported:
say, a period report too long to build) leaves the folder as it was. Each file is written
atomically and never through a symbolic link (`funnelsim.files`), and a folder holding files
funnelsim did not write is refused unless ``overwrite``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .. import __version__
from ..errors import UsageError
from ..files import TMP_SUFFIX, FileProblem, Folder, check_folder_path, claim, open_folder
from ..memory import give_back
from ..model import FunnelRecord
from ..results import (
    attempts_frame,
    ledger_frame,
    mean_of_period_reports,
    period_reports,
    sla_breaches_by_rep_day,
)
from ..scenario import Scenario
from .crm_export import crm_activities, crm_frame
from .replications import RunResult, run

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
    into any folder, replacing files of the same names. `UsageError` otherwise.
    For runs too large to hold every record at once, `run_to_folder` writes the same files.
    A run that kept no records (``keep_records=False``, the default) is refused: its folder
    would lack the ledgers."""
    if not result.records:
        raise UsageError(
            "this run kept no records, so its ledgers cannot be written: run it with "
            "keep_records=True, or let fs.run_to_folder(scenario, folder, ...) run and write it "
            "replication by replication"
        )
    tables = run_tables(result, period)
    parquet = _has_pyarrow()

    def write_all(folder: Folder) -> list[Path]:
        written = []
        for name, frame, index in tables:
            written.append(folder.write_csv(f"{name}.csv", frame, index=index))
            if parquet and name in PARQUET_TABLES:
                written.append(folder.write_parquet(f"{name}.parquet", frame, index=index))
        return [*written, folder.write_json("run.json", _meta(result))]

    return _into_folder(out, overwrite, write_all)


@dataclass(frozen=True)
class FolderRun:
    """What `run_to_folder` gives back: the run (its KPIs; no records), the files written, and
    the stacked period reports (`period_reports`; empty without a period)."""

    result: RunResult
    written: list[Path]
    periods: pd.DataFrame

    def mean_periods(self) -> pd.DataFrame:
        """Per period, the mean over replications (`mean_period_report`)."""
        return mean_of_period_reports(self.periods)


def run_to_folder(
    scenario: Scenario,
    out: str | Path,
    replications: Any = None,
    seed: int | None = None,
    *,
    period: str | None = None,
    overwrite: bool = False,
    **run_options: Any,
) -> FolderRun:
    """`run` the scenario and write the files of `write_run` into ``out`` as it goes.

    Each replication's ledger, attempts (and, with ``period``, period report and SLA
    breaches) are written to a hidden part file when it finishes, and its record is dropped;
    the folder's files are put together from the parts, in replication order, once every
    replication is done. Peak memory is that of the replications in flight, not of all of
    them. ``run_options`` go to `run` (``executor``, ``precision``, ``progress``, ...).
    Returns a `FolderRun`; the folder is left as it was if the run fails."""
    out = Path(out)
    parquet = _has_pyarrow()
    parts: dict[str, dict[int, str]] = {}  # table -> replication -> its part file
    periods: list[pd.DataFrame] = []
    first: list[int] = []  # the replication whose CRM view is held

    def write_all(folder: Folder) -> list[Path]:
        def keep(rec: FunnelRecord) -> None:
            r = int(rec.replication)
            tables = replication_tables(rec, period)
            if not first or r < first[0]:
                for name in CRM_TABLES:
                    for part in parts.pop(name, {}).values():
                        folder.remove(part)
                tables += crm_tables(rec)
                first[:] = [r]
            for name, frame in tables:
                if name == f"{period}_report":
                    periods.append(frame)
                part = _part_name(name, r, "csv")
                folder.write_csv(part, frame, index=False)
                parts.setdefault(name, {})[r] = part
                if parquet and name in PARQUET_TABLES:
                    folder.write_parquet(_part_name(name, r, "parquet"), frame, index=False)
            del tables, rec
            give_back(collect=True)

        try:
            result = run(scenario, replications, seed, on_record=keep, **run_options)
            claim(folder, RUN_KIND, overwrite)
            written = []
            for name, frame, index in summary_tables(result):
                written.append(folder.write_csv(f"{name}.csv", frame, index=index))
                if parquet and name in PARQUET_TABLES:
                    written.append(folder.write_parquet(f"{name}.parquet", frame, index=index))
            for name in _file_order(parts):
                ordered = [parts[name][r] for r in sorted(parts[name])]
                written.append(folder.write(f"{name}.csv", _joined_csv(folder, ordered)))
                if parquet and name in PARQUET_TABLES:
                    pq_parts = [_part_name(name, r, "parquet") for r in sorted(parts[name])]
                    written.append(
                        folder.write(f"{name}.parquet", _joined_parquet(folder, pq_parts))
                    )
            written.append(folder.write_json("run.json", _meta(result)))
        finally:
            folder.remove_stale_temporaries()  # the parts, done with or not
        result_periods = (
            pd.concat(periods).sort_values(["replication", "period_start"], kind="stable")
            if periods
            else pd.DataFrame()
        )
        return result, written, result_periods

    result, written, stacked = _into_folder(out, overwrite, write_all, mark=False)
    return FolderRun(result, written, stacked)


PARQUET_TABLES = ("kpis", "summary", "ledger", "attempts")
CRM_TABLES = ("crm_export", "crm_activities")


def summary_tables(result: RunResult) -> list[tuple[str, pd.DataFrame, bool]]:
    """The run's own tables: KPIs per replication, and their summary."""
    return [("kpis", result.kpis, True), ("summary", result.summary(), True)]


def replication_tables(rec: FunnelRecord, period: str | None) -> list[tuple[str, pd.DataFrame]]:
    """One replication's rows of the stacked tables, each with its ``replication`` column."""
    r = rec.replication
    tables = [
        ("ledger", ledger_frame(rec).assign(replication=r)),
        ("attempts", attempts_frame(rec).assign(replication=r)),
    ]
    if period is not None:
        tables += [
            (f"{period}_report", period_reports([rec], period)),
            ("sla_breaches_by_rep_day", sla_breaches_by_rep_day(rec).assign(replication=r)),
        ]
    return tables


def crm_tables(rec: FunnelRecord) -> list[tuple[str, pd.DataFrame]]:
    """The replication as a CRM would show it at the horizon (what `calibrate` reads)."""
    return [("crm_export", crm_frame(rec)), ("crm_activities", crm_activities(rec))]


def run_tables(result: RunResult, period: str | None) -> list[tuple[str, pd.DataFrame, Any]]:
    """Every table `write_run` writes, as (name, frame, write the index?), all computed first."""
    tables: list[tuple[str, pd.DataFrame, Any]] = summary_tables(result)
    if not result.records:
        return tables
    per_rep = [replication_tables(rec, period) for rec in result.records]
    stacked = {
        name: pd.concat([t[i][1] for t in per_rep], ignore_index=True)
        for i, (name, _) in enumerate(per_rep[0])
    }
    first = result.record(int(result.kpis.index[0]))
    return [
        *tables,
        *((name, stacked[name], False) for name in _file_order(stacked) if name in stacked),
        *((name, frame, False) for name, frame in crm_tables(first)),
    ]


def _file_order(names: Any) -> list[str]:
    """Stacked tables before the CRM view, in the order the README lists them."""
    return [n for n in names if n not in CRM_TABLES] + [n for n in CRM_TABLES if n in names]


def _part_name(name: str, replication: int, ext: str) -> str:
    # A hidden temporary of ours (.NAME.HEX.tmp), so a killed run's parts are cleaned up later.
    return f".{name}.{ext}.r{replication}{TMP_SUFFIX}"


def _joined_csv(folder: Folder, parts: list[str]) -> Callable[[IO[bytes]], None]:
    """Fill a file with the parts' rows under the first part's header."""

    def fill(fh: IO[bytes]) -> None:
        for i, part in enumerate(parts):
            with folder.open_read(part) as src:
                if i:
                    src.readline()  # each part repeats the header
                shutil.copyfileobj(src, fh)

    return fill


def _joined_parquet(folder: Folder, parts: list[str]) -> Callable[[IO[bytes]], None]:
    """Fill a file with the parts' rows as row groups of one Parquet file."""

    def fill(fh: IO[bytes]) -> None:
        import pyarrow.parquet as pq

        writer = None
        for part in parts:
            with folder.open_read(part) as src:
                table = pq.read_table(src)
            if writer is None:
                writer = pq.ParquetWriter(fh, table.schema)
            elif not table.schema.equals(writer.schema):
                table = table.cast(writer.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()

    return fill


def _meta(result: RunResult) -> dict[str, Any]:
    return {
        "kind": RUN_KIND,
        "funnelsim_version": __version__,
        "scenario": result.scenario.to_dict(),
        "seed": result.seed,
        "replications": [int(r) for r in result.kpis.index],
    }


def _into_folder(
    out: str | Path, overwrite: bool, write: Callable[[Folder], Any], mark: bool = True
) -> Any:
    out = Path(out)
    try:
        with open_folder(out) as folder:
            claim(folder, RUN_KIND, overwrite, mark=mark)
            folder.remove_stale_temporaries()  # a killed earlier run's half-written files
            return write(folder)
    except FileProblem as exc:
        raise UsageError(f"--out {out}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write ({exc.strerror or exc})") from None


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
