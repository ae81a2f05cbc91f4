"""Which point of a sweep the others are compared with: an id, a label, or the scenario itself."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..errors import UsageError
from ..scenario import Scenario, parse_value
from .design import plain, point_changes, value_at

SCENARIO = "scenario"  # the baseline that is the swept scenario at its own values


def find_baseline(baseline: Any, scenario: Scenario, points: pd.DataFrame) -> int | None:
    """The point id that ``baseline`` names, or None for None.

    ``baseline``: a point id (an int, or its digits as text); ``"scenario"``: the first point
    whose every swept value is the scenario's own (or left empty); a label ``"KEY=V,KEY=V"`` or
    a mapping ``{key: value}``: the first point with those values (keys not named match any).
    Raises `UsageError` naming what was given and what the sweep holds when no point matches.
    """
    if baseline is None:
        return None
    ids = [int(p) for p in points.index]
    if isinstance(baseline, bool):
        raise UsageError(f"--baseline: a point id, a label or 'scenario' (given: {baseline})")
    if isinstance(baseline, int) or (isinstance(baseline, str) and baseline.strip().isdigit()):
        point = int(baseline)
        if point not in ids:
            raise UsageError(
                f"--baseline {baseline}: no such point (the sweep has points 0 to {len(ids) - 1})"
            )
        return point
    if isinstance(baseline, str) and baseline.strip() == SCENARIO:
        found = scenario_point(scenario, points)
        if found is None:
            raise UsageError(
                "--baseline scenario: no point of the sweep is the scenario at its own values; "
                "sweep with baseline='scenario' (--baseline scenario) to add it"
            )
        return found
    wanted = _label(baseline) if isinstance(baseline, str) else dict(baseline)
    unknown = [k for k in wanted if k not in points.columns]
    if unknown:
        raise UsageError(
            f"--baseline {baseline}: {', '.join(unknown)} is not a swept key "
            f"(swept: {', '.join(map(str, points.columns))})"
        )
    for p, row in zip(ids, points.to_dict("records"), strict=True):
        if all(_same(row[k], v) for k, v in wanted.items()):
            return p
    raise UsageError(f"--baseline {baseline}: no point of the sweep has these values")


def scenario_point(scenario: Scenario, points: pd.DataFrame) -> int | None:
    """The first point that runs the scenario unchanged, or None."""
    for p, changes in zip(points.index, point_changes(points), strict=True):
        if all(_same(v, value_at(scenario, k)) for k, v in changes.items()):
            return int(p)
    return None


def with_scenario_point(scenario: Scenario, design: pd.DataFrame) -> pd.DataFrame:
    """``design`` with a last point at the scenario's own values (each swept key set to what
    the scenario says, so the point reads as a setting), unless one of its points is that
    already."""
    if scenario_point(scenario, design) is not None:
        return design
    own = [[value_at(scenario, str(k)) for k in design.columns]]
    row = pd.DataFrame(own, columns=design.columns, dtype=object)
    out = pd.concat([design.astype(object), row], ignore_index=True)
    out.attrs = dict(design.attrs)
    return out


def _label(text: str) -> dict[str, Any]:
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"--baseline {text}: a point id, 'scenario', or KEY=VALUE[,KEY=VALUE...]"
            )
        out[key.strip()] = parse_value(value.strip())
    return out


def _same(a: Any, b: Any) -> bool:
    a, b = plain(a), plain(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
