"""Benchmark `funnelsim calibrate` at the scale of issue #11: 1,000,000 leads, 3,000,000 activities.

    .venv/bin/python benchmarks/bench_calibrate.py [--leads 1000000] [--keep DIR]

A vectorised generator (numpy, independent of funnelsim's engine) writes a generic export and
its activities to CSV (every stage, censored at the snapshot, attempts on a business calendar
with durations and outcomes); then the calibration (reading, checking and fitting everything,
decay included) runs in a fresh subprocess so its wall time and peak RSS are its own. Figures
go to stdout and to benchmarks/results/bench_calibrate.json.
Target from issue #11: at most 60 s and 2 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_calibrate.json"
TARGET_S, TARGET_MB = 60.0, 2048.0
START = pd.Timestamp("2029-01-01")


def _stamp(hours: np.ndarray) -> np.ndarray:
    s = pd.Series(START + pd.to_timedelta(hours, unit="h"))
    return s.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("").to_numpy(object)


def _business(t: np.ndarray) -> np.ndarray:
    """Move each time to the next working hour (Mon-Fri 9-17) if it falls outside."""
    day = np.floor(t / 24.0)
    hour = t - 24.0 * day
    early = hour < 9
    late = hour >= 17
    t = np.where(early, 24.0 * day + 9, t)
    t = np.where(late, 24.0 * (day + 1) + 9, t)
    day = np.floor(t / 24.0)
    weekday = np.nan_to_num(day % 7, nan=0).astype(int)  # 2029-01-01 is a Monday
    shift = np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    return np.where(shift > 0, 24.0 * (day + shift) + 9 + (t - 24.0 * day - 9) * 0, t)


def generate(n: int, folder: Path, seed: int = 1) -> tuple[Path, Path, int]:
    rng = np.random.default_rng(seed)
    days = 365.0
    created = np.sort(rng.uniform(0, 24 * days, n))
    mql = np.where(rng.random(n) < 0.3, created + 24 * rng.lognormal(np.log(6), 0.8, n), np.nan)
    accepted = ~np.isnan(mql) & (rng.random(n) < 0.8)
    worked = accepted & (rng.random(n) < 0.9)
    first = np.where(worked, _business(mql + rng.exponential(3.0, n)), np.nan)
    # Attempts: up to 6, each reaching with 0.35, on the cadence 0, 1, 24, 72, 168, 336 hours.
    cadence = np.array([0, 1, 24, 72, 168, 336], float)
    k_reach = np.minimum(rng.geometric(0.35, n), 7)
    n_att = np.where(worked, np.minimum(k_reach, 6), 0)
    reached_k = np.where(worked & (k_reach <= 6), k_reach, 0)
    lead = np.repeat(np.arange(n), n_att)
    k = np.concatenate([np.arange(m) for m in n_att[n_att > 0]]) if n_att.sum() else np.empty(0)
    at = _business(first[lead] + cadence[k.astype(int)])
    reached_att = (k + 1) == reached_k[lead]
    reached_at = np.full(n, np.nan)
    reached_at[lead[reached_att]] = at[reached_att]
    wait = reached_at - mql
    q = 0.5 * (0.3 + 0.7 * np.exp(-wait / 2.0))
    sql = np.where(
        ~np.isnan(reached_at) & (rng.random(n) < q), reached_at + 24 * rng.exponential(3, n), np.nan
    )
    opp = np.where(
        ~np.isnan(sql) & (rng.random(n) < 0.5), sql + 24 * rng.exponential(10, n), np.nan
    )
    closed = np.where(~np.isnan(opp), opp + 24 * rng.lognormal(np.log(40), 0.5, n), np.nan)
    won = rng.random(n) < 0.3
    amount = rng.gamma(1 / 0.49, 40000 * 0.49, n)
    cut = 24 * days
    seen = lambda t: np.where(t <= cut, t, np.nan)  # noqa: E731
    mql, first, reached_at, sql, opp, closed = map(seen, (mql, first, reached_at, sql, opp, closed))
    is_mql, is_closed = ~np.isnan(mql), ~np.isnan(closed)
    sources = np.array(["web", "webinar", "paid", "referral"], dtype=object)
    leads = pd.DataFrame(
        {
            "lead_id": np.char.add("L", np.arange(n).astype(str)),
            "created_at": _stamp(created),
            "source": sources[rng.integers(0, 4, n)],
            "mql_at": _stamp(mql),
            "accepted": np.where(is_mql, np.where(accepted, "true", "false"), ""),
            "sql_at": _stamp(sql),
            "opportunity_at": _stamp(opp),
            "closed_at": _stamp(closed),
            "won": np.where(is_closed, np.where(won, "true", "false"), ""),
            "amount": np.where(is_closed & won, np.round(amount, 2), np.nan),
            "owner": np.where(worked, np.char.add("rep", (np.arange(n) % 40).astype(str)), ""),
        }
    )
    ok = at <= cut
    acts = pd.DataFrame(
        {
            "lead_id": np.char.add("L", lead[ok].astype(str)),
            "at": _stamp(at[ok]),
            "owner": np.char.add("rep", (lead[ok] % 40).astype(str)),
            "duration_minutes": np.round(rng.exponential(15, int(ok.sum())), 2),
            "reached": np.where(reached_att[ok], "true", "false"),
        }
    )
    # Pad with follow-up activities (meetings after the reach) up to 3 per lead on average, as
    # a real CRM logs them: they are not contact attempts and must not count as such.
    extra = 3 * n - len(acts)
    if extra > 0:
        who = rng.choice(np.flatnonzero(~np.isnan(reached_at)), extra)
        t = np.minimum(reached_at[who] + rng.uniform(1, 500, extra), cut)
        acts = pd.concat(
            [
                acts,
                pd.DataFrame(
                    {
                        "lead_id": np.char.add("L", who.astype(str)),
                        "at": _stamp(t),
                        "owner": np.char.add("rep", (who % 40).astype(str)),
                        "duration_minutes": np.round(rng.exponential(30, extra), 2),
                        "reached": "true",
                    }
                ),
            ],
            ignore_index=True,
        )
    lp, ap = folder / "leads.csv", folder / "activities.csv"
    leads.to_csv(lp, index=False)
    acts.to_csv(ap, index=False)
    return lp, ap, len(acts)


CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import funnelsim as fs
cal = fs.calibrate(sys.argv[1], activities=sys.argv[2])
secs = time.perf_counter() - t0
# VmHWM is this process's own peak (ru_maxrss would carry the generator's across exec).
try:
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0]
    peak = int(hwm.split()[1]) / 1024.0
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
p = cal.parameters
print(json.dumps({"seconds": secs, "peak_rss_mb": peak,
                  "mql_rate": p["marketing.mql_rate"].value,
                  "win_rate": p["deals.win_rate"].value,
                  "contact_rate": p["sales.contact_rate"].value,
                  "decay_tau_hours": p["qualification.decay_tau_hours"].value,
                  "warnings": len(cal.warnings)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write the CSVs here and keep them (reused when already there)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if (folder / "leads.csv").exists() and args.keep is not None:
            leads, acts = folder / "leads.csv", folder / "activities.csv"
            with open(acts, "rb") as fh:
                n_acts = sum(1 for _ in fh) - 1
        else:
            leads, acts, n_acts = generate(args.leads, folder)
        gen_s = time.perf_counter() - t0
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(leads), str(acts)],
            capture_output=True,
            text=True,
            check=True,
        )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    doc = {
        "benchmark": "calibrate",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "leads": args.leads,
        "activities": n_acts,
        "generate_seconds": round(gen_s, 1),
        "calibrate_seconds": round(res["seconds"], 1),
        "calibrate_peak_rss_mb": round(res["peak_rss_mb"]),
        "target": {"seconds": TARGET_S, "peak_rss_mb": TARGET_MB},
        "met": res["seconds"] <= TARGET_S and res["peak_rss_mb"] <= TARGET_MB,
        "recovered": {
            k: res[k] for k in ("mql_rate", "win_rate", "contact_rate", "decay_tau_hours")
        },
        "truth": {"mql_rate": 0.3, "win_rate": 0.3, "contact_rate": 0.35, "decay_tau_hours": 2.0},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
