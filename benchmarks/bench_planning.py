"""Benchmark the planning commands on the presets: `quota` and `staffing` at default settings.

    .venv/bin/python benchmarks/bench_planning.py [--workers 2] [--presets aligned siloed ...]
                                                   [--skip-examples]

Each case runs the real command, ``funnelsim quota|staffing PRESET ... --workers N --json
--quiet``, in a fresh process, so the time is what a user waits for: imports, the worker pool,
the search and the check on fresh replications. Reported per case: wall seconds, the CPU seconds
of the command and its workers (a shared machine inflates wall time, not CPU time), the
replications simulated, the answer, and the exit status.

Cases, per preset:
- ``quota``: the target this year's leads book on average at the preset's own volume (counted
  bookings by the horizon, the default basis, from 4 replications that are not timed), rounded
  to $0.1M, at the default confidence (0.9) and assurance (0.9).
- ``staffing``: the default SLA target (0.9). A preset whose coverage is below it exits 2 at
  once (no headcount can reach it); it is timed too, and again at ``--sla-target 0.7``.
And the issue's examples on the aligned preset: ``--target-revenue 10e6`` under each revenue
basis, and the unreachable ``--booked-within-days 180`` verdict.

Targets (issue #12): quota <= 20 s, staffing <= 15 s, an unreachable verdict < 30 s, on 2 cores.
Figures go to stdout and to benchmarks/results/bench_planning.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench_run import versions  # the same machine and version figures as the run benchmark

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "bench_planning.json"
PRESETS = ("aligned", "partly-aligned", "siloed")
TARGETS = {"quota": 20.0, "staffing": 15.0, "verdict": 30.0}


def preset_path(name: str) -> Path:
    return ROOT / "scenarios" / f"{name}.toml"


def own_target(name: str) -> float:
    """Mean counted revenue (bookings by the horizon) at the preset's volume, to $0.1M."""
    import warnings

    import funnelsim as fs
    from funnelsim.planning import counted_revenue, resolve_basis

    warnings.simplefilter("ignore")
    s = fs.load(preset_path(name))
    basis = resolve_basis(s)
    values = [counted_revenue(fs.simulate(s, s.run.seed, r), basis) for r in range(4)]
    return round(sum(values) / len(values) / 1e5) * 1e5


def timed(args: list[str]) -> dict:
    """Run ``funnelsim ARGS`` in a fresh process: wall and CPU seconds, exit status, the JSON."""
    cmd = [str(ROOT / ".venv" / "bin" / "funnelsim"), *args]
    if not Path(cmd[0]).exists():
        cmd = [sys.executable, "-m", "funnelsim", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = {"command": "funnelsim " + " ".join(args), "seconds": wall, "cpu_seconds": cpu}
    out["exit_status"] = proc.returncode
    try:
        out["result"] = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        out["result"] = None
    if proc.returncode != 0:
        out["stderr"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return out


def summary(kind: str, case: dict) -> str:
    doc = case.get("result") or {}
    took = f"{case['seconds']:6.1f} s wall, {case['cpu_seconds']:6.1f} s CPU"
    if case["exit_status"] != 0:
        return f"{took}  exit {case['exit_status']}: {case.get('stderr', '')[:150]}"
    if kind == "quota":
        return (
            f"{took}  {doc['prospects_per_week']:,.1f} prospects/week, "
            f"{doc['simulations']} replications simulated, P(hit) {doc['p_hit_target']:.0%} "
            f"out of sample, reps needed {doc['reps_needed']}"
        )
    sims = sum(int(r["replications"]) for r in doc["table"])
    return (
        f"{took}  reps needed {doc['reps_needed']}, most profitable {doc['reps_best']}, "
        f"{len(doc['table'])} rep counts, {sims} replications simulated"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    p.add_argument("--skip-examples", action="store_true", help="only the per-preset cases")
    a = p.parse_args(argv)
    workers = ["--workers", str(a.workers), "--json", "--quiet"]
    out: dict = {"date": dt.datetime.now().isoformat(timespec="seconds"), **versions()}
    out["workers"], out["targets_seconds"], out["cases"] = a.workers, TARGETS, []

    def record(kind: str, name: str, args: list[str], target: float) -> None:
        case = timed(args + workers)
        case.update({"kind": kind, "preset": name, "target_seconds": target})
        case["met"] = case["seconds"] <= target
        out["cases"].append(case)
        print(f"{kind:9s} {name:15s} {summary(kind if kind != 'verdict' else 'quota', case)}")

    for name in a.presets:
        path = str(preset_path(name))
        target = own_target(name)
        record(
            "quota", name, ["quota", path, "--target-revenue", f"{target:.0f}"], TARGETS["quota"]
        )
        record("staffing", name, ["staffing", path], TARGETS["staffing"])
        if out["cases"][-1]["exit_status"] == 2:
            record("staffing", name, ["staffing", path, "--sla-target", "0.7"], TARGETS["staffing"])
    if not a.skip_examples:
        path = str(preset_path("aligned"))
        for basis in ("booked", "all-bookings", "recognized"):
            args = ["quota", path, "--target-revenue", "10e6", "--revenue-basis", basis]
            record("quota", "aligned", args, TARGETS["quota"])
        verdict = ["quota", path, "--target-revenue", "10e6", "--booked-within-days", "180"]
        record("verdict", "aligned", verdict, TARGETS["verdict"])
    out["load_average_1min_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    save(out)
    return 0


def save(out: dict) -> None:
    """The figures as JSON, with whether each case met its target."""
    out["all_met"] = all(c["met"] for c in out["cases"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}; every target met: {out['all_met']}")


if __name__ == "__main__":
    raise SystemExit(main())
