"""Does `run --out` keep memory flat in the number of replications? Peak RSS at R = 1 and R = 4.

    .venv/bin/python benchmarks/bench_run_out.py [--prospects 200000]

Each run is `funnelsim run <aligned, scaled> --out TMP --report weekly -q` in a fresh process
(the aligned preset with its arrival rate raised to ``--prospects`` per replication and
`sales.reps` scaled alike, as in bench_run.py), serially and on two worker processes. Every
replication's files are written as it finishes and its record dropped, so the peak at R = 4
should stay near the one at R = 1; held in memory, it would grow by one replication's records
per replication. Figures go to stdout and to benchmarks/results/bench_run_out.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_run_out.json"
PRESET = HERE.parent / "scenarios" / "aligned.toml"
sys.path.insert(0, str(HERE))

from results_file import save  # noqa: E402


def measure(sets: list[str], replications: int, workers: int) -> dict:
    """Whole-process peak RSS and wall time of one `run --out` in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            str(Path(sys.executable).with_name("funnelsim")),
            "run",
            str(PRESET),
            *sets,
            "--replications",
            str(replications),
            "--out",
            str(Path(tmp) / "out"),
            "--report",
            "weekly",
            "-q",
        ]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        # The peak of this child alone: run it through a tiny wrapper that reports its own
        # children's maximum RSS (the pool's workers included, each counted on its own).
        wrapper = (
            "import resource, subprocess, sys, json\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", wrapper, *cmd], check=True, capture_output=True, text=True
        )
        seconds = time.perf_counter() - t
        written_mb = sum(f.stat().st_size for f in (Path(tmp) / "out").iterdir()) / 1e6
    return {
        "replications": replications,
        "workers": workers,
        "peak_rss_mb": int(out.stdout.strip()) * 1024 / 1e6,
        "seconds": seconds,
        "written_mb": written_mb,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prospects", type=int, default=200_000)
    args = p.parse_args(argv)
    from bench_run import scaled_scenario

    s, info = scaled_scenario(args.prospects)
    sets = [
        "--set",
        f"arrivals.prospects_per_week={s.arrivals.prospects_per_week!r}",
        "--set",
        f"sales.reps={s.sales.reps}",
    ]
    rows = []
    for workers in (1, 2):
        for r in (1, 4):
            row = measure(sets, r, workers)
            rows.append(row)
            print(
                f"R={r} workers={workers}: peak {row['peak_rss_mb']:.0f} MB (largest single "
                f"process), {row['seconds']:.1f} s, {row['written_mb']:.0f} MB written",
                flush=True,
            )
    growth = {w: [r["peak_rss_mb"] for r in rows if r["workers"] == w] for w in (1, 2)}
    ratios = {w: v[1] / v[0] for w, v in growth.items()}
    print(
        "peak at R=4 over R=1: " + ", ".join(f"{w} worker(s) {x:.2f}x" for w, x in ratios.items())
    )
    save(
        RESULTS,
        {
            "prospects": args.prospects,
            "scenario": info,
            "runs": rows,
            "peak_ratio_r4_over_r1": ratios,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
