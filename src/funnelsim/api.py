"""The public API in one place: what notebooks and the CLI both call.

Every name is imported on first use (``fs.run`` loads the experiment layer then), so
``import funnelsim`` and ``funnelsim --help`` stay fast: pandas, scipy, matplotlib and lifelines
load only when something needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> (module under funnelsim, attribute): the public API, listed once.
WHERE: dict[str, tuple[str, str]] = {
    "Attribution": ("experiment", "Attribution"),
    "PrecisionReport": ("experiment", "PrecisionReport"),
    "SerialExecutor": ("experiment", "SerialExecutor"),
    "SweepResult": ("experiment", "SweepResult"),
    "attribute": ("experiment", "attribute"),
    "grid_points": ("experiment", "grid_points"),
    "latin_hypercube": ("experiment", "latin_hypercube"),
    "lever_groups": ("experiment", "lever_groups"),
    "load_sweep": ("experiment", "load_sweep"),
    "open_executor": ("experiment", "open_executor"),
    "read_points": ("experiment", "read_points"),
    "sweep": ("experiment", "sweep"),
    "Comparison": ("experiment", "Comparison"),
    "FunnelRecord": ("model", "FunnelRecord"),
    "RunResult": ("experiment", "RunResult"),
    "Scenario": ("scenario", "Scenario"),
    "all_keys": ("scenario", "all_keys"),
    "compare": ("experiment", "compare"),
    "from_dict": ("scenario", "from_dict"),
    "load": ("scenario", "load"),
    "feedback_frame": ("results", "feedback_frame"),
    "handoffs_frame": ("results", "handoffs_frame"),
    "mean_period_report": ("results", "mean_period_report"),
    "sla_breaches_by_rep_day": ("results", "sla_breaches_by_rep_day"),
    "override": ("scenario", "override"),
    "period_report": ("results", "period_report"),
    "period_reports": ("results", "period_reports"),
    "run": ("experiment", "run"),
    "simulate": ("model", "simulate"),
    "write_run": ("experiment.output", "write_run"),
    "run_to_folder": ("experiment.output", "run_to_folder"),
    "FolderRun": ("experiment.output", "FolderRun"),
    "check_out_folder": ("experiment.output", "check_out"),
    "QuotaPlan": ("planning", "QuotaPlan"),
    "StaffingResult": ("planning", "StaffingResult"),
    "erlang_reps": ("planning", "erlang_reps"),
    "quota": ("planning", "quota"),
    "reverse_funnel": ("planning", "reverse_funnel"),
    "staffing": ("planning", "staffing"),
    "Report": ("report", "Report"),
    "build_report": ("report", "build_report"),
    "headline": ("report", "headline"),
    "lever_themes": ("experiment.attribution", "lever_themes"),
    "render_report": ("report", "render_report"),
    "Backtest": ("calibration", "Backtest"),
    "Calibration": ("calibration", "Calibration"),
    "Export": ("calibration", "Export"),
    "backtest": ("calibration", "backtest"),
    "calibrate": ("calibration", "calibrate"),
    "load_export": ("calibration", "load_export"),
    "formatted": ("formatting", "display_frame"),
}
__all__ = list(WHERE)


def __getattr__(name: str) -> Any:
    try:
        module, attr = WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"funnelsim.{module}"), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
