"""Measure the three presets against their published anchors and each lever alone against its
evidence; print the README's two tables (markdown) and write benchmarks/results/anchors.json.

    .venv/bin/python benchmarks/preset_anchors.py [--replications 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_presets_anchors import LEVER_BOUNDS, lever_scenario  # noqa: E402

import funnelsim as fs  # noqa: E402
from funnelsim.anchors import ANCHORS, anchor_values  # noqa: E402

PRESETS = ("siloed", "partly-aligned", "aligned")


def fmt(value: float, unit: str) -> str:
    return f"{value:.1f} h" if unit == "hours" else f"{value:.1%}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    warnings.simplefilter("ignore", fs.ScenarioWarning)
    scen = {n: fs.load(ROOT / "scenarios" / f"{n}.toml") for n in PRESETS}
    doc: dict = {"replications": args.replications, "seed": args.seed, "anchors": {}, "levers": {}}
    with fs.open_executor("process", args.workers) as ex:
        runs = {
            n: fs.run(s, args.replications, args.seed, keep_records=False, executor=ex).kpis
            for n, s in scen.items()
        }
        print("| figure | source | published | " + " | ".join(PRESETS) + " |")
        print("|---|---|---|" + "---|" * len(PRESETS))
        for a in ANCHORS:
            vals = {n: float(np.nanmean(anchor_values(k, a))) for n, k in runs.items()}
            doc["anchors"][a.key] = vals
            cells = " | ".join(fmt(vals[n], a.unit) for n in PRESETS)
            print(f"| {a.figure} | {a.source} | {a.published} | {cells} |")
        base = runs["siloed"]
        gap = runs["aligned"]["bookings_in_horizon"].mean() / base["bookings_in_horizon"].mean()
        doc["first_year_gap"] = float(gap)
        print(f"\naligned / siloed first-year bookings: {gap:.2f}x\n")
        print("| lever (switched alone on siloed) | evidence | bound | revenue | first-year |")
        print("|---|---|---|---|---|")
        for name, (keys, bound, source) in LEVER_BOUNDS.items():
            alt = lever_scenario(scen["siloed"], scen["aligned"], keys)
            k = fs.run(alt, args.replications, args.seed, keep_records=False, executor=ex).kpis
            r = float(k["revenue"].mean() / base["revenue"].mean())
            f = float(k["bookings_in_horizon"].mean() / base["bookings_in_horizon"].mean())
            doc["levers"][name] = {"revenue": r, "first_year": f, "bound": bound}
            print(f"| {name} | {source} | {bound:.2f}x | {r:.2f}x | {f:.2f}x |")
    out = HERE / "results" / "anchors.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
