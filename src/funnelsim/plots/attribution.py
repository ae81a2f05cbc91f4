"""Lever attribution as a waterfall: from the baseline's revenue, lever by lever, to the
alternative's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import UsageError
from . import style


def waterfall_steps(
    contributions: Any,
    *,
    start: float | None = None,
    total: float | None = None,
    sort: bool = True,
) -> pd.DataFrame:
    """The bars of `waterfall`, one row each, with ``label``, ``bottom``, ``height`` and
    ``kind`` (``start``, ``step`` or ``end``). A ``residual`` step is added when ``total``
    differs from the sum of the contributions."""
    series = _contributions(contributions)
    if total is None:
        total = getattr(contributions, "total", None)
    if sort:
        series = series.reindex(series.abs().sort_values(ascending=False).index)
    gap = float(series.sum())
    if total is not None and not np.isclose(float(total), gap, rtol=1e-9, atol=1e-6):
        series = pd.concat([series, pd.Series({"residual": float(total) - gap})])
        gap = float(total)
    level = 0.0 if start is None else float(start)
    rows = []
    if start is not None:
        rows.append({"label": "Baseline", "bottom": 0.0, "height": level, "kind": "start"})
    for label, value in series.items():
        rows.append({"label": str(label), "bottom": level, "height": float(value), "kind": "step"})
        level += float(value)
    end = "Alternative" if start is not None else "Total change"
    rows.append({"label": end, "bottom": 0.0, "height": level, "kind": "end"})
    return pd.DataFrame(rows)


def waterfall(
    contributions: Any,
    *,
    start: float | None = None,
    total: float | None = None,
    labels: tuple[str, str] | None = None,
    sort: bool = True,
    unit: str = "currency",
    ax: Axes | None = None,
) -> Figure:
    """A waterfall of each lever's contribution to a KPI change (revenue by default).

    ``contributions``: a Series lever -> contribution (or an object with a ``.contributions``
    Series and ``.total``, such as an attribution result). With ``start`` (the baseline's
    level) the chart runs from the baseline bar to the alternative bar; without it, from zero to
    the total change. ``labels`` renames the first and last bars, e.g. ``("siloed",
    "aligned")``. ``sort`` orders levers by size. Returns the Figure.
    """
    steps = waterfall_steps(contributions, start=start, total=total, sort=sort)
    if labels is not None:
        names = list(steps["label"])
        if start is not None:
            names[0] = labels[0]
        names[-1] = labels[-1]
        steps["label"] = names
    fig, ax = style.new_axes(ax)
    x = np.arange(len(steps))
    colors = [
        style.NEUTRAL if kind != "step" else (style.POSITIVE if height >= 0 else style.NEGATIVE)
        for kind, height in zip(steps["kind"], steps["height"], strict=True)
    ]
    ax.bar(x, steps["height"], bottom=steps["bottom"], color=colors, width=0.65)
    tops = steps["bottom"] + steps["height"]
    for i in range(len(steps) - 1):
        # Connectors carry the running level from one bar to the next.
        level = tops.iloc[i]
        ax.plot([i + 0.33, i + 0.67], [level, level], color=style.GUIDE, linewidth=1)
    span = float(np.ptp(np.r_[0.0, tops, steps["bottom"]])) or 1.0
    for i, row in steps.iterrows():
        value = row["height"]
        text = style.fmt_value(value, unit)
        if row["kind"] == "step" and unit == "currency":
            text = style.signed_money(value)
        top = max(row["bottom"], row["bottom"] + value)
        ax.annotate(
            text,
            (i, top + span * 0.01),
            ha="center",
            va="bottom",
            fontsize=style.NOTE_SIZE + 1,
            color=style.INK,
        )
    lowest = min(0.0, float(np.min(np.r_[tops, steps["bottom"]])))
    highest = max(0.0, float(np.max(np.r_[tops, steps["bottom"]])))
    ax.set_ylim(lowest - (span * 0.05 if lowest < 0 else 0), highest + span * 0.1)
    ax.set_xticks(x, [_wrap(s) for s in _display_names(list(steps["label"]))])
    ax.axhline(0, color=style.INK, linewidth=0.8)
    ax.yaxis.set_major_formatter(style.formatter(unit))
    gap = steps["height"][steps["kind"] == "step"].sum()
    style.finish(
        ax,
        title="Where the difference comes from",
        subtitle=f"Each lever's share of the {style.fmt_value(gap, unit)} change "
        "(Shapley values: the levers' interactions shared fairly)",
        ylabel="Revenue per cohort" if unit == "currency" else None,
    )
    return fig


def _contributions(obj: Any) -> pd.Series:
    series = getattr(obj, "contributions", obj)
    if isinstance(series, dict):
        series = pd.Series(series, dtype=float)
    if not isinstance(series, pd.Series):
        raise UsageError(
            "waterfall needs a Series of lever -> contribution, or an object with .contributions"
        )
    if series.empty:
        raise UsageError("waterfall: there are no contributions to draw (no lever differs)")
    return series.astype(float)


def _display_names(labels: list[str]) -> list[str]:
    # "sales.sla_hours" reads as "SLA hours" on a slide, unless two levers would then look alike.
    short = [style.pretty(s.rsplit(".", 1)[-1]) for s in labels]
    return short if len(set(short)) == len(short) else [style.pretty(s) for s in labels]


def _wrap(label: str, width: int = 14) -> str:
    # Long lever names are wrapped so that bar labels never overlap.
    words = label.split()
    lines, line = [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)
