"""Fit a scenario to a CRM export: read it, check it, fit every stage, and assemble the result."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..experiment.stats import json_number
from ..scenario import Scenario
from .arrivals import fit_arrivals, fit_channels
from .columns import BUILT_IN, GENERIC, ColumnMap, read_column_map
from .decay import DecayFit
from .estimates import Block, Parameter
from .export import Export, read_export
from .scenario_file import (
    build_scenario,
    scenario_data,
    toml_text,
    uncertainty_data,
)
from .stages import Fits, fit_stages
from .team import fit_team, touches, workload_reps

FORMATS = ("generic", "hubspot", "salesforce", "leadforge")


@dataclass(frozen=True)
class Calibration:
    """A fitted scenario and how it was fitted.

    ``scenario`` validates and runs like any other (with its ``[uncertainty]`` section);
    ``parameters`` maps dotted keys to `Parameter` (estimate, 95% CI, n, method; a distribution
    also as ``<key>.mean`` and ``<key>.median``); ``aic`` lists every candidate family of every
    delay; ``decay_profile`` is the profile likelihood of ``decay_tau_hours`` (None when the
    decay could not be fitted); ``warnings`` lists rows dropped or fixed, ``notes`` the keys the
    data could not identify and why.
    """

    export: Export = field(repr=False)
    scenario: Scenario
    parameters: dict[str, Parameter]
    blocks: tuple[Block, ...]
    aic: pd.DataFrame
    decay: DecayFit | None
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    text: str = field(repr=False)

    @property
    def decay_profile(self) -> pd.DataFrame | None:
        return None if self.decay is None else self.decay.profile

    def decay_figure(self):
        """The profile likelihood of ``decay_tau_hours`` (a matplotlib Figure)."""
        from .charts import decay_figure

        return decay_figure(self)

    def table(self) -> pd.DataFrame:
        """One row per reported key: value, ci_low, ci_high, n, naive (ignoring censoring),
        fitted, method."""
        rows = []
        for key, p in self.parameters.items():
            if isinstance(p.value, dict | list) and key != "handoff.rejection_reasons":
                value: Any = p.value if not isinstance(p.value, dict) else _spec_text(p.value)
            else:
                value = p.value
            rows.append(
                {
                    "key": key,
                    "value": value,
                    "ci_low": p.ci95[0] if p.ci95 else np.nan,
                    "ci_high": p.ci95[1] if p.ci95 else np.nan,
                    "n": p.n,
                    "naive": np.nan if p.naive is None else p.naive,
                    "fitted": p.fitted,
                    "method": p.method,
                }
            )
        return pd.DataFrame(rows).set_index("key")

    def _repr_html_(self) -> str:
        from ..formatting import html_table

        return html_table(
            self.table(),
            f"{self.scenario.name}: fitted to {self.export.n:,} leads as of {self.export.as_of}",
            column_units={"value": "fit", "ci_low": "fit", "ci_high": "fit", "naive": "fit"},
        )

    def to_dict(self) -> dict:
        """The contract's ``calibrate --json`` document."""
        params = {}
        for key, p in self.parameters.items():
            if isinstance(p.value, dict) and "dist" in p.value:
                continue  # reported by its .mean and .median
            entry = {
                "value": _plain(p.value),
                "ci95": None
                if p.ci95 is None
                else [json_number(p.ci95[0]), json_number(p.ci95[1])],
                "n": int(p.n),
                "method": p.method,
            }
            if not p.fitted:
                entry["fitted"] = False
            if p.naive is not None:
                entry["naive"] = json_number(p.naive)
            params[key] = entry
        return {
            "as_of": self.export.as_of.isoformat(),
            "leads": self.export.n,
            "scenario": _plain(self.scenario.to_dict()),
            "parameters": params,
            "aic": _plain(self.aic.to_dict(orient="records")),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }

    def write(self, path: str | Path) -> Path:
        """Write the fitted scenario (with its uncertainty section) to ``path``."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--out {path}: cannot write the file ({exc.strerror})") from None
        return path


def _spec_text(spec: dict) -> str:
    from ..formatting import significant

    return ", ".join(
        f"{k}={significant(v)}" if isinstance(v, float) else f"{k}={v}" for k, v in spec.items()
    )


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, float | np.floating):
        return json_number(float(v))
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def column_map(format: str = "generic", columns: str | Path | None = None) -> ColumnMap:
    """The built-in map for ``format``, with a ``--columns`` file laid over it."""
    if format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (given: {format!r})")
    base = BUILT_IN.get(format, GENERIC)
    return read_column_map(columns, base) if columns is not None else base


def load_export(
    export: str | Path,
    *,
    activities: str | Path | None = None,
    format: str = "generic",
    columns: str | Path | None = None,
    as_of: str | None = None,
) -> Export:
    """Read and check an export in any supported format; see `calibrate`."""
    as_of_ts = parse_date(as_of, "--as-of", end_of_day=True)
    if format == "leadforge":
        if columns is not None:
            raise UsageError("--columns does not apply to --format leadforge (a bundle's tables)")
        from .leadforge import read_bundle

        return read_bundle(export, as_of=as_of_ts)
    cmap = column_map(format, columns)
    return read_export(export, columns=cmap, activities=activities, as_of=as_of_ts)


def parse_date(value: str | None, option: str, end_of_day: bool = False) -> pd.Timestamp | None:
    """A date option as a timestamp (`UsageError` naming the option when it is not one). With
    ``end_of_day`` a date alone means the end of that day (a snapshot taken that evening)."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise UsageError(f"{option}: not a date (given: {value!r}; e.g. 2029-06-30)")
    if end_of_day and len(str(value)) <= 10:
        return ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return ts


def calibrate(
    export: str | Path | Export,
    *,
    activities: str | Path | None = None,
    format: str = "generic",
    columns: str | Path | None = None,
    as_of: str | None = None,
    base: Scenario | None = None,
    name: str | None = None,
) -> Calibration:
    """Fit a scenario to a CRM export and return a `Calibration`.

    ``export``: a CSV file in the generic format (or, with ``format``, a HubSpot or Salesforce
    export, or the folder of a leadforge bundle), or an `Export` already read. ``activities``:
    a CSV with one row per sales attempt. ``columns``: a MAP.toml naming your headers.
    ``as_of``: the snapshot date (default: the export's latest timestamp); events after it are
    taken as not yet happened. ``base``: a scenario whose values the keys the data cannot
    identify keep (default: the neutral values). Raises `UsageError` (exit 2) for a malformed
    export, naming the file, line and column.
    """
    e = (
        export
        if isinstance(export, Export)
        else load_export(export, activities=activities, format=format, columns=columns, as_of=as_of)
    )
    return fit_export(e, base=base, name=name)


def fit_export(e: Export, *, base: Scenario | None = None, name: str | None = None) -> Calibration:
    """Fit every stage of a checked export (see `calibrate`)."""
    if e.n < 30:
        raise UsageError(f"{e.path}: {e.n} leads; calibrating needs at least 30")
    fits = Fits()
    t = touches(e)
    fit_arrivals(e, fits)
    fit_stages(e, fits, t)
    fit_channels(e, fits)
    fit_team(e, fits, t)
    mqls_week = _mqls_per_week(fits)
    reps_fallback = workload_reps(fits, mqls_week)
    if "sales.reps" not in fits.parameters:
        fits.add(
            Parameter(
                "sales.reps",
                reps_fallback,
                None,
                0,
                "no owners in the export: enough reps that capacity does not bind (about half "
                "busy)",
                fitted=False,
            )
        )
    stem = Path(e.path).stem or "export"
    label = name or f"fitted-{stem}"
    start = (e.as_of.normalize() + pd.Timedelta(days=1)).date()
    description = (
        f"Fitted by funnelsim calibrate to {Path(e.path).name}: {e.n:,} leads as of "
        f"{e.as_of:%Y-%m-%d %H:%M}"
    )
    data = scenario_data(
        fits.parameters,
        name=label,
        description=description,
        start_date=start,
        reps_fallback=reps_fallback,
        base=base,
    )
    unc = uncertainty_data(fits.blocks, data, Path(e.path).name)
    data["uncertainty"] = unc
    scenario = build_scenario(data, e.path)
    header = [
        f"Fitted by funnelsim calibrate from {e.path} ({e.n:,} leads, snapshot {e.as_of}).",
        "Every fitted number's comment gives its 95% CI, n and method; 'not fitted' keeps a",
        "neutral or preset value and says why. Keys not written keep their neutral value",
        "(the export cannot identify them: score_strength, queue, sla_hours, nurture, feedback,",
        "context, costs).",
    ]
    text = toml_text(
        {k: v for k, v in data.items() if k != "uncertainty"}, fits.parameters, header, unc
    )
    aic = pd.DataFrame(fits.aic, columns=["delay", "family", "aic", "chosen"])
    return Calibration(
        e,
        scenario,
        dict(fits.parameters),
        tuple(fits.blocks),
        aic,
        fits.decay,
        tuple(e.warnings),
        tuple(e.notes) + tuple(fits.notes),
        text,
    )


def _mqls_per_week(fits: Fits) -> float:
    p = fits.parameters.get("arrivals.prospects_per_week")
    rate = fits.parameters.get("marketing.mql_rate")
    if p is None:
        return 0.0
    r = 1.0 if rate is None or not isinstance(rate.value, float | int) else float(rate.value)
    return float(p.value) * (r if math.isfinite(r) else 1.0)
