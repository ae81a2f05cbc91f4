"""The public API in one place: what notebooks and the CLI both call."""

from __future__ import annotations

from .experiment import Comparison, RunResult, compare, run
from .experiment.output import write_run
from .model import FunnelRecord, simulate
from .results import mean_period_report, period_report, period_reports
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
    "mean_period_report",
    "override",
    "period_report",
    "period_reports",
    "run",
    "simulate",
    "write_run",
]
