"""Output folders are safe: funnelsim refuses folders it did not write (unless --overwrite),
never writes through a symbolic link, writes each file atomically, and builds every table before
the first file is written.

Each test plants what a careless or hostile setup could leave (a user's file, a link to a file
outside, half a temporary file) and checks that nothing outside the folder changes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest

from funnelsim.files import Folder
from funnelsim.results.timeline import LateEventWarning, timestamps


@pytest.fixture
def scenario(write_scenario, minimal_dict_factory):
    return write_scenario(minimal_dict_factory())


def _run(cli, scenario, out, *extra):
    return cli("run", scenario, "--replications", "2", "-q", "--out", out, *extra)


def test_a_folder_funnelsim_did_not_write_is_refused_unless_overwrite(cli, scenario, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "kpis.csv").write_text("my own numbers\n")
    res = _run(cli, scenario, out)
    assert res.exit_code == 2
    assert "funnelsim did not write (kpis.csv)" in res.stderr and "--overwrite" in res.stderr
    assert (out / "kpis.csv").read_text() == "my own numbers\n"
    res = _run(cli, scenario, out, "--overwrite")
    assert res.exit_code == 0, res.stderr
    assert pd.read_csv(out / "kpis.csv").shape[0] == 2
    again = _run(cli, scenario, out)  # now funnelsim's: a rerun needs no flag
    assert again.exit_code == 0, again.stderr


def test_a_sweep_refuses_a_foreign_folder_and_a_run_folder(cli, scenario, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("x")
    args = ("sweep", scenario, "--grid", "sales.reps=2,3", "--replications", "2", "-q")
    res = cli(*args, "--out", out)
    assert res.exit_code == 2 and "did not write (notes.txt)" in res.stderr
    assert cli(*args, "--out", out, "--overwrite").exit_code == 0
    run_folder = tmp_path / "run"
    assert _run(cli, scenario, run_folder).exit_code == 0
    res = cli(*args, "--out", run_folder)
    assert res.exit_code == 2 and "holds a funnelsim run, not a funnelsim sweep" in res.stderr


@pytest.mark.parametrize("name", ["kpis.csv", "run.json", "kpis.csv.tmp", ".funnelsim"])
def test_a_planted_link_is_replaced_never_followed(cli, scenario, tmp_path, name):
    out = tmp_path / "run"
    assert _run(cli, scenario, out).exit_code == 0
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (out / name).unlink(missing_ok=True)
    (out / name).symlink_to(target)
    res = _run(cli, scenario, out)
    assert res.exit_code == 0, res.stderr
    assert target.read_text() == "keep me"
    if name != "kpis.csv.tmp":
        assert not (out / name).is_symlink()


def test_planted_links_in_a_sweep_folder_are_never_followed(cli, scenario, tmp_path):
    out = tmp_path / "sweep"
    args = ("sweep", scenario, "--grid", "sales.reps=2,3", "--replications", "2", "-q", "--out")
    assert cli(*args, out).exit_code == 0
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    for name in ("results.csv", "results.csv.tmp", "summary.parquet"):
        (out / name).unlink(missing_ok=True)
        (out / name).symlink_to(target)
    assert cli(*args, out).exit_code == 0
    assert target.read_text() == "keep me"
    assert not (out / "results.csv").is_symlink()
    (out / "sweep.sqlite-wal").unlink(missing_ok=True)
    (out / "sweep.sqlite-wal").symlink_to(target)
    res = cli(*args, out)
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    assert target.read_text() == "keep me"


def test_an_out_folder_that_is_a_link_is_refused(cli, scenario, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    res = _run(cli, scenario, link)
    assert res.exit_code == 2 and "symbolic link" in res.stderr and str(real) in res.stderr
    assert list(real.iterdir()) == []


def test_a_failed_write_leaves_each_file_whole_and_no_temporary(
    cli, scenario, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    assert _run(cli, scenario, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = Folder.write
    calls = []

    def failing(self, name, fill):
        if not name.startswith("."):  # the folder's own files, not the replications' parts
            calls.append(name)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
        return real(self, name, fill)

    monkeypatch.setattr(Folder, "write", failing)
    res = _run(cli, scenario, out, "--seed", "99")
    assert res.exit_code == 2 and "No space left on device" in res.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(after) == set(before), "no temporary file is left behind"
    for name in calls[2:]:
        assert after[name] == before[name], f"{name} must be old or new, never half"


def test_every_table_is_built_before_the_first_file_is_written(cli, write_scenario, tmp_path):
    """A daily report over 120,000 years of a heavy-tailed sales cycle cannot be built: refused
    (exit 2) before a single file is written."""
    from conftest import minimal_dict

    data = minimal_dict()
    data["arrivals"]["prospects_per_week"] = 2000
    data["deals"]["sales_cycle_days"] = {"dist": "lognormal", "mean": 3000, "cv": 100}
    path = write_scenario(data)
    out = tmp_path / "run"
    res = cli("run", path, "--replications", "2", "-q", "--report", "daily", "--out", out)
    assert res.exit_code == 2, res.stderr
    assert "--report daily" in res.stderr and "at most 20,000" in res.stderr
    assert list(out.iterdir()) == []


def test_timestamps_of_any_hour():
    """Past 2262 (nanoseconds' end) dates stay exact; past 9999 they are empty, with a warning."""
    start = dt.date(2029, 1, 1)
    hours = np.array([0.0, 1.5, np.nan])
    assert list(timestamps(start, hours)[:2]) == [
        pd.Timestamp("2029-01-01"),
        pd.Timestamp("2029-01-01 01:30"),
    ]
    far = 24.0 * (pd.Timestamp("3000-01-01") - pd.Timestamp("2029-01-01")).days
    with pytest.warns(LateEventWarning, match="1 event"):
        got = timestamps(start, np.array([far, 1e12, np.nan]))
    assert str(got[0]) == "3000-01-01 00:00:00"
    assert pd.isna(got[1]) and pd.isna(got[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        timestamps(start, hours)


def test_an_old_format_sweep_folder_is_refused_with_a_reason(cli, scenario, tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"kind": "funnelsim sweep", "format": 1}))
    (out / "runs.jsonl").write_text("")
    res = cli("sweep", scenario, "--grid", "sales.reps=2", "-q", "--out", out)
    assert res.exit_code == 2 and "older funnelsim (runs.jsonl)" in res.stderr
    assert sorted(os.listdir(out)) == ["manifest.json", "runs.jsonl"]


def test_the_report_is_written_atomically_through_no_link(tmp_path):
    from funnelsim.files import write_file

    target = tmp_path / "precious.html"
    target.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(target)
    write_file(link, b"<html></html>")
    assert target.read_text() == "keep me"
    assert link.read_bytes() == b"<html></html>" and not link.is_symlink()


def test_run_out_streams_the_same_files_as_writing_a_finished_run(scenario, tmp_path):
    """`run_to_folder` (what `run --out` uses: each replication written as it finishes, its
    record dropped) writes byte for byte the files `write_run` writes from a run held in
    memory, on a process pool too, and keeps no records."""
    import funnelsim as fs

    s = fs.load(scenario)
    held = fs.run(s, 3, seed=5, keep_records=True, progress=False)
    fs.write_run(held, tmp_path / "held", period="weekly")
    with fs.open_executor("process", 2) as ex:
        streamed = fs.run_to_folder(
            s, tmp_path / "streamed", 3, 5, period="weekly", executor=ex, progress=False
        )
    assert streamed.result.records == ()
    names = sorted(p.name for p in (tmp_path / "held").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "streamed").iterdir())
    for name in names:
        if name.endswith(".parquet"):
            a = pd.read_parquet(tmp_path / "held" / name)
            b = pd.read_parquet(tmp_path / "streamed" / name)
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
        elif name != "run.json":
            held_bytes = (tmp_path / "held" / name).read_bytes()
            assert held_bytes == (tmp_path / "streamed" / name).read_bytes(), name
    pd.testing.assert_frame_equal(
        streamed.mean_periods(), fs.mean_period_report(held.records, "weekly")
    )


def test_a_run_that_fails_midway_leaves_no_part_behind(scenario, tmp_path, monkeypatch):
    import funnelsim as fs
    from funnelsim.experiment import output

    calls = []

    def failing(rec, period):
        calls.append(rec.replication)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real(rec, period)

    real = output.replication_tables
    monkeypatch.setattr(output, "replication_tables", failing)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom"):
        fs.run_to_folder(fs.load(scenario), out, 3, 5, progress=False)
    assert list(out.iterdir()) == []


def test_writing_a_run_that_kept_no_records_is_refused(scenario, tmp_path):
    """Records are off by default; a folder without its ledgers would look complete but is
    not, so write_run refuses and says what to do instead."""
    import funnelsim as fs

    bare = fs.run(fs.load(scenario), 2, seed=5, progress=False)
    with pytest.raises(fs.UsageError, match="keep_records=True.*run_to_folder"):
        fs.write_run(bare, tmp_path / "bare")
    assert not (tmp_path / "bare").exists()
