"""What the report says, as plain data: the headline, the key numbers and the settings side by
side. Kept apart from the HTML so that the words can be tested and reused (notebooks)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..experiment import Comparison
from ..formatting import money
from ..scenario import Scenario


@dataclass(frozen=True)
class Headline:
    """The one sentence a leader reads: ``text``, plus the numbers it is built from."""

    text: str
    diff: float
    ci_low: float
    ci_high: float
    relative: float
    significant: bool


def headline(comparison: Comparison, kpi: str = "revenue") -> Headline:
    """ "Aligned earns $2.1M more revenue (95% CI $1.8M to $2.4M) than siloed, +120%." The
    alternative is the subject; an interval that straddles zero is said so in words."""
    row = comparison.table().loc[kpi]
    alt = comparison.alternative.scenario.name
    base = comparison.baseline.scenario.name
    level = f"{comparison.level:.0%}"
    diff, lo, hi = float(row["diff"]), float(row["ci_low"]), float(row["ci_high"])
    more = "more" if diff >= 0 else "less"
    ci = f"{level} CI {money(lo)} to {money(hi)}" if math.isfinite(lo) else "no CI: one replication"
    text = f"{alt[:1].upper()}{alt[1:]} earns {money(abs(diff))} {more} {kpi} ({ci}) than {base}"
    relative = float(row["relative"])
    if math.isfinite(relative):
        text += f", {relative:+.0%}"
    text += "."
    if not bool(row["significant"]):
        text += " The interval includes zero: these runs cannot tell the two apart."
    return Headline(text, diff, lo, hi, relative, bool(row["significant"]))


def flat_settings(scenario: Scenario) -> dict[str, str]:
    """Every setting of a scenario under its dotted key, as text a reader understands:
    ``sales.handling_minutes`` -> ``exponential(mean=18)``."""
    out: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and "dist" not in value:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, dict) and "name" in v for v in value)
        ):
            # Named entries (channels) read best one per row: arrivals.channels.webinar.share
            for entry in value:
                walk(f"{prefix}.{entry['name']}", {k: v for k, v in entry.items() if k != "name"})
        else:
            out[prefix] = setting_text(value)

    walk("", scenario.to_dict())
    return out


def setting_text(value: Any) -> str:
    """One setting as text: numbers without trailing zeros, distributions as name(params)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict) and "dist" in value:
        params = ", ".join(f"{k}={setting_text(v)}" for k, v in value.items() if k != "dist")
        return f"{value['dist']}({params})"
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list) for v in value):
            return ", ".join(setting_text(v) for v in value) or "-"
        return json.dumps(value, default=str)
    return str(value)


def settings_table(baseline: Scenario, alternative: Scenario) -> pd.DataFrame:
    """The two scenarios' settings side by side: index the dotted key, columns the two scenario
    names and ``differs`` (True where they disagree). Differing keys come first."""
    a, b = flat_settings(baseline), flat_settings(alternative)
    keys = list(dict.fromkeys([*a, *b]))
    frame = pd.DataFrame(
        {
            "baseline": [a.get(k, "-") for k in keys],
            "alternative": [b.get(k, "-") for k in keys],
        },
        index=pd.Index(keys, name="setting"),
    )
    frame["differs"] = frame["baseline"] != frame["alternative"]
    order = sorted(range(len(keys)), key=lambda i: (not frame["differs"].iloc[i], i))
    return frame.iloc[order]
