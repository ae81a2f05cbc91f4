"""The statistics of an honest quota: an order-statistic bound with a stated assurance.

Under common random numbers each replication r has a threshold volume v_r: it reaches the target
at every volume at or above v_r and at none below (the arrival process adds prospects as the rate
rises, so revenue grows with volume replication by replication). The thresholds of independent
replications are independent draws from one distribution F, and the hit probability of a plan at
volume v is F(v). Take the j-th smallest of R thresholds, v_(j): then F(v_(j)) ~ Beta(j, R-j+1)
whatever F is, so

    P(F(v_(j)) >= P) = P(Binomial(R, P) <= j - 1),

and the smallest j that makes this at least the assurance A gives a plan that hits with
probability at least P in a share A of searches (a one-sided distribution-free tolerance bound).
The in-sample quantile (j = ceil(P R)) is right only about half the time; that was the defect.

The plan's own hit probability is then measured on fresh replications that took no part in the
choice (`Validation`), so ``p_hit_target`` and its interval are out of sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from ..errors import UsageError
from .evaluation import wilson_interval

DEFAULT_ASSURANCE = 0.9
# The bound should not rest on the single largest threshold (one unlucky replication would set the
# plan): the default count leaves at least one replication above the chosen rank.
_SPARE = 1
MAX_REPLICATIONS = 2000


def rank_for(replications: int, confidence: float, assurance: float) -> int | None:
    """The smallest rank j with P(Binomial(R, P) <= j - 1) >= assurance, or None when even the
    largest of R thresholds is not enough (1 - P**R < assurance)."""
    j = 1
    while j <= replications and _binom_cdf(j - 1, replications, confidence) < assurance:
        j += 1
    return j if j <= replications else None


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(Binomial(n, p) <= k) (scipy.special: scipy.stats costs a second at import)."""
    return float(special.bdtr(k, n, p))


def replications_for(confidence: float, assurance: float, at_least: int = 1) -> int:
    """The fewest replications, at least ``at_least``, whose bound leaves `_SPARE` replications
    above the chosen rank."""
    r = max(1, int(at_least))
    # P**R <= 1 - A is necessary; start there and step up.
    r = max(r, math.ceil(math.log1p(-assurance) / math.log(confidence)))
    while r <= MAX_REPLICATIONS:
        j = rank_for(r, confidence, assurance)
        if j is not None and j <= r - _SPARE:
            return r
        r += 1
    raise UsageError(
        f"--confidence {confidence:g} with --assurance {assurance:g} needs more than "
        f"{MAX_REPLICATIONS} replications per volume; lower one of them"
    )


@dataclass(frozen=True)
class Design:
    """How the plan was chosen: the rank-th smallest threshold of ``replications``."""

    replications: int
    rank: int
    confidence: float
    assurance: float

    @property
    def expected_p_hit(self) -> float:
        """Mean of the chosen plan's hit probability over searches: j / (R + 1)."""
        return self.rank / (self.replications + 1)

    @property
    def achieved_assurance(self) -> float:
        """P(the plan's hit probability >= confidence), exactly, under monotone thresholds."""
        return _binom_cdf(self.rank - 1, self.replications, self.confidence)

    def describe(self) -> str:
        return (
            f"the {_ordinal(self.rank)} smallest of {self.replications} replications' threshold "
            f"volumes: P(hit) >= {self.confidence:.0%} with {self.achieved_assurance:.1%} "
            "assurance"
        )

    def to_dict(self) -> dict:
        return {
            "replications": self.replications,
            "rank": self.rank,
            "assurance": self.assurance,
            "achieved_assurance": self.achieved_assurance,
            "expected_p_hit": self.expected_p_hit,
        }


def design(confidence: float, assurance: float, replications: int | None, floor: int) -> Design:
    """The design for a search: ``replications`` as asked (None: ``floor``, the scenario's count),
    raised to what the claim needs."""
    asked = floor if replications is None else int(replications)
    r = replications_for(confidence, assurance, asked)
    j = rank_for(r, confidence, assurance)
    assert j is not None
    return Design(r, j, confidence, assurance)


@dataclass(frozen=True)
class Validation:
    """The plan re-simulated on fresh replication ids: hits out of ``replications``."""

    hits: int
    replications: int
    first_replication: int

    @property
    def p_hit(self) -> float:
        return self.hits / self.replications

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.hits, self.replications)

    def to_dict(self) -> dict:
        return {
            "p_hit_target": self.p_hit,
            "p_hit_ci95": list(self.ci95),
            "replications": self.replications,
            "replication_ids": [self.first_replication, self.first_replication + self.replications],
        }


def check_probabilities(confidence: float, assurance: float) -> None:
    for name, v in (("--confidence", confidence), ("--assurance", assurance)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not (0.0 < v < 1.0):
            raise UsageError(f"{name} must be strictly between 0 and 1, e.g. 0.9 (given: {v!r})")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
