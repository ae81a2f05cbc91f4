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
    Comparison,
    FunnelRecord,
    RunResult,
    Scenario,
    all_keys,
    compare,
    from_dict,
    load,
    mean_period_report,
    override,
    period_report,
    period_reports,
    run,
    simulate,
    write_run,
)
from .errors import ScenarioError, ScenarioWarning, UsageError  # noqa: E402

__all__ = [
    "Comparison",
    "FunnelRecord",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "UsageError",
    "__version__",
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
