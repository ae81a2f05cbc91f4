"""A sweep killed with SIGKILL loses at most the runs in flight, and never corrupts or duplicates.

The sweep runs as a real ``funnelsim sweep`` subprocess. Once some rows are on disk it is killed
with SIGKILL (no cleanup handlers run), then the same command is rerun. The final results must
equal an uninterrupted sweep byte for byte, the log must hold each (point, replication) once,
and the rerun must reuse every row that was complete at the kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

POINTS = 3
REPS = 10
KILL_AFTER_ROWS = 6  # well before the end: 30 runs of ~30 ms each take ~1 s


def _args(scenario: Path, out: Path) -> list[str]:
    return [
        "sweep",
        str(scenario),
        "--grid",
        "sales.reps=2,3,4",
        "--replications",
        str(REPS),
        "--seed",
        "5",
        "--out",
        str(out),
        "--quiet",
    ]


def test_resume_after_sigkill_loses_nothing(cli, write_scenario, minimal_dict_factory, tmp_path):
    data = minimal_dict_factory()
    data["run"]["horizon_days"] = 56  # ~30 ms a run, so the kill lands mid-sweep
    scenario = write_scenario(data)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "funnelsim.cli", *_args(scenario, out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log = out / "runs.jsonl"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and log.read_bytes().count(b"\n") >= KILL_AFTER_ROWS:
                break
            time.sleep(0.005)
        assert proc.poll() is None, f"the sweep ended before the kill: {proc.stderr.read()!r}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    at_kill = log.read_bytes()
    complete = at_kill.count(b"\n")
    assert KILL_AFTER_ROWS <= complete < POINTS * REPS
    assert not (out / "results.csv").exists()

    resumed = cli(*_args(scenario, out))
    assert resumed.exit_code == 0, resumed.stderr
    assert f"{POINTS * REPS - complete} runs computed, {complete} reused" in resumed.stderr

    reference = cli(*_args(scenario, tmp_path / "uninterrupted"))
    assert reference.exit_code == 0, reference.stderr
    for name in ("results.csv", "summary.csv", "failures.csv"):
        assert (out / name).read_bytes() == (tmp_path / "uninterrupted" / name).read_bytes(), name

    rows = [json.loads(line) for line in log.read_text().splitlines()]
    keys = [(r["point"], r["replication"]) for r in rows]
    assert len(keys) == len(set(keys)) == POINTS * REPS
