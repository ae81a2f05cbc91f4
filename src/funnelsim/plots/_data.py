"""Turn what a caller has (a run, a comparison, plain frames) into labelled plain data.

Every chart takes one scenario or several: a `RunResult`, a `Comparison` (baseline first), a
plain pandas object, or a mapping of label -> any of those. This module maps them all to an
ordered ``{label: data}`` dict; a lone plain object gets the empty label (no legend).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pandas as pd

from ..errors import UsageError
from ..experiment import Comparison, RunResult

T = TypeVar("T")


def runs(data: Any) -> dict[str, RunResult]:
    """The runs inside ``data`` by scenario name (empty when it holds none)."""
    if isinstance(data, RunResult):
        return {data.scenario.name: data}
    if isinstance(data, Comparison):
        return dict(zip(_names(data), (data.baseline, data.alternative), strict=True))
    if isinstance(data, Mapping):
        return {str(k): v for k, v in data.items() if isinstance(v, RunResult)}
    return {}


def labelled(
    data: Any, from_run: Callable[[RunResult], T], from_plain: Callable[[Any], T]
) -> dict[str, T]:
    """``{label: T}`` for one or several scenarios; see the module docstring."""
    if isinstance(data, RunResult | Comparison):
        return {label: from_run(r) for label, r in runs(data).items()}
    if isinstance(data, Mapping) and not isinstance(data, pd.Series):
        if not data:
            raise UsageError("nothing to plot: the mapping of scenarios is empty")
        return {
            str(k): from_run(v) if isinstance(v, RunResult) else from_plain(v)
            for k, v in data.items()
        }
    return {"": from_plain(data)}


def _names(c: Comparison) -> tuple[str, str]:
    a, b = c.baseline.scenario.name, c.alternative.scenario.name
    return (a, b) if a != b else (f"{a} (baseline)", f"{b} (alternative)")


def require_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{what} needs column(s) {', '.join(missing)}; given columns: "
            f"{', '.join(map(str, frame.columns))}"
        )
