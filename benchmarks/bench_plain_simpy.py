"""funnelsim against the plain SimPy model of the same funnel, whole process, side by side.

    .venv/bin/python benchmarks/bench_plain_simpy.py [--prospects 1000000] [--reps 15]
                                                     [--load 0.8] [--repeats 1]

The reference is the textbook SimPy model (our own code, no funnelsim): Poisson arrivals, a
``simpy.Resource`` of reps, one process per prospect that requests a rep, holds it for an
exponential handling time and releases it; it records each wait and keeps nothing else. The
same model as a funnelsim scenario is the contract's M/M/c reduction (24/7, every prospect an
MQL at once, accepted, worked, reached by its one attempt, FIFO, exponential handling), run with
``funnelsim.simulate`` plus its KPIs, so it also keeps the whole ledger. Both run in a fresh
interpreter (imports included); we report wall seconds, prospects per second, peak RSS and
SimPy events per prospect. Figures go to stdout and benchmarks/results/bench_plain_simpy.json.
Targets (issue #13): funnelsim at least 4x faster than the plain model at 1,000,000 prospects,
at most 300 MB peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_plain_simpy.json"
HANDLING_H = 0.25


def plain(prospects: int, reps: int, load: float, seed: int) -> dict:
    """The plain one-process-per-prospect SimPy model."""
    import random

    import simpy

    rng = random.Random(seed)
    lam = load * reps / HANDLING_H
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=reps)
    waits: list[float] = []
    events = [0]

    def prospect(env, arrived):
        with desk.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(1.0 / HANDLING_H))

    def source(env):
        for _ in range(prospects):
            yield env.timeout(rng.expovariate(lam))
            env.process(prospect(env, env.now))

    env.process(source(env))
    env.run()
    events[0] = next(env._eid)  # SimPy numbers every scheduled event; no per-event wrapper
    return {"mean_wait_h": sum(waits) / len(waits), "events": events[0], "prospects": prospects}


def funnelsim_model(prospects: int, reps: int, load: float, seed: int) -> dict:
    """The same model as a funnelsim scenario, simulated with its KPIs."""
    import funnelsim as fs
    from funnelsim.results import compute_kpis

    lam = load * reps / HANDLING_H
    horizon_days = prospects / lam / 24.0
    s = fs.from_dict(
        {
            "name": "plain",
            "run": {"horizon_days": horizon_days, "replications": 1, "seed": seed},
            "arrivals": {"prospects_per_week": lam * 168.0},
            "sales": {
                "reps": reps,
                "calendar": "24/7",
                "handling_minutes": {"dist": "exponential", "mean": 60 * HANDLING_H},
            },
            "deals": {"deal_size": 1000},
        }
    )
    import simpy

    events = [0]
    init = simpy.Environment.__init__

    def counting_init(self, *a, **kw):  # read the event counter of the engine's environment
        init(self, *a, **kw)
        envs.append(self)

    envs: list = []
    simpy.Environment.__init__ = counting_init
    rec = fs.simulate(s, seed, 0)
    events[0] = sum(next(e._eid) for e in envs)
    k = compute_kpis(rec)
    return {
        "mean_wait_h": k["first_touch_hours_mean"],
        "events": events[0],
        "prospects": int(k["prospects"]),
    }


def child(kind: str, prospects: int, reps: int, load: float, seed: int) -> None:
    t0 = time.perf_counter()
    out = (plain if kind == "plain" else funnelsim_model)(prospects, reps, load, seed)
    out["inner_s"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


def whole_process(kind: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--prospects", str(args.prospects)]
    cmd += ["--reps", str(args.reps), "--load", str(args.load), "--seed", str(args.seed)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    out["prospects_per_s"] = out["prospects"] / wall
    out["events_per_prospect"] = out["events"] / out["prospects"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prospects", type=int, default=1_000_000)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--load", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--child", choices=["plain", "funnelsim"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.prospects, args.reps, args.load, args.seed)
        return 0
    doc: dict = {"settings": vars(args) | {"handling_hours": HANDLING_H}}
    for kind in ("plain", "funnelsim"):
        runs = [whole_process(kind, args) for _ in range(args.repeats)]
        best = min(runs, key=lambda r: r["wall_s"])
        doc[kind] = best
        print(
            f"{kind:>9}: {best['wall_s']:6.2f} s whole process, {best['prospects_per_s']:>9,.0f} "
            f"prospects/s, peak {best['peak_rss_mb']:6.0f} MB, {best['events_per_prospect']:.2f} "
            f"SimPy events/prospect, mean wait {best['mean_wait_h']:.3f} h"
        )
    doc["speedup"] = doc["plain"]["wall_s"] / doc["funnelsim"]["wall_s"]
    print(f"funnelsim is {doc['speedup']:.2f}x the plain model (target >= 4x)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
