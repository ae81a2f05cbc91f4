"""Human-readable numbers and tables for terminals and notebooks."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from html import escape
from numbers import Real
from typing import Any

import pandas as pd

from .results import UNITS


def fmt(value: float, unit: str) -> str:
    """A number as a reader expects it for its unit: 35.2%, $1.24M, 4.2 h, 1,234.5."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "rate":
        return f"{value:.1%}"
    if unit == "currency":
        return money(value)
    if unit == "hours":
        return f"{value:,.2f} h"
    if unit == "days":
        return f"{value:,.1f} d"
    if unit == "count":
        return f"{value:,.1f}" if value != round(value) else f"{value:,.0f}"
    return f"{value:,.2f}"


def money(value: float) -> str:
    sign = "-" if value < 0 else ""
    v = abs(value)
    for cut, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= cut:
            return f"{sign}${v / cut:,.2f}{suffix}"
    return f"{sign}${v:,.0f}"


def unit_of(kpi: str) -> str:
    return UNITS.get(kpi, "number")


# Speed to lead on one yardstick for every scenario (wall clock, share of accepted MQLs): shown
# first wherever scenarios are compared; sla_attainment is each team's own promise.
SHARED_SPEED = (
    "first_touch_within_5m_share",
    "first_touch_within_1h_share",
    "first_touch_within_24h_share",
    "never_touched_share",
    "first_touch_hours_mean",
)


def own_sla(sla_hours: float, sla_clock: str) -> str:
    """How a team's own SLA reads: "1 h, business clock"."""
    return f"{sla_hours:g} h, {sla_clock} clock"


def sla_label(*slas: tuple[float, str]) -> str:
    """The sla_attainment row's label: against each team's own SLA (one or two teams)."""
    texts = [own_sla(h, c) for h, c in slas]
    if len(set(texts)) == 1:
        return f"sla_attainment (against its own SLA of {texts[0]})"
    return f"sla_attainment (each against its own SLA: {' vs '.join(texts)})"


def shared_yardsticks_first(index) -> list:
    """The KPI names reordered: the shared speed-to-lead yardsticks first, then the rest."""
    names = list(index)
    return [k for k in SHARED_SPEED if k in names] + [k for k in names if k not in SHARED_SPEED]


def summary_text_frame(summary: pd.DataFrame, sla: tuple[float, str] | None = None) -> pd.DataFrame:
    """A run summary with every number formatted for its unit; with ``sla`` (hours, clock) the
    sla_attainment row says whose promise it measures."""
    rows = []
    for kpi, r in summary.iterrows():
        u = unit_of(str(kpi))
        rows.append(
            {
                "kpi": sla_label(sla) if kpi == "sla_attainment" and sla else kpi,
                "mean": fmt(r["mean"], u),
                "95% CI": f"[{fmt(r['ci_low'], u)}, {fmt(r['ci_high'], u)}]",
            }
        )
    return pd.DataFrame(rows).set_index("kpi")


def share_text_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Per KPI, the parameters' share of the variance (runs with parameter uncertainty)."""
    shares = table["parameter_share"]
    return pd.DataFrame({"from parameters": [fmt(v, "rate") for v in shares]}, index=shares.index)


def comparison_text_frame(
    table: pd.DataFrame, slas: tuple[tuple[float, str], tuple[float, str]] | None = None
) -> pd.DataFrame:
    """A comparison table with formatted numbers; '*' marks a CI that excludes zero. The shared
    speed-to-lead yardsticks come first; with ``slas`` (each scenario's sla_hours and
    sla_clock) the sla_attainment row is labelled as each team's own promise. When some KPI is
    defined in fewer replications than others, an ``n`` column says over how many paired
    replications each row's means are taken."""
    rows = []
    table = table.loc[shared_yardsticks_first(table.index)]
    for kpi, r in table.iterrows():
        u = unit_of(str(kpi))
        diff_unit = "number" if u == "rate" else u
        if not math.isfinite(r["diff"]):
            diff, ci = "-", "-"
        elif u == "rate":
            diff = f"{r['diff'] * 100:+.1f} pts"
            ci = f"[{r['ci_low'] * 100:+.1f}, {r['ci_high'] * 100:+.1f}]"
        else:
            diff = fmt(r["diff"], diff_unit)
            ci = f"[{fmt(r['ci_low'], diff_unit)}, {fmt(r['ci_high'], diff_unit)}]"
        # A change relative to a baseline at or below zero (a loss) has no meaningful sign.
        rel = r["relative"]
        rel = "-" if not math.isfinite(rel) or not r["baseline"] > 0 else f"{rel:+.1%}"
        rows.append(
            {
                "kpi": sla_label(*slas) if kpi == "sla_attainment" and slas else kpi,
                "baseline": fmt(r["baseline"], u),
                "alternative": fmt(r["alternative"], u),
                "diff": diff,
                "95% CI (paired)": ci,
                "relative": rel,
                "": "*" if r["significant"] else "",
            }
        )
    out = pd.DataFrame(rows).set_index("kpi")
    if "n" in table.columns and table["n"].nunique() > 1:
        out["n"] = [f"{int(n)}" for n in table["n"]]
    return out


# The period report's shares: every one printed as a percentage (a count's mean keeps one decimal).
PERIOD_SHARES = (
    "commitment_attainment",
    "acceptance_rate",
    "sla_attainment",
    "attempts_attainment",
)


def period_text_frame(periods: pd.DataFrame) -> pd.DataFrame:
    """A period report with counts rounded to one decimal, every share as a percentage and
    revenue as money; "-" where a value is undefined (no commitment, no MQLs, a stage over)."""
    out = pd.DataFrame(index=periods.index.strftime("%Y-%m-%d"))
    out.index.name = "period"
    for col in periods.columns:
        values = periods[col].to_numpy()
        if col in PERIOD_SHARES:
            out[col] = [fmt(v, "rate") for v in values]
        elif col == "revenue":
            out[col] = [fmt(v, "currency") for v in values]
        elif col != "sla_met":
            out[col.replace("rejected_", "rej_")] = [
                "-" if math.isnan(v) else f"{v:,.1f}" for v in values
            ]
    return out


def volume(value: float) -> str:
    """A volume such as prospects/week: whole numbers from 10 up (1,234), three significant
    digits below (3.71, 0.0425), so a small quota never prints as 0."""
    if not math.isfinite(value):
        return "unreachable" if value > 0 else "-"
    if abs(value) >= 10:
        return f"{value:,.0f}"
    return f"{value:.3g}"


# Columns whose unit is the same whatever the row: counts of replications, shares, changes.
COLUMN_UNITS = {
    "n": "count",
    "replications": "count",
    "draws": "count",
    "relative": "change",
    "share": "rate",
    "parameter_share": "rate",
    "significant": "flag",
}


def display_frame(
    frame: pd.DataFrame,
    row_unit: Callable[[Any], str] | None = None,
    column_units: Mapping[str, str] | None = None,
    unit: str | None = None,
) -> pd.DataFrame:
    """``frame`` with every number written for its unit, for people (``fs.formatted``).

    A cell's unit is ``column_units[column]`` (then `COLUMN_UNITS`: ``n``, ``relative``, ...),
    else ``row_unit(row label)``, else the KPI's unit when the row or the column is named by a
    KPI (``revenue`` as money, rates as percentages, ``_hours`` as hours), else ``unit`` for
    the whole frame, else a plain number. Text stays as it is, NaN shows as "-". Units are
    those of `fmt`, plus ``change`` (a signed percentage), ``fit`` (four significant digits) and
    ``flag`` (True as "*"). Returns a new frame of strings, same index and columns."""
    units = {**COLUMN_UNITS, **(column_units or {})}
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        fixed = units.get(str(col))
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        cells = []
        for label, v in values.items():
            if not (numeric or fixed or _is_number(v)):  # text, flags, tables in a mixed column
                cells.append(_text(v))
                continue
            if fixed:
                u = fixed
            elif row_unit is not None:
                u = row_unit(label)
            else:
                u = _named_unit(label, col) or unit or "number"
            cells.append(_cell(v, u))
        out[col] = cells
    return out


def _named_unit(label: Any, column: Any) -> str | None:
    """The unit of a KPI named by the row (the last level of a MultiIndex) or by the column."""
    name = str(label[-1] if isinstance(label, tuple) else label)
    return UNITS.get(name) or UNITS.get(str(column))


def html_table(
    frame: pd.DataFrame,
    caption: str = "",
    row_unit: Callable[[Any], str] | None = None,
    column_units: Mapping[str, str] | None = None,
) -> str:
    """A result table as notebook HTML: formatted numbers (see `display_frame`), at most
    pandas' ``display.max_rows`` rows, under an optional caption (every result's
    ``_repr_html_``)."""
    shown = display_frame(frame, row_unit, column_units)
    html = shown.to_html(max_rows=pd.get_option("display.max_rows"), escape=True)
    if caption:
        html = f"<p><b>{escape(caption)}</b></p>\n{html}"
    return html


def significant(value: float) -> str:
    """A fitted parameter: four significant digits below 1,000 (0.2969, 38.76), whole numbers
    with separators above (30,000), never an exponent."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _text(value: Any) -> str:
    """A non-numeric cell: text as it is, a table or list with its numbers shortened."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if _is_number(value):
        return _cell(value, "fit")
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _cell(value: Any, unit: str) -> str:
    if unit == "flag":
        return "*" if value is True or (not pd.isna(value) and value is not False and value) else ""
    if value is None or isinstance(value, bool) or not isinstance(value, Real):
        return "-" if value is None or value is pd.NA else str(value)
    value = float(value)
    if not math.isfinite(value):
        return "-" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if unit == "change":
        return f"{value:+.1%}"
    if unit == "fit":
        return significant(value)
    return fmt(value, unit)
