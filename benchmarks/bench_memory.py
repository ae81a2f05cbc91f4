"""Measure what one replication costs in memory and time, to set the work limits of a scenario.

    .venv/bin/python benchmarks/bench_memory.py [--prospects 200000]

A replication's peak memory grows with its prospects and with its lead draws: every lead that
becomes an MQL draws a handling time for every attempt of every cycle it may go through
(``attempts x max_cycles`` slots), whether or not it uses them. Each configuration runs one
replication in a fresh subprocess; its peak RSS minus that of a tiny run is its cost. The two
per-unit costs are fitted by least squares,

    bytes = a * prospects + b * leads * cycles * attempts

and `funnelsim.scenario.checks` refuses a scenario whose estimate passes its budget. Figures go
to stdout and to benchmarks/results/bench_memory.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_memory.json"

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import funnelsim as fs
from funnelsim.results import compute_kpis
from funnelsim.scenario.checks import estimate_work
spec = json.loads(sys.argv[1])
data = {
    "name": "bench", "run": {"horizon_days": 364, "replications": 1, "seed": 1},
    "arrivals": {"prospects_per_week": spec["prospects"] / 52.0},
    "marketing": {"mql_rate": 0.5}, "handoff": {"acceptance_rate": 0.8},
    "sales": {"reps": 50, "handling_minutes": 1, "attempts": spec["attempts"],
              "cadence_hours": [0, 1], "contact_rate": 0.3},
    "nurture": {"recycle": spec["cycles"] > 1, "max_cycles": spec["cycles"],
                "remql_per_month": 0.5},
    "deals": {"deal_size": 1000},
}
s = fs.from_dict(data)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t = time.perf_counter()
rec = fs.simulate(s, 1, 0)
compute_kpis(rec)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
work = estimate_work(s)
made = int((rec.attempt_start == rec.attempt_start).sum())  # not NaN: an attempt made
print(json.dumps({**spec, "prospects_run": rec.n_prospects,
    "leads": len(set(rec.mql_id.tolist())), "attempts_made": made,
    "seconds": seconds, "rss_before": before, "rss_peak": peak,
    "estimated_bytes": work.bytes, "estimated_attempts": work.attempts}))
"""


def measure(spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prospects", type=int, default=200_000)
    args = ap.parse_args()
    n = args.prospects
    configs = [
        {"prospects": n, "attempts": 1, "cycles": 1},
        {"prospects": 2 * n, "attempts": 1, "cycles": 1},
        {"prospects": n, "attempts": 10, "cycles": 1},
        {"prospects": n, "attempts": 30, "cycles": 1},
        {"prospects": n, "attempts": 6, "cycles": 5},
        {"prospects": n, "attempts": 20, "cycles": 10},
    ]
    rows = []
    for spec in configs:
        row = measure(spec)
        row["cost_bytes"] = row["rss_peak"] - row["rss_before"]
        rows.append(row)
        print(
            f"prospects {row['prospects_run']:>9,} attempts {spec['attempts']:>2} cycles "
            f"{spec['cycles']:>2}: {row['cost_bytes'] / 1e6:8.1f} MB (estimate "
            f"{row['estimated_bytes'] / 1e6:8.1f} MB), {row['seconds']:6.2f} s, "
            f"{row['attempts_made']:,} attempts",
            flush=True,
        )
    x = np.array([[r["prospects_run"], r["leads"] * r["cycles"] * r["attempts"]] for r in rows])
    y = np.array([r["cost_bytes"] for r in rows], float)
    (a, b), *_ = np.linalg.lstsq(x, y, rcond=None)
    ratio = [r["estimated_bytes"] / r["cost_bytes"] for r in rows]
    secs_per_attempt = max(r["seconds"] / max(r["attempts_made"], 1) for r in rows)
    print(f"fit: {a:.0f} bytes per prospect + {b:.1f} bytes per lead x cycle x attempt slot")
    print(f"estimate / measured: {min(ratio):.2f} to {max(ratio):.2f}")
    print(f"slowest: {secs_per_attempt * 1e6:.1f} us per attempt made")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": platform.platform(),
                "python": platform.python_version(),
                "bytes_per_prospect": a,
                "bytes_per_slot": b,
                "estimate_over_measured": [min(ratio), max(ratio)],
                "seconds_per_attempt_max": secs_per_attempt,
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
