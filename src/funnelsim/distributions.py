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
from typing import Any, Protocol

import numpy as np
from scipy import special


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


def _describe_forms(name: str) -> str:
    return " or ".join("+".join(form) for form in _FORMS[name])


def parse_distribution(value: Any) -> Distribution:
    """A scenario value (number or table) as a distribution; ValueError says why it is not one."""
    if isinstance(value, (Constant, Exponential, Lognormal, Gamma, Uniform)):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a number or a distribution table, not true/false")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError("a constant must be a finite number >= 0")
        return Constant(float(value))
    if not isinstance(value, dict):
        raise ValueError(
            'expected a number or a table such as { dist = "exponential", mean = 18 }; '
            f"dist is one of {', '.join(_FORMS)}"
        )
    params = dict(value)
    name = params.pop("dist", None)
    if name not in _FORMS:
        raise ValueError(f"dist must be one of {', '.join(_FORMS)} (given: {name!r})")
    keys = tuple(sorted(params))
    form = next((f for f in _FORMS[name] if tuple(sorted(f)) == keys), None)
    if form is None:
        raise ValueError(
            f"{name} takes {_describe_forms(name)} (given: {', '.join(keys) or 'nothing'})"
        )
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{name}: {k} must be a finite number (given: {v!r})")
    p = {k: float(v) for k, v in params.items()}
    return _build(name, p)


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
    if name == "lognormal":
        if "median" in p:
            positive("median", "sigma")
            return Lognormal(p["median"], p["sigma"])
        positive("mean", "cv")
        sigma = math.sqrt(math.log1p(p["cv"] ** 2))
        return Lognormal(p["mean"] * math.exp(-(sigma**2) / 2), sigma)
    if name == "gamma":
        positive("mean", "cv")
        return Gamma(p["mean"], p["cv"])
    if p["low"] < 0 or p["high"] <= p["low"]:
        raise ValueError(
            f"uniform needs 0 <= low < high (given: low={p['low']:g}, high={p['high']:g})"
        )
    return Uniform(p["low"], p["high"])
