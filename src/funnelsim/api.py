"""The public API in one place: what notebooks and the CLI both call."""

from __future__ import annotations

from .experiment import Comparison, RunResult, compare, run
from .experiment.output import write_run
from .model import FunnelRecord, simulate
from .scenario import Scenario, all_keys, from_dict, load, override

__all__ = [
    "Comparison",
    "FunnelRecord",
    "RunResult",
    "Scenario",
    "all_keys",
    "compare",
    "from_dict",
    "load",
    "override",
    "run",
    "simulate",
    "write_run",
]
