"""The ``funnelsim`` command line: one module per group of commands, all on one Typer app.

Each module registers its commands on `app` when imported; keep them thin (parse, call the public
API, print).
"""

from __future__ import annotations

from . import (
    calibrate,  # noqa: F401  (registers calibrate)
    core,  # noqa: F401  (registers validate, run, compare)
    experiments,  # noqa: F401  (registers sweep, attribute)
    planning,  # noqa: F401  (registers quota, staffing)
    report,  # noqa: F401  (registers report)
)
from .common import app


def main() -> None:
    """Entry point of the ``funnelsim`` console script."""
    app()


__all__ = ["app", "main"]
