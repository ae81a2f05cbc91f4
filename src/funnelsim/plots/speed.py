"""Speed to lead: how long accepted MQLs wait for a first touch, against the follow-up SLA."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from ..errors import UsageError
from ..results import handoffs_frame
from ..scenario.checks import company_calendar
from . import style
from ._data import labelled, require_columns, runs

# Waits shorter than a minute are drawn at one minute: a log axis cannot show zero.
MIN_HOURS = 1 / 60
NICE_TICKS = (1 / 60, 5 / 60, 15 / 60, 1, 4, 24, 72, 168, 336, 672, 1344)


def first_touch(ledger: pd.DataFrame) -> tuple[np.ndarray, int, float]:
    """``(waits, accepted, within_sla)`` for one ledger (or several stacked): the sorted
    first-touch waits in hours of the accepted MQLs that were touched, the number of accepted
    MQLs, and the share of them whose first touch met the SLA (NaN without an ``sla_met``
    column). Only the counted cohort when the ledger has ``in_cohort``. An accepted MQL that was
    never worked, or has no wait, was never touched."""
    require_columns(ledger, ["accepted", "first_touch_wait_h"], "the speed-to-lead chart")
    acc = ledger["accepted"].to_numpy(bool)
    if "in_cohort" in ledger.columns:
        acc = acc & ledger["in_cohort"].to_numpy(bool)
    wait = ledger["first_touch_wait_h"].to_numpy(float)[acc]
    touched = np.isfinite(wait)
    if "worked" in ledger.columns:
        touched = touched & ledger["worked"].to_numpy(bool)[acc]
    within = float(ledger["sla_met"].to_numpy(bool)[acc].mean()) if "sla_met" in ledger else np.nan
    return np.sort(wait[touched]), int(acc.sum()), within


def speed_to_lead(
    data: Any,
    *,
    sla_hours: float | Mapping[str, float] | None = None,
    clock: str = "sla",
    ax: Axes | None = None,
) -> Figure:
    """The share of accepted MQLs first touched within t hours (a CDF on a log time axis), per
    scenario, with the SLA as a vertical line. The curve stops short of 100% by the share never
    touched, which is marked at the right edge.

    ``data``: a `RunResult` or `Comparison` run with ``keep_records=True`` (all its hand-offs
    are pooled, see `run_handoffs`), a ledger or hand-offs DataFrame (columns ``accepted``,
    ``first_touch_wait_h``; optionally ``worked``, ``in_cohort``, ``sla_met``), or a mapping
    label -> any of those. ``sla_hours``: one
    SLA for all, or label -> hours; by default each run's ``sales.sla_hours``. ``clock="sla"``
    measures a run's waits on its SLA's clock (working hours only when ``sales.sla_clock`` is
    "business", so the curve meets the SLA line at the share within SLA); ``"calendar"`` always
    uses wall-clock hours, as plain ledgers do. Returns the Figure.
    """
    style.check_choice("clock", clock, ("sla", "calendar"))
    found = runs(data)
    clocks = {
        k: r.scenario.sales.sla_clock if clock == "sla" else "calendar" for k, r in found.items()
    }
    stats = labelled(data, lambda r: first_touch(run_handoffs(r, clock)), first_touch)
    slas = _slas(sla_hours, found, list(stats))
    colors = style.series_colors(stats)
    fig, ax = style.new_axes(ax)

    longest = max((w[-1] for w, _, _ in stats.values() if w.size), default=1.0)
    right = max(longest, *(slas.values() or [1.0])) * 1.5
    grid = np.geomspace(MIN_HOURS, right, 400)
    placed: list[float] = []
    for label, (waits, accepted, within) in stats.items():
        if accepted == 0:
            continue
        share = np.searchsorted(waits, grid, side="right") / accepted
        never = 1 - waits.size / accepted
        text = [label] if label else []
        if np.isfinite(within):
            text.append(f"{within:.0%} within SLA")
        text.append(f"{never:.0%} never touched")
        ax.step(
            grid, share, where="post", color=colors[label], linewidth=2.5, label=", ".join(text)
        )
        if never > 0.0005:
            # The never-touched share: the gap between the curve's plateau and 100%, drawn as a
            # bracket at the right edge (staggered per scenario) and labelled outside the axes.
            at = right / 1.12 ** (len(stats) - 1 - list(stats).index(label))
            ax.vlines(at, 1 - never, 1, color=colors[label], linewidth=7, alpha=0.5)
            y = 1 - never / 2
            while any(abs(y - p) < 0.09 for p in placed):  # equal shares: stack, don't overlap
                y -= 0.09
            placed.append(y)
            ax.annotate(
                f"{never:.0%} never\ntouched",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=style.NOTE_SIZE,
                color=colors[label],
                annotation_clip=False,
            )
    drawn = {}
    for label, hours in slas.items():
        drawn.setdefault(hours, []).append(label)
    for hours, labels in drawn.items():
        business = any(clocks.get(lbl) == "business" for lbl in labels)
        who = ", ".join(lbl for lbl in labels if lbl)
        text = f"SLA {style.hours(hours)}" + (" (working hours)" if business else "")
        text += f"\n{who}" if who and len(drawn) > 1 else ""
        style.guide(ax, hours, text, vertical=True, at=0.02, linewidth=1.8)
    ax.set_xscale("log")
    ax.set_xlim(MIN_HOURS, right)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(FixedLocator([t for t in NICE_TICKS if t <= right]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(style.formatter("hours"))
    ax.yaxis.set_major_formatter(style.formatter("rate"))
    style.finish(
        ax,
        title="Speed to lead",
        subtitle="Share of accepted MQLs first touched within the time shown",
        xlabel=f"Time from hand-off to first touch, {_clock_name(clocks)} (log scale)",
        ylabel="Accepted MQLs touched",
        grid="both",
    )
    ax.legend(fontsize=style.LEGEND_SIZE, frameon=False, loc="upper left")
    return fig


def run_handoffs(result: Any, clock: str = "sla") -> pd.DataFrame:
    """Every hand-off of a run (all kept replications, recycled cycles included: one row per
    MQL event, as the KPIs count them) with ``first_touch_wait_h``: the wait in wall-clock
    hours, or with ``clock="sla"`` and a business SLA clock, in working hours as the SLA
    counts them."""
    if not result.records:
        raise UsageError(
            f"the run of {result.scenario.name!r} kept no ledgers; "
            "run it with keep_records=True to plot speed to lead"
        )
    frame = pd.concat(
        [handoffs_frame(rec).assign(replication=rec.replication) for rec in result.records],
        ignore_index=True,
    )
    s = result.scenario
    start = pd.Timestamp(s.run.start_date)
    t0 = (frame["handoff_at"] - start).dt.total_seconds().to_numpy() / 3600.0
    t1 = (frame["first_touch_at"] - start).dt.total_seconds().to_numpy() / 3600.0
    wait = t1 - t0
    if clock == "sla" and s.sales.sla_clock == "business":
        touched = np.isfinite(t0) & np.isfinite(t1)
        wait = np.full(len(frame), np.nan)
        wait[touched] = company_calendar(s).open_hours_between(t0[touched], t1[touched])
    return frame.assign(first_touch_wait_h=wait)


def _clock_name(clocks: Mapping[str, str]) -> str:
    kinds = set(clocks.values())
    if kinds == {"business"}:
        return "working hours"
    if len(kinds) > 1:
        return "each scenario's SLA clock"
    return "wall-clock hours"


def _slas(
    given: float | Mapping[str, float] | None, found: dict[str, Any], labels: list[str]
) -> dict[str, float]:
    if given is None:
        return {k: float(r.scenario.sales.sla_hours) for k, r in found.items()}
    if isinstance(given, Mapping):
        return {str(k): float(v) for k, v in given.items()}
    return {labels[0] if len(labels) == 1 else "": float(given)}
