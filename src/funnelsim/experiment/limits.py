"""How much one command may ask for: counts of replications, points, runs and workers.

The scenario's own keys are bounded in its schema; these bound what an experiment multiplies
them by, so that no option can ask for a run that never ends or a table that cannot fit in
memory. Each check raises `UsageError` (exit status 2) naming the option, what was given and what
is allowed.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..caps import MAX_REPLICATIONS, MAX_SEED
from ..errors import UsageError

# Design points of one sweep (a grid's product, --samples, the rows of --points).
MAX_POINTS = 100_000
# Runs (point or coalition x replication) of one experiment: a results table of this many rows
# and ~50 KPI columns is a few hundred MB.
MAX_RUNS = 1_000_000
# Groups attributed exactly (2^k coalitions each run R times) and sampled orders.
MAX_EXACT_GROUPS = 12
MAX_PERMUTATIONS = 1_000

__all__ = [
    "MAX_EXACT_GROUPS",
    "MAX_PERMUTATIONS",
    "MAX_POINTS",
    "MAX_REPLICATIONS",
    "MAX_RUNS",
    "MAX_SEED",
    "check_count",
    "check_runs",
    "max_workers",
]


def max_workers() -> int:
    """The most worker processes one command may start: four per CPU core."""
    return 4 * (os.cpu_count() or 1)


def check_count(value: Any, option: str, most: int, least: int = 1) -> int:
    """``value`` as an int when it is a whole number from ``least`` to ``most``, else
    `UsageError` naming ``option``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not least <= value <= most
    ):
        raise UsageError(
            f"{option} must be a whole number from {least:,} to {most:,} (given: {value!r})"
        )
    return int(value)


def check_runs(runs: int, what: str) -> None:
    """Refuse an experiment of more than `MAX_RUNS` runs; ``what`` says how they multiply."""
    if runs > MAX_RUNS:
        raise UsageError(
            f"{what} makes {runs:,} runs; at most {MAX_RUNS:,} are allowed in one command: "
            "use fewer points or replications"
        )
