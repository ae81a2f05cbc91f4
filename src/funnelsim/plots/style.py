"""The shared look of every chart: slide-sized, labelled, colour-blind safe.

Charts are built on `matplotlib.figure.Figure` objects, never on pyplot's global state, so they
render headless (no backend switch) and never leak open figures. Sizes are set explicitly on each
artist rather than through rcParams, because ticks are created lazily at draw time, when a
temporary rc context would already be gone.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..errors import UsageError
from ..results import UNITS

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies. Blue and orange first, because they stay apart even in greyscale print-outs.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
POSITIVE = "#009E73"
NEGATIVE = "#D55E00"
NEUTRAL = "#8C8C8C"
INK = "#222222"
GUIDE = "#444444"  # reference lines: targets, SLAs, chosen volumes
SEQUENTIAL_CMAP = "cividis"  # perceptually uniform and designed for colour-vision deficiency

# 16:9 at 10 inches wide: fills a slide, and these font sizes stay readable projected.
SLIDE_SIZE: tuple[float, float] = (10.0, 5.6)
DPI = 150
TITLE_SIZE = 17
SUBTITLE_SIZE = 12
LABEL_SIZE = 14
TICK_SIZE = 12
LEGEND_SIZE = 12
NOTE_SIZE = 11


def new_axes(ax: Axes | None, size: tuple[float, float] = SLIDE_SIZE) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax``'s own figure, or a new slide-sized figure."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def series_colors(labels: Iterable[str]) -> dict[str, str]:
    """One palette colour per label, in order (the first scenario is always blue)."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def finish(
    ax: Axes,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    grid: str = "y",
    legend: bool = False,
) -> None:
    """Apply the house style: title with an optional subtitle line, labels, light grid, no box."""
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE, loc="left", color=INK, pad=24 if subtitle else 10)
    if subtitle:
        ax.text(
            0.0,
            1.02,
            subtitle,
            transform=ax.transAxes,
            fontsize=SUBTITLE_SIZE,
            color=GUIDE,
            va="bottom",
            ha="left",
            gid="subtitle",
        )
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=LABEL_SIZE, color=INK)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE, color=INK)
    ax.tick_params(labelsize=TICK_SIZE, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid:
        ax.grid(True, axis=grid, color="#DDDDDD", linewidth=0.8)
        ax.set_axisbelow(True)
    if legend:
        ax.legend(fontsize=LEGEND_SIZE, frameon=False)


# ----------------------------------------------------------------------------- numbers


def guide(
    ax: Axes, value: float, text: str, *, vertical: bool, at: float = 0.0, linewidth: float = 2.0
) -> None:
    """A dashed reference line (a target, an SLA, a required confidence) in the guide colour,
    labelled near one end: ``at`` is where along the line, as a fraction of the axes."""
    line = ax.axvline if vertical else ax.axhline
    line(value, color=GUIDE, linestyle="--", linewidth=linewidth)
    top = at > 0.5
    ax.annotate(
        text,
        (value, at) if vertical else (at, value),
        xycoords=("data", "axes fraction") if vertical else ("axes fraction", "data"),
        xytext=(4, -4 if top else 4),
        textcoords="offset points",
        va="top" if top else "bottom",
        fontsize=NOTE_SIZE,
        color=GUIDE,
    )


def money_short(value: float) -> str:
    """Compact currency for axes and labels: $850, $12.5k, $1.2M, -$3B."""
    if value is None or not math.isfinite(value):
        return "-"
    sign = "-" if value < 0 else ""
    v = abs(value)
    for cut, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= cut * 0.9995:
            return f"{sign}${v / cut:.3g}{suffix}"
    return f"{sign}${v:.0f}"


def signed_money(value: float) -> str:
    """Currency with an explicit sign, for changes: +$420k, -$1.2M."""
    text = money_short(value)
    return text if text.startswith("-") or text in ("-", "$0") else "+" + text


def percent(value: float, digits: int = 0) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}%}"


def count(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"


def count_short(value: float) -> str:
    """A count for a crowded label: 950, 4.46k, 23.9k, 1.2M."""
    if value is None or not math.isfinite(value):
        return "-"
    for cut, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= cut * 0.9995:
            return f"{value / cut:.3g}{suffix}"
    return count(value)


def hours(value: float) -> str:
    """A duration given in hours, in the unit a reader thinks in: 5 min, 4 h, 2 d, 3 wk."""
    if value is None or not math.isfinite(value):
        return "-"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.3g} h"
    if value < 24 * 14:
        return f"{value / 24:.3g} d"
    return f"{value / 168:.3g} wk"


FORMATTERS = {
    "currency": money_short,
    "rate": percent,
    "count": count,
    "hours": hours,
}


def unit_of(name: str) -> str:
    """The unit of a KPI (``revenue`` -> currency), also for ``revenue_mean``-style columns."""
    if name in UNITS:
        return UNITS[name]
    for suffix in ("_mean", "_ci_low", "_ci_high", "_median"):
        if name.endswith(suffix) and name[: -len(suffix)] in UNITS:
            return UNITS[name[: -len(suffix)]]
    return "number"


def formatter(unit: str) -> FuncFormatter:
    """An axis tick formatter for a unit (currency, rate, count, hours; else plain)."""
    fn = FORMATTERS.get(unit, lambda v: f"{v:,.3g}")
    return FuncFormatter(lambda v, _pos: fn(v))


def fmt_value(value: float, unit: str) -> str:
    return FORMATTERS.get(unit, lambda v: f"{v:,.3g}")(value)


def pretty(name: str) -> str:
    """A column or KPI name as a reader says it: ``sla_attainment`` -> ``SLA attainment``."""
    words = str(name).replace(".", " ").replace("_", " ").split()
    acronyms = {"sla": "SLA", "mql": "MQL", "mqls": "MQLs", "sql": "SQL", "sqls": "SQLs"}
    words = [acronyms.get(w.lower(), w) for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


# ----------------------------------------------------------------------------- output


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (for embedding in HTML)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def save_png(fig: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write the figure as a PNG file and return its path."""
    from ..files import write_file

    return write_file(path, png_bytes(fig, dpi))


def check_choice(option: str, given: object, allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    if given not in allowed:
        raise UsageError(f"{option}: {given!r} is not one of {', '.join(map(repr, allowed))}")
