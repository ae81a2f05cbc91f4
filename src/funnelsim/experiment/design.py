"""Design points for sweeps: full-factorial grids, Latin hypercubes, CSV files, DataFrames.

A design is a DataFrame with one row per point and one column per swept dotted key (e.g.
``sales.reps``); a cell holding None (or NaN) keeps the scenario's own value. Keys are checked
against the scenario before anything runs; values are checked per point, so one bad value fails
only its point.
"""

from __future__ import annotations

import difflib
import io
import itertools
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..files import MAX_TABLE_BYTES, FileProblem, read_text
from ..scenario import Scenario, all_keys, parse_value
from .limits import MAX_POINTS, MAX_SEED, check_count

# Keys a sweep must not vary: the experiment sets them itself.
RESERVED_KEYS = {
    "run.seed": "the seed is the sweep's --seed, shared by every point (common random numbers)",
    "run.replications": "replications are the sweep's --replications",
}


def check_seed(seed: Any) -> int:
    """``seed`` as an int when it is a whole number from 0 to `MAX_SEED`, else `UsageError`."""
    if (
        isinstance(seed, bool)
        or not isinstance(seed, int | np.integer)
        or not 0 <= seed <= MAX_SEED
    ):
        raise UsageError(
            f"--seed for a sweep must be a whole number from 0 to 2**63 - 1 = {MAX_SEED} (it is "
            f"stored in the results tables as a 64-bit integer; given: {seed!r})"
        )
    return int(seed)


def grid_points(spec: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Every combination of the given values (full factorial), first key varying slowest."""
    if not spec:
        raise UsageError("a grid needs at least one key with values, e.g. sales.reps=4,5,6")
    for key, values in spec.items():
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise UsageError(f"grid {key}: give a list of values (given: {values!r})")
    lists = {k: list(v) for k, v in spec.items()}
    for key, values in lists.items():
        if not values:
            raise UsageError(f"grid {key}: no values given")
        for i, v in enumerate(values):
            # Pairwise ==, not a set: values may be tables (dicts), and 5 and 5.0 are one point.
            earlier = [w for w in values[:i] if _same(v, w)]
            if earlier:
                a, b = plain(earlier[0]), plain(v)
                what = (
                    f"the value {a!r} is given twice"
                    if repr(a) == repr(b)
                    else f"{a!r} and {b!r} are the same value"
                )
                raise UsageError(
                    f"grid {key}: {what}, which would run the same points twice; "
                    f"list each value once (given: {_plain_list(values)})"
                )
    size = math.prod(len(v) for v in lists.values())
    if size > MAX_POINTS:
        counts = " x ".join(f"{len(v):,}" for v in lists.values())
        raise UsageError(
            f"a grid of {counts} values is {size:,} points; at most {MAX_POINTS:,} are allowed"
        )
    rows = list(itertools.product(*lists.values()))
    frame = pd.DataFrame.from_records(rows, columns=list(lists))
    frame = frame.astype(object)
    frame.attrs["design"] = {"kind": "grid", "grid": {k: _plain_list(v) for k, v in lists.items()}}
    return frame


def latin_hypercube(
    scenario: Scenario,
    bounds: Mapping[str, tuple[float, float]],
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """``samples`` points of a Latin hypercube (`scipy.stats.qmc`) scaled to ``[low, high]``.

    A key whose value in ``scenario`` is an integer (e.g. ``sales.reps``) is rounded to the
    nearest integer. The points depend only on ``seed``, so rerunning a sweep gives the same
    design.
    """
    from scipy.stats import qmc

    if not bounds:
        raise UsageError("a Latin hypercube needs at least one key, e.g. --lhs sales.reps=4:9")
    if samples is None:
        raise UsageError("--lhs needs --samples N, the number of points")
    samples = check_count(samples, "--samples", MAX_POINTS)
    check_keys(scenario, list(bounds))
    seed = check_seed(seed)
    for key, (low, high) in bounds.items():
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise UsageError(f"--lhs {key}: needs LOW < HIGH, both finite (given: {low}:{high})")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"lhs"),)))
    try:
        sampler = qmc.LatinHypercube(d=len(bounds), rng=rng)
    except TypeError:  # scipy < 1.15 names it seed
        sampler = qmc.LatinHypercube(d=len(bounds), seed=rng)
    unit = sampler.random(samples)
    lows = np.array([b[0] for b in bounds.values()], float)
    highs = np.array([b[1] for b in bounds.values()], float)
    values = qmc.scale(unit, lows, highs)
    frame = pd.DataFrame(values, columns=list(bounds)).astype(object)
    for j, key in enumerate(bounds):
        if _is_integer(value_at(scenario, key)):
            frame[key] = [int(round(v)) for v in values[:, j]]
        else:
            frame[key] = [float(v) for v in values[:, j]]
    frame.attrs["design"] = {
        "kind": "latin_hypercube",
        "bounds": {k: [float(lo), float(hi)] for k, (lo, hi) in bounds.items()},
        "samples": int(samples),
        "seed": int(seed),
    }
    return frame


def read_points(path: str | Path) -> pd.DataFrame:
    """Points from a CSV file: a header of dotted keys, one row per point.

    Each cell is read like ``--set`` (as TOML, else as text); an empty cell keeps the scenario's
    value. A ``point`` column, if present, is ignored (points are numbered by row).
    """
    path = Path(path)
    try:
        text = read_text(path, MAX_TABLE_BYTES)
    except FileProblem as exc:
        raise UsageError(f"--points {path}: {exc}") from None
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError) as exc:
        raise UsageError(f"--points {path}: not a readable CSV file ({exc})") from None
    if len(frame) > MAX_POINTS:
        raise UsageError(
            f"--points {path}: {len(frame):,} points; at most {MAX_POINTS:,} are allowed"
        )
    frame = frame.drop(columns=[c for c in frame.columns if c.strip() == "point"])
    frame.columns = [c.strip() for c in frame.columns]
    if frame.empty or not len(frame.columns):
        raise UsageError(f"--points {path}: needs a header of dotted keys and at least one row")
    # Column by column into object arrays: DataFrame.map would infer a dtype, and a column of
    # whole numbers with an empty cell would come back as floats (5 -> 5.0).
    out = pd.DataFrame(
        {
            col: pd.Series(
                [None if cell.strip() == "" else parse_value(cell.strip()) for cell in frame[col]],
                dtype=object,
            )
            for col in frame.columns
        }
    )
    out.attrs["design"] = {"kind": "points", "file": str(path)}
    return out


def as_design(points: Any) -> pd.DataFrame:
    """A design DataFrame from a DataFrame, a grid mapping ``{key: values}``, or a list of
    ``{key: value}`` points."""
    if isinstance(points, pd.DataFrame):
        frame = points.copy()
        frame.attrs = dict(points.attrs)
    elif isinstance(points, Mapping):
        return grid_points(points)
    elif isinstance(points, Sequence) and not isinstance(points, str | bytes):
        if not all(isinstance(p, Mapping) for p in points):
            raise UsageError("points must be a DataFrame, a {key: values} grid or a list of dicts")
        frame = pd.DataFrame.from_records(list(points))
    else:
        raise UsageError(
            "points must be a DataFrame, a {key: values} grid or a list of {key: value} dicts "
            f"(given: {type(points).__name__})"
        )
    if frame.empty or not len(frame.columns):
        raise UsageError("a sweep needs at least one point and one key")
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):
        raise UsageError(f"points name a key twice: {list(frame.columns)}")
    return frame.astype(object)


def point_changes(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each point's ``{dotted key: value}`` overrides, as plain Python values; missing cells
    (None or NaN) are left out so the scenario's value applies."""
    out = []
    for row in frame.itertuples(index=False, name=None):
        changes = {}
        for key, value in zip(frame.columns, row, strict=True):
            v = plain(value)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            changes[key] = v
        out.append(changes)
    return out


def with_scenario_types(scenario: Scenario, design: pd.DataFrame) -> pd.DataFrame:
    """``design`` with a whole float (5.0) in an integer key (one whose scenario value is an
    int, e.g. ``sales.reps``) turned into that int, and a missing cell (None or NaN) as None.

    A numeric column with a gap is float in pandas (a CSV or a DataFrame built with None), so
    5.0 there means 5; 5.5 stays 5.5, for the scenario's own check to refuse at its point."""
    out = design.astype(object)
    for key in out.columns:
        integer = _is_integer(value_at(scenario, key))
        out[key] = pd.Series([_typed(v, integer) for v in out[key]], index=out.index, dtype=object)
    out.attrs = dict(design.attrs)
    return out


def _typed(value: Any, integer: bool) -> Any:
    v = plain(value)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if integer and isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def check_keys(scenario: Scenario, keys: Iterable[str]) -> None:
    """Raise `UsageError` unless every key names a value in the scenario (a dotted key, or a
    parameter inside a distribution table such as ``deals.deal_size.mean``)."""
    data = scenario.to_dict()
    for key in keys:
        if key in RESERVED_KEYS:
            raise UsageError(f"cannot sweep {key}: {RESERVED_KEYS[key]}")
        if _resolve(data, key) is _MISSING:
            close = difflib.get_close_matches(key, all_keys(), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UsageError(
                f"cannot sweep {key!r}: not a key of scenario {scenario.name!r}{hint} "
                "(see funnelsim.all_keys())"
            )


def value_at(scenario: Scenario, key: str) -> Any:
    """The scenario's plain value at a dotted key (inside distribution tables too)."""
    return _resolve(scenario.to_dict(), key)


def plain(value: Any) -> Any:
    """A numpy scalar as its Python value; anything else unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    return value


_MISSING = object()


def _resolve(data: Any, key: str) -> Any:
    node = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(plain(a) == plain(b))
    except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
        return False


def _plain_list(values: Sequence[Any]) -> list[Any]:
    return [plain(v) for v in values]


def parse_grid_options(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["sales.reps=4,5,6", ...]`` -> ``{"sales.reps": [4, 5, 6]}``.

    The values are read as a TOML array when they form one (so tables and arrays work:
    ``sales.handling_minutes={dist="exponential",mean=12},{dist="exponential",mean=18}``), else
    split at commas and each read like ``--set``.
    """
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise UsageError(
                f"--grid must look like KEY=V1,V2,... e.g. sales.reps=4,5,6 ({item!r})"
            )
        if key in out:
            raise UsageError(f"--grid {key} is given twice; list all its values in one --grid")
        values = parse_value(f"[{raw}]")
        if not isinstance(values, list):
            values = [parse_value(v.strip()) for v in raw.split(",")]
        out[key] = values
    return out


def parse_lhs_options(items: Iterable[str]) -> dict[str, tuple[float, float]]:
    """``["sales.reps=4:9", ...]`` -> ``{"sales.reps": (4.0, 9.0)}``."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        low, colon, high = raw.partition(":")
        try:
            if not sep or not key or not colon:
                raise ValueError
            bounds = (float(low), float(high))
        except ValueError:
            raise UsageError(
                f"--lhs must look like KEY=LOW:HIGH with numbers, e.g. sales.reps=4:9 ({item!r})"
            ) from None
        if key in out:
            raise UsageError(f"--lhs {key} is given twice")
        out[key] = bounds
    return out
