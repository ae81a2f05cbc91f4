"""Sweeps: a KPI over a grid of two keys (heatmap), and one-at-a-time sensitivity (tornado)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from ..errors import UsageError
from . import style
from ._data import require_columns


def heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    value: str = "revenue",
    *,
    unit: str | None = None,
    annotate: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """The mean of ``value`` for each pair of settings of the swept keys ``x`` and ``y``, as
    coloured cells with the number written in each.

    ``frame``: a sweep's results (one row per point and replication, columns named by the dotted
    keys and the KPIs) or its summary (one row per point); rows sharing a cell are averaged.
    ``unit`` defaults to the KPI's unit. Returns the Figure.
    """
    require_columns(frame, [x, y, value], "the heatmap")
    grid = frame.pivot_table(index=y, columns=x, values=value, aggfunc="mean").sort_index()
    grid = grid.reindex(sorted(grid.columns), axis=1)
    unit = unit or style.unit_of(value)
    fig, ax = style.new_axes(ax)
    data = grid.to_numpy(float)
    image = ax.imshow(data, cmap=style.SEQUENTIAL_CMAP, aspect="auto", origin="lower")
    ax.set_xticks(np.arange(grid.shape[1]), [_setting(v, x) for v in grid.columns])
    ax.set_yticks(np.arange(grid.shape[0]), [_setting(v, y) for v in grid.index])
    bar = fig.colorbar(image, ax=ax, format=style.formatter(unit))
    bar.set_label(style.pretty(value), fontsize=style.LABEL_SIZE)
    bar.ax.tick_params(labelsize=style.TICK_SIZE)
    if annotate and data.size <= 150:
        cmap = image.get_cmap()
        for (i, j), v in np.ndenumerate(data):
            if not np.isfinite(v):
                continue
            r, g, b = to_rgb(cmap(image.norm(v)))
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            ax.text(
                j,
                i,
                style.fmt_value(v, unit),
                ha="center",
                va="center",
                color=ink,
                fontsize=style.NOTE_SIZE,
            )
    style.finish(
        ax,
        title=f"{style.pretty(value)} across the sweep",
        subtitle="Mean over replications at each pair of settings",
        xlabel=x,
        ylabel=y,
        grid="",
    )
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return fig


def tornado_frame(
    results: pd.DataFrame, base: Mapping[str, Any], value: str = "revenue"
) -> tuple[pd.DataFrame, float]:
    """One-at-a-time sensitivity from a sweep: for each key in ``base``, the mean of ``value``
    at that key's lowest and highest swept setting while every other key stays at its ``base``
    setting. Returns ``(frame, base_value)``: the frame has one row per key with ``low``,
    ``high``, ``low_setting`` and ``high_setting``; ``base_value`` is the mean at the base point."""
    keys = list(base)
    require_columns(results, [*keys, value], "the tornado chart")

    def at(fixed: Mapping[str, Any]) -> np.ndarray:
        mask = np.ones(len(results), bool)
        for k, v in fixed.items():
            column = results[k]
            if pd.api.types.is_numeric_dtype(column) and not isinstance(v, str):
                mask &= np.isclose(column.to_numpy(float), float(v))
            else:
                mask &= (column.astype(str) == str(v)).to_numpy()
        return mask

    base_mask = at(base)
    if not base_mask.any():
        raise UsageError(f"the sweep has no row at the base point {dict(base)}")
    rows = {}
    for key in keys:
        others = {k: v for k, v in base.items() if k != key}
        part = results[at(others)]
        means = part.groupby(key)[value].mean().sort_index()
        if len(means) < 2:
            raise UsageError(
                f"{key}: the sweep has only one setting of it with the other keys at base"
            )
        rows[key] = {
            "low": float(means.iloc[0]),
            "high": float(means.iloc[-1]),
            "low_setting": means.index[0],
            "high_setting": means.index[-1],
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame, float(results.loc[base_mask, value].mean())


def tornado(
    sensitivity: pd.DataFrame,
    *,
    base: float,
    value: str = "revenue",
    unit: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A tornado chart: for each key (one row of ``sensitivity``, indexed by key), a bar from the
    ``base`` value of the KPI to its value with the key at its low setting and one to its value
    at the high setting; keys sorted so the widest swing is on top.

    ``sensitivity`` has columns ``low`` and ``high`` (the KPI) and optionally ``low_setting`` and
    ``high_setting`` (written at the bar ends); `tornado_frame` builds it from a sweep. Returns the
    Figure.
    """
    require_columns(sensitivity, ["low", "high"], "the tornado chart")
    if sensitivity.empty:
        raise UsageError("the tornado chart needs at least one key")
    unit = unit or style.unit_of(value)
    swing = (sensitivity["high"] - sensitivity["low"]).abs()
    frame = sensitivity.loc[swing.sort_values(ascending=True).index]
    fig, ax = style.new_axes(ax, (10.0, max(3.0, 1.0 + 0.7 * len(frame))))
    y = np.arange(len(frame))
    colours = {"low": style.PALETTE[1], "high": style.PALETTE[0]}
    d_low = frame["low"].to_numpy(float) - base
    d_high = frame["high"].to_numpy(float) - base
    # When both ends move the KPI the same way, the bars would hide each other: split the row.
    same_side = np.sign(d_low) * np.sign(d_high) > 0
    offset = np.where(same_side, 0.16, 0.0)
    height = np.where(same_side, 0.3, 0.6)
    for end, sign in (("low", 1), ("high", -1)):
        delta = frame[end].to_numpy(float) - base
        ax.barh(
            y + sign * offset,
            delta,
            left=base,
            height=height,
            color=colours[end],
            label=f"{end} setting",
        )
        settings = frame[f"{end}_setting"] if f"{end}_setting" in frame else [None] * len(y)
        for key, yi, d, v, s in zip(
            frame.index, y + sign * offset, delta, frame[end], settings, strict=True
        ):
            setting = f"({_setting(s, str(key))})" if s is not None else ""
            number = style.fmt_value(v, unit)
            ax.annotate(
                f"{number}  {setting}" if d >= 0 else f"{setting}  {number}",
                (base + d, yi),
                xytext=(5 if d >= 0 else -5, 0),
                textcoords="offset points",
                ha="left" if d >= 0 else "right",
                va="center",
                fontsize=style.NOTE_SIZE,
                color=style.INK,
            )
    ax.axvline(base, color=style.INK, linewidth=1.2)
    ax.set_yticks(y, [str(k) for k in frame.index])
    lo = min(frame["low"].min(), frame["high"].min(), base)
    hi = max(frame["low"].max(), frame["high"].max(), base)
    pad = (hi - lo) * 0.35 or abs(base) * 0.1 or 1.0
    ax.set_xlim(lo - pad, hi + pad)
    ax.xaxis.set_major_formatter(style.formatter(unit))
    style.finish(
        ax,
        title=f"What moves {style.pretty(value).lower()} most",
        subtitle=f"One key at a time from the base case ({style.fmt_value(base, unit)})",
        xlabel=style.pretty(value),
        grid="x",
        legend=True,
    )
    return fig


def _setting(v: Any, key: str = "") -> str:
    """A swept value as a label: durations in hours read as 5 min, 4 h, 2 d; numbers short."""
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
        if key.endswith("_hours"):
            return style.hours(float(v))
        return f"{int(v)}" if float(v).is_integer() else f"{v:.3g}"
    return str(v)


def sweep_line(
    result: Any,
    x: str,
    value: str = "revenue",
    *,
    unit: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A KPI across one swept key, with 95% error bars: the point means and their own t
    intervals, or, for a sweep with a baseline (``fs.sweep(..., baseline=...)`` or
    ``result.versus(...)``), each point's difference from the baseline with its *paired*
    interval. Every point shares common random numbers, so the paired bars show the trend that
    the points' own spread hides. Other swept keys draw one line per combination of their
    settings.

    ``result``: a `SweepResult`. Returns the Figure.
    """
    table = result.table()
    if x not in result.keys:
        raise UsageError(f"the sweep line: {x!r} is not a swept key (swept: {result.keys})")
    kpis = table.index.get_level_values("kpi")
    if value not in set(kpis):
        raise UsageError(f"the sweep line: {value!r} is not a KPI of the sweep")
    rows = table[kpis == value].droplevel("kpi")
    paired = result.baseline is not None
    est, lo, hi = (
        ("diff", "diff_ci_low", "diff_ci_high") if paired else ("mean", "ci_low", "ci_high")
    )
    unit = unit or style.unit_of(value)
    fig, ax = style.new_axes(ax)
    others = [k for k in result.keys if k != x]
    groups = rows.groupby(others, sort=True, dropna=False) if others else [((), rows)]
    colours = style.series_colors(str(i) for i in range(len(groups)))
    for i, (setting, part) in enumerate(groups):
        part = part.sort_values(x)
        xs = part[x].to_numpy(float)
        y = part[est].to_numpy(float)
        below = np.clip(y - part[lo].to_numpy(float), 0, None)
        above = np.clip(part[hi].to_numpy(float) - y, 0, None)
        setting = setting if isinstance(setting, tuple) else (setting,)
        label = ", ".join(f"{k} = {_setting(v, k)}" for k, v in zip(others, setting, strict=True))
        ax.errorbar(
            xs,
            y,
            yerr=np.nan_to_num(np.vstack([below, above])),
            color=colours[str(i)],
            marker="o",
            capsize=4,
            linewidth=2,
            label=label or None,
        )
    if paired:
        ax.axhline(0, color=style.GUIDE, linewidth=1)
    ax.yaxis.set_major_formatter(style.formatter(unit))
    base = ""
    if paired:
        shown = ", ".join(
            f"{k} = {_setting(result.points.loc[result.baseline, k], k)}" for k in result.keys
        )
        base = f", point {result.baseline} ({shown})"
    style.finish(
        ax,
        title=(f"{style.pretty(value)}{' change' if paired else ''} across {x}"),
        subtitle=(
            f"Difference from the baseline{base}: 95% paired CIs (common random numbers)"
            if paired
            else f"Mean over {result.replications} replications, 95% CI of each point"
        ),
        xlabel=x,
        ylabel=f"{style.pretty(value)} vs baseline" if paired else style.pretty(value),
        legend=bool(others),
    )
    return fig
