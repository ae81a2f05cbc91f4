"""Parameter uncertainty in every answer: each replication runs on its own draw of the fitted
parameters, and the output's variance is split into the parameters' share and the simulation's.

The design is nested (a two-stage design with a one-way random-effects analysis, as in
Zouaoui & Wilson's treatment of input uncertainty): replications come in pairs that share one
parameter draw, ``draw = replication // 2``, and differ only in the simulation's own random
numbers. Within a pair the spread is the simulation's luck alone; between pairs it is luck plus
the parameters. So both variance components are estimated without bias from the same runs:

    sigma2_sim   = mean over complete pairs of (y1 - y2)^2 / 2
    sigma2_param = max(0, var(pair means) - sigma2_sim * mean(1 / pair size))

The interval printed for a KPI is then for the *true funnel's* expected value, given what we do
not know about its parameters: ``mean +/- t(K-1) * sqrt(sigma2_param + var(pair means) / K)`` over
K draws. Unlike a plain confidence interval it does not shrink to zero with more replications:
it converges to the spread the parameters themselves imply.

Draws are deterministic: block b of draw k comes from the stream ``parameters.<b>`` of
(seed, k), so replication r's parameters depend on (seed, r) only, never on how many run, and
two scenarios sharing a fitted section get the same draw in replication r (with common random
numbers for everything else). A key that a scenario changed away from the fitted estimate
(``--set``, `override`, an aligned variant's own lever) is the scenario's decision, not an
estimate: it is held at its value and not drawn, so a draw never undoes the change.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioWarning, UsageError
from ..model.streams import stream
from ..scenario import Scenario, from_dict
from ..scenario.parameters import Uncertainty, covariance_root, inverse, transform
from .stats import t_quantile

PER_DRAW = 2
METHOD = (
    "nested design: replications 2k and 2k+1 share parameter draw k (asymptotic normal of the "
    "fit, logit/log scale); variance split by one-way random-effects ANOVA"
)
_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def draw_index(replication: int) -> int:
    """The parameter draw replication ``replication`` runs on."""
    return int(replication) // PER_DRAW


def require(scenario: Scenario) -> Uncertainty:
    """The scenario's fitted uncertainty, or a `UsageError` saying where it comes from."""
    if scenario.uncertainty is None or not scenario.uncertainty.blocks:
        raise UsageError(
            f"--parameter-uncertainty: scenario {scenario.name!r} carries no [uncertainty] "
            "section; fit one from your CRM export with `funnelsim calibrate EXPORT --out "
            "FILE.toml`"
        )
    return scenario.uncertainty


def draw_values(unc: Uncertainty, seed: int, draw: int) -> dict[str, float]:
    """Every uncertain key's value in parameter draw ``draw``."""
    out: dict[str, float] = {}
    for block in unc.blocks:
        z = stream(seed, draw, f"parameters.{block.name}").standard_normal(len(block.keys))
        centre = np.array(
            [transform(t, v) for t, v in zip(block.transforms, block.estimate, strict=True)]
        )
        y = centre + covariance_root(np.asarray(block.covariance, float)) @ z
        for key, kind, value in zip(block.keys, block.transforms, y, strict=True):
            out[key] = float(inverse(kind, value))
    return out


def held_keys(scenario: Scenario) -> tuple[str, ...]:
    """Uncertain keys the scenario set to something else than the fitted estimate."""
    unc = require(scenario)
    data = scenario.to_dict()
    held = []
    for block in unc.blocks:
        for key, estimate in zip(block.keys, block.estimate, strict=True):
            value = _get(data, key, scenario.name)
            if not math.isclose(float(value), float(estimate), rel_tol=1e-9, abs_tol=1e-12):
                held.append(key)
    return tuple(held)


def scenario_for(
    scenario: Scenario, seed: int, replication: int, hold: tuple[str, ...] = ()
) -> Scenario:
    """The scenario with replication ``replication``'s parameter draw applied. Keys it changed
    away from the estimate, and keys under ``hold`` (``deals.sales_cycle_days`` holds its
    fields too), keep the scenario's value."""
    unc = require(scenario)
    held = set(held_keys(scenario))
    values = draw_values(unc, seed, draw_index(replication))
    data = scenario.model_dump(mode="json", exclude_unset=True)
    for key, value in values.items():
        if key not in held and not under(key, hold):
            _set(data, key, value, scenario.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return from_dict(data, source=f"scenario {scenario.name!r}, parameter draw")


def under(key: str, prefixes: tuple[str, ...]) -> bool:
    """Whether ``key`` is one of ``prefixes`` or inside one (a field, a list entry)."""
    return any(key == p or key.startswith((f"{p}.", f"{p}[")) for p in prefixes)


def _walk(data: Any, key: str, name: str) -> tuple[Any, str | int]:
    node = data
    parts = key.split(".")
    for i, part in enumerate(parts):
        m = _PART.match(part)
        if m is None:
            raise UsageError(f"scenario {name!r}: [uncertainty] key {key!r} is not a dotted path")
        field, index = m.group(1), m.group(2)
        last = i == len(parts) - 1 and index is None
        if not isinstance(node, Mapping) or field not in node:
            raise UsageError(
                f"scenario {name!r}: [uncertainty] names {key!r}, which the scenario does not "
                "set; remove the block or calibrate again"
            )
        if last:
            return node, field
        node = node[field]
        if index is not None:
            if not isinstance(node, list) or int(index) >= len(node):
                raise UsageError(f"scenario {name!r}: [uncertainty] key {key!r}: no such entry")
            if i == len(parts) - 1:
                return node, int(index)
            node = node[int(index)]
    raise UsageError(f"scenario {name!r}: [uncertainty] key {key!r} is empty")


def _get(data: Any, key: str, name: str) -> float:
    node, last = _walk(data, key, name)
    value = node[last]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(
            f"scenario {name!r}: [uncertainty] key {key!r} is not a number in the scenario "
            f"(given: {value!r})"
        )
    return float(value)


def _set(data: Any, key: str, value: float, name: str) -> None:
    node, last = _walk(data, key, name)
    node[last] = value


@dataclass(frozen=True)
class Components:
    """One KPI's variance split: mean, interval for the true funnel's mean, and components."""

    mean: float
    low: float
    high: float
    sd_parameters: float
    sd_simulation: float
    draws: int
    n: int

    @property
    def parameter_share(self) -> float:
        total = self.sd_parameters**2 + self.sd_simulation**2
        return self.sd_parameters**2 / total if total > 0 else math.nan


def components(values: np.ndarray, replications: np.ndarray, level: float = 0.95) -> Components:
    """Random-effects split of ``values`` (one per replication id) grouped by parameter draw."""
    x = np.asarray(values, float)
    g = np.asarray(replications, np.int64) // PER_DRAW
    ok = np.isfinite(x)
    x, g = x[ok], g[ok]
    n = x.size
    if n == 0:
        return Components(math.nan, math.nan, math.nan, math.nan, math.nan, 0, 0)
    mean = float(x.mean())
    frame = pd.DataFrame({"g": g, "x": x}).groupby("g")["x"]
    size = frame.size().to_numpy()
    means = frame.mean().to_numpy()
    spread = frame.var(ddof=1).to_numpy()  # NaN for a lone replication
    k = means.size
    pairs = size >= 2
    if k < 2 or not pairs.any():
        return Components(mean, math.nan, math.nan, math.nan, math.nan, k, n)
    # Pooled within-draw variance (weights: degrees of freedom).
    s2_sim = float(np.sum(spread[pairs] * (size[pairs] - 1)) / np.sum(size[pairs] - 1))
    var_means = float(means.var(ddof=1))
    s2_par = max(0.0, var_means - s2_sim * float(np.mean(1.0 / size)))
    half = float(t_quantile(level, k - 1)) * math.sqrt(s2_par + var_means / k)
    return Components(mean, mean - half, mean + half, math.sqrt(s2_par), math.sqrt(s2_sim), k, n)


def summary(kpis: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per KPI: mean, ci_low, ci_high (for the true funnel's mean), half_width, std, n, draws,
    sd_parameters, sd_simulation and parameter_share."""
    reps = kpis.index.to_numpy()
    rows = {}
    for col in kpis.columns:
        x = kpis[col].to_numpy(float)
        c = components(x, reps, level)
        finite = x[np.isfinite(x)]
        rows[col] = {
            "mean": c.mean,
            "ci_low": c.low,
            "ci_high": c.high,
            "half_width": (c.high - c.low) / 2,
            "std": float(finite.std(ddof=1)) if finite.size > 1 else math.nan,
            "n": c.n,
            "draws": c.draws,
            "sd_parameters": c.sd_parameters,
            "sd_simulation": c.sd_simulation,
            "parameter_share": c.parameter_share,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "kpi"
    return out


def describe(held: tuple[str, ...], draws: int) -> str:
    """One line for people: what the intervals now include."""
    kept = f"; held at the scenario's own value: {', '.join(held)}" if held else ""
    return (
        f"parameter uncertainty: {draws} parameter draws, {PER_DRAW} replications each; "
        f"intervals are for the true funnel's mean and include the fit's uncertainty{kept}"
    )
