"""A sweep's result folder: a manifest, an append-only log of finished runs, and the tables.

- ``manifest.json`` says what the folder holds: the scenario, the swept keys and points, the base
  seed, the replications and the funnelsim version, so a folder explains itself.
- ``runs.jsonl`` gets one JSON line per finished (point, replication), flushed and fsynced as it
  completes. A kill can at worst cut the last line short; reopening drops that partial line, so
  the run is simply computed again, and a (point, replication) already present is never written
  twice.
- ``results.csv``, ``summary.csv``, ``failures.csv`` (and Parquet copies when pyarrow is
  installed) are written whole at the end, each through a temporary file, so they are never
  half-written.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..errors import UsageError

MANIFEST = "manifest.json"
RUNS = "runs.jsonl"
FORMAT = 1
# What makes two sweeps the same sweep; replications may grow between runs of one sweep.
IDENTITY = (
    "format",
    "funnelsim_version",
    "scenario",
    "swept_keys",
    "points",
    "seed",
    "parameter_uncertainty",
)


@dataclass(frozen=True)
class StoredRun:
    point: int
    replication: int
    kpis: dict[str, float]


def normalize(doc: Any) -> Any:
    """``doc`` as it reads back from JSON (tuples as lists, dates as text), for comparisons."""
    return json.loads(json.dumps(doc, default=str))


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it holds none."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: unreadable sweep manifest ({exc}); use another --out") from None


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")


def check_same_sweep(folder: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Refuse (`UsageError`, exit 2) a folder that holds a different sweep, naming what differs."""
    if old.get("kind") != new.get("kind"):
        raise UsageError(
            f"{folder} holds something other than a funnelsim sweep; choose another --out folder"
        )
    new = normalize(new)
    differ = [k for k in IDENTITY if old.get(k) != new.get(k)]
    if not differ:
        return
    detail = ""
    if "scenario" in differ:
        keys = _changed_keys(old.get("scenario") or {}, new.get("scenario") or {})
        detail = f" (scenario keys: {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''})"
    raise UsageError(
        f"{folder} holds a different sweep: {', '.join(differ)} differ{detail}. Rerunning the "
        "same command resumes it; for a new sweep choose another --out folder (or delete this one)"
    )


class RunLog:
    """The append-only ``runs.jsonl`` of one sweep folder, locked while open."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / RUNS
        self._fh: IO[bytes] = open(self.path, "a+b")  # noqa: SIM115 - closed in close()
        _lock(self._fh, folder)
        self.done: dict[tuple[int, int], dict[str, float]] = self._recover()

    def _recover(self) -> dict[tuple[int, int], dict[str, float]]:
        self._fh.seek(0)
        data = self._fh.read()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            # The last line was cut short by a kill: drop it so the next line starts clean.
            self._fh.truncate(complete)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        done: dict[tuple[int, int], dict[str, float]] = {}
        for line in data[:complete].splitlines():
            try:
                row = json.loads(line)
                key = (int(row["point"]), int(row["replication"]))
                # JSON keeps ints as ints, so a resumed table equals an uninterrupted one.
                kpis = {str(k): v for k, v in row["kpis"].items()}
                if not all(isinstance(v, int | float) for v in kpis.values()):
                    continue
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            done.setdefault(key, kpis)
        return done

    def append(self, runs: Iterable[StoredRun]) -> None:
        """Write finished runs not already in the log, then flush and fsync."""
        lines = []
        for run in runs:
            key = (run.point, run.replication)
            if key in self.done:
                continue
            self.done[key] = run.kpis
            doc = {"point": run.point, "replication": run.replication, "kpis": run.kpis}
            lines.append(json.dumps(doc, allow_nan=True) + "\n")
        if lines:
            self._fh.seek(0, os.SEEK_END)
            self._fh.write("".join(lines).encode("utf-8"))
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


@contextlib.contextmanager
def open_run_log(folder: str | Path, manifest: Mapping[str, Any]) -> Iterator[RunLog]:
    """Open (or start) the sweep in ``folder``: check or write its manifest, recover its log."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    old = read_manifest(folder)
    if old is not None:
        check_same_sweep(folder, old, manifest)
    elif (folder / RUNS).exists():
        raise UsageError(f"{folder} holds a run log without a manifest; choose another --out")
    log = RunLog(folder)
    try:
        if old is None:
            write_manifest(folder, manifest)
        yield log
    finally:
        log.close()


def write_table(frame: pd.DataFrame, path: Path, parquet: bool = True) -> list[Path]:
    """``frame`` as CSV (and Parquet beside it when pyarrow is installed); the paths written."""
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    _replace(tmp, path)
    written = [path]
    if parquet and has_pyarrow():
        pq = path.with_suffix(".parquet")
        tmp = pq.with_name(pq.name + ".tmp")
        _parquet_safe(frame).to_parquet(tmp, index=False)
        _replace(tmp, pq)
        written.append(pq)
    return written


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet columns hold one type: a swept column mixing, say, numbers and text (from a
    points file) is written as text."""
    mixed = [
        c
        for c in frame.columns
        if frame[c].dtype == object and len({type(v) for v in frame[c] if v is not None}) > 1
    ]
    if not mixed:
        return frame
    return frame.assign(**{c: frame[c].map(lambda v: None if v is None else str(v)) for c in mixed})


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    _replace(tmp, path)


def has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _lock(fh: IO[bytes], folder: Path) -> None:
    try:
        import fcntl
    except ImportError:  # not on POSIX: no guard against two sweeps on one folder
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UsageError(
            f"another funnelsim sweep is writing to {folder} right now; wait for it or choose "
            "another --out"
        ) from None


def _changed_keys(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if va == vb:
            continue
        if isinstance(va, Mapping) and isinstance(vb, Mapping) and not prefix:
            keys += _changed_keys(va, vb, f"{k}.")
        else:
            keys.append(prefix + k)
    return keys
