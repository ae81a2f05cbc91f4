"""The charts: each renders headless (Agg, no pyplot), draws exactly the data it is given, labels
its axes with units, and saves a PNG that is not blank.

Most tests feed small hand-made frames whose right picture is known exactly; the run-based tests
use a short comparison of the presets and check the chart against the run's own KPIs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import funnelsim as fs
from funnelsim import plots
from funnelsim.errors import UsageError
from funnelsim.experiment.stats import mean_ci
from funnelsim.plots import style

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def comparison() -> fs.Comparison:
    """siloed vs aligned over a short horizon: 4 paired replications with ledgers kept."""
    short = {"run.horizon_days": 70, "run.warmup_days": 14}
    siloed = fs.override(fs.load(REPO / "scenarios/siloed.toml"), short)
    aligned = fs.override(fs.load(REPO / "scenarios/aligned.toml"), short)
    return fs.compare(siloed, aligned, replications=4, seed=3, keep_records=True, progress=False)


def assert_png(fig: Figure, path: Path) -> None:
    """Saved as a real PNG that is not one flat colour."""
    plots.save_png(fig, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = mpimg.imread(path)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 300
    assert pixels[..., :3].std() > 0.02, "the image is blank"


def bar_containers(ax) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def bars(ax) -> list[Rectangle]:
    return [p for c in bar_containers(ax) for p in c.patches]


def texts(ax) -> list[str]:
    """The chart's own labels (not the subtitle under the title)."""
    return [t.get_text() for t in ax.texts if t.get_gid() != "subtitle"]


# ----------------------------------------------------------------------------- style


def test_library_code_never_touches_pyplot():
    """Importing and using the charts must not import pyplot (global state, GUI backends)."""
    code = (
        "import sys, pandas as pd, funnelsim.plots as p;"
        "p.waterfall(pd.Series({'a': 1.0, 'b': -0.5})).savefig(__import__('io').BytesIO());"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    ("value", "text"),
    [(850, "$850"), (12_500, "$12.5k"), (1_234_567, "$1.23M"), (-3e9, "-$3B"), (999.9, "$1k")],
)
def test_money_short_reads_like_a_slide(value, text):
    assert style.money_short(value) == text


def test_palette_is_okabe_ito_and_units_have_formatters():
    """The first colours are the Okabe-Ito blue and orange; axis formatters follow KPI units."""
    assert style.PALETTE[:2] == ("#0072B2", "#E69F00")
    assert style.formatter(style.unit_of("revenue"))(2_500_000, 0) == "$2.5M"
    assert style.formatter(style.unit_of("sla_attainment"))(0.9, 0) == "90%"
    assert style.formatter(style.unit_of("revenue_mean"))(12_000, 0) == "$12k"
    assert style.hours(5 / 60) == "5 min" and style.hours(72) == "3 d"
    assert style.pretty("sales.sla_hours") == "Sales SLA hours"


# ----------------------------------------------------------------------------- funnel


def test_funnel_bars_are_the_stage_means_with_ci_whiskers(comparison, tmp_path):
    """One bar per stage and scenario, at the mean over replications; whiskers are the t CI;
    each label gives the conversion from the previous stage."""
    fig = plots.funnel(comparison)
    ax = fig.axes[0]
    stages = list(plots.STAGES)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(plots.STAGES.values())
    assert len(bars(ax)) == 2 * len(stages)
    assert "Leads per cohort" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["siloed", "aligned"]
    for container, run in zip(
        bar_containers(ax), (comparison.baseline, comparison.alternative), strict=False
    ):
        heights = [p.get_height() for p in container.patches]
        np.testing.assert_allclose(heights, run.kpis[stages].mean().to_numpy())
    table = plots.funnel_table(comparison)
    row = table[(table.scenario == "aligned") & (table.stage == "sqls")].iloc[0]
    _, lo, hi, _ = mean_ci(comparison.alternative.kpis["sqls"].to_numpy(float))
    assert (row.ci_low, row.ci_high) == pytest.approx((lo, hi))
    kpis = comparison.alternative.kpis
    assert row.conversion == pytest.approx(kpis["sqls"].mean() / kpis["mqls_worked"].mean())
    assert f"{row.conversion:.0%}" in texts(ax)[len(stages) + 4]
    assert_png(fig, tmp_path / "funnel.png")


def test_funnel_of_one_plain_frame_has_no_legend_and_draws_into_a_given_axes():
    kpis = pd.DataFrame({s: [100.0 / (i + 1), 110.0 / (i + 1)] for i, s in enumerate(plots.STAGES)})
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.funnel(kpis, ax=ax, log=False) is fig
    assert ax.get_legend() is None
    assert [p.get_height() for p in bars(ax)] == pytest.approx(kpis.mean().to_list())
    assert texts(ax)[1] == "52\n50%"  # MQLs: 52.5 whole leads, 50% of 105 prospects


def test_funnel_names_a_missing_column():
    with pytest.raises(UsageError, match="customers"):
        plots.funnel(pd.DataFrame({"prospects": [1.0], "mqls": [1.0]}), stages=["customers"])


# ----------------------------------------------------------------------------- revenue


def test_revenue_histogram_marks_the_target_and_the_hit_share(comparison, tmp_path):
    """Both scenarios' replications are binned alike; the target is a vertical line and the
    legend says which share of replications reaches it."""
    target = float(comparison.baseline.kpis["revenue"].median())
    fig = plots.revenue_distribution(comparison, target=target)
    ax = fig.axes[0]
    counts = [sum(p.get_height() for p in c.patches) for c in bar_containers(ax)]
    assert counts == [4, 4]
    assert any(tuple(line.get_xdata()) == (target, target) for line in ax.get_lines())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    hit = np.mean(comparison.baseline.kpis["revenue"] >= target)
    assert legend[0].startswith("siloed") and f"P(hit target) {hit:.0%}" in legend[0]
    assert ax.get_xlabel() == "Revenue per cohort" and ax.get_ylabel() == "Replications"
    assert ax.xaxis.get_major_formatter()(1.5e6, 0) == "$1.5M"
    assert_png(fig, tmp_path / "revenue_hist.png")


def test_revenue_violin_plots_every_replication(tmp_path):
    values = {"a": pd.Series([1e6, 1.2e6, 1.1e6]), "b": np.array([2e6, 2.4e6, 2.2e6, 2.1e6])}
    fig = plots.revenue_distribution(values, target=1.5e6, kind="violin")
    ax = fig.axes[0]
    dots = [c for c in ax.collections if c.get_offsets().shape[0] in (3, 4)]
    assert sorted(dots[0].get_offsets()[:, 1]) == sorted(values["a"])
    assert sorted(dots[1].get_offsets()[:, 1]) == sorted(values["b"])
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    assert any(tuple(line.get_ydata()) == (1.5e6, 1.5e6) for line in ax.get_lines())
    assert "P(hit target) 0%" in ax.get_legend().get_texts()[0].get_text()
    assert_png(fig, tmp_path / "revenue_violin.png")


def test_revenue_distribution_rejects_an_unknown_kind():
    with pytest.raises(UsageError, match="kind"):
        plots.revenue_distribution([1.0, 2.0], kind="pie")


# ----------------------------------------------------------------------------- speed to lead


def test_speed_to_lead_cdf_stops_short_by_the_never_touched_share(tmp_path):
    """Ten accepted MQLs, two never touched: the CDF climbs to 80%, and the SLA line stands at
    the given hours."""
    ledger = pd.DataFrame(
        {
            "accepted": [True] * 10 + [False],
            "worked": [True] * 8 + [False, True, True],
            "first_touch_wait_h": [0.001, 0.1, 0.5, 0.9, 2, 3, 10, 30, np.nan, np.nan, 0.2],
            "sla_met": [True] * 4 + [False] * 6 + [True],
        }
    )
    fig = plots.speed_to_lead(ledger, sla_hours=1.0)
    ax = fig.axes[0]
    (curve,) = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
    x, y = curve.get_xdata(), curve.get_ydata()
    assert y[-1] == pytest.approx(0.8)
    assert y[0] == pytest.approx(0.1)  # the 0.001 h wait, drawn at one minute
    assert y[np.searchsorted(x, 1.0) - 1] == pytest.approx(0.4)  # 4 of 10 within the hour
    assert any(tuple(line.get_xdata()) == (1.0, 1.0) for line in ax.get_lines())
    legend = ax.get_legend().get_texts()[0].get_text()
    assert legend == "40% within SLA, 20% never touched"
    assert "20% never\ntouched" in texts(ax)
    assert ax.get_xscale() == "log" and "hand-off to first touch" in ax.get_xlabel()
    assert_png(fig, tmp_path / "speed.png")


def test_speed_to_lead_of_runs_agrees_with_their_kpis(comparison):
    """Pooled over replications and hand-offs (recycled leads come back as new MQLs), the
    plateau is 1 - never_worked / mqls_accepted and the legend's SLA share is the
    accepted-weighted sla_attainment: the chart and the KPIs tell one story."""
    fig = plots.speed_to_lead(comparison)
    ax = fig.axes[0]
    curves = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
    assert len(curves) == 2
    for curve, text, run in zip(
        curves,
        ax.get_legend().get_texts(),
        (comparison.baseline, comparison.alternative),
        strict=True,
    ):
        k = run.kpis
        accepted = k["mqls_accepted"].sum()
        assert curve.get_ydata()[-1] == pytest.approx(1 - k["never_worked"].sum() / accepted)
        within = (k["sla_attainment"] * k["mqls_accepted"]).sum() / accepted
        assert text.get_text().startswith(f"{run.scenario.name}, {within:.0%} within SLA")
        sla = run.scenario.sales.sla_hours
        assert any(tuple(line.get_xdata()) == (sla, sla) for line in ax.get_lines())
        # Waits are on the SLA's own clock (working hours here), so the curve meets the SLA
        # line at the share within SLA that the model reports.
        assert run.scenario.sales.sla_clock == "business"
        waits, n, _ = plots.first_touch(plots.speed.run_handoffs(run))
        assert np.sum(waits <= sla) / n == pytest.approx(within, abs=1e-3)
    assert "working hours" in ax.get_xlabel()


def test_speed_to_lead_needs_ledgers():
    run = fs.run(
        fs.from_dict(
            {
                "name": "tiny",
                "run": {"horizon_days": 7},
                "arrivals": {"prospects_per_week": 20},
                "sales": {"reps": 1, "handling_minutes": 5},
                "deals": {"deal_size": 1},
            }
        ),
        1,
        keep_records=False,
        progress=False,
    )
    with pytest.raises(UsageError, match="keep_records=True"):
        plots.speed_to_lead(run)


# ----------------------------------------------------------------------------- periods


def weekly_frame(offset: float = 0.0) -> pd.DataFrame:
    """3 replications x 5 weeks; replication r has mqls = 10 * week + r (+ offset)."""
    weeks = pd.date_range("2029-01-01", periods=5, freq="7D")
    return pd.DataFrame(
        [
            {
                "replication": r,
                "period_start": w,
                "mqls": 10 * i + r + offset,
                "sla_attainment": 0.5 + 0.1 * r,
                "sqls": 2 * i + r,
                "revenue": 1000.0 * (i + r),
            }
            for r in range(3)
            for i, w in enumerate(weeks)
        ]
    )


def test_period_series_draws_the_mean_and_a_band_across_replications(tmp_path):
    fig = plots.period_series(weekly_frame(), "mqls", band=(0.0, 1.0))
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), 10 * np.arange(5) + 1.0)  # mean of r=0,1,2
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(0.0) and ys.max() == pytest.approx(42.0)
    assert ax.get_title(loc="left") == "MQLs per week" and ax.get_ylabel() == "MQLs per week"
    assert_png(fig, tmp_path / "period_series.png")


def test_period_series_takes_period_reports_of_real_runs(comparison):
    """The per-replication period reports plot as they come, one band per scenario."""
    reports = {
        name: fs.period_reports(run.records, "monthly")
        for name, run in (("siloed", comparison.baseline), ("aligned", comparison.alternative))
    }
    fig = plots.period_series(reports, "sla_attainment")
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2
    assert ax.get_title(loc="left") == "SLA attainment by month"
    expect = reports["aligned"].groupby("period_start")["sla_attainment"].mean()
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), expect.to_numpy())


def test_period_dashboard_has_one_panel_per_metric(tmp_path):
    fig = plots.period_dashboard({"siloed": weekly_frame(), "aligned": weekly_frame(5.0)})
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert titles == [
        "MQLs per week",
        "SLA attainment by week",
        "SQLs per week",
        "Revenue per week",
    ]
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)
    # ``until`` cuts the drain: 5 weeks from 2029-01-01, keep those before 2029-01-22 (3).
    cut = plots.period_dashboard(weekly_frame(), until="2029-01-22")
    assert all(len(ax.get_lines()[0].get_xdata()) == 3 for ax in cut.axes)
    assert fig.axes[3].yaxis.get_major_formatter()(2000, 0) == "$2k"
    assert_png(fig, tmp_path / "dashboard.png")


# ----------------------------------------------------------------------------- attribution


def test_waterfall_walks_from_baseline_to_alternative(tmp_path):
    contributions = pd.Series({"sales.sla_hours": 300e3, "sales.queue": -40e3, "coverage": 500e3})
    fig = plots.waterfall(contributions, start=1.6e6, labels=("siloed", "aligned"))
    ax = fig.axes[0]
    rects = bars(ax)
    assert len(rects) == 5
    heights = [r.get_height() for r in rects]
    bottoms = [r.get_y() for r in rects]
    # Sorted by size: coverage, SLA hours, queue; the running level carries from bar to bar.
    assert heights == pytest.approx([1.6e6, 500e3, 300e3, -40e3, 2.36e6])
    assert bottoms == pytest.approx([0, 1.6e6, 2.1e6, 2.4e6, 0])
    assert rects[1].get_facecolor()[:3] == pytest.approx(_rgb(style.POSITIVE))
    assert rects[3].get_facecolor()[:3] == pytest.approx(_rgb(style.NEGATIVE))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["Siloed", "Coverage", "SLA hours", "Queue", "Aligned"]
    assert texts(ax) == ["$1.6M", "+$500k", "+$300k", "-$40k", "$2.36M"]
    assert ax.get_ylabel() == "Revenue per cohort"
    assert_png(fig, tmp_path / "waterfall.png")


def test_waterfall_takes_an_attribution_and_shows_a_residual():
    """An object with .contributions and .total works; a total the parts miss gets a bar."""
    attribution = SimpleNamespace(contributions=pd.Series({"a": 2.0, "b": 1.0}), total=4.0)
    steps = plots.waterfall_steps(attribution)
    assert list(steps.label) == ["a", "b", "residual", "Total change"]
    assert list(steps.height) == pytest.approx([2.0, 1.0, 1.0, 4.0])
    fig = plots.waterfall(attribution, unit="count")
    assert len(bars(fig.axes[0])) == 4
    with pytest.raises(UsageError, match="no contributions"):
        plots.waterfall(pd.Series(dtype=float))


def _rgb(hex_colour: str) -> tuple[float, ...]:
    from matplotlib.colors import to_rgb

    return to_rgb(hex_colour)


# ----------------------------------------------------------------------------- sweeps


def sweep_results() -> pd.DataFrame:
    """A 3 x 2 grid, two replications per point: revenue = 100 * reps - sla + replication."""
    return pd.DataFrame(
        [
            {
                "sales.reps": reps,
                "sales.sla_hours": sla,
                "replication": r,
                "revenue": 100 * reps - sla + r,
            }
            for reps in (4, 5, 6)
            for sla in (1.0, 24.0)
            for r in (0, 1)
        ]
    )


def test_heatmap_cells_are_the_mean_kpi_per_pair(tmp_path):
    fig = plots.heatmap(sweep_results(), "sales.reps", "sales.sla_hours", "revenue")
    ax = fig.axes[0]
    image = ax.get_images()[0]
    expected = np.array([[100 * reps - sla + 0.5 for reps in (4, 5, 6)] for sla in (1.0, 24.0)])
    np.testing.assert_allclose(image.get_array(), expected)
    assert ax.get_xlabel() == "sales.reps" and ax.get_ylabel() == "sales.sla_hours"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "5", "6"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1 h", "24 h"]
    assert texts(ax) == [style.money_short(v) for v in expected.ravel()]
    assert fig.axes[1].get_ylabel() == "Revenue"  # the colour bar, with units
    assert_png(fig, tmp_path / "heatmap.png")


def test_tornado_from_a_sweep_puts_the_widest_swing_on_top(tmp_path):
    frame, base = plots.tornado_frame(sweep_results(), {"sales.reps": 5, "sales.sla_hours": 1.0})
    assert base == pytest.approx(499.5)
    assert frame.loc["sales.reps", ["low", "high"]].tolist() == pytest.approx([399.5, 599.5])
    assert frame.loc["sales.sla_hours", ["low", "high"]].tolist() == pytest.approx([499.5, 476.5])
    fig = plots.tornado(frame, base=base)
    ax = fig.axes[0]
    assert len(bars(ax)) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sales.sla_hours", "sales.reps"]
    assert any(tuple(line.get_xdata()) == (base, base) for line in ax.get_lines())
    assert "$600  (6)" in texts(ax) and ax.get_xlabel() == "Revenue"
    assert_png(fig, tmp_path / "tornado.png")


def test_tornado_frame_needs_the_base_point():
    with pytest.raises(UsageError, match="base point"):
        plots.tornado_frame(sweep_results(), {"sales.reps": 7, "sales.sla_hours": 1.0})


# ----------------------------------------------------------------------------- quota


def test_quota_curve_marks_confidence_and_the_chosen_volume(tmp_path):
    table = pd.DataFrame(
        {
            "prospects_per_week": [600, 400, 500, 700],
            "p_hit": [0.92, 0.3, 0.7, 0.99],
            "ci_low": [0.85, 0.2, 0.6, 0.95],
            "ci_high": [0.96, 0.4, 0.8, 1.0],
        }
    )
    fig = plots.quota_curve(table, confidence=0.9, chosen=600, target=3e6)
    ax = fig.axes[0]
    curve = ax.get_lines()[0]
    assert list(curve.get_xdata()) == [400, 500, 600, 700]
    assert list(curve.get_ydata()) == [0.3, 0.7, 0.92, 0.99]
    xs = {tuple(line.get_xdata()) for line in ax.get_lines()}
    ys = {tuple(line.get_ydata()) for line in ax.get_lines()}
    assert (600, 600) in xs and (0.9, 0.9) in ys
    assert "chosen: 600 per week\nP(hit) 92%" in texts(ax)
    assert ax.get_xlabel() == "Prospects per week"
    assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"
    assert_png(fig, tmp_path / "quota.png")


def test_quota_curve_of_a_plan_uses_its_search_at_the_plan_reps():
    """A quota plan brings its candidates (at its own rep count), Wilson bands over its
    replications, its confidence, its chosen volume and its target."""
    search = pd.DataFrame(
        {
            "prospects_per_week": [300.0, 600.0, 450.0, 450.0],
            "reps": [5, 5, 5, 7],
            "p_hit": [0.0, 1.0, 0.6, 0.9],
        }
    )
    plan = SimpleNamespace(
        search=search,
        reps=5,
        replications=10,
        confidence=0.8,
        prospects_per_week=520.0,
        target_revenue=2e6,
    )
    fig = plots.quota_curve(plan)
    ax = fig.axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [0.0, 0.6, 1.0]
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    ys = band.get_paths()[0].vertices[:, 1]
    # Wilson 95% for 0 of 10 hits reaches up to 27.8%; for 10 of 10 down to 72.2%.
    assert ys.max() == pytest.approx(1.0) and ys.min() == pytest.approx(0.0)
    assert np.any(np.isclose(ys, 0.2775, atol=1e-3)) and np.any(np.isclose(ys, 0.7225, atol=1e-3))
    assert any(tuple(line.get_ydata()) == (0.8, 0.8) for line in ax.get_lines())
    # 520 lies 70/150 of the way from 450 (60%) to 600 (100%): 60% + 40% * 70/150 = 79%.
    assert "chosen: 520 per week\nP(hit) 79%" in texts(ax)
    (subtitle,) = [t for t in ax.texts if t.get_gid() == "subtitle"]
    assert "$2M" in subtitle.get_text()


def test_every_chart_draws_into_a_given_axes():
    """Each chart composes into a caller's figure: it draws on ``ax`` and returns its figure."""
    calls = [
        lambda ax: plots.revenue_distribution([1.0, 2.0, 3.0], ax=ax),
        lambda ax: plots.speed_to_lead(
            pd.DataFrame({"accepted": [True], "first_touch_wait_h": [1.0]}), ax=ax
        ),
        lambda ax: plots.period_series(weekly_frame(), "revenue", ax=ax),
        lambda ax: plots.waterfall(pd.Series({"a": 1.0}), ax=ax),
        lambda ax: plots.heatmap(sweep_results(), "sales.reps", "sales.sla_hours", ax=ax),
        lambda ax: plots.quota_curve(
            pd.DataFrame({"prospects_per_week": [1, 2], "p_hit": [0.1, 0.9]}), ax=ax
        ),
    ]
    fig = Figure()
    axes = fig.subplots(2, 3).ravel()
    for ax, call in zip(axes, calls, strict=True):
        assert call(ax) is fig
        assert ax.has_data()
