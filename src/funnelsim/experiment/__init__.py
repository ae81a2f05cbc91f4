"""Experiments: replications, paired comparisons."""

from .compare import Comparison, compare
from .replications import RunResult, replicate, run
from .stats import mean_ci, summarize

__all__ = ["Comparison", "RunResult", "compare", "mean_ci", "replicate", "run", "summarize"]
