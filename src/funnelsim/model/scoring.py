"""Lead score: a latent quality z per prospect that shifts each stage's log-odds.

A stage with configured rate p gives a lead of score z the chance ``expit(logit(p) + c + s·z)``,
where s is ``marketing.score_strength`` and c is solved so that the chance averaged over *the
leads that reach that stage* is exactly p. The score therefore redistributes a stage's rate
across its leads without moving the stage's average: acceptance is centred over the MQLs, the
SQL chance over the accepted leads (acceptance selects by score; coverage and contact do not),
the win chance over the SQLs. The populations are mixtures of normals (one per channel, shifted
by its ``score_shift`` and weighted by its MQL volume), integrated by Gauss-Hermite quadrature.
At s = 0 every lead gets p.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(64)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

# A population of scores: (weight, mean) of each unit-variance normal component.
Components = tuple[tuple[float, float], ...]
STANDARD: Components = ((1.0, 0.0),)


def _quadrature(components: Components) -> tuple[np.ndarray, np.ndarray]:
    total = sum(w for w, _ in components)
    nodes = np.concatenate([m + _NODES for _, m in components])
    weights = np.concatenate([w / total * _WEIGHTS for w, _ in components])
    return nodes, weights


def _solve_shift(p: float, strength: float, nodes: np.ndarray, weights: np.ndarray) -> float:
    base = special.logit(p)

    def gap(c: float) -> float:
        return float(weights @ special.expit(base + c + strength * nodes)) - p

    return optimize.brentq(gap, -60.0, 60.0, xtol=1e-12)


def _plain(p: float, strength: float) -> bool:
    return strength == 0.0 or p <= 0.0 or p >= 1.0


def _chance(p: float, strength: float, shift: float, z: np.ndarray) -> np.ndarray:
    if _plain(p, strength):
        return np.full(np.shape(z), p)
    return special.expit(special.logit(p) + shift + strength * np.asarray(z, dtype=float))


@lru_cache(maxsize=4096)
def _centred(p: float, strength: float, components: Components) -> float:
    if _plain(p, strength):
        return 0.0
    nodes, weights = _quadrature(components)
    return _solve_shift(p, strength, nodes, weights)


def stage_probability(
    p: float, strength: float, z: np.ndarray, components: Components = STANDARD
) -> np.ndarray:
    """Each lead's chance at a stage of mean rate ``p`` over a score population (default: the
    standard normal)."""
    return _chance(p, strength, _centred(p, strength, components), z)


@dataclass(frozen=True)
class StageScores:
    """The score model of one scenario: each stage centred over the leads that reach it.

    ``mqls`` is the score population of first hand-offs. The SQL stage is centred over the MQLs
    reweighted by the acceptance chance at ``acceptance_rate``, and the win stage over those
    reweighted again by the SQL chance (before any uplift or decay, the mechanisms that are
    meant to move a rate)."""

    strength: float
    mqls: Components
    acceptance_rate: float
    sql_rate: float
    win_rate: float
    sql_shift: float
    win_shift: float

    def accept(self, acceptance_rate: float, z: np.ndarray) -> np.ndarray:
        """Acceptance chance at a (possibly learned) rate, centred over the MQLs."""
        return stage_probability(acceptance_rate, self.strength, z, self.mqls)

    def sql(self, z: np.ndarray) -> np.ndarray:
        return _chance(self.sql_rate, self.strength, self.sql_shift, z)

    def win(self, z: np.ndarray) -> np.ndarray:
        return _chance(self.win_rate, self.strength, self.win_shift, z)


@lru_cache(maxsize=256)
def stage_scores(
    strength: float,
    mqls: Components,
    acceptance_rate: float,
    sql_rate: float,
    win_rate: float,
) -> StageScores:
    """Solve the centring of every stage for one scenario's settings (cached)."""
    nodes, weights = _quadrature(mqls)
    sql_shift = win_shift = 0.0
    p_acc = _chance(acceptance_rate, strength, _centred(acceptance_rate, strength, mqls), nodes)
    at_sql = weights * p_acc
    if not _plain(sql_rate, strength) and at_sql.sum() > 0:
        sql_shift = _solve_shift(sql_rate, strength, nodes, at_sql / at_sql.sum())
    at_win = at_sql * _chance(sql_rate, strength, sql_shift, nodes)
    if not _plain(win_rate, strength) and at_win.sum() > 0:
        win_shift = _solve_shift(win_rate, strength, nodes, at_win / at_win.sum())
    return StageScores(strength, mqls, acceptance_rate, sql_rate, win_rate, sql_shift, win_shift)


def mqls_population(shares: Sequence[float], mql_rates: Sequence[float], shifts: Sequence[float]):
    """The score population of first hand-offs: one component per channel, weighted by the
    share of prospects it brings times its MQL rate."""
    comps = tuple(
        (float(a * q), float(m)) for a, q, m in zip(shares, mql_rates, shifts, strict=True) if a * q
    )
    return comps or STANDARD


def mean_probability(p: float, strength: float, components: Components = STANDARD) -> float:
    """The population average of `stage_probability` (p itself, by construction; for tests)."""
    nodes, weights = _quadrature(components)
    return float(weights @ stage_probability(p, strength, nodes, components))


def percentile(z: np.ndarray) -> np.ndarray:
    """The score a CRM would show: 0-100, the lead's percentile in the population."""
    return 100.0 * special.ndtr(z)
