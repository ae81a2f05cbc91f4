"""What a fit reports: one `Parameter` per scenario key (estimate, 95% CI, n, method), and the
`Block`s of jointly fitted keys whose covariance travels with the scenario.

Intervals come from the asymptotic normal of each block on its transformed scale (logit for
rates, log for positive numbers): a scalar's interval is the back-transformed normal interval, a
distribution's mean and median come from 4,000 draws of the block (the same distribution that
``--parameter-uncertainty`` samples), so the printed intervals and the carried-forward
uncertainty always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ..scenario.parameters import covariance_root, inverse
from .survival import DelayFit

Z95 = 1.959963984540054
_MC_DRAWS = 4000


@dataclass(frozen=True)
class Block:
    """Keys fitted together: estimate ``theta`` and ``cov`` on the transformed scale."""

    name: str
    keys: tuple[str, ...]
    transforms: tuple[str, ...]
    theta: np.ndarray
    cov: np.ndarray

    def values(self) -> dict[str, float]:
        return {
            k: float(inverse(t, v))
            for k, t, v in zip(self.keys, self.transforms, self.theta, strict=True)
        }

    def draws(self, n: int = _MC_DRAWS, seed: int = 20290101) -> dict[str, np.ndarray]:
        """``n`` draws of every key (natural scale), deterministic."""
        z = np.random.default_rng(seed).standard_normal((n, len(self.keys)))
        y = self.theta + z @ covariance_root(self.cov).T
        return {
            k: inverse(t, y[:, i])
            for i, (k, t) in enumerate(zip(self.keys, self.transforms, strict=True))
        }

    def interval(self, key: str) -> tuple[float, float]:
        i = self.keys.index(key)
        se = math.sqrt(max(float(self.cov[i, i]), 0.0))
        t = self.transforms[i]
        return (
            float(inverse(t, self.theta[i] - Z95 * se)),
            float(inverse(t, self.theta[i] + Z95 * se)),
        )

    def sub(self, keys: tuple[str, ...], name: str | None = None) -> Block:
        idx = [self.keys.index(k) for k in keys]
        return Block(
            name or self.name,
            keys,
            tuple(self.transforms[i] for i in idx),
            self.theta[idx],
            self.cov[np.ix_(idx, idx)],
        )


@dataclass(frozen=True)
class Parameter:
    """One scenario key as fitted (or kept, when the data cannot identify it).

    ``value`` is what the scenario gets (a number, a list, a distribution table); ``ci95`` the
    95% interval of a scalar, or None; ``naive`` the estimate that ignores censoring (stage
    counts over leads), for comparison; ``fitted`` is False for a key kept at its neutral or
    preset value, and ``method`` then says why.
    """

    key: str
    value: Any
    ci95: tuple[float, float] | None
    n: int
    method: str
    fitted: bool = True
    naive: float | None = None

    def comment(self) -> str:
        """The TOML comment: estimate, 95% CI, n and method."""
        if not self.fitted:
            return f"not fitted: {self.method}"
        ci = "" if self.ci95 is None else f"95% CI [{_num(self.ci95[0])}, {_num(self.ci95[1])}], "
        return f"{ci}n={self.n:,}, {self.method}"


def _num(x: float) -> str:
    return f"{x:.4g}"


def block_from_fit(name: str, fit: DelayFit, rate_key: str | None, delay_key: str | None) -> Block:
    """A fit's block under scenario keys: the rate (when ``rate_key``) and the delay's fields
    (when ``delay_key``), e.g. ``marketing.mql_rate`` and ``marketing.time_to_mql_days``."""
    keys, idx = [], []
    for i, n in enumerate(fit.names):
        if n == "rate" and rate_key:
            keys.append(rate_key)
            idx.append(i)
        elif n != "rate" and delay_key:
            keys.append(f"{delay_key}.{n}")
            idx.append(i)
    return Block(
        name,
        tuple(keys),
        tuple(fit.transforms[i] for i in idx),
        fit.theta[idx],
        fit.cov[np.ix_(idx, idx)],
    )


def moments(family: str, draws: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, median) of a distribution family for arrays of its fields."""
    if family == "exponential":
        m = draws["mean"]
        return m, m * math.log(2.0)
    if family == "lognormal":
        med, s = draws["median"], draws["sigma"]
        return med * np.exp(s**2 / 2.0), med
    mean, cv = draws["mean"], draws["cv"]
    k = 1.0 / cv**2
    return mean, special.gammaincinv(k, 0.5) * mean / k


def delay_parameters(key: str, fit: DelayFit, block: Block, n: int, method: str) -> list[Parameter]:
    """The delay's table under ``key`` and its ``.mean`` and ``.median`` with intervals."""
    prefix = f"{key}."
    fields = {k[len(prefix) :]: v for k, v in block.draws().items() if k.startswith(prefix)}
    mean, median = moments(fit.family, fields)
    point = {k[len(prefix) :]: v for k, v in block.values().items() if k.startswith(prefix)}
    pmean, pmedian = moments(fit.family, {k: np.asarray(v) for k, v in point.items()})
    spec = {"dist": fit.family, **{k: _round(v) for k, v in point.items()}}
    return [
        Parameter(key, spec, None, n, method),
        Parameter(f"{key}.mean", float(pmean), _pct(mean), n, method),
        Parameter(f"{key}.median", float(pmedian), _pct(median), n, method),
    ]


def _pct(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(x, [2.5, 97.5])
    return (float(lo), float(hi))


def rounded(x: float) -> float:
    """A fitted number as the scenario writes it (6 significant digits); the uncertainty
    section stores the same rounded value, so "changed away from the estimate" is exact."""
    return _round(x)


def _round(x: float) -> float:
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.6g}")


def scalar(key: str, block: Block, n: int, method: str, naive: float | None = None) -> Parameter:
    """A scalar key of a block as a `Parameter` with its interval."""
    return Parameter(key, rounded(block.values()[key]), block.interval(key), n, method, True, naive)


def kept(key: str, value: Any, why: str) -> Parameter:
    """A key the data cannot identify: its neutral or preset value, and why."""
    return Parameter(key, value, None, 0, why, fitted=False)
