"""The funnel: mean count per stage with CI whiskers, and the conversion from stage to stage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..experiment.stats import mean_ci
from . import style
from ._data import labelled, require_columns

# KPI column -> the stage name a leader uses.
STAGES: dict[str, str] = {
    "prospects": "Prospects",
    "mqls": "MQLs",
    "mqls_accepted": "Accepted",
    "mqls_worked": "Worked",
    "sqls": "SQLs",
    "opportunities": "Opportunities",
    "customers": "Customers",
}


def funnel_table(data: Any, stages: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """The numbers behind `funnel`: one row per (scenario, stage) with ``mean``, ``ci_low``,
    ``ci_high`` (t interval over replications) and ``conversion`` (mean of this stage / mean of
    the previous stage; NaN for the first)."""
    stages = list(stages or STAGES)
    frames = labelled(data, lambda r: r.kpis, _as_frame)
    rows = []
    for label, kpis in frames.items():
        require_columns(kpis, stages, "the funnel chart")
        prev = np.nan
        for stage in stages:
            mean, lo, hi, _ = mean_ci(kpis[stage].to_numpy(float), level)
            rows.append(
                {
                    "scenario": label,
                    "stage": stage,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "conversion": mean / prev if prev else np.nan,
                }
            )
            prev = mean
    return pd.DataFrame(rows)


def funnel(
    data: Any,
    *,
    stages: list[str] | None = None,
    level: float = 0.95,
    log: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Bars of the mean count at each funnel stage, grouped by scenario, with whiskers for the
    ``level`` confidence interval, each labelled with its count and its conversion from the
    previous stage.

    ``data``: a `RunResult`, a `Comparison`, a replications x KPI DataFrame (columns named as the
    KPIs: prospects, mqls, ...), or a mapping label -> any of those. ``log`` puts counts on a log
    scale so that customers stay visible next to prospects. Returns the Figure.
    """
    table = funnel_table(data, stages, level)
    stages = list(dict.fromkeys(table["stage"]))
    labels = list(dict.fromkeys(table["scenario"]))
    colors = style.series_colors(labels)
    fig, ax = style.new_axes(ax)
    n = len(labels)
    width = 0.8 / n
    x = np.arange(len(stages))
    for i, label in enumerate(labels):
        part = table[table["scenario"] == label]
        mean = part["mean"].to_numpy(float)
        lo = part["ci_low"].to_numpy(float)
        hi = part["ci_high"].to_numpy(float)
        yerr = np.vstack([mean - lo, hi - mean])
        xs = x - 0.4 + width * (i + 0.5)
        ax.bar(
            xs,
            mean,
            width * 0.92,
            color=colors[label],
            label=label or None,
            yerr=np.nan_to_num(yerr),
            error_kw={"ecolor": style.INK, "capsize": 4, "elinewidth": 1.2},
        )
        for xi, m, top, conv in zip(xs, mean, hi, part["conversion"], strict=True):
            text = style.count_short(m) + ("" if np.isnan(conv) else f"\n{conv:.0%}")
            ax.annotate(
                text,
                (xi, np.nanmax([m, top])),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=style.NOTE_SIZE - (1 if n > 2 else 0),
                color=style.INK,
            )
    ax.set_xticks(x, [STAGES.get(s, style.pretty(s)) for s in stages])
    if log:
        ax.set_yscale("log")
        top = np.nanmax(table["ci_high"].fillna(table["mean"]))
        bottom = max(np.nanmin(table["mean"][table["mean"] > 0]) / 3, 0.5)
        ax.set_ylim(bottom, top * 6)  # headroom for the two-line labels on a log axis
    else:
        ax.set_ylim(0, np.nanmax(table["ci_high"].fillna(table["mean"])) * 1.2)
    ax.yaxis.set_major_formatter(style.formatter("count"))
    style.finish(
        ax,
        title="The funnel, stage by stage",
        subtitle=f"Mean per cohort, {level:.0%} CI whiskers; % = share of the previous stage",
        ylabel="Leads per cohort" + (" (log scale)" if log else ""),
        legend=n > 1,
    )
    return fig


def _as_frame(obj: Any) -> pd.DataFrame:
    if isinstance(obj, pd.Series):
        return obj.to_frame().T
    return pd.DataFrame(obj)
