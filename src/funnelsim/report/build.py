"""Build the report: run (or take) a comparison and an attribution, draw the charts, write HTML.

`render_report` turns results a caller already has into a `Report`; `build_report` runs the
simulations first. Both return the figures too, so ``--png DIR`` writes the same pictures.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from html import escape as _esc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import __version__
from ..errors import UsageError
from ..experiment import Comparison, attribute, compare
from ..files import FileProblem, write_file
from ..formatting import comparison_text_frame, money, sla_label
from ..plots import funnel, revenue_distribution, speed_to_lead, waterfall
from ..plots.style import check_choice, png_bytes, save_png
from ..scenario import Scenario
from .content import headline, settings_table
from .html import Chart, page, table_html

# The KPIs a leader looks for first: shown in bold at the top of the table.
KEY_KPIS = (
    "revenue",
    "customers",
    "opportunities",
    "sqls",
    "mql_to_sql_rate",
    # speed to lead: the shared yardsticks first, then each team's own promise
    "first_touch_within_1h_share",
    "first_touch_within_24h_share",
    "never_touched_share",
    "first_touch_hours_mean",
    "sla_attainment",
    "rep_utilization",
)


LEVER_CHOICES = ("themes", "each")


@dataclass(frozen=True)
class Report:
    """A finished report: the ``html`` page and the ``figures`` it embeds (by name), with the
    results it was built from."""

    comparison: Comparison
    attribution: Any | None
    figures: dict[str, Figure] = field(repr=False)
    html: str = field(repr=False)

    def write(self, path: str | Path) -> Path:
        """Write the HTML page to ``path`` (parent folders are created) and return the path."""
        path = Path(path)
        try:
            return write_file(path, self.html.encode("utf-8"))
        except FileProblem as exc:
            raise UsageError(f"-o {path}: {exc}") from None
        except OSError as exc:
            raise UsageError(f"-o: cannot write {path} ({exc.strerror or exc})") from None

    def write_pngs(self, directory: str | Path) -> list[Path]:
        """Write every chart as ``DIR/<name>.png`` and return the paths."""
        directory = Path(directory)
        try:
            return [save_png(fig, directory / f"{name}.png") for name, fig in self.figures.items()]
        except FileProblem as exc:
            raise UsageError(f"--png {directory}: {exc}") from None
        except OSError as exc:
            raise UsageError(
                f"--png: cannot write to {directory} ({exc.strerror or exc})"
            ) from None


def check_target(target: float | None) -> None:
    """Refuse a revenue target that is not a finite amount above zero (`UsageError`): every
    replication "reaches" a target at or below zero, so the chart's share would mislead."""
    if target is None:
        return
    try:
        value = float(target)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageError(
            f"--target-revenue must be a revenue amount above 0, e.g. 5000000 (given: {target!r})"
        )


def build_report(
    baseline: Scenario,
    alternative: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    target: float | None = None,
    attribution: bool = True,
    levers: str = "themes",
    executor: Any = None,
    progress: bool | None = None,
) -> Report:
    """Compare the two scenarios on common random numbers (keeping ledgers for speed to lead),
    attribute the revenue gap to the differing levers when ``attribution`` is True, and render
    the report. ``replications`` and ``seed`` default to the baseline's ``[run]`` values;
    ``target`` (revenue) is drawn on the revenue chart.

    ``levers="themes"`` attributes the gap to the themes of `lever_themes`, as `attribute` and
    ``funnelsim attribute`` do by default (a few bars a leader reads at a glance, and 2^themes
    coalitions to run); ``"each"`` to every differing lever.
    ``executor`` (see `open_executor`) runs the replications of both."""
    check_choice("levers", levers, LEVER_CHOICES)
    check_target(target)  # before anything runs
    comparison = compare(
        baseline,
        alternative,
        replications,
        seed,
        progress=progress,
        keep_records=True,
        executor=executor,
    )
    parts = None
    if attribution:
        parts = attribute(
            baseline,
            alternative,
            replications=comparison.baseline.replications,
            seed=comparison.baseline.seed,
            by="themes" if levers == "themes" else "levers",
            executor=executor,
            progress=progress,
        )
    return render_report(comparison, parts, target=target)


def render_report(
    comparison: Comparison, attribution: Any | None = None, *, target: float | None = None
) -> Report:
    """The report for results already at hand. ``comparison`` must have kept its records
    (``compare(..., keep_records=True)``); ``attribution`` is a Series lever -> revenue or an
    object with ``.contributions`` (and ``.total``), or None to leave the waterfall out."""
    check_target(target)
    base, alt = comparison.baseline, comparison.alternative
    if not base.records or not alt.records:
        raise UsageError("the report needs the runs' ledgers: compare(..., keep_records=True)")
    bname, aname = base.scenario.name, alt.scenario.name
    figures: dict[str, Figure] = {
        "funnel": funnel(comparison),
        # One yardstick for both: wall-clock hours, whatever each team's SLA clock.
        "speed_to_lead": speed_to_lead(comparison, clock="calendar"),
        "revenue": revenue_distribution(comparison, target=target, kind="violin"),
    }
    if attribution is not None:
        figures["attribution"] = waterfall(
            attribution, start=float(base.kpis["revenue"].mean()), labels=(bname, aname)
        )
    head = headline(comparison)
    captions = _captions(comparison, target)
    charts = {
        name: Chart(name, heading, captions[name], png_bytes(figures[name]))
        for name, heading in (
            ("funnel", "The funnel"),
            ("speed_to_lead", "Speed to lead"),
            ("revenue", "Revenue across replications"),
            ("attribution", "Where the difference comes from"),
        )
        if name in figures
    }
    slas = tuple((x.scenario.sales.sla_hours, x.scenario.sales.sla_clock) for x in (base, alt))
    kpis = comparison_text_frame(comparison.table(), slas=slas).rename(
        columns={"baseline": bname, "alternative": aname, "": "sig."}
    )
    own = sla_label(*slas)
    key = kpis.loc[[own if k == "sla_attainment" else k for k in KEY_KPIS]]
    settings = settings_table(base.scenario, alt.scenario).rename(
        columns={"baseline": bname, "alternative": aname}
    )
    differs = settings[settings["differs"]].drop(columns="differs")
    sig = {"sig.": "sig"}
    sections = [
        (
            "headline",
            "",
            f'<p class="headline{"" if head.significant else " unclear"}">{_esc(head.text)}</p>',
        ),
        (
            "kpis",
            "Key numbers",
            '<p class="note">Means per cohort over paired replications; diff = '
            f"{_esc(aname)} - {_esc(bname)}; * = the {comparison.level:.0%} CI of the "
            "difference excludes zero.</p>"
            + table_html(key, cell_classes=sig)
            + _details(f"All {len(kpis)} KPIs", table_html(kpis, cell_classes=sig)),
        ),
        (
            "charts",
            "Charts",
            "".join(charts[n].img() for n in ("funnel", "speed_to_lead", "revenue")),
        ),
        ("attribution", "Where the difference comes from", _attribution_html(attribution, charts)),
        (
            "settings",
            "The scenarios' settings",
            f'<p class="note">The {len(differs)} settings in which the scenarios differ; '
            "every setting is listed below them.</p>"
            + table_html(differs)
            + _details(
                f"All {len(settings)} settings",
                table_html(
                    settings.drop(columns="differs"),
                    row_classes=["differs" if d else "" for d in settings["differs"]],
                ),
            ),
        ),
    ]
    s = base.scenario
    meta = (
        f"{aname} vs {bname} · {base.replications} paired replications · seed {base.seed} · "
        f"horizon {s.run.horizon_days:g} days, cohort from day {s.run.warmup_days:g} · "
        f"generated {dt.date.today().isoformat()}"
    )
    footer = (
        f"funnelsim {__version__}. Both scenarios saw the same random numbers replication by "
        "replication (common random numbers), so the differences and their intervals are paired."
    )
    html = page(f"{aname} vs {bname}: revenue funnel report", meta, sections, footer)
    return Report(comparison, attribution, figures, html)


def _captions(comparison: Comparison, target: float | None) -> dict[str, str]:
    base, alt = comparison.baseline, comparison.alternative
    days = base.scenario.run.horizon_days - base.scenario.run.warmup_days
    touch = []
    for run in (alt, base):
        k = run.kpis.mean()
        sla = run.scenario.sales
        touch.append(
            f"{run.scenario.name} touches {k['first_touch_within_1h_share']:.0%} of accepted "
            f"MQLs within an hour and {k['first_touch_within_24h_share']:.0%} within a day, "
            f"and never touches {k['never_touched_share']:.0%} (against its own SLA of "
            f"{sla.sla_hours:g} h on the {sla.sla_clock} clock: {k['sla_attainment']:.0%})"
        )
    revenue = []
    for run in (alt, base):
        v = run.kpis["revenue"].to_numpy(float)
        text = (
            f"{run.scenario.name}: {money(np.percentile(v, 10))} to {money(np.percentile(v, 90))}"
        )
        if target is not None:
            text += f", target reached in {np.mean(v >= target):.0%} of replications"
        revenue.append(text)
    return {
        "funnel": "Mean count per cohort at each stage (log scale), with 95% CI whiskers; "
        "the percentage is the share of the previous stage that made it through.",
        "speed_to_lead": "; ".join(touch) + ". Each curve is the share of accepted MQLs "
        "touched within the wall-clock time on the axis, the same yardstick for both (the "
        "published audits' buckets: 5 minutes, an hour, a day); the gap below 100% is never "
        "touched.",
        "revenue": f"Each dot is one replication: {days:g} days of arriving prospects, each "
        "followed to its outcome. 10th to 90th percentile of revenue: " + "; ".join(revenue) + ".",
        "attribution": "Each lever's share of the revenue gap when the baseline's settings are "
        "switched to the alternative's, in every order (Shapley values: they add up to the gap).",
    }


def _details(summary: str, inner: str) -> str:
    return f"<details><summary>{_esc(summary)}</summary>{inner}</details>"


def _attribution_html(attribution: Any | None, charts: dict[str, Chart]) -> str:
    if attribution is None:
        return '<p class="note">No lever attribution was computed for this report.</p>'
    series = pd.Series(getattr(attribution, "contributions", attribution), dtype=float)
    series = series.reindex(series.abs().sort_values(ascending=False).index)
    total = float(getattr(attribution, "total", series.sum()))
    frame = pd.DataFrame(
        {
            "revenue": [money(v) for v in series],
            "share of the gap": [f"{v / total:.0%}" if total else "-" for v in series],
        },
        index=pd.Index(series.index.astype(str), name="lever"),
    )
    groups = getattr(attribution, "groups", None)
    if isinstance(groups, dict):  # an Attribution names the keys behind each lever
        frame.insert(0, "keys", [", ".join(groups.get(g, ())) for g in series.index])
    ci = getattr(attribution, "ci", None)
    if callable(ci):  # an Attribution knows each lever's CI over replications
        bounds = ci().reindex(series.index)
        frame.insert(
            frame.columns.get_loc("revenue") + 1,
            "95% CI",
            [f"[{money(lo)}, {money(hi)}]" for lo, hi in bounds[["ci_low", "ci_high"]].to_numpy()],
        )
    total_row = {"revenue": money(total), "share of the gap": "100%" if total else "-"}
    frame.loc["total"] = [total_row.get(c, "") for c in frame.columns]
    return charts["attribution"].img() + table_html(frame)
