"""The response-time decay by maximum likelihood: ``sql_rate``, ``decay_tau_hours`` and
``decay_floor`` from the waits of reached leads, with the profile likelihood of tau.

A lead reached ``w`` hours after hand-off qualifies with ``q(w) = s (f + (1 - f) exp(-w / tau))``
(the scenario's formula), and its SQL shows in the export once the time to SQL has passed. So a
lead reached ``c`` days before the snapshot has shown its SQL by then with probability
``q(w) F(c)``, where F is the fitted time-to-SQL distribution: a recently reached lead without
an SQL yet is censored, not a failure. The likelihood is Bernoulli in that probability; the
covariance is the inverse Fisher information ``sum grad p grad p^T / (p (1 - p))`` on the
(logit s, log tau, logit f) scale. No library fits this particular curve, so the likelihood is
written here, small, and the optimiser is scipy's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from .survival import FitFailed

_EPS = 1e-12
TAU_GRID_H = np.geomspace(0.02, 500.0, 41)
CHI2_95 = 3.841458820694124  # chi-square(1) 95% quantile: the profile interval's cut


@dataclass(frozen=True)
class DecayFit:
    """Estimate on the (logit sql_rate, log tau, logit floor) scale, its covariance, the profile
    of tau, and the profile-likelihood interval of tau."""

    theta: np.ndarray
    cov: np.ndarray
    loglik: float
    n: int
    events: int
    profile: pd.DataFrame
    tau_interval: tuple[float, float]

    @property
    def sql_rate(self) -> float:
        return float(special.expit(self.theta[0]))

    @property
    def tau_hours(self) -> float:
        return float(math.exp(self.theta[1]))

    @property
    def floor(self) -> float:
        return float(special.expit(self.theta[2]))


def _prob(theta: np.ndarray, w: np.ndarray, shown: np.ndarray) -> np.ndarray:
    s, tau, f = special.expit(theta[0]), math.exp(theta[1]), special.expit(theta[2])
    return np.clip(s * (f + (1.0 - f) * np.exp(-w / tau)) * shown, _EPS, 1.0 - _EPS)


def _negloglik(theta, w, shown, y, weight) -> float:
    p = _prob(theta, w, shown)
    return -float(np.sum(weight * (y * np.log(p) + (1.0 - y) * np.log1p(-p))))


def _compress(w: np.ndarray, shown: np.ndarray, y: np.ndarray):
    """Identical (wait, shown-share, outcome) triples collapse to one with a count: waits on a
    0.5% log grid, shown shares to 1e-3 (both far below what moves the likelihood)."""
    qw = np.round(np.log(np.maximum(w, 1e-3)) * 200.0)
    qs = np.round(shown * 1000.0)
    key = pd.DataFrame({"w": qw, "s": qs, "y": y})
    g = key.groupby(["w", "s", "y"], sort=False).size().reset_index(name="n")
    return (
        np.exp(g["w"].to_numpy() / 200.0),
        g["s"].to_numpy() / 1000.0,
        g["y"].to_numpy(float),
        g["n"].to_numpy(float),
    )


def fit_decay(wait_h: np.ndarray, shown: np.ndarray, sql: np.ndarray) -> DecayFit:
    """Fit the decay to reached leads: ``wait_h`` from hand-off to the reaching attempt,
    ``shown`` = F(time since then), the chance their SQL would show by the snapshot if they
    qualify, ``sql`` whether it did. Raises `FitFailed` when the curve is not identified."""
    y = np.asarray(sql, float)
    n, events = y.size, int(y.sum())
    if events < 20 or n - events < 20:
        raise FitFailed(f"decay: {events} SQLs among {n} reached leads, at least 20 of each needed")
    w, s, yy, weight = _compress(np.asarray(wait_h, float), np.asarray(shown, float), y)
    if np.unique(np.round(np.log(np.maximum(w, 1e-3)))).size < 3:
        raise FitFailed("decay: the waits barely vary, so the decay curve is not identified")
    start = np.array([special.logit(min(0.95, max(0.05, 1.5 * events / n))), 0.0, 0.0])
    best = None
    for tau0 in (0.1, 1.0, 10.0):
        start[1] = math.log(tau0)
        res = optimize.minimize(
            _negloglik,
            start,
            args=(w, s, yy, weight),
            method="Nelder-Mead",
            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    theta = best.x
    cov = _inverse_information(theta, w, s, weight)
    profile = _profile(theta, w, s, yy, weight, -best.fun)
    tau = math.exp(theta[1])
    if not (TAU_GRID_H[0] < tau < TAU_GRID_H[-1]) or cov is None:
        raise FitFailed(
            f"decay: the likelihood does not settle (tau {tau:.3g} h at the edge of "
            f"[{TAU_GRID_H[0]:g}, {TAU_GRID_H[-1]:g}] h, or a flat direction): the waits do not "
            "pin the curve down"
        )
    inside = profile["tau_hours"][profile["in_95ci"]]
    lo, hi = float(inside.min()), float(inside.max())
    return DecayFit(theta, cov, -best.fun, n, events, profile, (lo, hi))


def _inverse_information(theta, w, s, weight) -> np.ndarray | None:
    h = 1e-5
    grads = []
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        grads.append((_prob(theta + e, w, s) - _prob(theta - e, w, s)) / (2 * h))
    g = np.vstack(grads)
    p = _prob(theta, w, s)
    info = (g * (weight / (p * (1.0 - p)))) @ g.T
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0) or np.any(np.diag(cov) > 25):
        return None
    return (cov + cov.T) / 2.0


def _profile(theta, w, s, y, weight, best_ll) -> pd.DataFrame:
    rows = []
    x0 = np.array([theta[0], theta[2]])
    for tau in TAU_GRID_H:
        lt = math.log(tau)

        def nll(x, lt=lt):
            return _negloglik(np.array([x[0], lt, x[1]]), w, s, y, weight)

        res = optimize.minimize(nll, x0, method="Nelder-Mead", options={"maxiter": 2000})
        rows.append(
            {
                "tau_hours": float(tau),
                "loglik": -float(res.fun),
                "sql_rate": float(special.expit(res.x[0])),
                "decay_floor": float(special.expit(res.x[1])),
            }
        )
    out = pd.DataFrame(rows)
    top = max(best_ll, float(out["loglik"].max()))
    out["deviance"] = 2.0 * (top - out["loglik"])
    out["in_95ci"] = out["deviance"] <= CHI2_95
    return out
