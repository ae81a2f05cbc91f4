"""funnelsim: simulate a B2B revenue funnel and ask "what if?" before changing anything.

The public API (the same one the CLI uses)::

    import funnelsim as fs
    aligned = fs.load("scenarios/aligned.toml")
    siloed = fs.load("scenarios/siloed.toml")
    cmp = fs.compare(siloed, aligned, replications=20)
    cmp.table()
"""

__version__ = "0.1.0"

# A worker process started for a funnelsim command dies with it, even if it is killed: tie it
# before the heavy imports below, so that no start-up window escapes (see lifeline).
from .lifeline import tie_to_environment  # noqa: E402

tie_to_environment()

from . import api  # noqa: E402
from .api import *  # noqa: E402, F403  (the public API is api.__all__, listed once)
from .errors import ScenarioError, ScenarioWarning, UsageError  # noqa: E402

# Charts and the report load matplotlib (~1.5 s): import them on first use, so that commands
# and notebooks that draw nothing start fast.
_LAZY_REPORT = ("Report", "build_report", "headline", "lever_themes", "render_report")
# Calibration from CRM exports (lifelines, scipy.optimize) likewise.
_LAZY_CALIBRATION = ("Backtest", "Calibration", "Export", "backtest", "calibrate", "load_export")

__all__ = [
    *api.__all__,
    *_LAZY_REPORT,
    *_LAZY_CALIBRATION,
    "ScenarioError",
    "ScenarioWarning",
    "UsageError",
    "__version__",
    "plots",  # noqa: F405  (loaded on first use by __getattr__)
]


def __getattr__(name: str):
    import importlib

    if name == "plots":
        value = importlib.import_module(".plots", __name__)
    elif name in _LAZY_REPORT:
        value = getattr(importlib.import_module(".report", __name__), name)
    elif name in _LAZY_CALIBRATION:
        value = getattr(importlib.import_module(".calibration", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
