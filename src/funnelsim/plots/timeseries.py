"""Period by period: a KPI per week (or month) with a band across replications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from ..errors import UsageError
from . import style
from ._data import require_columns

DASHBOARD = ("mqls", "sla_attainment", "sqls", "revenue")


def period_bands(
    periods: pd.DataFrame | Sequence[pd.DataFrame],
    metric: str,
    band: tuple[float, float] = (0.1, 0.9),
    until: Any = None,
) -> pd.DataFrame:
    """Per ``period_start``: the ``mean`` of ``metric`` over replications and the ``low`` and
    ``high`` quantiles of ``band``. ``periods`` is a long frame (``period_start``, optional
    ``replication``, the metric) or a list of one frame per replication. ``until`` (a date)
    drops the periods that start on or after it, e.g. the drain after the horizon."""
    frame = _long(periods)
    require_columns(frame, ["period_start", metric], "the period chart")
    if until is not None:
        frame = frame[pd.to_datetime(frame["period_start"]) < pd.Timestamp(until)]
    lo, hi = band
    if not 0 <= lo < hi <= 1:
        raise UsageError(f"band: need 0 <= low < high <= 1 (given {band!r})")
    grouped = frame.groupby("period_start", sort=True)[metric]
    out = pd.DataFrame(
        {"mean": grouped.mean(), "low": grouped.quantile(lo), "high": grouped.quantile(hi)}
    )
    out.index = pd.to_datetime(out.index)
    return out


def period_series(
    periods: Any,
    metric: str,
    *,
    band: tuple[float, float] = (0.1, 0.9),
    until: Any = None,
    ax: Axes | None = None,
) -> Figure:
    """One KPI over time: the mean across replications as a line and the ``band`` quantiles
    (10th to 90th percentile by default) as a shaded band, per scenario.

    ``periods``: a long DataFrame with ``period_start``, ``replication`` and one column per KPI
    (one row per replication and period, as period reports give), a list of one such frame per
    replication, or a mapping label -> either. ``until`` (a date) leaves out periods starting
    on or after it: period reports run on while the last leads drain. Returns the Figure.
    """
    labelled = _by_label(periods)
    colors = style.series_colors(labelled)
    fig, ax = style.new_axes(ax)
    unit = style.unit_of(metric)
    per = ""
    for label, frame in labelled.items():
        b = period_bands(frame, metric, band, until)
        per = per or _period_name(b.index)
        x = b.index.to_numpy()
        ax.fill_between(x, b["low"], b["high"], color=colors[label], alpha=0.2, linewidth=0)
        ax.plot(x, b["mean"], color=colors[label], linewidth=2.5, label=label or None)
    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.yaxis.set_major_formatter(style.formatter(unit))
    if unit == "rate":
        ax.set_ylim(0, 1.02)
    name = style.pretty(metric)
    style.finish(
        ax,
        title=f"{name} per {per}" if unit != "rate" else f"{name} by {per}",
        ylabel=name if unit == "rate" else f"{name} per {per}",
        legend=len(labelled) > 1,
    )
    return fig


def period_dashboard(
    periods: Any,
    metrics: Sequence[str] = DASHBOARD,
    *,
    band: tuple[float, float] = (0.1, 0.9),
    until: Any = None,
    fig: Figure | None = None,
) -> Figure:
    """A grid of `period_series` charts, one per metric (MQLs, SLA attainment, SQLs and revenue
    by default), sharing the time axis, up to ``until``. ``fig``: draw into this (empty)
    figure. Returns it."""
    if not metrics:
        raise UsageError("metrics: give at least one KPI to plot")
    cols = 1 if len(metrics) == 1 else 2
    rows = -(-len(metrics) // cols)
    if fig is None:
        fig = Figure(figsize=(14, 4.2 * rows), dpi=style.DPI, layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        period_series(periods, metric, band=band, until=until, ax=ax)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    lo, hi = band
    fig.suptitle(
        f"Period by period: mean over replications, band {lo:.0%}-{hi:.0%} of replications",
        fontsize=style.TITLE_SIZE,
        x=0.01,
        ha="left",
    )
    return fig


def _long(periods: pd.DataFrame | Sequence[pd.DataFrame]) -> pd.DataFrame:
    if isinstance(periods, pd.DataFrame):
        return periods.reset_index() if "period_start" in periods.index.names else periods
    frames = [f.reset_index() if "period_start" in f.index.names else f for f in periods]
    if not frames:
        raise UsageError("nothing to plot: no period frames given")
    return pd.concat([f.assign(replication=r) for r, f in enumerate(frames)], ignore_index=True)


def _by_label(periods: Any) -> dict[str, Any]:
    if isinstance(periods, Mapping):
        return {str(k): v for k, v in periods.items()}
    return {"": periods}


def _period_name(index: pd.DatetimeIndex) -> str:
    if len(index) < 2:
        return "period"
    step = float(np.median(np.diff(index.to_numpy()).astype("timedelta64[h]").astype(float)))
    step /= 24
    if 6 <= step <= 8:
        return "week"
    if 27 <= step <= 32:
        return "month"
    if 1 <= step < 2:
        return "day"
    if 88 <= step <= 93:
        return "quarter"
    return "period"
