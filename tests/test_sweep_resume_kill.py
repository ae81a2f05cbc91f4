"""A sweep killed with SIGKILL at any moment loses at most the runs in flight, leaves no worker
and no lock behind, and resumes to exactly the tables of an uninterrupted sweep.

The sweep runs as a real ``funnelsim sweep`` subprocess, serially, in a process pool and on a
local Dask cluster. Once some runs are committed to its database it is killed with SIGKILL (no
cleanup handlers run); every process it started must be gone within 5 s, its folder lock free,
and the same command must then compute only what is missing and write tables equal, byte for
byte, to an uninterrupted sweep. The states a kill can leave at the very start (before the
manifest) are built directly, since a kill lands in them too rarely to test by timing alone.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _processes import kill_when, lock_is_free, start, survivors

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and /proc"),
    pytest.mark.slow,
]

POINTS = 3
REPS = 12
TABLES = ("results.csv", "summary.csv", "failures.csv")
MODES = {
    "serial": (),
    "workers": ("--workers", "2"),
    "dask": ("--executor", "dask", "--workers", "2"),
}


def _args(scenario: Path, out: Path, reps: int = REPS, seed: int = 5) -> list[str]:
    grid = ",".join(str(r) for r in range(2, 2 + POINTS))
    return [
        "sweep", scenario, "--grid", f"sales.reps={grid}", "--replications", str(reps),
        "--seed", str(seed), "--out", out, "--quiet",
    ]  # fmt: skip


def _scenario(tmp_path_factory, minimal_dict_factory, horizon_days: float) -> Path:
    from conftest import to_toml

    data = minimal_dict_factory()
    data["run"]["horizon_days"] = horizon_days
    path = tmp_path_factory.mktemp("scenario") / "s.toml"
    path.write_text(to_toml(data))
    return path


def _reference(scenario: Path, tmp_path_factory) -> dict[str, bytes]:
    """An uninterrupted sweep's tables (serial: numbers never depend on the executor)."""
    from typer.testing import CliRunner

    from funnelsim.cli import app

    out = tmp_path_factory.mktemp("reference") / "out"
    res = CliRunner().invoke(app, [str(a) for a in _args(scenario, out)])
    assert res.exit_code == 0, res.stderr
    return {name: (out / name).read_bytes() for name in TABLES}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, minimal_dict_factory):
    """~80 ms a run, so that a kill lands mid-sweep."""
    return _scenario(tmp_path_factory, minimal_dict_factory, 140)


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory):
    return _reference(scenario, tmp_path_factory)


@pytest.fixture(scope="module")
def quick(tmp_path_factory, minimal_dict_factory):
    """A few ms a run, for tests that need no kill timing; with its reference tables."""
    path = _scenario(tmp_path_factory, minimal_dict_factory, 14)
    return path, _reference(path, tmp_path_factory)


def _stored(out: Path) -> int:
    """Runs committed to the sweep's database so far (0 before it exists). Read-only: a plain
    connect would create an empty database file, which the sweep then rightly takes for a file
    it did not write."""
    path = out / "sweep.sqlite"
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _assert_resumes(cli, scenario, out, reference, stored: int | None = None) -> None:
    res = cli(*_args(scenario, out))
    assert res.exit_code == 0, res.stderr
    if stored is not None:
        assert f"{POINTS * REPS - stored} runs computed, {stored} reused" in res.stderr
    for name in TABLES:
        assert (out / name).read_bytes() == reference[name], name
    with sqlite3.connect(out / "sweep.sqlite") as db:
        keys = db.execute("SELECT point, replication FROM runs").fetchall()
    assert len(keys) == len(set(keys)) == POINTS * REPS


@pytest.mark.parametrize("mode", list(MODES))
def test_kill_mid_sweep_leaves_no_worker_no_lock_and_resumes(
    mode, cli, scenario, reference, tmp_path
):
    if mode == "dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed")
    out = tmp_path / "killed"
    proc = start([*_args(scenario, out), *MODES[mode]], tmp_path / "stderr.txt")
    seen = kill_when(proc, lambda: _stored(out) >= 4)
    if mode != "serial":
        assert len(seen) >= 2, f"expected worker processes, saw {seen}"
    assert survivors(seen) == set(), "workers outlived their killed parent by more than 5 s"
    assert lock_is_free(out / ".sweep.lock")
    stored = _stored(out)
    assert 4 <= stored < POINTS * REPS
    assert not (out / "results.csv").exists()
    _assert_resumes(cli, scenario, out, reference, stored)


def test_kills_at_any_moment_each_leave_a_folder_that_resumes(cli, scenario, reference, tmp_path):
    """One folder, killed again and again at moments from start-up (before the folder or its
    manifest exist) to the end; every restart continues where the last stopped."""
    out = tmp_path / "again"
    for delay in (0.05, 0.5, 1.0, 1.6, 2.2, 3.0):
        proc = start(_args(scenario, out), tmp_path / "stderr.txt")
        started = time.monotonic()
        try:
            kill_when(proc, lambda d=delay, t=started: time.monotonic() - t >= d)
        except AssertionError:
            if proc.returncode != 0:  # it may well finish before a late kill; never fail
                raise AssertionError((tmp_path / "stderr.txt").read_text()) from None
    _assert_resumes(cli, scenario, out, reference)


@pytest.mark.parametrize(
    "state",
    ["marker only", "empty database", "tables without manifest", "no manifest.json", "temps"],
)
def test_every_state_a_kill_can_leave_before_the_manifest_resumes(state, cli, quick, tmp_path):
    scenario, reference = quick
    out = tmp_path / "early"
    out.mkdir()
    (out / ".funnelsim").write_text(json.dumps({"kind": "funnelsim sweep"}))
    if state == "empty database":
        (out / "sweep.sqlite").write_bytes(b"")
    if state == "tables without manifest":
        from funnelsim.experiment.store import SCHEMA

        with sqlite3.connect(out / "sweep.sqlite") as db:
            for statement in SCHEMA:
                db.execute(statement)
    if state == "no manifest.json":
        assert cli(*_args(scenario, out, reps=2)).exit_code == 0
        (out / "manifest.json").unlink()
        (out / "results.csv").unlink()
    if state == "temps":
        (out / ".results.csv.0123456789ab.tmp").write_text("half a table")
    _assert_resumes(cli, scenario, out, reference)
    assert not list(out.glob(".*.tmp"))
    assert json.loads((out / "manifest.json").read_text())["replications"] == REPS


def _run_all(commands: list[list[object]], tmp_path: Path) -> list[tuple[int, str]]:
    procs = [start(c, tmp_path / f"stderr{i}.txt") for i, c in enumerate(commands)]  # all at once
    out = []
    for i, p in enumerate(procs):
        p.wait(timeout=300)
        out.append((p.returncode, (tmp_path / f"stderr{i}.txt").read_text()))
    return out


def test_concurrent_resumes_never_fail_nor_corrupt_a_table(cli, quick, tmp_path):
    """Three resumes of an unfinished sweep at once (one computes the missing replications, the
    others wait for its lock), then three of the finished folder: every one exits 0, and the
    tables are the uninterrupted sweep's."""
    scenario, reference = quick
    out = tmp_path / "shared"
    assert cli(*_args(scenario, out, reps=REPS // 2)).exit_code == 0
    for _ in range(2):
        for code, err in _run_all([_args(scenario, out) for _ in range(3)], tmp_path):
            assert code == 0, err
            assert "Traceback" not in err
        for name in TABLES:
            assert (out / name).read_bytes() == reference[name], name
    assert not list(out.glob(".*.tmp"))


def test_a_different_sweep_is_refused_at_once_even_while_one_runs(scenario, tmp_path):
    """While a sweep holds the folder, a different sweep aimed at it is refused (exit 2) without
    waiting for the lock."""
    out = tmp_path / "busy"
    # Long enough (about a minute) that the first sweep is surely still running when the other
    # command has started and checked; it is killed as soon as the check is done.
    long = REPS * 20
    first = start(_args(scenario, out, reps=long), tmp_path / "first.txt")
    try:
        deadline = time.monotonic() + 60
        while _stored(out) == 0 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.01)
        assert first.poll() is None and not lock_is_free(out / ".sweep.lock")
        other = subprocess.run(
            [sys.executable, "-m", "funnelsim.cli", *map(str, _args(scenario, out, long, seed=6))],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert other.returncode == 2, other.stderr
        assert "different sweep: seed" in other.stderr
        assert first.poll() is None, "the check should not have waited for the first sweep"
    finally:
        first.kill()
        first.wait(timeout=60)
