"""A CRM export read, checked and turned into arrays: one entry per lead, times in hours.

Problems that make an export untrustworthy stop it (`UsageError`, exit 2) with the file, the
line, the column and the value: a map naming a header the file lacks, an unparseable date or
true/false, a non-numeric or negative amount, a duplicate lead id, stage times out of order (an
SQL before its MQL). Problems a row can be fixed or dropped for are counted and reported with
the first few rows as a warning, never applied silently:

- dropped: no lead id, no created_at, created after ``as_of``, won without a close date, a
  close date without an outcome;
- fixed: a skipped stage is taken to have happened at the next stage's time (a won deal had an
  opportunity), an attempt that reached the lead is its first touch when none is recorded, an
  event after ``as_of`` has not happened yet in the snapshot.

Times are taken as written (local wall-clock time; an offset such as ``Z`` or ``+02:00`` is
ignored, so working hours stay local). A date alone means "that day, time unknown": it is put
at noon, compared with other times by day only, and marked, so fits that need the hour (first
touch, response-time decay) know to leave it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UsageError
from .columns import (
    ACTIVITY_COLUMNS,
    BOOL_COLUMNS,
    GENERIC,
    LEAD_COLUMNS,
    REQUIRED,
    TIME_COLUMNS,
    ColumnMap,
)

SHOWN = 5
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
# A skipped stage is filled from the earliest later stage (the lead passed it by then at the
# latest): stage -> the stages that imply it.
_IMPLIED_BY = {
    "mql_at": ("first_touch_at", "reached_at", "sql_at", "opportunity_at", "closed_at"),
    "sql_at": ("opportunity_at", "closed_at"),
    "opportunity_at": ("closed_at",),
    "first_touch_at": ("reached_at",),
}


@dataclass(frozen=True)
class Categorical:
    """Codes (-1: empty) into ``names``."""

    codes: np.ndarray
    names: tuple[str, ...]

    @staticmethod
    def of(values: pd.Series | np.ndarray, keep: np.ndarray | None = None) -> Categorical:
        """Codes of the non-empty values (optionally only the rows in ``keep``)."""
        arr = _arrow(values) if isinstance(values, pd.Series) else None
        if arr is not None:
            import pyarrow.compute as pc

            enc = (
                pc.dictionary_encode(arr).combine_chunks()
                if hasattr(arr, "chunks")
                else (pc.dictionary_encode(arr))
            )
            names = enc.dictionary.to_pylist()
            codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int32)
            if "" in names:
                empty = names.index("")
                codes = np.where(codes == empty, -1, codes - (codes > empty))
                names.pop(empty)
            if keep is not None:
                codes = codes[keep]
            return Categorical(codes, tuple(str(n) for n in names))
        v = np.asarray(values, dtype=object)
        if keep is not None:
            v = v[keep]
        cat = pd.Categorical(pd.Series(v).replace("", None))
        return Categorical(cat.codes.astype(np.int32), tuple(str(c) for c in cat.categories))


@dataclass(frozen=True)
class Activities:
    """One entry per attempt: lead index, hours since the export's origin, rep, minutes, reached."""

    lead: np.ndarray
    at: np.ndarray
    has_time: np.ndarray
    owner: Categorical
    duration_minutes: np.ndarray  # NaN: not recorded
    reached: np.ndarray  # 1, 0, or NaN when not recorded
    path: str

    @property
    def n(self) -> int:
        return int(self.lead.size)


@dataclass(frozen=True)
class Export:
    """A checked export: per lead, stage times in hours since ``origin`` (NaN: not happened by
    ``as_of``), whether each was written with a time of day, and the other columns."""

    path: str
    origin: pd.Timestamp
    as_of: pd.Timestamp
    lead_id: np.ndarray
    times: dict[str, np.ndarray]
    has_time: dict[str, np.ndarray]
    columns: frozenset[str]  # generic columns the export had
    accepted: np.ndarray  # 1, 0 or NaN (not an MQL)
    won: np.ndarray  # 1, 0 or NaN (not closed)
    amount: np.ndarray
    source: Categorical
    owner: Categorical
    reason: Categorical
    observed_until: np.ndarray  # per lead: hours until which the export saw it (the snapshot)
    activities: Activities | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    created_until_h: float | None = None  # leads were collected until then (default: as_of)

    @property
    def n(self) -> int:
        return int(self.lead_id.size)

    @property
    def as_of_h(self) -> float:
        return hours(self.as_of, self.origin)

    def has(self, column: str) -> bool:
        return column in self.columns

    def subset(self, mask: np.ndarray) -> Export:
        """The leads where ``mask`` holds (their activities too), same origin and snapshot."""
        idx = np.flatnonzero(mask)
        remap = np.full(self.n, -1, np.int64)
        remap[idx] = np.arange(idx.size)
        acts = self.activities
        if acts is not None:
            keep = mask[acts.lead]
            acts = Activities(
                remap[acts.lead[keep]],
                acts.at[keep],
                acts.has_time[keep],
                Categorical(acts.owner.codes[keep], acts.owner.names),
                acts.duration_minutes[keep],
                acts.reached[keep],
                acts.path,
            )
        return Export(
            self.path,
            self.origin,
            self.as_of,
            self.lead_id[idx],
            {k: v[idx] for k, v in self.times.items()},
            {k: v[idx] for k, v in self.has_time.items()},
            self.columns,
            self.accepted[idx],
            self.won[idx],
            self.amount[idx],
            Categorical(self.source.codes[idx], self.source.names),
            Categorical(self.owner.codes[idx], self.owner.names),
            Categorical(self.reason.codes[idx], self.reason.names),
            self.observed_until[idx],
            acts,
            self.warnings,
            self.notes,
            self.created_until_h,
        )


def hours(ts, origin: pd.Timestamp):
    return (ts - origin) / pd.Timedelta(hours=1)


class _Problems:
    """Collects fatal problems; `raise_if_any` reports the first few and the count."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[str] = []
        self.total = 0

    def add(self, rows: np.ndarray, column: str, what: str, values=None) -> None:
        rows = np.asarray(rows)
        if rows.size == 0:
            return
        self.total += int(rows.size)
        for i, row in enumerate(rows[:SHOWN]):
            given = "" if values is None else f" (given: {values[i]!r})"
            self.items.append(f"{self.path}: line {int(row) + 2}, column {column}: {what}{given}")

    def raise_if_any(self) -> None:
        if self.items:
            more = self.total - min(self.total, len(self.items))
            shown = self.items[: 2 * SHOWN]
            tail = [f"... and {more} more"] if more > 0 else []
            raise UsageError("\n".join(shown + tail))


def read_csv(path: str | Path, table: str, cmap: ColumnMap) -> tuple[pd.DataFrame, str]:
    """The export's mapped columns as text, renamed to generic names (missing ones absent)."""
    path = Path(path)
    source = str(path)
    try:
        raw = _read_text_table(path)
    except FileNotFoundError:
        raise UsageError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise UsageError(
            f"{source}: is a folder; give the CSV file (or --format leadforge)"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{source}: not a readable CSV file ({exc})") from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"{source}: the file is empty") from None
    names = LEAD_COLUMNS + ("closed",) if table == "leads" else ACTIVITY_COLUMNS
    mapping = cmap.leads if table == "leads" else cmap.activities
    headers = list(raw.columns)
    out = {}
    for col in names:
        header = cmap.header(table, col)
        if col == "closed":
            header = cmap.closed_flag or "closed"
        if header in raw.columns:
            out[col] = raw[header].str.strip()
        elif col in mapping or (col == "closed" and cmap.closed_flag):
            what = f"{col} = {header!r}" if col != "closed" else f"closed_flag = {header!r}"
            raise UsageError(
                f"{source}: the column map ({cmap.name}) says {what}, but the file has no such "
                f"column (its columns: {_listing(headers)})"
            )
    for col in REQUIRED[table]:
        if col not in out:
            raise UsageError(
                f"{source}: no {cmap.header(table, col)!r} column, which is required (its "
                f"columns: {_listing(headers)}); map yours with --columns MAP.toml"
            )
    return pd.DataFrame(out), source


def _read_text_table(path: Path) -> pd.DataFrame:
    """Every column as text ("" for an empty cell). With pyarrow the text stays in Arrow
    buffers (a million-row export in a few hundred MB, read on every core); without it, pandas'
    own reader."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, skipinitialspace=True
        )
    if not path.exists():
        raise FileNotFoundError(path)
    if path.is_dir():
        raise IsADirectoryError(path)
    if path.stat().st_size == 0:
        raise pd.errors.EmptyDataError("empty")
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                column_types=_all_text(path),
            ),
        )
    except pa.ArrowInvalid as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _all_text(path: Path) -> dict:
    import pyarrow as pa

    header = pd.read_csv(path, nrows=0).columns
    return {str(c): pa.string() for c in header}


def _listing(headers: list[str]) -> str:
    return ", ".join(headers[:30]) + (" ..." if len(headers) > 30 else "")


def _fast_times(text: pd.Series) -> pd.Series | None:
    """Arrow's ISO 8601 parser on a whole column at once; None when pyarrow is missing or some
    cell needs the careful path (an offset, or an error to report)."""
    if not isinstance(text.dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(text)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    try:
        ts = pc.cast(arr, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pd.Series(ts.to_numpy(zero_copy_only=False), index=text.index).astype("datetime64[ns]")


def _parse_times(
    frame: pd.DataFrame, col: str, problems: _Problems
) -> tuple[pd.Series, np.ndarray]:
    text = frame[col]
    empty = text.eq("").to_numpy(bool)
    parsed = _fast_times(text)
    clean = text
    if parsed is None:
        clean = text.astype(object).str.replace(_OFFSET, "", regex=True)
        parsed = pd.to_datetime(clean.where(~empty), format="ISO8601", errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy() & ~empty)
    problems.add(
        bad,
        col,
        "not a date or date-time (ISO 8601, e.g. 2029-03-01 or 2029-03-01T14:05)",
        text.to_numpy()[bad],
    )
    has_time = (clean.str.len() > 10).to_numpy(bool) & ~empty
    # A date alone is that day, time unknown: noon is the middle of it.
    parsed = parsed.where(has_time | empty, parsed + pd.Timedelta(hours=12))
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed, has_time


def _arrow(text: pd.Series):
    """The column's Arrow array when it is Arrow-backed, else None."""
    if not isinstance(text.dtype, pd.ArrowDtype):
        return None
    import pyarrow as pa

    return pa.array(text)


def _parse_bool(frame: pd.DataFrame, col: str, problems: _Problems) -> np.ndarray:
    arr = _arrow(frame[col])
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        low = pc.utf8_lower(arr)
        t = pc.is_in(low, value_set=pa.array(sorted(_TRUE))).to_numpy(zero_copy_only=False)
        f = pc.is_in(low, value_set=pa.array(sorted(_FALSE))).to_numpy(zero_copy_only=False)
        if not np.any(~(t | f) & pc.not_equal(arr, "").to_numpy(zero_copy_only=False)):
            out = np.full(len(arr), np.nan)
            out[t], out[f] = 1.0, 0.0
            return out
    text = frame[col].astype(object).str.lower()
    out = np.full(len(text), np.nan)
    t, f = text.isin(_TRUE).to_numpy(bool), text.isin(_FALSE).to_numpy(bool)
    out[t], out[f] = 1.0, 0.0
    bad = np.flatnonzero(~(t | f) & text.ne("").to_numpy(bool))
    problems.add(bad, col, "not true/false", frame[col].to_numpy()[bad])
    return out


def _parse_number(frame: pd.DataFrame, col: str, problems: _Problems, what: str) -> np.ndarray:
    arr = _arrow(frame[col])
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            blank = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
            out = pc.cast(blank, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out = None
        if out is not None and not np.any(out < 0) and not np.any(np.isinf(out)):
            return out.astype(float)
    text = frame[col].astype(object)
    out = pd.to_numeric(text.where(text.ne("")), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(np.isnan(out) & text.ne("").to_numpy(bool))
    problems.add(bad, col, f"not a number ({what})", text.to_numpy()[bad])
    neg = np.flatnonzero(out < 0)
    problems.add(neg, col, f"must be >= 0 ({what})", text.to_numpy()[neg])
    return out


def read_export(
    path: str | Path,
    *,
    columns: ColumnMap = GENERIC,
    activities: str | Path | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> Export:
    """Read and check a leads export (and optionally its activities); see the module notes."""
    frame, source = read_csv(path, "leads", columns)
    acts = read_csv(activities, "activities", columns) if activities is not None else None
    return build_export(frame, source, columns, acts, as_of)


def build_export(
    frame: pd.DataFrame,
    source: str,
    columns: ColumnMap = GENERIC,
    activities: tuple[pd.DataFrame, str] | None = None,
    as_of: str | pd.Timestamp | None = None,
    observed_days: float | None = None,
) -> Export:
    """Check generic-named text columns (as `read_csv` returns them) and build the `Export`.

    ``observed_days``: each lead was observed only for this many days after it was created (a
    bundle cut per lead), else until ``as_of``."""
    problems = _Problems(source)
    warnings: list[str] = []
    notes: list[str] = []
    n_rows = len(frame)
    if n_rows == 0:
        raise UsageError(f"{source}: the export has a header but no rows")
    times, has_time = {}, {}
    for col in TIME_COLUMNS:
        if col in frame:
            times[col], has_time[col] = _parse_times(frame, col, problems)
    flags = {c: _parse_bool(frame, c, problems) for c in BOOL_COLUMNS if c in frame}
    closed_flag = _parse_bool(frame, "closed", problems) if "closed" in frame else None
    amount = (
        _parse_number(frame, "amount", problems, "a deal's value")
        if "amount" in frame
        else np.full(n_rows, np.nan)
    )
    problems.raise_if_any()

    ids = frame["lead_id"].to_numpy(object)
    drop = np.zeros(n_rows, bool)
    _drop(drop, ids == "", "no lead_id", warnings, source)
    created = times["created_at"]
    _drop(drop, created.isna().to_numpy() & ~drop, "no created_at", warnings, source)
    dup = pd.Series(ids).duplicated(keep=False).to_numpy() & (ids != "")
    if dup.any():
        rows = np.flatnonzero(dup)
        first = {}
        for r in rows:
            first.setdefault(ids[r], r)
        later = [r for r in rows if first[ids[r]] != r]
        problems.add(
            np.asarray(later),
            columns.header("leads", "lead_id"),
            "duplicate lead id, first seen on line "
            + ", ".join(str(first[ids[r]] + 2) for r in later[:1]),
            ids[np.asarray(later)],
        )
        problems.raise_if_any()

    latest = max(t.max() for t in times.values() if t.notna().any())
    snapshot = pd.Timestamp(as_of) if as_of is not None else latest
    if pd.isna(snapshot):
        raise UsageError(f"{source}: no timestamp to take the snapshot date from; give --as-of")
    if isinstance(as_of, str) and len(as_of) <= 10:
        snapshot = snapshot + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    _drop(drop, (created > snapshot).to_numpy() & ~drop, "created after --as-of", warnings, source)

    # Events after the snapshot have not happened yet in it.
    after = 0
    for col in TIME_COLUMNS[1:]:
        if col in times:
            late = (times[col] > snapshot).to_numpy()
            after += int(late.sum())
            times[col] = times[col].where(~late)
    if after:
        notes.append(f"{after} events dated after the snapshot ({snapshot}) were taken as not yet")

    won = flags.get("won", np.full(n_rows, np.nan))
    if closed_flag is not None and "closed_at" in times:
        open_ = closed_flag != 1.0
        times["closed_at"] = times["closed_at"].where(~open_)
        won = np.where(open_, np.nan, won)
    if "closed_at" in times:
        closed = times["closed_at"].notna().to_numpy()
        if columns.won_if_closed:
            won = np.where(closed, 1.0, np.nan)
        else:
            _drop(drop, ~closed & (won == 1.0) & ~drop, "won without a closed_at", warnings, source)
            _drop(drop, closed & np.isnan(won) & ~drop, "closed_at without won", warnings, source)
            won = np.where(closed, won, np.nan)
    elif "won" in flags:
        raise UsageError(f"{source}: a won column needs a closed_at column beside it")

    if "mql_at" not in times:
        times["mql_at"], has_time["mql_at"] = times["created_at"].copy(), has_time["created_at"]
        notes.append("no mql_at column: every lead is taken to be an MQL when it is created")
    _fill_skipped(times, has_time, warnings, source)
    _check_order(times, has_time, problems)
    problems.raise_if_any()

    keep = ~drop
    origin = created[keep].min().normalize()
    mql = times["mql_at"].notna().to_numpy() if "mql_at" in times else np.zeros(n_rows, bool)
    accepted = flags.get("accepted", np.full(n_rows, np.nan))
    reason_text = (
        frame["rejection_reason"] if "rejection_reason" in frame else pd.Series([""] * n_rows)
    )
    if "mql_at" in times:
        # Empty accepted with an MQL: accepted unless a rejection reason is given.
        guess = np.where(reason_text.ne("").to_numpy(bool), 0.0, 1.0)
        accepted = np.where(mql, np.where(np.isnan(accepted), guess, accepted), np.nan)
    else:
        accepted = np.full(n_rows, np.nan)
    reason_text = reason_text.where(accepted == 0.0, "")
    amount = np.where(won == 1.0, amount, np.nan)

    def arr(col: str) -> np.ndarray:
        return hours(times[col][keep], origin).to_numpy(float)

    t = {c: arr(c) for c in times}
    ht = {c: has_time[c][keep] for c in times}
    as_of_h = float(hours(snapshot, origin))
    until = np.full(int(keep.sum()), as_of_h)
    if observed_days is not None:
        until = np.minimum(until, t["created_at"] + 24.0 * observed_days)
    empty = pd.Series([""] * n_rows)
    export = Export(
        source,
        origin,
        snapshot,
        ids[keep],
        t,
        ht,
        frozenset(frame.columns),
        accepted[keep],
        won[keep],
        amount[keep],
        Categorical.of(frame.get("source", empty), keep),
        Categorical.of(frame.get("owner", empty), keep),
        Categorical.of(reason_text, keep),
        until,
        None,
        tuple(warnings),
        tuple(notes),
    )
    if activities is not None:
        export = _with_activities(export, *activities, snapshot)
    return export


def _drop(drop: np.ndarray, mask: np.ndarray, why: str, warnings: list[str], source: str) -> None:
    rows = np.flatnonzero(mask)
    if rows.size:
        lines = ", ".join(str(r + 2) for r in rows[:SHOWN])
        more = " ..." if rows.size > SHOWN else ""
        warnings.append(f"{source}: dropped {rows.size} rows with {why} (lines {lines}{more})")
        drop |= mask


def _fill_skipped(times: dict, has_time: dict, warnings: list[str], source: str) -> None:
    for col, later in _IMPLIED_BY.items():
        if col not in times:
            continue
        filled = np.zeros(len(times[col]), bool)
        for c in later:  # the nearest later stage first
            if c not in times:
                continue
            fill = (times[col].isna() & times[c].notna()).to_numpy()
            if fill.any():
                times[col] = times[col].where(~fill, times[c])
                has_time[col] = np.where(fill, has_time[c], has_time[col])
                filled |= fill
        rows = np.flatnonzero(filled)
        if rows.size:
            lines = ", ".join(str(r + 2) for r in rows[:SHOWN])
            more = " ..." if rows.size > SHOWN else ""
            warnings.append(
                f"{source}: {rows.size} rows skip {col}; it is taken to have happened at the next "
                f"stage's time (lines {lines}{more})"
            )


def _check_order(times: dict, has_time: dict, problems: _Problems) -> None:
    present = [c for c in TIME_COLUMNS if c in times]
    for i, col in enumerate(present[1:], start=1):
        t = times[col]
        for prev in reversed(present[:i]):
            p = times[prev]
            both = t.notna() & p.notna()
            exact = has_time[col] & has_time[prev]
            day_before = t.dt.floor("D") < p.dt.floor("D")
            wrong = both & np.where(exact, t < p, day_before)
            rows = np.flatnonzero(wrong.to_numpy())
            problems.add(
                rows,
                col,
                f"comes before {prev} ({p.iloc[rows[0]] if rows.size else ''})",
                [str(v) for v in t.iloc[rows[:SHOWN]]],
            )


def _lookup_ids(ids: np.ndarray, refs: pd.Series) -> np.ndarray:
    """Position of each reference in ``ids`` (-1: not there); Arrow's hash join when it can."""
    arr = _arrow(refs)
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        pos = pc.index_in(arr, value_set=pa.array(ids, pa.string()))
        return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.Index(ids).get_indexer(refs.to_numpy(object))


def _with_activities(
    export: Export, frame: pd.DataFrame, source: str, snapshot: pd.Timestamp
) -> Export:
    problems = _Problems(source)
    at, has_time = _parse_times(frame, "at", problems)
    reached = (
        _parse_bool(frame, "reached", problems)
        if "reached" in frame
        else np.full(len(frame), np.nan)
    )
    minutes = (
        _parse_number(frame, "duration_minutes", problems, "minutes an attempt took")
        if "duration_minutes" in frame
        else np.full(len(frame), np.nan)
    )
    problems.raise_if_any()
    lead = _lookup_ids(export.lead_id, frame["lead_id"])
    warnings = list(export.warnings)
    drop = np.zeros(len(frame), bool)
    _drop(drop, lead < 0, "a lead_id that is not in the leads export", warnings, source)
    _drop(drop, at.isna().to_numpy() & ~drop, "no time (at)", warnings, source)
    _drop(drop, (at > snapshot).to_numpy() & ~drop, "a time after the snapshot", warnings, source)
    keep = ~drop
    acts = Activities(
        lead[keep].astype(np.int64),
        hours(at[keep], export.origin).to_numpy(float),
        has_time[keep],
        Categorical.of(frame.get("owner", pd.Series([""] * len(frame))), keep),
        minutes[keep],
        reached[keep],
        source,
    )
    return Export(
        **{**export.__dict__, "activities": acts, "warnings": tuple(warnings)}  # type: ignore[arg-type]
    )
