"""The fitted scenario: plain data, a validated `Scenario`, and its TOML text in which every
fitted number carries a comment (estimate, 95% CI, n, method) and every kept one says why.

The ``[uncertainty]`` section at the end holds the blocks' estimates and covariances, so the
file alone is enough for ``funnelsim run fitted.toml --parameter-uncertainty``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import warnings
from typing import Any

import numpy as np

from ..errors import ScenarioWarning
from ..scenario import Scenario, from_dict
from ..scenario.schema import sections
from .estimates import Block, Parameter, rounded

_INDEXED = re.compile(r"^arrivals\.channels\[(\d+)\]\.(\w+)$")
UNCERTAINTY_METHOD = (
    "asymptotic normal of each fit on the logit (rates) / log (positive numbers) scale; "
    "blocks are independent likelihood factors"
)


def scenario_data(
    parameters: dict[str, Parameter],
    *,
    name: str,
    description: str,
    start_date: dt.date,
    reps_fallback: int,
    base: Scenario | None = None,
) -> dict[str, Any]:
    """The scenario as plain data: the base's (or neutral) values, overlaid with every key in
    ``parameters`` that is a scenario key."""
    data: dict[str, Any] = copy.deepcopy(base.to_dict()) if base is not None else {}
    data.pop("uncertainty", None)
    data["name"] = name
    data["description"] = description
    run = data.setdefault("run", {})
    run.update({"start_date": start_date})
    run.setdefault("horizon_days", 365.0)
    run.setdefault("warmup_days", 30.0)
    run.setdefault("replications", 20)
    run.setdefault("seed", 1)
    data.setdefault("sales", {}).setdefault("reps", reps_fallback)
    for key, p in parameters.items():
        if not _is_scenario_key(key):
            continue
        section, field = key.split(".", 1)
        data.setdefault(section, {})[field] = p.value
    if "arrivals.channels" not in parameters and base is None:
        data.get("arrivals", {}).pop("channels", None)
    return data


def _is_scenario_key(key: str) -> bool:
    if "." not in key or key.startswith("report.") or _INDEXED.match(key):
        return False
    section, field = key.split(".", 1)
    model = sections().get(section)
    return model is not None and field in model.model_fields


def uncertainty_data(blocks: list[Block], data: dict[str, Any], source: str) -> dict[str, Any]:
    """The ``[uncertainty]`` section for the blocks whose keys the scenario data holds."""
    out = []
    for b in blocks:
        keys, idx = [], []
        for i, k in enumerate(b.keys):
            if _lookup(data, k) is not None:
                keys.append(k)
                idx.append(i)
        if not keys:
            continue
        sub = b.sub(tuple(keys))
        estimate = [float(_lookup(data, k)) for k in keys]
        cov = np.asarray(sub.cov, float)
        out.append(
            {
                "name": b.name,
                "keys": keys,
                "transforms": list(sub.transforms),
                "estimate": estimate,
                "covariance": [[float(f"{x:.6g}") for x in row] for row in (cov + cov.T) / 2],
            }
        )
    return {"method": UNCERTAINTY_METHOD, "source": source, "blocks": out}


def _lookup(data: dict[str, Any], key: str) -> float | None:
    node: Any = data
    for part in re.split(r"\.(?![^\[]*\])", key):
        m = re.match(r"^(\w+)(?:\[(\d+)\])?$", part)
        if m is None or not isinstance(node, dict) or m.group(1) not in node:
            return None
        node = node[m.group(1)]
        if m.group(2) is not None:
            if not isinstance(node, list) or int(m.group(2)) >= len(node):
                return None
            node = node[int(m.group(2))]
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node)


def build_scenario(data: dict[str, Any], source: str) -> Scenario:
    """Validate the fitted data (sense-check warnings are left to the caller to show)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return from_dict(data, source=f"scenario fitted from {source}")


# ---- TOML text -------------------------------------------------------------------------------


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(rounded(v)) if v == v else "nan"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_bare(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _bare(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def toml_text(
    data: dict[str, Any],
    parameters: dict[str, Parameter],
    header: list[str],
    uncertainty: dict[str, Any] | None,
) -> str:
    """The scenario file: sections in schema order, one comment per key."""
    lines = [f"# {h}" for h in header]
    lines.append(f"name = {toml_value(data['name'])}")
    lines.append(f"description = {toml_value(data.get('description', ''))}")
    for section in sections():
        values = data.get(section)
        if not values:
            continue
        lines.append("")
        lines.append(f"[{section}]")
        channels = None
        for key, value in values.items():
            if section == "arrivals" and key == "channels":
                channels = value
                continue
            if value is None:
                continue
            p = parameters.get(f"{section}.{key}")
            comment = f"  # {p.comment()}" if p is not None else _default_comment(section, key)
            lines.append(f"{key} = {toml_value(value)}{comment}")
        for i, ch in enumerate(channels or []):
            lines.append("")
            lines.append("[[arrivals.channels]]")
            for key, value in ch.items():
                p = parameters.get(f"arrivals.channels[{i}].{key}")
                comment = f"  # {p.comment()}" if p is not None else ""
                lines.append(f"{key} = {toml_value(value)}{comment}")
    if uncertainty and uncertainty["blocks"]:
        lines += ["", "# The fit's sampling distribution, for --parameter-uncertainty.", ""]
        lines.append("[uncertainty]")
        lines.append(f"method = {toml_value(uncertainty['method'])}")
        lines.append(f"source = {toml_value(uncertainty['source'])}")
        for b in uncertainty["blocks"]:
            lines.append("")
            lines.append("[[uncertainty.blocks]]")
            for key in ("name", "keys", "transforms", "estimate"):
                lines.append(f"{key} = {toml_value(b[key])}")
            rows = ", ".join("[" + ", ".join(repr(x) for x in row) + "]" for row in b["covariance"])
            lines.append(f"covariance = [{rows}]")
    return "\n".join(lines) + "\n"


_RUN_NOTES = {
    "horizon_days": "a planning year (not fitted)",
    "warmup_days": "the sales queue fills before a cohort is counted (not fitted)",
    "replications": "(not fitted)",
    "seed": "(not fitted)",
    "start_date": "the day after the snapshot: the scenario runs forward from it",
}


def _default_comment(section: str, key: str) -> str:
    if section == "run":
        return f"  # {_RUN_NOTES.get(key, '(not fitted)')}"
    return "  # not fitted: kept from the base scenario"
