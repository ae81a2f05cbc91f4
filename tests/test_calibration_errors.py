"""Bad exports exit 2 naming the file, the line and the column; fixable rows are dropped or
fixed with a counted warning that shows the first few lines, never silently."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import funnelsim as fs
from funnelsim.cli import app

HEADER = "lead_id,created_at,mql_at,sql_at,closed_at,won,amount\n"
GOOD = "L1,2029-01-02T10:00,2029-01-03T10:00,,,,\nL2,2029-01-04,2029-01-05,,,,\n"


def calibrate(tmp_path, text: str, *args: str):
    path = tmp_path / "export.csv"
    path.write_text(text)
    return CliRunner().invoke(app, ["calibrate", str(path), *args]), str(path)


@pytest.mark.parametrize(
    "rows, column, line, what",
    [
        ("L3,2029-13-45,,,,,\n", "created_at", 4, "not a date"),
        ("L1,2029-01-06,,,,,\n", "lead_id", 4, "duplicate lead id"),
        (
            "L3,2029-01-06T10:00,2029-01-07T10:00,2029-01-07T09:00,,,\n",
            "sql_at",
            4,
            "before mql_at",
        ),
        ("L3,2029-01-06,2029-01-07,2029-01-08,2029-02-01,true,lots\n", "amount", 4, "not a number"),
        ("L3,2029-01-06,2029-01-07,2029-01-08,2029-02-01,maybe,\n", "won", 4, "not true/false"),
    ],
)
def test_a_malformed_export_names_file_line_and_column(tmp_path, rows, column, line, what):
    res, path = calibrate(tmp_path, HEADER + GOOD + rows)
    assert res.exit_code == 2, res.output
    msg = res.output
    assert path in msg and f"line {line}" in msg and f"column {column}" in msg and what in msg
    assert "Traceback" not in msg


def test_a_map_naming_a_header_the_file_lacks_is_refused(tmp_path):
    cmap = tmp_path / "map.toml"
    cmap.write_text('[leads]\ncreated_at = "Create Date"\n')
    res, path = calibrate(tmp_path, HEADER + GOOD, "--columns", str(cmap))
    assert res.exit_code == 2
    assert "Create Date" in res.output and "no such column" in res.output and path in res.output


def test_an_unknown_generic_column_in_the_map_is_refused(tmp_path):
    cmap = tmp_path / "map.toml"
    cmap.write_text('[leads]\ncreated = "Create Date"\n')
    res, _ = calibrate(tmp_path, HEADER + GOOD, "--columns", str(cmap))
    assert res.exit_code == 2
    assert "created: unknown column; did you mean created_at?" in res.output


def test_a_built_in_map_reads_its_own_headers(tmp_path):
    res, _ = calibrate(tmp_path, HEADER + GOOD, "--format", "hubspot")
    assert res.exit_code == 2 and "'Record ID'" in res.output


def test_fixable_rows_are_dropped_or_fixed_with_a_counted_warning(tmp_path):
    rows = [",2029-01-06,,,,,"] * 7 + ["L9,2029-01-06,,2029-01-08,,,"]
    path = tmp_path / "export.csv"
    path.write_text(HEADER + GOOD + "\n".join(rows) + "\n")
    e = fs.load_export(path)
    assert e.n == 3
    dropped = next(w for w in e.warnings if "dropped 7 rows with no lead_id" in w)
    assert "lines 4, 5, 6, 7, 8 ..." in dropped
    assert any("1 rows skip mql_at" in w and "line" in w for w in e.warnings)


def test_an_export_too_small_to_fit_says_so(tmp_path):
    res, _ = calibrate(tmp_path, HEADER + GOOD)
    assert res.exit_code == 2 and "at least 30" in res.output


def test_events_after_as_of_have_not_happened_yet(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + GOOD)
    e = fs.load_export(path, as_of="2029-01-04")
    assert e.n == 2
    assert sum(~(e.times["mql_at"] != e.times["mql_at"])) == 1  # L2's MQL is after the snapshot
    assert any("after the snapshot" in n for n in e.notes)
