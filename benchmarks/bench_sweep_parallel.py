"""Does a sweep speed up on more workers? Wall time of the same sweep, serial and on a pool.

    .venv/bin/python benchmarks/bench_sweep_parallel.py [--prospects 100000] [--workers 2]

A grid of 4 points (`sales.reps` of the scaled aligned preset, see bench_run.py, times 0.9,
1.0, 1.1, 1.2) at 2 replications each, run through `fs.sweep` serially and on a process pool of
``--workers`` (after a warm-up round that starts the workers), writing to a fresh folder each
time. Target (issue #13): at least 1.8x on 2 workers. Run it on a quiet machine: the figure is
a wall-time ratio. Figures go to stdout and to benchmarks/results/bench_sweep_parallel.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_sweep_parallel.json"
TARGET = 1.8
sys.path.insert(0, str(HERE))

from results_file import save  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prospects", type=int, default=100_000)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    from bench_run import scaled_scenario

    import funnelsim as fs

    s, info = scaled_scenario(args.prospects)
    reps = s.sales.reps
    grid = {"sales.reps": sorted({max(1, round(reps * f)) for f in (0.9, 1.0, 1.1, 1.2)})}

    def timed(executor) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            fs.sweep(
                s,
                grid,
                2,
                out=Path(tmp) / "sweep",
                executor=executor,
                progress=False,
            )
            return time.perf_counter() - t

    serial = timed(None)
    with fs.open_executor("process", args.workers) as ex:
        fs.run(s, list(range(900, 900 + args.workers)), executor=ex, progress=False)  # warm-up
        pooled = timed(ex)
    speedup = serial / pooled
    print(
        f"{len(grid['sales.reps'])} points x 2 replications of {args.prospects:,} prospects: "
        f"serial {serial:.1f} s, {args.workers} workers {pooled:.1f} s, {speedup:.2f}x "
        f"(target at least {TARGET}x; load average {os.getloadavg()[0]:.1f})"
    )
    save(
        RESULTS,
        {
            "setup": info,
            "grid": grid,
            "serial_seconds": serial,
            "pooled_seconds": pooled,
            "workers": args.workers,
            "speedup": speedup,
            "target": TARGET,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
