"""The HTML report: one self-contained, well-formed page with the headline, key numbers, the
funnel, speed-to-lead, revenue and attribution charts and the settings; ``funnelsim report``
writes it (and the PNGs); a real headless browser renders it with its images.

The scenarios are the presets cut to a short horizon with 3 replications: the report's numbers
are checked against the comparison and attribution it was built from, not against fixed values.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

import funnelsim as fs
from funnelsim.formatting import comparison_text_frame, money
from funnelsim.report import settings_table
from funnelsim.report.build import KEY_KPIS
from funnelsim.report.content import flat_settings

REPO = Path(__file__).resolve().parents[1]
SHORT = {"run.horizon_days": 60, "run.warmup_days": 14}
SHORT_SETS = [arg for k, v in SHORT.items() for arg in ("--set", f"{k}={v}")]
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "wbr", "source", "area", "base"}


def presets() -> tuple[fs.Scenario, fs.Scenario]:
    siloed = fs.override(fs.load(REPO / "scenarios/siloed.toml"), SHORT)
    aligned = fs.override(fs.load(REPO / "scenarios/aligned.toml"), SHORT)
    return siloed, aligned


def two_levers() -> tuple[fs.Scenario, fs.Scenario]:
    """The siloed preset, and a copy named aligned that differs in two levers only: the
    attribution then needs 4 coalitions, which keeps the test fast."""
    # Four times the preset's volume (and reps), so that a few replications of a short horizon
    # hold enough customers for the gap to be measured.
    bigger = {**SHORT, "arrivals.prospects_per_week": 2000, "sales.reps": 28}
    siloed = fs.override(fs.load(REPO / "scenarios/siloed.toml"), bigger)
    aligned = fs.override(siloed, {"name": "aligned", **LEVERS})
    return siloed, aligned


LEVERS = {"handoff.acceptance_rate": 0.9, "sales.coverage": 1.0}


@pytest.fixture(scope="module")
def report() -> fs.Report:
    siloed, aligned = two_levers()
    return fs.build_report(siloed, aligned, replications=3, seed=5, target=4e5, progress=False)


class Page(HTMLParser):
    """Collects tags, attributes, section ids and the nesting errors of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.doctype = False
        self.text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self, tag: str) -> list[str]:
        return [a["id"] for t, a in self.attrs if t == tag and "id" in a]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_report_is_well_formed_with_every_section(report):
    page = parse(report.html)
    assert page.doctype, "no <!DOCTYPE html>"
    assert page.errors == [] and page.stack == [], (page.errors, page.stack)
    assert page.ids("section") == ["headline", "kpis", "charts", "attribution", "settings"]
    assert page.ids("figure") == ["funnel", "speed_to_lead", "revenue", "attribution"]
    assert sorted(report.figures) == ["attribution", "funnel", "revenue", "speed_to_lead"]


def test_report_is_self_contained(report):
    """Images are embedded PNGs; nothing is fetched: no URL, no script, no stylesheet link."""
    page = parse(report.html)
    tags = {t for t, _ in page.attrs}
    assert not tags & {"script", "link", "iframe", "object", "embed"}
    for tag, attrs in page.attrs:
        for name in ("src", "href", "srcset", "action", "poster"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:|//|ftp:)", value, re.I), (tag, name, value[:80])
    assert "http://" not in report.html and "https://" not in report.html
    assert "url(" not in report.html  # no CSS that loads fonts or images
    images = [a for t, a in page.attrs if t == "img"]
    assert len(images) == 4
    for attrs in images:
        src = attrs["src"]
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
        assert attrs["alt"]


def test_headline_states_the_revenue_gap_with_its_interval(report):
    row = report.comparison.table().loc["revenue"]
    assert row["significant"], "the presets' revenue gap should be clear even at 3 replications"
    expect = (
        f"Aligned earns {money(row['diff'])} more revenue "
        f"(95% CI {money(row['ci_low'])} to {money(row['ci_high'])}) than siloed"
    )
    head = fs.headline(report.comparison)
    assert head.text.startswith(expect)
    assert f'<p class="headline">{head.text}</p>' in report.html


def test_headline_says_less_and_admits_an_unclear_difference():
    siloed, aligned = presets()
    reverse = fs.compare(aligned, siloed, replications=2, seed=5, progress=False)
    assert " earns " in fs.headline(reverse).text and " less revenue " in fs.headline(reverse).text
    same = fs.compare(siloed, siloed, replications=2, seed=5, progress=False)
    head = fs.headline(same)
    assert not head.significant and "cannot tell the two apart" in head.text


def test_key_numbers_and_all_kpis_come_from_the_comparison(report):
    """The key table lists the leader's KPIs in order; the full table every KPI, as formatted
    for the terminal's compare."""
    text = comparison_text_frame(report.comparison.table())
    tables = re.findall(r"<table>.*?</table>", report.html, re.S)
    key_rows = re.findall(r"<tr><td>([a-z0-9_]+)[^<]*</td>", tables[0])
    assert key_rows == list(KEY_KPIS)
    all_rows = re.findall(r"<tr><td>([a-z0-9_]+)[^<]*</td>", tables[1])
    assert all_rows == list(text.index)
    # Speed to lead: the shared yardsticks first; sla_attainment is labelled as each team's
    # own promise, with both SLAs.
    assert all_rows[:4] == [
        "first_touch_within_5m_share",
        "first_touch_within_1h_share",
        "first_touch_within_24h_share",
        "never_touched_share",
    ]
    assert "sla_attainment (against its own SLA of 24 h, business clock)" in tables[1]
    revenue = text.loc["revenue"]
    assert f"<td>{revenue['diff']}</td>" in tables[0]
    assert f"<td>{revenue['95% CI (paired)']}</td>" in tables[0]


def test_waterfall_runs_from_baseline_to_alternative_revenue(report):
    """Shapley contributions add up to the gap, so the last bar is the alternative's mean."""
    ax = report.figures["attribution"].axes[0]
    heights = [p.get_height() for c in ax.containers for p in c.patches]
    base = report.comparison.baseline.kpis["revenue"].mean()
    alt = report.comparison.alternative.kpis["revenue"].mean()
    assert heights[0] == pytest.approx(base)
    assert heights[-1] == pytest.approx(alt, rel=1e-9)
    # By theme (the report's default): each lever here is its own theme.
    assert list(report.attribution.contributions.index) == ["hand-off", "sales follow-up"]
    assert len(heights) == 2 + len(LEVERS)
    assert f"<td>{money(report.attribution.total)}</td>" in report.html


def test_lever_themes_group_the_differing_keys_by_section():
    siloed, aligned = two_levers()
    assert fs.report.lever_themes(siloed, aligned) == {
        "hand-off": ["handoff.acceptance_rate"],
        "sales follow-up": ["sales.coverage"],
    }
    both = fs.override(aligned, {"handoff.context_shared": 0.9})
    assert fs.report.lever_themes(siloed, both)["hand-off"] == [
        "handoff.acceptance_rate",
        "handoff.context_shared",
    ]


def test_report_by_each_lever_names_the_keys():
    siloed, aligned = two_levers()
    each = fs.build_report(siloed, aligned, 2, 5, levers="each", progress=False)
    assert list(each.attribution.contributions.index) == list(LEVERS)
    section = re.search(r'<section id="attribution">.*?</section>', each.html, re.S).group(0)
    assert "<td>handoff.acceptance_rate</td><td>handoff.acceptance_rate</td>" in section
    with pytest.raises(fs.UsageError, match="levers"):
        fs.build_report(siloed, aligned, 2, 5, levers="some", progress=False)


def test_settings_show_what_differs_first(report):
    table = settings_table(
        report.comparison.baseline.scenario, report.comparison.alternative.scenario
    )
    differs = list(table.index[table["differs"]])
    assert differs == ["name", *LEVERS]
    assert table.loc["sales.coverage", "alternative"] == "1"
    siloed, aligned = presets()
    assert flat_settings(aligned)["sales.handling_minutes"] == "exponential(mean=18)"
    assert flat_settings(aligned)["sales.workdays"] == "mon, tue, wed, thu, fri"
    settings = re.search(r'<section id="settings">.*?</section>', report.html, re.S).group(0)
    before = flat_settings(report.comparison.baseline.scenario)["handoff.acceptance_rate"]
    row = f"<tr><td>handoff.acceptance_rate</td><td>{before}</td><td>0.9</td></tr>"
    assert row in settings.replace('<tr class="differs">', "<tr>")


def test_report_without_ledgers_is_refused():
    siloed, aligned = presets()
    comparison = fs.compare(siloed, aligned, replications=2, progress=False)
    with pytest.raises(fs.UsageError, match="keep_records=True"):
        fs.render_report(comparison)


# ----------------------------------------------------------------------------- the command


def test_report_command_writes_html_and_pngs(cli, tmp_path):
    out, png = tmp_path / "out" / "report.html", tmp_path / "charts"
    result = cli(
        "report",
        REPO / "scenarios/siloed.toml",
        REPO / "scenarios/aligned.toml",
        "-o",
        out,
        "--png",
        png,
        "--replications",
        2,
        "--seed",
        4,
        "--no-attribution",
        *SHORT_SETS,
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Aligned earns ")
    page = parse(out.read_text(encoding="utf-8"))
    assert page.ids("figure") == ["funnel", "speed_to_lead", "revenue"]
    assert "2 paired replications · seed 4" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in png.iterdir()) == [
        "funnel.png",
        "revenue.png",
        "speed_to_lead.png",
    ]
    assert mpimg.imread(png / "funnel.png").shape[:2] == (840, 1500)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{tmp}"], "is a folder"),
        (["-o", "{tmp}/r.html", "--png", "{tmp}/file.txt"], "is a file"),
        (["-o", "{tmp}/r.html", "--set", "sales.reps=0"], "sales.reps"),
        (["-o", "{tmp}/r.html", "--target-revenue=-5"], "--target-revenue must be"),
        (["-o", "{tmp}/r.html", "--target-revenue", "nan"], "--target-revenue must be"),
        (["-o", "{tmp}/r.html", "--target-revenue", "0"], "above 0"),
    ],
)
def test_report_command_bad_input_exits_2(cli, tmp_path, args, message):
    """Refused before anything runs or is written (a target of -5 or nan used to give exit 0 and
    a caption saying the target was reached in 100% of replications)."""
    (tmp_path / "file.txt").write_text("x")
    args = [a.format(tmp=tmp_path) for a in args]
    result = cli("report", REPO / "scenarios/siloed.toml", REPO / "scenarios/aligned.toml", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_render_report_refuses_a_target_that_every_replication_reaches(report):
    with pytest.raises(fs.UsageError, match="--target-revenue must be"):
        fs.render_report(report.comparison, target=-5.0)


# ----------------------------------------------------------------------------- a real browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def headless(browser: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.skipif(
    find_browser() is None,
    reason="no headless browser on PATH (chromium, chromium-browser or google-chrome); "
    "install one, e.g. `apt-get install chromium`, to check that the report renders",
)
def test_report_renders_with_its_images_in_a_real_browser(report, tmp_path):
    """Chromium loads the page from disk, decodes all four images at full size, and paints the
    charts: the screenshot holds the charts' Okabe-Ito blue and orange, which the page's own CSS
    never uses."""
    browser = find_browser()
    page = report.write(tmp_path / "report.html")
    # An instrumented copy reports each image's decoded width once the page has loaded.
    probe = (
        '<script>window.addEventListener("load", () => document.body.setAttribute('
        '"data-images", Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)'
        '.join(",")));</script></body>'
    )
    copy = tmp_path / "probe.html"
    copy.write_text(report.html.replace("</body>", probe), encoding="utf-8")
    dom = headless(browser, tmp_path, "--virtual-time-budget=5000", "--dump-dom", copy.as_uri())
    widths = re.search(r'data-images="([^"]*)"', dom.stdout)
    assert widths, f"the page did not load: {dom.stderr[-500:]}"
    assert widths.group(1).split(",") == ["1500"] * 4

    shot = tmp_path / "shot.png"
    headless(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,2600", page.as_uri())
    assert shot.exists(), "the browser wrote no screenshot"
    pixels = (mpimg.imread(shot)[..., :3] * 255).astype(int)
    for colour in ((0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)):
        near = np.abs(pixels - np.array(colour)).sum(axis=-1) < 30
        assert near.sum() > 2000, f"the charts' colour {colour} is not on the page"
