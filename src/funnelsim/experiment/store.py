"""A sweep's result folder: one SQLite database of finished runs, and the tables exported from it.

- ``sweep.sqlite`` (standard library `sqlite3`, WAL mode) holds the manifest, the points and every
  finished (point, replication) with its KPIs. The manifest is written in the same transaction
  that creates the tables, and each finished chunk of runs is one transaction, so a kill at any
  moment leaves either the state before a commit or after it: never a run half-stored, never a
  folder with runs but no manifest. Readers (a notebook, the ``sqlite3`` shell, any SQL tool) can
  query it while a sweep writes::

      SELECT point, avg(value) FROM kpis WHERE kpi = 'revenue' GROUP BY point;

- ``manifest.json`` is a readable copy of the manifest; ``results.csv``, ``summary.csv``,
  ``failures.csv`` (and Parquet copies when pyarrow is installed) are exported at the end, each
  written atomically under a unique temporary name.
- ``.sweep.lock`` is held (a POSIX record lock, released by the kernel when its process dies, and
  never inherited by a worker process) from the moment the database is opened until the tables
  are exported, so concurrent runs of one sweep take turns instead of failing or racing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import sqlite3
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UsageError
from ..files import FileProblem, Folder, claim, open_folder

KIND = "funnelsim sweep"
MANIFEST = "manifest.json"
DATABASE = "sweep.sqlite"
LOCK = ".sweep.lock"
LEGACY_LOG = "runs.jsonl"
FORMAT = 2
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

# One statement each: ``executescript`` would commit the transaction they are created in.
# ``kpis.value`` has no declared type, so integers stay integers and floats floats.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS points (point INTEGER NOT NULL, key TEXT NOT NULL, value TEXT, "
    "PRIMARY KEY (point, key))",
    "CREATE TABLE IF NOT EXISTS runs (point INTEGER NOT NULL, replication INTEGER NOT NULL, "
    "finished TEXT NOT NULL, PRIMARY KEY (point, replication))",
    "CREATE TABLE IF NOT EXISTS kpis (point INTEGER NOT NULL, replication INTEGER NOT NULL, "
    "kpi TEXT NOT NULL, value, PRIMARY KEY (point, replication, kpi))",
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
    """The folder's sweep manifest (from its database, else ``manifest.json``), or None."""
    folder = Path(folder)
    if (folder / DATABASE).is_file():
        with contextlib.closing(_connect(folder / DATABASE, readonly=True)) as db:
            found = _manifest(db)
        if found is not None:
            return found
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: unreadable sweep manifest ({exc}); use another --out") from None


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


class SweepStore:
    """The open database of one sweep folder (see `open_store`).

    ``done`` maps each stored (point, replication) to its KPIs; ``folder`` writes the exports.
    """

    def __init__(self, folder: Folder, db: sqlite3.Connection, manifest: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest
        self._db = db
        self.done = self._read_done()

    def _read_done(self) -> dict[tuple[int, int], dict[str, float]]:
        done: dict[tuple[int, int], dict[str, float]] = {}
        rows = self._db.execute(
            "SELECT k.point, k.replication, k.kpi, k.value FROM kpis k JOIN runs r "
            "USING (point, replication) ORDER BY k.point, k.replication, k.rowid"
        )
        for point, rep, kpi, value in rows:
            # SQLite keeps integers as integers, so a resumed table equals an uninterrupted
            # one; it stores NaN as NULL.
            done.setdefault((int(point), int(rep)), {})[kpi] = math.nan if value is None else value
        return done

    def append(self, runs: Iterable[StoredRun]) -> None:
        """Store finished runs not stored yet, in one transaction (durable when it returns)."""
        new = [r for r in runs if (r.point, r.replication) not in self.done]
        if not new:
            return
        now = _now()
        with _transaction(self._db):
            self._db.executemany(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?)",
                [(r.point, r.replication, now) for r in new],
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO kpis VALUES (?, ?, ?, ?)",
                [
                    (r.point, r.replication, k, _sql_number(v))
                    for r in new
                    for k, v in r.kpis.items()
                ],
            )
        for r in new:
            self.done[(r.point, r.replication)] = dict(r.kpis)

    def finish(self, updates: Mapping[str, Any]) -> None:
        """Record ``updates`` in the manifest (database and ``manifest.json``)."""
        self.manifest = {**self.manifest, **normalize(dict(updates))}
        with _transaction(self._db):
            _put_manifest(self._db, updates)
        self.folder.write_json(MANIFEST, self.manifest)

    def write_table(self, frame: pd.DataFrame, name: str, parquet: bool = True) -> list[Path]:
        """``frame`` as ``name``.csv (and .parquet with pyarrow), each written atomically."""
        written = [self.folder.write_csv(f"{name}.csv", frame, index=False)]
        if parquet and has_pyarrow():
            written.append(
                self.folder.write_parquet(f"{name}.parquet", _parquet_safe(frame), index=False)
            )
        return written


@contextlib.contextmanager
def open_store(
    folder: str | Path, manifest: Mapping[str, Any], overwrite: bool = False
) -> Iterator[SweepStore]:
    """Open (or start) the sweep in ``folder``: claim it, take its lock (waiting for another
    process of the same sweep if one holds it), check or write its manifest, read what is done.

    `UsageError` for a folder that holds a different sweep, an old-format sweep, or files
    funnelsim did not write (unless ``overwrite``).
    """
    path = Path(folder)
    manifest = normalize(dict(manifest))
    try:
        with open_folder(path) as out:
            _refuse_links(out)
            if out.lstat(LEGACY_LOG) is not None and out.lstat(DATABASE) is None:
                raise FileProblem(
                    f"holds a sweep written by an older funnelsim ({LEGACY_LOG}); its results.csv "
                    "is still readable, but it cannot be resumed: choose another --out folder"
                )
            claim(out, KIND, overwrite)
            old = read_manifest(path) if out.lstat(DATABASE) else None
            if old is not None:
                check_same_sweep(path, old, manifest)  # at once, before waiting for a lock
            with _locked(out), contextlib.closing(_connect(path / DATABASE)) as db:
                out.remove_stale_temporaries()
                stored = _open_manifest(db, out, path, manifest)
                yield SweepStore(out, db, stored)
    except FileProblem as exc:
        raise UsageError(f"--out {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise UsageError(
            f"--out {path}: {DATABASE} is not a readable sweep database ({exc}); choose another "
            "--out folder"
        ) from None


def _open_manifest(
    db: sqlite3.Connection, out: Folder, path: Path, manifest: dict[str, Any]
) -> dict[str, Any]:
    """The stored manifest, checked against ``manifest`` (written first when there is none)."""
    with _transaction(db):
        for statement in SCHEMA:
            db.execute(statement)
        old = _manifest(db)
        if old is None:
            _put_manifest(db, manifest)
            db.executemany(
                "INSERT OR REPLACE INTO points VALUES (?, ?, ?)",
                [
                    (p, k, json.dumps(v))
                    for p, point in enumerate(manifest.get("points", []))
                    for k, v in point.items()
                ],
            )
            old = manifest
    check_same_sweep(path, old, manifest)
    if out.lstat(MANIFEST) is None or old is manifest:
        out.write_json(MANIFEST, old)
    return old


def _manifest(db: sqlite3.Connection) -> dict[str, Any] | None:
    if _empty(db):
        return None
    rows = db.execute("SELECT key, value FROM manifest").fetchall()
    return {k: json.loads(v) for k, v in rows} or None


def _empty(db: sqlite3.Connection) -> bool:
    found = db.execute("SELECT name FROM sqlite_master WHERE name = 'manifest'").fetchone()
    return found is None


def _put_manifest(db: sqlite3.Connection, doc: Mapping[str, Any]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO manifest VALUES (?, ?)",
        [(k, json.dumps(v, default=str)) for k, v in doc.items()],
    )


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    if readonly:
        return db
    # WAL: readers never block the writer nor see half a commit. FULL: a commit is on disk (not
    # only in the operating system's cache) when it returns, so a power cut loses no stored run.
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    return db


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _refuse_links(out: Folder) -> None:
    for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", LOCK, MANIFEST):
        if out.is_link(name):
            raise FileProblem(f"{name} is a symbolic link; funnelsim never writes through one")
    info = out.lstat(DATABASE)
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise FileProblem(f"{DATABASE} is not a regular file")


@contextlib.contextmanager
def _locked(out: Folder) -> Iterator[None]:
    """Hold the folder's sweep lock; wait (saying so on stderr) while another process holds it."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no guard against two processes on one folder
        yield
        return
    fd = out.open_lock_file(LOCK)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            print(
                f"waiting: funnelsim process {holder} is writing this sweep to {out.path}",
                file=sys.stderr,
                flush=True,
            )
            fcntl.lockf(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _sql_number(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if hasattr(v, "item"):  # a numpy scalar
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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


def has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


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
