"""What every command shares: the Typer app, error handling and printing (the options every
command shares are in `options`).

Exit status: 0 success, 2 bad input (with a message naming the file and key), 1 anything else.
With ``--json`` stdout holds one JSON document; progress and warnings go to stderr.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from typing import Any

import typer

from ..errors import ScenarioError, ScenarioWarning, UsageError, printable

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Simulate a B2B revenue funnel and compare aligned and siloed sales-marketing policies.",
)


def frame_records(frame) -> list[dict]:
    """A DataFrame as JSON-ready row dicts (index included, NaN as null, dates as ISO text)."""
    return json.loads(frame.reset_index().to_json(orient="records", date_format="iso"))


def echo_err(msg: str) -> None:
    typer.echo(msg, err=True)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    prefix = "warning" if issubclass(category, ScenarioWarning) else category.__name__
    echo_err(f"{prefix}: {message}")


def handled(fn):
    """Turn user errors into exit 2 with a clear message, anything else into exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        warnings.showwarning = _show_warning
        try:
            return fn(*args, **kwargs)
        except ScenarioError as exc:
            echo_err(f"error: {exc}")  # one line per problem, each already printable
            raise typer.Exit(2) from None
        except UsageError as exc:
            echo_err(f"error: {printable(str(exc))}")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            echo_err("interrupted")
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if os.environ.get("FUNNELSIM_DEBUG"):
                raise
            echo_err(f"funnelsim: unexpected error: {type(exc).__name__}: {printable(str(exc))}")
            echo_err("(set FUNNELSIM_DEBUG=1 to see the traceback, and please report it)")
            raise typer.Exit(1) from None

    return wrapper


def progress_flag(quiet: bool) -> bool | None:
    """False when --quiet, else None: a bar only where a person is watching (a terminal)."""
    return False if quiet else None


def print_json(doc: dict) -> None:
    """One JSON document on stdout; a NaN or infinity anywhere becomes null (JSON has none)."""
    from ..experiment.stats import finite_or_none

    sys.stdout.write(json.dumps(finite_or_none(doc), indent=2, allow_nan=False) + "\n")


def print_frame(title: str, frame) -> None:
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.width", 200, "display.max_colwidth", 60
    ):
        typer.echo(title)
        typer.echo(frame.to_string())
