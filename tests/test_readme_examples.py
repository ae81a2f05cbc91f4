"""The README's examples are run and their output compared with what the README shows, by
shape: the header line with its numbers blanked, the column names, the row labels in order, and
the kind of each cell (money, percentage, hours, a number). Numbers themselves may drift with
the model; a renamed column, a relabelled row or a number that changes its unit may not.

The `attribute` example of the presets takes minutes of CPU and the `calibrate` one needs a CRM
export, so those two are not run here (their shapes are tested in test_attribution.py and
test_calibration_*.py).
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import funnelsim as fs

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# The console examples this test runs: each must be in the README.
RUN = ("funnelsim run ", "funnelsim sweep ", "funnelsim report ")
NUMBER = re.compile(r"[+-]?\$?[\d][\d,]*(\.\d+)?[kMB]?")


def code_blocks() -> list[list[str]]:
    """The README's fenced code blocks, each as its lines (a bullet's indent removed)."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    indent = ""
    for line in README.splitlines():
        fence = re.fullmatch(r"( *)```\w*", line)
        if fence and current is None:
            current, indent = [], fence.group(1)
        elif fence and current is not None:
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line[len(indent) :])
    return blocks


def console_examples() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of every ``$ funnelsim`` line in a README code block."""
    out: list[tuple[str, list[str]]] = []
    for lines in code_blocks():
        for i, line in enumerate(lines):
            if line.startswith("$ funnelsim "):
                rest = []
                for following in lines[i + 1 :]:
                    if following.startswith("$ "):
                        break
                    rest.append(following)
                out.append((line[2:], rest))
    return out


EXAMPLES = [
    (cmd, lines)
    for cmd, lines in console_examples()
    if cmd.startswith(RUN) and "--set sales.repz" not in cmd and " scenarios/" in cmd
]


def test_the_examples_this_test_runs_are_in_the_readme():
    for prefix in RUN:
        assert any(cmd.startswith(prefix) for cmd, _ in EXAMPLES), prefix
    assert any("--set sales.repz=8" in cmd for cmd, _ in console_examples())


def fields(line: str) -> list[str]:
    return [f for f in re.split(r"\s{2,}", line.strip()) if f]


def kind(cell: str) -> str:
    if "$" in cell:
        return "money"
    if cell.endswith("%") or "%]" in cell or "% [" in cell:
        return "percent"
    if cell.endswith(" h") or " h [" in cell:
        return "hours"
    if NUMBER.fullmatch(cell.replace(" ", "")) or cell.startswith("["):
        return "number"
    return "text"


def blank(line: str) -> str:
    return NUMBER.sub("#", line).strip()


@pytest.fixture
def in_a_folder(tmp_path, monkeypatch):
    """A fresh working folder in which ``scenarios/`` is the repository's, so that examples
    write their files there, not into the checkout."""
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c[:40] for c, _ in EXAMPLES])
def test_console_example_has_the_output_the_readme_shows(cli, in_a_folder, command, expected):
    result = cli(*shlex.split(command)[1:])
    assert result.exit_code == 0, result.stderr
    shown = [line for line in expected if line.strip()]
    real = [line for line in result.stdout.splitlines() if line.strip()]
    assert blank(real[0]) == blank(shown[0]), "the header line"
    if len(shown) == 1:
        return
    assert fields(real[1]) == fields(shown[1]), "the column names"
    labels = [fields(line)[0] for line in real[2:]]
    position = 0
    for line in shown[2:]:
        if line.strip() == "...":
            continue
        label, *cells = fields(line)
        assert label in labels[position:], f"row {label!r} (in this order) of {labels}"
        position = labels.index(label, position)
        real_cells = fields(real[2 + position])[1:]
        assert [kind(c) for c in real_cells] == [kind(c) for c in cells], line


def test_the_error_example_is_the_error_users_get(cli, in_a_folder):
    ((command, expected),) = [
        (c, lines) for c, lines in console_examples() if "--set sales.repz=8" in c
    ]
    result = cli(*shlex.split(command)[1:])
    assert result.exit_code == 2
    shown = expected[0].split("(...)")[0]
    assert result.stderr.startswith(shown), (result.stderr, shown)


def section(title: str) -> str:
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_every_chart_is_documented():
    charts = section("Charts: `fs.plots`")
    helpers = {"PALETTE", "STAGES", "png_bytes", "save_png", "first_touch", "period_bands"}
    for name in sorted(set(fs.plots.__all__) - helpers):
        assert f"`{name}(" in charts or f"fs.plots.{name}(" in charts, name


@pytest.mark.slow
def test_the_charts_example_draws_every_chart(in_a_folder):
    """Run the README's fs.plots example statement by statement: every chart line gives a
    Figure."""
    (code,) = re.findall(r"```python\n(.*?)```", section("Charts: `fs.plots`"), flags=re.S)
    tree = ast.parse(code)
    names: dict = {}
    drawn = []
    for node in tree.body:
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), "README", "eval"), names)  # noqa: S307
            assert isinstance(value, Figure), ast.unparse(node)[:60]
            drawn.append(ast.unparse(node.value.func))
        else:
            exec(compile(ast.Module([node], []), "README", "exec"), names)  # noqa: S102
    assert len(drawn) >= 7


def documented_columns(call: str) -> list[str]:
    """The column names the Python API section's comment lists for ``call`` (after the ':')."""
    api = section("Python API")
    (comment,) = re.findall(rf"^{re.escape(call)}\s+# [^:\n]*: (.*)$", api, flags=re.M)
    return [re.sub(r"\s*\(.*?\)", "", c).strip() for c in comment.split(",")]


def test_the_api_section_shows_the_real_table_columns(minimal_dict_factory):
    s = fs.from_dict(minimal_dict_factory(), source="minimal")
    run = fs.run(s, 2, progress=False).table()
    assert documented_columns("result.table()") == list(run.columns)
    assert run.index.name == "kpi"
    cmp = fs.compare(s, fs.override(s, {"sales.reps": 4}), 2, progress=False).table()
    assert set(documented_columns("cmp.table()")) <= set(cmp.columns)
    sweep = fs.sweep(s, {"sales.reps": [3, 4]}, 2, progress=False, baseline="scenario").table()
    assert documented_columns("sweep.table()") == list(sweep.columns)
    assert sweep.index.names == ["point", "kpi"]
