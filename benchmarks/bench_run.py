"""Benchmark one replication of the aligned preset at scale: prospects per second and memory.

    .venv/bin/python benchmarks/bench_run.py [--prospects 100000] [--repeats 5] [--workers 2]
                                             [--skip-million] [--seed 1]

The preset's arrival rate is raised so that one replication holds ``--prospects`` prospects
(prospects_per_week = prospects / (horizon_days / 7)), and ``sales.reps`` is scaled by the same
factor so the reps' offered load stays the preset's: the queue, not only the volume, is realistic.

Reported: the median time of ``--repeats`` replications (after one warm-up that is not counted),
prospects per second on one core and with ``--workers`` processes, the tracemalloc peak and the
process's peak RSS, and one 1,000,000-prospect replication timed in a fresh subprocess so its
peak-RSS delta is clean. Figures go to stdout and to benchmarks/results/bench_run.json.
Targets from issue #2: >= 300,000 prospects/s on 2 cores; a 1M-prospect replication < 1 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRESET = HERE.parent / "scenarios" / "aligned.toml"
RESULTS = HERE / "results" / "bench_run.json"
TARGET_RATE = 300_000.0
TARGET_MILLION_MB = 1024.0


def scaled_scenario(prospects: int):
    """The aligned preset with ``prospects`` per replication and reps scaled alike.

    Returns ``(scenario, info)`` where info records the scaling and the offered loads."""
    import funnelsim as fs
    from funnelsim.scenario.checks import offered_load

    base = fs.load(PRESET)
    ppw = prospects / (base.run.horizon_days / 7.0)
    factor = ppw / base.arrivals.prospects_per_week
    reps = max(1, round(base.sales.reps * factor))
    s = fs.override(base, {"arrivals.prospects_per_week": ppw, "sales.reps": reps})
    info = {
        "preset": str(PRESET.relative_to(HERE.parent)),
        "horizon_days": base.run.horizon_days,
        "prospects_per_week": ppw,
        "volume_factor": factor,
        "reps": {"preset": base.sales.reps, "scaled": reps},
        "offered_load": {"preset": offered_load(base), "scaled": offered_load(s)},
    }
    return s, info


def one_replication(s, seed: int, replication: int) -> tuple[float, float, int]:
    """Simulate one replication and compute its KPIs: (wall seconds, CPU seconds, prospects).

    CPU time is reported next to wall time because a shared machine inflates the latter."""
    from funnelsim import simulate
    from funnelsim.results import compute_kpis

    t0, c0 = time.perf_counter(), time.process_time()
    rec = simulate(s, seed, replication)
    compute_kpis(rec)
    return time.perf_counter() - t0, time.process_time() - c0, rec.n_prospects


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc; falls back to the peak elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss: KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def serial(s, seed: int, repeats: int) -> dict:
    """Median seconds and prospects/s over ``repeats`` replications after one warm-up."""
    one_replication(s, seed, 0)  # warm-up: imports, caches, first allocations
    times, cpu, counts = [], [], []
    for r in range(1, repeats + 1):
        sec, cpu_sec, n = one_replication(s, seed, r)
        times.append(sec)
        cpu.append(cpu_sec)
        counts.append(n)
    med, med_cpu, n = statistics.median(times), statistics.median(cpu), statistics.median(counts)
    return {
        "repeats": repeats,
        "seconds": times,
        "cpu_seconds": cpu,
        "prospects": counts,
        "median_seconds": med,
        "median_cpu_seconds": med_cpu,
        "prospects_per_second": n / med,
        "prospects_per_cpu_second": n / med_cpu,
    }


def memory(s, seed: int) -> dict:
    """tracemalloc peak of one replication (timed separately: tracing slows Python down)."""
    tracemalloc.start()
    one_replication(s, seed, repeats_offset := 1000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "tracemalloc_peak_mb": peak / 2**20,
        "replication": repeats_offset,
        "process_peak_rss_mb": peak_rss_mb(),
    }


def parallel(s, seed: int, workers: int, repeats: int) -> dict | None:
    """Throughput with ``workers`` processes through the public executor API, after a warm-up
    round that starts the workers and their imports."""
    import funnelsim as fs
    from funnelsim.model.arrivals import arrival_times

    if workers < 2 or not hasattr(fs, "open_executor"):
        return None
    ids = list(range(2000, 2000 + max(repeats, 2) * workers))
    with fs.open_executor("process", workers) as ex:
        fs.run(s, list(range(3000, 3000 + workers)), seed, executor=ex, keep_records=False)
        t0 = time.perf_counter()
        fs.run(s, ids, seed, executor=ex, keep_records=False, progress=False)
        sec = time.perf_counter() - t0
    prospects = sum(arrival_times(s, seed, r).size for r in ids)
    return {
        "workers": workers,
        "replications": len(ids),
        "seconds": sec,
        "prospects": prospects,
        "prospects_per_second": prospects / sec,
    }


# Mechanisms issue #3 added to the preset; off, the preset is the model issue #2 set targets for.
CORE_OFF = {
    "nurture.recycle": False,
    "feedback.enabled": False,
    "sales.vacation_days_per_year": 0,
    "sales.new_hires": 0,
}


def core_levers(s):
    """The scaled preset without the mechanisms in `CORE_OFF`."""
    import funnelsim as fs

    return fs.override(s, CORE_OFF)


def child_million(prospects: int, seed: int) -> None:
    """Run in a fresh interpreter: one replication, print time and RSS figures as JSON."""
    s, _ = scaled_scenario(prospects)
    import funnelsim  # noqa: F401  (imports paid before the baseline is read)

    base = rss_mb()
    sec, cpu_sec, n = one_replication(s, seed, 0)
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "prospects": n,
                "seconds": sec,
                "cpu_seconds": cpu_sec,
                "prospects_per_second": n / sec,
                "rss_before_mb": base,
                "peak_rss_mb": peak,
                "rss_delta_mb": peak - base,
            }
        )
    )


def million(prospects: int, seed: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", "--prospects", str(prospects), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the {prospects:,}-prospect child run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def versions() -> dict:
    import numpy
    import simpy

    import funnelsim

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "simpy": simpy.__version__,
        "funnelsim": funnelsim.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        # Other work on the machine slows wall-clock figures; CPU seconds are less affected.
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prospects", type=int, default=100_000, help="prospects per replication")
    p.add_argument("--repeats", type=int, default=5, help="timed replications (after a warm-up)")
    p.add_argument("--workers", type=int, default=2, help="processes for the parallel figure")
    p.add_argument("--skip-million", action="store_true", help="skip the 1M-prospect run")
    p.add_argument("--million", type=int, default=1_000_000, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.prospects < 1 or a.repeats < 1:
        p.error("--prospects and --repeats must be at least 1")
    if a.child:
        child_million(a.prospects, a.seed)
        return 0

    import warnings

    warnings.simplefilter("ignore")  # the scaled preset is as quiet as the preset itself
    s, info = scaled_scenario(a.prospects)
    print(
        f"aligned preset at {a.prospects:,} prospects per replication: "
        f"prospects_per_week {info['prospects_per_week']:,.0f} (x{info['volume_factor']:.2f}); "
        f"sales.reps scaled by the same factor {info['reps']['preset']} -> "
        f"{info['reps']['scaled']} so the offered load stays "
        f"{info['offered_load']['preset']:.1%} (scaled: {info['offered_load']['scaled']:.1%})"
    )
    out: dict = {"date": dt.datetime.now().isoformat(timespec="seconds"), **versions()}
    out["setup"] = info
    out["serial"] = serial(s, a.seed, a.repeats)
    print(
        f"1 core : median {out['serial']['median_seconds']:.3f} s per replication of "
        f"~{statistics.median(out['serial']['prospects']):,.0f} prospects -> "
        f"{out['serial']['prospects_per_second']:,.0f} prospects/s wall, "
        f"{out['serial']['prospects_per_cpu_second']:,.0f} per CPU second "
        f"(median of {a.repeats}, warm-up excluded; load average {out['load_average_1min']:.1f})"
    )
    out["memory"] = memory(s, a.seed)
    print(
        f"memory : tracemalloc peak {out['memory']['tracemalloc_peak_mb']:.1f} MB for one "
        f"replication; process peak RSS {out['memory']['process_peak_rss_mb']:.1f} MB"
    )
    par = parallel(s, a.seed, a.workers, a.repeats)
    out["parallel"] = par
    if par:
        print(
            f"{par['workers']} procs: {par['replications']} replications in {par['seconds']:.2f} s "
            f"-> {par['prospects_per_second']:,.0f} prospects/s "
            f"(target >= {TARGET_RATE:,.0f} on 2 cores)"
        )
    # The target was set for the core model (issue #2). The alignment levers added since
    # (recycling through nurture above all: leads come back for two years and compete for reps
    # again) make the full preset several times more work per prospect, so report both.
    core = core_levers(s)
    out["core_levers"] = {"serial": serial(core, a.seed, a.repeats)}
    out["core_levers"]["parallel"] = parallel(core, a.seed, a.workers, a.repeats)
    cpar = out["core_levers"]["parallel"]
    print(
        f"core   : the same preset with {', '.join(CORE_OFF)} off: "
        f"{out['core_levers']['serial']['prospects_per_cpu_second']:,.0f} prospects per CPU second"
        + (
            f"; {cpar['workers']} procs {cpar['prospects_per_second']:,.0f} prospects/s"
            if cpar
            else ""
        )
    )
    if not a.skip_million:
        m = million(a.million, a.seed)
        out["million"] = m
        print(
            f"1M     : {m['prospects']:,} prospects in {m['seconds']:.2f} s "
            f"({m['cpu_seconds']:.2f} s CPU) "
            f"({m['prospects_per_second']:,.0f}/s); peak RSS {m['peak_rss_mb']:.0f} MB, "
            f"+{m['rss_delta_mb']:.0f} MB over the imported baseline "
            f"(target < {TARGET_MILLION_MB:,.0f} MB)"
        )
    out["targets"] = {
        "prospects_per_second_2_cores": TARGET_RATE,
        "million_replication_mb": TARGET_MILLION_MB,
        "rate_met": bool(par and par["prospects_per_second"] >= TARGET_RATE),
        "rate_met_core_levers": bool(cpar and cpar["prospects_per_second"] >= TARGET_RATE),
        "memory_met": None
        if "million" not in out
        else out["million"]["peak_rss_mb"] < TARGET_MILLION_MB,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
