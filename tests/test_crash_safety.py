"""Killing run, compare or quota with SIGKILL, serially, in a process pool or on a Dask cluster,
leaves no worker alive after 5 s, and the same command then runs to the same numbers.

Each command runs as a real subprocess until its workers exist (or, serially, until it has run
for a while), is killed with SIGKILL, and every process it started must be gone within 5 s
(workers tie themselves to their parent: `funnelsim.lifeline`). The same command is then run to
the end; its JSON must equal an uninterrupted serial run's (numbers never depend on where runs
execute), and a ``run --out`` folder the kill interrupted must be accepted again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _processes import descendants, kill_when, start, survivors

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and /proc"),
    pytest.mark.slow,
]

MODES = {
    "serial": (),
    "workers": ("--workers", "2"),
    "dask": ("--executor", "dask", "--workers", "2"),
}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, minimal_dict_factory):
    from conftest import to_toml

    data = minimal_dict_factory()
    data["run"]["horizon_days"] = 84
    data["run"]["replications"] = 16  # ~50 ms each: the kill lands mid-run
    path = tmp_path_factory.mktemp("scenario") / "s.toml"
    path.write_text(to_toml(data))
    return path


def _command(name: str, scenario: Path) -> list[object]:
    if name == "run":
        return ["run", scenario, "--json", "-q"]
    if name == "compare":
        return ["compare", scenario, scenario, "--set", "sales.reps=2", "--json", "-q"]
    return ["quota", scenario, "--target-revenue", "3e5", "--replications", "4", "--json", "-q"]


CASES = [
    ("run", "serial"),
    ("run", "workers"),
    ("run", "dask"),
    ("compare", "workers"),
    ("quota", "workers"),
    ("quota", "dask"),
]


@pytest.mark.parametrize("command, mode", CASES, ids=[f"{c}-{m}" for c, m in CASES])
def test_sigkill_leaves_no_worker_and_the_command_then_runs_the_same(
    command, mode, cli, scenario, tmp_path
):
    if mode == "dask":
        pytest.importorskip("distributed", reason="the dask extra is not installed")
    args = [*_command(command, scenario), *MODES[mode]]
    proc = start(args, tmp_path / "killed.txt")
    started = time.monotonic()
    if mode == "serial":
        ready = lambda: time.monotonic() - started > 1.5  # noqa: E731 - into the run
    else:
        ready = lambda: len(descendants(proc.pid)) >= 2  # noqa: E731 - the workers are up
    seen = kill_when(proc, ready)
    if mode != "serial":
        assert len(seen) >= 2, f"expected worker processes, saw {seen}"
    assert survivors(seen) == set(), "workers outlived their killed parent by more than 5 s"

    again = subprocess.run(
        [sys.executable, "-m", "funnelsim.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    reference = cli(*_command(command, scenario))
    assert reference.exit_code == 0, reference.stderr
    assert json.loads(again.stdout) == json.loads(reference.stdout)


def test_run_out_killed_at_any_moment_is_accepted_again(cli, scenario, tmp_path):
    """Killed before, while or after writing --out, the folder is funnelsim's: the same command
    writes it whole."""
    out = tmp_path / "out"
    args = ["run", scenario, "--replications", "4", "--out", out, "-q"]
    for delay in (0.3, 1.5, 3.0):
        proc = start(args, tmp_path / "stderr.txt")
        started = time.monotonic()
        try:
            kill_when(proc, lambda d=delay, t=started: time.monotonic() - t >= d)
        except AssertionError:
            assert proc.returncode == 0, (tmp_path / "stderr.txt").read_text()
        res = cli(*args)
        assert res.exit_code == 0, res.stderr
        assert json.loads((out / "run.json").read_text())["replications"] == [0, 1, 2, 3]
        assert not list(out.glob(".*.tmp"))
