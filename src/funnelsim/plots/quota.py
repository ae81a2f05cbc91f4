"""Quota sizing: the chance of hitting the revenue target against the lead volume bought."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import style
from ._data import require_columns


def quota_curve(
    table: Any,
    *,
    confidence: float | None = None,
    chosen: float | None = None,
    target: float | None = None,
    x: str = "prospects_per_week",
    y: str = "p_hit",
    ax: Axes | None = None,
) -> Figure:
    """The probability of reaching the revenue target at each candidate volume, with the
    required ``confidence`` as a horizontal line and the ``chosen`` volume marked.

    ``table``: one row per candidate volume, column ``x`` (prospects per week) and column ``y``
    (the hit probability, 0-1); optional ``ci_low`` and ``ci_high`` columns draw an uncertainty
    band. Or a quota plan (an object with ``.search``, as `funnelsim.quota` returns): its
    candidates at the plan's rep count (not the pilot's), with Wilson intervals, and its
    confidence, volume and target as defaults. ``target`` (revenue) only goes into the
    subtitle. Returns the Figure.
    """
    if not isinstance(table, pd.DataFrame) and hasattr(table, "search"):
        plan = table
        confidence = plan.confidence if confidence is None else confidence
        chosen = plan.prospects_per_week if chosen is None else chosen
        target = plan.target_revenue if target is None else target
        table = _plan_table(plan, x, y)
    require_columns(table, [x, y], "the quota chart")
    data = table.sort_values(x)
    fig, ax = style.new_axes(ax)
    colour = style.PALETTE[0]
    if {"ci_low", "ci_high"} <= set(data.columns):
        ax.fill_between(
            data[x], data["ci_low"], data["ci_high"], color=colour, alpha=0.2, linewidth=0
        )
    ax.plot(data[x], data[y], marker="o", color=colour, linewidth=2.5, markersize=7)
    if confidence is not None:
        style.guide(
            ax, confidence, f"required confidence {confidence:.0%}", vertical=False, linewidth=1.8
        )
    if chosen is not None and np.isfinite(chosen):
        ax.axvline(chosen, color=style.PALETTE[3], linewidth=2)
        p = np.interp(chosen, data[x].to_numpy(float), data[y].to_numpy(float))
        ax.scatter([chosen], [p], s=120, color=style.PALETTE[3], zorder=4)
        # Label on the side with room: the chosen volume is often the largest one tried.
        left = chosen > float(np.mean([data[x].min(), data[x].max()]))
        ax.annotate(
            f"chosen: {chosen:,.0f} per week\nP(hit) {p:.0%}",
            (chosen, p),
            xytext=(-10 if left else 10, -14),
            textcoords="offset points",
            ha="right" if left else "left",
            va="top",
            fontsize=style.NOTE_SIZE + 1,
            color=style.PALETTE[3],
        )
    ax.set_ylim(-0.02, 1.04)
    ax.yaxis.set_major_formatter(style.formatter("rate"))
    ax.xaxis.set_major_formatter(style.formatter("count"))
    goal = f"target of {style.money_short(target)}" if target is not None else "target"
    style.finish(
        ax,
        title="How many leads the target needs",
        subtitle=f"Share of replications whose revenue reaches the {goal}",
        xlabel="Prospects per week",
        ylabel="Probability of hitting the target",
        grid="both",
    )
    return fig


def _plan_table(plan: Any, x: str, y: str) -> pd.DataFrame:
    """The plan's search trace at its rep count: one row per volume, with Wilson intervals for
    the hit probability over the plan's replications."""
    search = plan.search
    if "reps" in search.columns:
        search = search[search["reps"] == plan.reps]
    if "phase" in search.columns:  # the pilot's few replications are not the plan's
        search = search[search["phase"] != "pilot"]
    table = search.groupby(x, as_index=False)[y].mean()
    n = int(plan.replications)
    bounds = [_wilson(round(p * n), n) for p in table[y]]
    table["ci_low"] = [lo for lo, _ in bounds]
    table["ci_high"] = [hi for _, hi in bounds]
    return table


def _wilson(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    # The Wilson score interval (95%): sensible at 0 and n hits, where a plain one collapses.
    # Kept here rather than imported, as plots and planning are siblings in the layering.
    if n <= 0:
        return (np.nan, np.nan)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))
