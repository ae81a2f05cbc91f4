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

from .api import __all__ as _API  # noqa: E402  (the names only: nothing heavy loads)
from .errors import (  # noqa: E402
    ScenarioError,
    ScenarioWarning,
    UsageError,
    show_own_warnings_plainly,  # noqa: E402
)

show_own_warnings_plainly()

__all__ = [
    *_API,
    "ScenarioError",
    "ScenarioWarning",
    "UsageError",
    "__version__",
    "plots",  # noqa: F822  (loaded on first use by __getattr__)
]


def __getattr__(name: str):
    """The public API loads on first use (see `funnelsim.api`); charts likewise."""
    import importlib

    if name == "plots":
        value = importlib.import_module(".plots", __name__)
    elif name in _API:
        value = getattr(importlib.import_module(".api", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
