"""Experiments: replications, paired comparisons, sweeps, lever attribution, executors."""

from .attribution import THEMES, Attribution, attribute, lever_groups, lever_themes
from .compare import Comparison, compare
from .design import grid_points, latin_hypercube, read_points
from .engine import replicate
from .executors import SerialExecutor, open_executor
from .precision import PrecisionReport
from .replications import RunResult, run
from .stats import mean_ci, summarize
from .sweep import SweepResult, load_sweep, sweep

__all__ = [
    "Attribution",
    "Comparison",
    "PrecisionReport",
    "RunResult",
    "SerialExecutor",
    "SweepResult",
    "attribute",
    "compare",
    "grid_points",
    "latin_hypercube",
    "lever_groups",
    "lever_themes",
    "THEMES",
    "load_sweep",
    "mean_ci",
    "open_executor",
    "read_points",
    "replicate",
    "run",
    "summarize",
    "sweep",
]
