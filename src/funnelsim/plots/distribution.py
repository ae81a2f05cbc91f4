"""How a KPI (revenue by default) spreads across replications: the risk a plan runs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import UsageError
from . import style
from ._data import labelled

KINDS = ("hist", "violin")


def revenue_distribution(
    data: Any,
    *,
    target: float | None = None,
    kind: str = "hist",
    kpi: str = "revenue",
    ax: Axes | None = None,
) -> Figure:
    """The spread of ``kpi`` over replications, per scenario, as overlaid histograms
    (``kind="hist"``) or violins with every replication as a dot (``kind="violin"``).

    ``data``: a `RunResult`, a `Comparison`, a Series or array of one value per replication, or a
    mapping label -> any of those. ``target`` draws the target line and puts the share of
    replications reaching it in the legend. Returns the Figure.
    """
    style.check_choice("kind", kind, KINDS)
    values = labelled(data, lambda r: r.kpis[kpi].to_numpy(float), lambda v: _as_values(v, kpi))
    values = {k: v[np.isfinite(v)] for k, v in values.items()}
    colors = style.series_colors(values)
    unit = style.unit_of(kpi)
    fig, ax = style.new_axes(ax)

    def label_of(name: str, v: np.ndarray) -> str:
        parts = [name] if name else []
        parts.append(f"mean {style.fmt_value(float(np.mean(v)), unit)}" if v.size else "no data")
        if target is not None and v.size:
            parts.append(f"P(hit target) {np.mean(v >= target):.0%}")
        return ", ".join(parts)

    if kind == "hist":
        everything = np.concatenate([v for v in values.values() if v.size] or [np.zeros(1)])
        edges = np.histogram_bin_edges(everything, bins=_bins(everything.size))
        for name, v in values.items():
            ax.hist(
                v,
                bins=edges,
                color=colors[name],
                alpha=0.55,
                edgecolor=colors[name],
                linewidth=1.5,
                label=label_of(name, v),
            )
            if v.size:
                ax.axvline(float(np.mean(v)), color=colors[name], linewidth=2.5)
        if target is not None:
            style.guide(
                ax, target, f"target {style.fmt_value(target, unit)}", vertical=True, at=1.0
            )
        ax.xaxis.set_major_formatter(style.formatter(unit))
        xlabel, ylabel, grid = f"{style.pretty(kpi)} per cohort", "Replications", "y"
    else:
        names = list(values)
        positions = np.arange(1, len(names) + 1)
        drawable = [(p, values[n]) for p, n in zip(positions, names, strict=True) if values[n].size]
        if drawable:
            parts = ax.violinplot(
                [v for _, v in drawable],
                positions=[p for p, _ in drawable],
                showmeans=True,
                showextrema=False,
                widths=0.7,
            )
            for body, (p, _) in zip(parts["bodies"], drawable, strict=True):
                body.set_facecolor(colors[names[p - 1]])
                body.set_alpha(0.45)
            for key in ("cmeans",):
                if key in parts:
                    parts[key].set_color(style.INK)
        rng = np.random.default_rng(0)  # fixed jitter: the same picture every time
        for p, name in zip(positions, names, strict=True):
            v = values[name]
            ax.scatter(
                p + rng.uniform(-0.08, 0.08, v.size),
                v,
                s=22,
                color=colors[name],
                edgecolor="white",
                linewidth=0.5,
                zorder=3,
                label=label_of(name, v),
            )
        if target is not None:
            style.guide(ax, target, f"target {style.fmt_value(target, unit)}", vertical=False)
        ax.set_xticks(positions, [n or kpi for n in names])
        ax.yaxis.set_major_formatter(style.formatter(unit))
        xlabel, ylabel, grid = None, f"{style.pretty(kpi)} per cohort", "y"
    n_reps = max((v.size for v in values.values()), default=0)
    style.finish(
        ax,
        title=f"{style.pretty(kpi)}: what could happen",
        subtitle=f"{n_reps} replications per scenario; each is one possible outcome",
        xlabel=xlabel,
        ylabel=ylabel,
        grid=grid,
        legend=True,
    )
    return fig


def _bins(n: int) -> int:
    # Twice the square-root rule over all values, kept between 8 and 40: few replications still
    # show a shape, and the scenarios' histograms share their bins.
    return int(np.clip(2 * np.sqrt(n), 8, 40))


def _as_values(obj: Any, kpi: str) -> np.ndarray:
    if isinstance(obj, pd.DataFrame):
        if kpi in obj.columns:
            obj = obj[kpi]
        elif obj.shape[1] == 1:
            obj = obj.iloc[:, 0]
        else:
            raise UsageError(f"the distribution chart needs a {kpi!r} column or a single column")
    return np.asarray(obj, dtype=float).ravel()
