"""Lead score: a latent standard-normal quality z per prospect that shifts a stage's log-odds.

A stage with configured rate p gives a lead of score z the chance ``expit(logit(p) + c + s·z)``,
where s is ``marketing.score_strength`` and c is solved so that the chance averaged over the whole
MQL population is exactly p. At s = 0 every lead gets p.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, special

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(64)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


@lru_cache(maxsize=1024)
def _shift(p: float, strength: float) -> float:
    base = special.logit(p)

    def gap(c: float) -> float:
        return float(_WEIGHTS @ special.expit(base + c + strength * _NODES)) - p

    return optimize.brentq(gap, -50.0, 50.0, xtol=1e-12)


def stage_probability(p: float, strength: float, z: np.ndarray) -> np.ndarray:
    """Each lead's chance at a stage of mean rate ``p``; averages to p over z ~ N(0, 1)."""
    if strength == 0.0 or p <= 0.0 or p >= 1.0:
        return np.full(np.shape(z), p)
    return special.expit(special.logit(p) + _shift(p, strength) + strength * z)


def mean_probability(p: float, strength: float) -> float:
    """The population average of `stage_probability` (p itself, by construction; for tests)."""
    return float(_WEIGHTS @ stage_probability(p, strength, _NODES))


def percentile(z: np.ndarray) -> np.ndarray:
    """The score a CRM would show: 0-100, the lead's percentile in the population."""
    return 100.0 * special.ndtr(z)
