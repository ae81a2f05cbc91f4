"""funnelsim: simulate a B2B revenue funnel and ask "what if?" before changing anything.

The public API (the same one the CLI uses)::

    import funnelsim as fs
    aligned = fs.load("scenarios/aligned.toml")
    siloed = fs.load("scenarios/siloed.toml")
    cmp = fs.compare(siloed, aligned, replications=20)
    cmp.table()
"""

__version__ = "0.1.0"

from .api import (  # noqa: E402
    Attribution,
    Comparison,
    FunnelRecord,
    PrecisionReport,
    QuotaPlan,
    RunResult,
    Scenario,
    SerialExecutor,
    StaffingResult,
    SweepResult,
    all_keys,
    attribute,
    compare,
    erlang_reps,
    feedback_frame,
    from_dict,
    grid_points,
    handoffs_frame,
    latin_hypercube,
    lever_groups,
    load,
    load_sweep,
    mean_period_report,
    open_executor,
    override,
    period_report,
    period_reports,
    quota,
    read_points,
    reverse_funnel,
    run,
    simulate,
    sla_breaches_by_rep_day,
    staffing,
    sweep,
    write_run,
)
from .errors import ScenarioError, ScenarioWarning, UsageError  # noqa: E402

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
    "Report",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "UsageError",
    "__version__",
    "all_keys",
    "build_report",
    "compare",
    "from_dict",
    "headline",
    "load",
    "feedback_frame",
    "handoffs_frame",
    "mean_period_report",
    "sla_breaches_by_rep_day",
    "override",
    "period_report",
    "period_reports",
    "plots",
    "lever_themes",
    "render_report",
    "run",
    "simulate",
    "write_run",
    "QuotaPlan",
    "StaffingResult",
    "erlang_reps",
    "quota",
    "reverse_funnel",
    "staffing",
]


# Charts and the report load matplotlib (~1.5 s): import them on first use, so that commands
# and notebooks that draw nothing start fast.
_LAZY = {
    "plots": None,
    **{
        n: "report" for n in ("Report", "build_report", "headline", "lever_themes", "render_report")
    },
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    if _LAZY[name] is None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
