"""Distributions that know their analytic moments and sample by inverse transform.

Every draw goes through ``ppf(u)`` on a uniform from a named stream. Inverse transform keeps
common random numbers aligned: the same uniform maps to a larger value when a mean grows, so
paired comparisons of two scenarios stay tightly coupled.

A scenario writes a distribution as a plain number (a constant) or a table::

    handling_minutes = { dist = "exponential", mean = 18 }
    sales_cycle_days = { dist = "lognormal", median = 60, sigma = 0.6 }
    deal_size        = { dist = "gamma", mean = 55000, cv = 0.8 }
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Protocol

import numpy as np


class Distribution(Protocol):
    """What the model needs from a distribution."""

    @property
    def mean(self) -> float: ...

    @property
    def variance(self) -> float: ...

    def ppf(self, u: np.ndarray) -> np.ndarray: ...

    def spec(self) -> float | dict[str, Any]: ...


@dataclass(frozen=True)
class Constant:
    value: float

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))

    def spec(self) -> float:
        return self.value


@dataclass(frozen=True)
class Exponential:
    mean_: float

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_**2

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_ * np.log1p(-np.asarray(u))

    def spec(self) -> dict[str, Any]:
        return {"dist": "exponential", "mean": self.mean_}


@dataclass(frozen=True)
class Lognormal:
    """Log-normal given by its median and the sigma of the underlying normal."""

    median: float
    sigma: float

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    @property
    def variance(self) -> float:
        return (math.exp(self.sigma**2) - 1) * self.mean**2

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import special  # on first draw: validating a scenario needs no scipy

        return self.median * np.exp(self.sigma * special.ndtri(u))

    def spec(self) -> dict[str, Any]:
        return {"dist": "lognormal", "median": self.median, "sigma": self.sigma}


@dataclass(frozen=True)
class Gamma:
    """Gamma given by its mean and coefficient of variation (cv = sd / mean)."""

    mean_: float
    cv: float

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return (self.cv * self.mean_) ** 2

    def ppf(self, u: np.ndarray) -> np.ndarray:
        shape = 1.0 / self.cv**2
        from scipy import special

        return special.gammaincinv(shape, u) * (self.mean_ / shape)

    def spec(self) -> dict[str, Any]:
        return {"dist": "gamma", "mean": self.mean_, "cv": self.cv}


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u)

    def spec(self) -> dict[str, Any]:
        return {"dist": "uniform", "low": self.low, "high": self.high}


# What each table form accepts, for parsing and for error messages.
_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "constant": (("value",),),
    "exponential": (("mean",),),
    "lognormal": (("median", "sigma"), ("mean", "cv")),
    "gamma": (("mean", "cv"),),
    "uniform": (("low", "high"),),
}


# Shape limits: beyond them the moments or the extreme quantiles overflow, or a sample's mean is
# far from the analytic one (a gamma with cv 100 averages 0.89 of its mean over a million draws).
MAX_SIGMA = 4.0
MAX_LOGNORMAL_CV = 100.0
GAMMA_CV = (1e-3, 10.0)
# The uniforms of a stream lie in [0, 1) on a grid of 2**-53: the extremes a draw can reach.
PROBES = np.array([0.0, 2.0**-53, 0.5, 1.0 - 2.0**-53])


def _describe_forms(name: str) -> str:
    return " or ".join("+".join(form) for form in _FORMS[name])


def parse_distribution(value: Any) -> Distribution:
    """A scenario value (number or table) as a distribution; ValueError says why it is not one."""
    if isinstance(value, (Constant, Exponential, Lognormal, Gamma, Uniform)):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a number or a distribution table, not true/false")
    if isinstance(value, (int, float)):
        if not _finite(value) or value < 0:
            raise ValueError("a constant must be a finite number >= 0")
        return Constant(float(value))
    if not isinstance(value, dict):
        raise ValueError(
            'expected a number or a table such as { dist = "exponential", mean = 18 }; '
            f"dist is one of {', '.join(_FORMS)}"
        )
    params = dict(value)
    name = params.pop("dist", None)
    if not isinstance(name, str) or name not in _FORMS:
        shown = repr(name) if isinstance(name, str | int | float) else type(name).__name__
        raise ValueError(f"dist must be one of {', '.join(_FORMS)} (given: {shown})")
    keys = tuple(sorted(params))
    form = next((f for f in _FORMS[name] if tuple(sorted(f)) == keys), None)
    if form is None:
        raise ValueError(
            f"{name} takes {_describe_forms(name)} (given: {', '.join(keys) or 'nothing'})"
        )
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            shown = repr(v) if isinstance(v, int | float | str) else type(v).__name__
            raise ValueError(f"{name}: {k} must be a finite number (given: {shown[:40]})")
    p = {k: float(v) for k, v in params.items()}
    return check_finite(_build(name, p))


def _finite(v: int | float) -> bool:
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an integer too large for a float
        return False


def check_finite(d: Distribution) -> Distribution:
    """``d`` when its mean, variance and every quantile a draw can reach are finite numbers
    >= 0; ValueError naming the overflow otherwise."""
    try:
        moments = (d.mean, d.variance)
    except (OverflowError, ZeroDivisionError):
        moments = (math.inf, math.inf)
    if not all(math.isfinite(m) for m in moments):
        raise ValueError(f"{_describe(d)}: its mean or variance overflows; use smaller values")
    with np.errstate(all="ignore"):
        q = _probe_quantiles(d)
    if not (np.all(np.isfinite(q)) and np.all(q >= 0)):
        raise ValueError(
            f"{_describe(d)}: its extreme quantiles overflow (the largest draw would be "
            f"{float(q[-1]):g}); use a smaller spread"
        )
    return d


def _probe_quantiles(d: Distribution) -> np.ndarray:
    """The quantiles at `PROBES`, without scipy for the two shapes that need it (validating a
    scenario stays fast): the normal quantile from the standard library for the lognormal, and
    for the gamma an upper bound on its largest quantile (its scale times shape plus 40 standard
    deviations of a unit-scale gamma, beyond the 1 - 2^-53 quantile), which is finite exactly
    when the gamma's largest draw is."""
    if isinstance(d, Lognormal):
        z = np.array([-math.inf if u <= 0 else NormalDist().inv_cdf(u) for u in PROBES])
        return d.median * np.exp(d.sigma * z)
    if isinstance(d, Gamma):
        shape = 1.0 / d.cv**2
        scale = d.mean_ / shape
        top = scale * (shape + 40.0 * (math.sqrt(shape) + 1.0))
        return np.array([0.0, 0.0, d.mean_, top])
    return np.asarray(d.ppf(PROBES), dtype=float)


def _describe(d: Distribution) -> str:
    spec = d.spec()
    if not isinstance(spec, dict):
        return f"constant {spec:g}"
    return spec["dist"] + " " + ", ".join(f"{k}={v:g}" for k, v in spec.items() if k != "dist")


def _build(name: str, p: dict[str, float]) -> Distribution:
    def positive(*keys: str) -> None:
        for k in keys:
            if p[k] <= 0:
                raise ValueError(f"{name}: {k} must be > 0 (given: {p[k]:g})")

    if name == "constant":
        if p["value"] < 0:
            raise ValueError(f"constant: value must be >= 0 (given: {p['value']:g})")
        return Constant(p["value"])
    if name == "exponential":
        positive("mean")
        return Exponential(p["mean"])

    def at_most(key: str, limit: float) -> None:
        if p[key] > limit:
            raise ValueError(f"{name}: {key} must be at most {limit:g} (given: {p[key]:g})")

    if name == "lognormal":
        if "median" in p:
            positive("median", "sigma")
            at_most("sigma", MAX_SIGMA)
            return Lognormal(p["median"], p["sigma"])
        positive("mean", "cv")
        at_most("cv", MAX_LOGNORMAL_CV)
        sigma = math.sqrt(math.log1p(p["cv"] ** 2))
        return Lognormal(p["mean"] * math.exp(-(sigma**2) / 2), sigma)
    if name == "gamma":
        positive("mean")
        low, high = GAMMA_CV
        if not low <= p["cv"] <= high:
            raise ValueError(f"gamma: cv must be from {low:g} to {high:g} (given: {p['cv']:g})")
        return Gamma(p["mean"], p["cv"])
    if p["low"] < 0 or p["high"] <= p["low"]:
        raise ValueError(
            f"uniform needs 0 <= low < high (given: low={p['low']:g}, high={p['high']:g})"
        )
    return Uniform(p["low"], p["high"])
