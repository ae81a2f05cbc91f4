"""Is the cost per prospect flat in the size of the funnel? CPU seconds per prospect by volume.

    .venv/bin/python benchmarks/bench_scaling.py [--sizes 100000 200000 400000] [--repeats 3]

The aligned preset with its arrival rate raised to each size and `sales.reps` scaled alike (so
the offered load stays the preset's: a bigger team, not a longer queue; see bench_run.py). Each
size runs ``--repeats`` replications after a warm-up, timed in CPU seconds of this process (less
sensitive than wall time to other work on the machine). Target (issue #13): the cost per
prospect at 400k at most 1.15x that at 100k. Figures go to stdout and to
benchmarks/results/bench_scaling.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_scaling.json"
TARGET = 1.15
sys.path.insert(0, str(HERE))

from results_file import save  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 200_000, 400_000])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    from bench_run import one_replication, scaled_scenario

    rows = []
    for size in args.sizes:
        s, info = scaled_scenario(size)
        one_replication(s, args.seed, 0)  # warm-up
        runs = [one_replication(s, args.seed, r) for r in range(1, args.repeats + 1)]
        per = statistics.median(cpu / n for _, cpu, n in runs)
        rows.append({"size": size, "setup": info, "runs": runs, "cpu_us_per_prospect": per * 1e6})
        print(
            f"{size:>9,} prospects, {info['reps']['scaled']:>4} reps: "
            f"{per * 1e6:6.2f} CPU-us per prospect",
            flush=True,
        )
    ratio = rows[-1]["cpu_us_per_prospect"] / rows[0]["cpu_us_per_prospect"]
    print(
        f"cost per prospect at {rows[-1]['size']:,} over {rows[0]['size']:,}: {ratio:.2f}x "
        f"(target at most {TARGET}x)"
    )
    save(
        RESULTS,
        {
            "sizes": rows,
            "ratio_largest_over_smallest": ratio,
            "target": TARGET,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
