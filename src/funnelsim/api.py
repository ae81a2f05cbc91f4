"""The public API in one place: what notebooks and the CLI both call."""

from __future__ import annotations

from .experiment import (
    Attribution,
    Comparison,
    PrecisionReport,
    RunResult,
    SerialExecutor,
    SweepResult,
    attribute,
    compare,
    grid_points,
    latin_hypercube,
    lever_groups,
    load_sweep,
    open_executor,
    read_points,
    run,
    sweep,
)
from .experiment.output import check_out as check_out_folder
from .experiment.output import write_run
from .model import FunnelRecord, simulate
from .planning import (
    QuotaPlan,
    StaffingResult,
    erlang_reps,
    quota,
    reverse_funnel,
    staffing,
)
from .results import (
    feedback_frame,
    handoffs_frame,
    mean_period_report,
    period_report,
    period_reports,
    sla_breaches_by_rep_day,
)
from .scenario import Scenario, all_keys, from_dict, load, override

__all__ = [
    "Attribution",
    "PrecisionReport",
    "SerialExecutor",
    "SweepResult",
    "attribute",
    "grid_points",
    "latin_hypercube",
    "lever_groups",
    "load_sweep",
    "open_executor",
    "read_points",
    "sweep",
    "Comparison",
    "FunnelRecord",
    "RunResult",
    "Scenario",
    "all_keys",
    "compare",
    "from_dict",
    "load",
    "feedback_frame",
    "handoffs_frame",
    "mean_period_report",
    "sla_breaches_by_rep_day",
    "override",
    "period_report",
    "period_reports",
    "run",
    "simulate",
    "write_run",
    "check_out_folder",
    "QuotaPlan",
    "StaffingResult",
    "erlang_reps",
    "quota",
    "reverse_funnel",
    "staffing",
]


# The report (and through it matplotlib, ~1.5 s) loads on first use, not with every command.
_REPORT_NAMES = {"Report", "build_report", "headline", "lever_themes", "render_report"}


# Calibration (lifelines, scipy.optimize) loads on first use too.
_CALIBRATION_NAMES = {"Backtest", "Calibration", "Export", "backtest", "calibrate", "load_export"}


def __getattr__(name: str):
    if name in _REPORT_NAMES:
        from . import report

        return getattr(report, name)
    if name in _CALIBRATION_NAMES:
        from . import calibration

        return getattr(calibration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
