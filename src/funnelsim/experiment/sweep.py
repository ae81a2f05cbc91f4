"""Sweeps: run a scenario at many design points, on any executor, into a resumable folder.

Every point sees the same seed and replication ids (common random numbers), so differences
between points are the settings' doing. A point whose scenario is invalid, or whose runs raise,
becomes a recorded failure and the rest of the sweep goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..deprecation import deprecated
from ..errors import ScenarioError, ScenarioWarning, UsageError
from ..model import FunnelRecord
from ..results import KPI_NAMES
from ..scenario import Scenario, from_dict, override
from .baseline import SCENARIO, find_baseline, with_scenario_point
from .design import (
    as_design,
    check_keys,
    check_seed,
    plain,
    point_changes,
    with_scenario_types,
)
from .engine import Job, Outcome, check_options, execute
from .limits import MAX_POINTS, MAX_REPLICATIONS, check_count, check_runs
from .progress import one_bar
from .replications import uncertain_setup
from .stats import finite_or_none, group_ci
from .store import (
    DATABASE,
    FORMAT,
    KIND,
    StoredRun,
    SweepStore,
    normalize,
    open_store,
    read_manifest,
)

# The KPIs a notebook shows per point (`SweepResult.table` holds every KPI).
HEADLINE = ("revenue", "customers", "sla_attainment", "first_touch_hours_mean")

SEEDS_NOTE = (
    "replication r of every point draws from numpy SeedSequence(seed, spawn_key=(r, "
    "crc32(stream name))): the same seed and replication give the same random numbers at every "
    "point (common random numbers)"
)


@dataclass(frozen=True)
class SweepResult:
    """A finished (or resumed) sweep.

    ``points``: one row per point (index ``point``), one column per swept key, as given.
    ``kpis``: tidy, one row per point and replication: ``point``, the swept keys,
    ``replication``, ``seed``, then one column per KPI (``results``, its old name, still works
    for one release). ``failures``: ``point``, the swept keys, ``replication`` (empty when the
    point's scenario is invalid) and ``error``. ``warnings``: the sense-check warnings of each
    point's scenario. ``baseline``: the point every other is compared with (see `versus`), or
    None.
    """

    scenario: Scenario
    seed: int
    replications: int
    points: pd.DataFrame
    kpis: pd.DataFrame
    failures: pd.DataFrame
    warnings: dict[int, tuple[str, ...]] = field(default_factory=dict)
    out: Path | None = None
    computed: int = 0
    reused: int = 0
    baseline: int | None = None

    @property
    def results(self) -> pd.DataFrame:
        """Deprecated name of `kpis` (the same frame)."""
        deprecated("SweepResult.results", "SweepResult.kpis (as on RunResult)")
        return self.kpis

    @property
    def keys(self) -> list[str]:
        return [str(k) for k in self.points.columns]

    @property
    def ok(self) -> bool:
        """True when no point or replication failed."""
        return self.failures.empty

    @property
    def kpi_names(self) -> list[str]:
        skip = {"point", "replication", "seed", *self.keys}
        return [c for c in self.kpis.columns if c not in skip]

    def versus(self, baseline: Any) -> SweepResult:
        """The same sweep with every point compared with ``baseline``: a point id, a label
        such as ``"sales.reps=7"`` (or ``{"sales.reps": 7}``; keys not named match any value),
        or ``"scenario"``, the point at the scenario's own values (`sweep` adds it when asked
        with ``baseline="scenario"``). `table` and `per_point` then carry each point's paired
        difference from it, replication by replication on common random numbers."""
        return replace(self, baseline=find_baseline(baseline, self.scenario, self.points))

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """One row per point and KPI (index ``point``, ``kpi``): the swept keys, then ``mean``,
        ``ci_low``, ``ci_high`` (t interval at ``level``) and ``n`` (replications where the KPI
        is defined). With a `baseline`: ``diff`` (the point minus the baseline), its paired
        interval ``diff_ci_low`` .. ``diff_ci_high`` and ``diff_n`` (replications defined at
        both), exactly 0 at the baseline itself."""
        names = self.kpi_names
        long = self.kpis.melt(
            id_vars=["point", "replication"], value_vars=names, var_name="kpi"
        ).astype({"value": float})
        out = group_ci(long, ["point", "kpi"], level)
        if self.baseline is not None:
            base = long[long["point"] == self.baseline].drop(columns="point")
            paired = long.merge(base, on=["replication", "kpi"], suffixes=("", "_base"))
            paired["value"] = paired["value"] - paired["value_base"]
            diff = group_ci(paired, ["point", "kpi"], level)
            diff.columns = ["diff", "diff_ci_low", "diff_ci_high", "diff_n"]
            out = out.join(diff)
        index = pd.MultiIndex.from_product([self.points.index, names], names=["point", "kpi"])
        out = out.reindex(index)
        for c in ("n", "diff_n"):
            if c in out:
                out[c] = out[c].fillna(0).astype(int)
        for i, key in enumerate(self.keys):
            shown = [display(v) for v in self.points[key]]
            out.insert(i, key, [shown[p] for p in out.index.get_level_values("point")])
        return out

    def per_point(self, level: float = 0.95) -> pd.DataFrame:
        """The wide view (``summary.csv``): one row per point: ``point``, the swept keys, ``n``
        (replications that ran), then per KPI ``<kpi>_mean``, ``<kpi>_ci_low``,
        ``<kpi>_ci_high`` (and with a `baseline` ``<kpi>_diff``, ``<kpi>_diff_ci_low``,
        ``<kpi>_diff_ci_high``); and ``warnings``."""
        tidy = self.table(level)
        stats = ["mean", "ci_low", "ci_high"]
        if self.baseline is not None:
            stats += ["diff", "diff_ci_low", "diff_ci_high"]
        wide = tidy[stats].unstack("kpi")
        idx = pd.Index(self.points.index, name="point")
        runs = self.kpis.groupby("point").size().reindex(idx, fill_value=0)
        cols: dict[str, Any] = {"point": idx.to_numpy()}
        for key in self.keys:
            cols[key] = [display(v) for v in self.points[key]]
        cols["n"] = runs.to_numpy()
        for k in self.kpi_names:
            for stat in stats:
                cols[f"{k}_{stat}"] = wide[(stat, k)].reindex(idx).to_numpy()
        cols["warnings"] = ["; ".join(self.warnings.get(int(p), ())) for p in idx]
        return pd.DataFrame(cols)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Deprecated: the wide view, now `per_point`; `table` is the tidy one every result
        shares."""
        deprecated("SweepResult.summary()", "SweepResult.table() (tidy) or .per_point() (wide)")
        return self.per_point(level)

    def to_dict(self) -> dict:
        """The sweep as JSON: its settings, and per point its swept values, ``n`` and per KPI
        ``mean`` and ``ci95`` (with a baseline also ``diff`` and its paired ``diff_ci95``), and
        the failures; NaN as null."""
        table = self.table()
        points = []
        for p in self.points.index:
            rows = table.xs(p, level="point")
            kpis = {}
            for kpi, r in rows.iterrows():
                doc = {"mean": r["mean"], "ci95": [r["ci_low"], r["ci_high"]], "n": int(r["n"])}
                if self.baseline is not None:
                    doc.update(diff=r["diff"], diff_ci95=[r["diff_ci_low"], r["diff_ci_high"]])
                kpis[str(kpi)] = doc
            values = {k: _stored(self.points.loc[p, k]) for k in self.keys}
            points.append({"point": int(p), "values": values, "kpis": kpis})
        failures = self.failures.astype(object).where(self.failures.notna(), None)
        return finite_or_none(
            {
                "scenario": self.scenario.name,
                "seed": self.seed,
                "replications": self.replications,
                "swept_keys": self.keys,
                "baseline": self.baseline,
                "points": points,
                "failures": failures.to_dict(orient="records"),
            }
        )

    def _repr_html_(self) -> str:
        from ..formatting import html_table, unit_of

        shown = self.table()
        shown = shown[shown.index.get_level_values("kpi").isin(HEADLINE)]
        against = f"; diff against point {self.baseline}" if self.baseline is not None else ""
        return html_table(
            shown,
            f"{self.describe()}{against} (headline KPIs; .table() has all)",
            row_unit=lambda label: unit_of(str(label[1])),
            column_units={"diff_n": "count", **{k: "text" for k in self.keys}},
        )

    def describe(self) -> str:
        """One line: points, replications, runs computed now and reused from the folder."""
        where = f" in {self.out}" if self.out is not None else ""
        failed = f"; {len(self.failures)} failed" if not self.failures.empty else ""
        return (
            f"sweep of {self.scenario.name}: {len(self.points)} points x {self.replications} "
            f"replications, seed {self.seed}{where}: {self.computed} runs computed, "
            f"{self.reused} reused{failed}"
        )


@one_bar
def sweep(
    scenario: Scenario,
    points: Any,
    replications: int | None = None,
    seed: int | None = None,
    *,
    executor: Any = None,
    out: str | Path | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
    extra_kpis: Callable[[FunnelRecord], Mapping[str, float]] | None = None,
    parameter_uncertainty: bool = False,
    overwrite: bool = False,
    baseline: Any = None,
) -> SweepResult:
    """Run ``scenario`` at every design point for ``replications`` replications each.

    ``points``: a DataFrame (one column per dotted key, one row per point; None/NaN keeps the
    scenario's value), a grid ``{"sales.reps": [4, 5, 6], ...}`` (full factorial), or a list
    of ``{key: value}`` dicts; see also `grid_points`, `latin_hypercube`, `read_points`.
    ``replications`` and ``seed`` default to the scenario's ``[run]`` values.

    ``executor``: None runs serially here; or any `concurrent.futures`-style executor, a Dask
    client, or one from `open_executor`. Results never depend on it.

    ``out``: a folder. Each finished run is stored as it completes (in ``sweep.sqlite``);
    calling again with the same arguments on the same folder computes only what is missing, even
    after a kill at any moment, and a folder holding a different sweep, or files funnelsim did not
    write (unless ``overwrite``), is refused (`UsageError`). Two calls on one folder at once take
    turns. At the end it holds ``results.csv``, ``summary.csv``, ``failures.csv`` (Parquet copies
    with pyarrow) and ``manifest.json``, exported from the database.

    ``parameter_uncertainty``: replication r of every point runs on the same draw of the
    scenario's fitted parameters (as in `run`); a swept key is the point's own value, never
    drawn. The summary's intervals stay plain t intervals over the replications.

    ``baseline``: the point every other is compared with, replication by replication (see
    `SweepResult.versus`): a point id, a label ``"sales.reps=7"``, or ``"scenario"``, the
    scenario at its own values, added as a last point when no point is that already.
    """
    design = as_design(points)
    if isinstance(baseline, str) and baseline.strip() == SCENARIO:
        design = with_scenario_point(scenario, design)
    keys = [str(k) for k in design.columns]
    check_keys(scenario, keys)
    seed = check_seed(scenario.run.seed if seed is None else seed)
    reps = scenario.run.replications if replications is None else replications
    reps = check_count(reps, "--replications", MAX_REPLICATIONS)
    check_count(len(design), "the number of points", MAX_POINTS)
    check_runs(len(design) * reps, f"{len(design):,} points x {reps:,} replications")
    # Every option is checked before the folder is touched: a refused command leaves no trace.
    check_options(seed, executor, chunk_size, extra_kpis)
    pu = bool(parameter_uncertainty)
    if pu:
        uncertain_setup(scenario)
    design = with_scenario_types(scenario, design)
    design.index = pd.RangeIndex(len(design), name="point")
    base = find_baseline(baseline, scenario, design)

    scenarios, failures, notes = _point_scenarios(scenario, design)
    manifest = {
        "kind": KIND,
        "format": FORMAT,
        "funnelsim_version": _version(),
        "scenario": scenario.to_dict(),
        "swept_keys": keys,
        "points": normalize(
            [{k: _stored(v) for k, v in zip(keys, row, strict=True)} for row in design.values]
        ),
        "seed": seed,
        "replications": reps,
        "design": design.attrs.get("design") or {"kind": "points"},
        "seeds": SEEDS_NOTE,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if pu:
        manifest["parameter_uncertainty"] = True
    options = dict(
        executor=executor,
        chunk_size=chunk_size,
        extra_kpis=extra_kpis,
        capture_errors=True,
        progress=progress,
        desc=f"sweep {scenario.name}",
    )
    if out is None:
        outcomes = execute(
            [Job(p, s, tuple(range(reps)), pu, tuple(keys)) for p, s in scenarios.items()],
            seed,
            **options,
        )
        result = _result(scenario, seed, reps, design, outcomes, {}, failures, notes, None)
        return replace(result, baseline=base)

    folder = Path(out)
    with open_store(folder, manifest, overwrite) as store:
        stored = {k: v for k, v in store.done.items() if k[0] in scenarios and k[1] < reps}
        jobs = [
            Job(p, s, missing, pu, tuple(keys))
            for p, s in scenarios.items()
            if (missing := tuple(r for r in range(reps) if (p, r) not in stored))
        ]

        def save(outcomes: list[Outcome]) -> None:
            store.append(
                StoredRun(o.key, o.replication, o.kpis) for o in outcomes if o.kpis is not None
            )

        outcomes = execute(jobs, seed, on_outcomes=save, **options)
        result = _result(scenario, seed, reps, design, outcomes, stored, failures, notes, folder)
        result = replace(result, baseline=base)
        _write_folder(result, store)
    return result


def load_sweep(folder: str | Path) -> SweepResult:
    """A sweep folder's results read back (after `sweep` or ``funnelsim sweep`` finished)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("kind") != KIND:
        raise UsageError(f"{folder} holds no funnelsim sweep (no {folder / DATABASE})")
    try:
        results = pd.read_csv(folder / "results.csv")
        failures = pd.read_csv(
            folder / "failures.csv", dtype={"error": str, "replication": "Int64"}
        )
    except FileNotFoundError as exc:
        raise UsageError(
            f"{folder}: the sweep has not finished ({exc.filename} is missing); rerun its command"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        scenario = from_dict(manifest["scenario"], source=str(folder / "manifest.json"))
    keys = manifest["swept_keys"]
    points = pd.DataFrame.from_records(manifest["points"], columns=keys).astype(object)
    points.index = pd.RangeIndex(len(points), name="point")
    notes = {int(k): tuple(v) for k, v in manifest.get("warnings", {}).items()}
    return SweepResult(
        scenario,
        int(manifest["seed"]),
        int(manifest["replications"]),
        points,
        results,
        failures,
        notes,
        folder,
        0,
        len(results),
        manifest.get("baseline"),
    )


def display(value: Any) -> Any:
    """A swept value for a table cell: scalars as they are, tables and lists as JSON text."""
    value = plain(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _point_scenarios(
    scenario: Scenario, design: pd.DataFrame
) -> tuple[dict[int, Scenario], list[dict[str, Any]], dict[int, tuple[str, ...]]]:
    scenarios: dict[int, Scenario] = {}
    failures: list[dict[str, Any]] = []
    notes: dict[int, tuple[str, ...]] = {}
    for p, changes in enumerate(point_changes(design)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            try:
                scenarios[p] = override(scenario, changes) if changes else scenario
            except ScenarioError as exc:
                failures.append({"point": p, "replication": None, "error": str(exc)})
        found = tuple(str(w.message) for w in caught if issubclass(w.category, ScenarioWarning))
        if found:
            notes[p] = found
    return scenarios, failures, notes


def _result(
    scenario: Scenario,
    seed: int,
    reps: int,
    design: pd.DataFrame,
    outcomes: list[Outcome],
    stored: Mapping[tuple[int, int], dict[str, float]],
    invalid: list[dict[str, Any]],
    notes: dict[int, tuple[str, ...]],
    folder: Path | None,
) -> SweepResult:
    keys = [str(k) for k in design.columns]
    rows = [(p, r, kpis) for (p, r), kpis in stored.items()]
    rows += [(o.key, o.replication, o.kpis) for o in outcomes if o.kpis is not None]
    rows.sort(key=lambda t: (t[0], t[1]))
    extra = [k for k in dict.fromkeys(k for *_, kp in rows for k in kp) if k not in KPI_NAMES]
    names = list(KPI_NAMES) + extra
    shown = {k: [display(v) for v in design[k]] for k in keys}
    cols: dict[str, Any] = {"point": [p for p, _, _ in rows]}
    for k in keys:
        cols[k] = [shown[k][p] for p, _, _ in rows]
    cols["replication"] = [r for _, r, _ in rows]
    cols["seed"] = [seed] * len(rows)
    for name in names:
        cols[name] = [kp.get(name, math.nan) for *_, kp in rows]
    results = pd.DataFrame(cols, columns=["point", *keys, "replication", "seed", *names])
    fails = list(invalid) + [
        {"point": o.key, "replication": o.replication, "error": o.error}
        for o in outcomes
        if o.kpis is None
    ]
    fails.sort(key=lambda f: (f["point"], -1 if f["replication"] is None else f["replication"]))
    failures = pd.DataFrame(
        {
            "point": pd.array([f["point"] for f in fails], dtype="int64"),
            **{k: [shown[k][f["point"]] for f in fails] for k in keys},
            "replication": pd.array([f["replication"] for f in fails], dtype="Int64"),
            "error": [f["error"] for f in fails],
        },
        columns=["point", *keys, "replication", "error"],
    )
    computed = sum(1 for o in outcomes if o.kpis is not None)
    return SweepResult(
        scenario,
        seed,
        reps,
        design,
        results,
        failures,
        notes,
        folder,
        computed,
        len(stored),
    )


def _write_folder(result: SweepResult, store: SweepStore) -> None:
    """Export the tables (still under the folder's lock, so concurrent runs never race)."""
    store.write_table(result.kpis, "results")
    store.write_table(result.per_point(), "summary")
    store.write_table(result.failures.astype({"error": str}), "failures")
    store.finish(
        {
            "replications": result.replications,
            "runs": len(result.kpis),
            "failures": len(result.failures),
            "warnings": {str(p): list(w) for p, w in result.warnings.items()},
            "baseline": result.baseline,
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )


def _stored(value: Any) -> Any:
    v = plain(value)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def _version() -> str:
    from .. import __version__

    return __version__
