"""Censoring-aware fits of a delay, with or without a share that never has the event.

A (rate, delay) pair such as "share of prospects that become MQLs, and how long it takes" is a
mixture cure model: with probability ``rate`` the event happens after a delay drawn from a
family F, otherwise never. A lead still waiting at the snapshot contributes
``(1 - rate) + rate * S(c)``, not a failure, so a young cohort does not pull the rate down. The
fits are lifelines' (``MixtureCureFitter`` over its parametric fitters, plus a gamma fitter on
lifelines' own base class), on durations compressed to unique values with frequency weights so
that a million leads fit in well under a second per family.

Each family is fitted and the one with the lowest AIC is kept; every candidate's AIC is
reported. Estimates and their covariance come back on the scale the scenario writes (a rate, a
mean, a median and sigma, a mean and cv) and on a transformed scale (logit for rates, log for
positive numbers) where the asymptotic normal approximation is used for intervals and draws.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..scenario.parameters import inverse, transform

# Relative resolution of the duration compression: durations are rounded on a log grid of
# 1/100 per e-fold (at most 0.5% off), far below the spread of any delay: the estimates move
# by a small fraction of their standard errors.
_GRID = 100.0
FAMILIES = ("exponential", "lognormal", "gamma")
# The scenario's fields for each family, in the order of the transformed parameter vector.
FIELDS = {"exponential": ("mean",), "lognormal": ("median", "sigma"), "gamma": ("mean", "cv")}


class FitFailed(ValueError):
    """A fit that did not converge or has too little data; the message says which and why."""


@dataclass(frozen=True)
class DelayFit:
    """A fitted delay family, optionally with the rate of the event (a cure model).

    ``names`` lists the fitted quantities (``"rate"`` first for a cure model, then the family's
    fields); ``theta`` and ``cov`` are their estimate and covariance on the transformed scale
    (``transforms``: logit or log). ``aic`` holds every candidate family's AIC.
    """

    family: str
    names: tuple[str, ...]
    transforms: tuple[str, ...]
    theta: np.ndarray
    cov: np.ndarray
    n: int
    events: int
    aic: dict[str, float] = field(default_factory=dict)
    method: str = ""

    @property
    def values(self) -> dict[str, float]:
        """The fitted quantities on their natural scale."""
        pairs = zip(self.names, self.transforms, self.theta, strict=True)
        return {n: float(inverse(t, v)) for n, t, v in pairs}

    @property
    def rate(self) -> float:
        return self.values["rate"]

    def spec(self) -> dict[str, object]:
        """The delay as a scenario distribution table."""
        v = self.values
        return {"dist": self.family, **{k: v[k] for k in FIELDS[self.family]}}

    def cdf(self, t: np.ndarray, values: dict[str, float] | None = None) -> np.ndarray:
        """P(delay <= t) of the delay family (the non-cured part)."""
        return family_cdf(self.family, values or self.values, np.asarray(t, float))


def family_cdf(family: str, v: dict[str, float], t: np.ndarray) -> np.ndarray:
    from scipy import stats

    t = np.maximum(t, 0.0)
    if family == "exponential":
        return -np.expm1(-t / v["mean"])
    if family == "lognormal":
        return stats.lognorm.cdf(t, v["sigma"], scale=v["median"])
    if family == "gamma":
        k = 1.0 / v["cv"] ** 2
        return stats.gamma.cdf(t, k, scale=v["mean"] / k)
    raise ValueError(family)


def compress(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unique (rounded duration, observed) pairs and their counts."""
    q = np.round(np.log(durations) * _GRID).astype(np.int64)
    key = q * 2 + observed.astype(np.int64)
    uniq, counts = np.unique(key, return_counts=True)
    obs = (uniq & 1).astype(bool)
    d = np.exp((uniq >> 1) / _GRID)
    return d, obs, counts.astype(float)


def _gamma_fitter():
    from autograd_gamma import gammainccln
    from lifelines.fitters import ParametricUnivariateFitter

    class GammaFitter(ParametricUnivariateFitter):
        """Gamma by mean and coefficient of variation: S(t) = Q(k, t k / mean), k = 1/cv^2."""

        _fitted_parameter_names = ["mean_", "cv_"]
        _bounds = [(1e-9, None), (1e-3, 30.0)]
        _compare_to_values = np.array([1.0, 1.0])

        def _cumulative_hazard(self, params, times):
            mean_, cv_ = params
            k = 1.0 / cv_**2
            return -gammainccln(k, times * k / mean_)

        def _create_initial_point(self, Ts, E, *args):
            t = Ts[0][E.astype(bool)] if E.any() else Ts[0]
            return np.array([max(float(np.mean(t)), 1e-6), 1.0])

    return GammaFitter()


def _base(family: str):
    from lifelines import ExponentialFitter, LogNormalFitter

    if family == "exponential":
        return ExponentialFitter()
    if family == "lognormal":
        return LogNormalFitter()
    return _gamma_fitter()


def _natural(
    family: str, params: dict[str, float], scale: float
) -> tuple[list[float], list[float]]:
    """lifelines' parameters -> (the scenario's fields, d log(field) / d param) at this scale."""
    if family == "exponential":
        lam = params["lambda_"]
        return [lam * scale], [1.0 / lam]
    if family == "lognormal":
        mu, sigma = params["mu_"], params["sigma_"]
        return [math.exp(mu) * scale, sigma], [1.0, 1.0 / sigma]
    mean, cv = params["mean_"], params["cv_"]
    return [mean * scale, cv], [1.0 / mean, 1.0 / cv]


def fit_delay(
    durations: np.ndarray,
    observed: np.ndarray,
    *,
    cure: bool,
    families: tuple[str, ...] = FAMILIES,
    what: str = "delay",
) -> DelayFit:
    """Fit each family (with a cured share when ``cure``) and keep the lowest AIC.

    ``durations`` are times to the event (``observed``) or to the snapshot (censored), all > 0.
    Raises `FitFailed` when no family converges or there are too few events.
    """
    durations = np.asarray(durations, float)
    observed = np.asarray(observed, bool)
    events = int(observed.sum())
    if events < 5:
        raise FitFailed(f"{what}: {events} observed events, at least 5 are needed")
    scale = float(np.median(durations[observed]))
    d, obs, w = compress(durations / scale, observed)
    fits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    aic: dict[str, float] = {}
    errors = []
    for family in families:
        try:
            fits[family], aic[family] = _fit_one(family, d, obs, w, cure, scale)
        except Exception as exc:  # noqa: BLE001 - a family that fails is reported, not fatal
            errors.append(f"{family}: {type(exc).__name__}: {str(exc)[:80]}")
    if not fits:
        raise FitFailed(f"{what}: no family converged ({'; '.join(errors)})")
    # AIC is comparable across families: the same (compressed) data and likelihood; the
    # log(scale) Jacobian of the rescaling is the same constant in each.
    best = min(aic, key=aic.get)
    theta, cov = fits[best]
    names = (("rate",) if cure else ()) + FIELDS[best]
    transforms = (("logit",) if cure else ()) + ("log",) * len(FIELDS[best])
    method = (
        f"{'mixture cure model, ' if cure else ''}{best} by AIC ("
        + ", ".join(f"{f} {aic[f]:,.1f}" for f in families if f in aic)
        + (
            ") by lifelines MLE, right-censored at the snapshot"
            if not observed.all()
            else ") by lifelines MLE"
        )
    )
    return DelayFit(best, names, transforms, theta, cov, len(durations), events, aic, method)


def _start(family: str, d: np.ndarray, obs: np.ndarray, w: np.ndarray, cure: bool) -> np.ndarray:
    """A starting point from the observed events' moments (the optimiser then needs far fewer
    steps, and each step is an autograd pass)."""
    t, wt = d[obs], w[obs]
    mean = float(np.average(t, weights=wt))
    sd = float(np.sqrt(np.average((t - mean) ** 2, weights=wt))) or mean
    logs = np.log(t)
    mu = float(np.average(logs, weights=wt))
    sigma = float(np.sqrt(np.average((logs - mu) ** 2, weights=wt))) or 1.0
    base = {
        "exponential": [mean],
        "lognormal": [mu, max(sigma, 0.05)],
        "gamma": [mean, float(np.clip(sd / mean, 0.05, 10.0))],
    }[family]
    if not cure:
        return np.array(base)
    share = float(wt.sum() / w.sum())
    return np.array([1.0 - min(0.95, max(0.02, 1.2 * share)), *base])


def _fit_one(
    family: str, d: np.ndarray, obs: np.ndarray, w: np.ndarray, cure: bool, scale: float
) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    from lifelines import MixtureCureFitter

    model = MixtureCureFitter(_base(family)) if cure else _base(family)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(d, obs, weights=w, initial_point=_start(family, d, obs, w, cure))
    params = model.params_.to_dict()
    cov = model.variance_matrix_.to_numpy(float)
    fields, dlog = _natural(family, params, scale)
    theta, jac = [], []
    if cure:
        rate = 1.0 - params["cured_fraction_"]
        if not 0.0 < rate < 1.0:
            raise FitFailed(f"rate at the boundary ({rate:g})")
        theta.append(float(transform("logit", rate)))
        jac.append(-1.0 / (rate * (1.0 - rate)))
    theta += [math.log(v) for v in fields]
    jac += dlog
    J = np.diag(jac)
    tcov = J @ cov @ J.T
    if not np.all(np.isfinite(tcov)) or np.any(np.diag(tcov) <= 0):
        raise FitFailed("the information matrix is singular")
    return (np.asarray(theta), tcov), float(model.AIC_)
