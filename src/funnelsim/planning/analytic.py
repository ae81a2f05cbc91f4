"""Closed-form quotas for the plain funnel: every prospect converts independently with the same
end-to-end probability ``p`` and every deal is worth the same.

Two arrival models give two answers, and the simulation uses the second:

- A fixed number N of leads: customers ~ Binomial(N, p). The smallest N with
  P(customers >= k) >= P is ``k + F`` where F, the failures before the k-th success, is negative
  binomial: ``N = k + nbinom.ppf(P, k, p)`` (the textbook "negative-binomial quota").
- Poisson arrivals at ``lam`` per week over ``weeks`` weeks (what funnelsim simulates): thinning a
  Poisson process keeps it Poisson, so customers ~ Poisson(lam * weeks * p), and
  P(Poisson(mu) >= k) = P(Gamma(k, 1) <= mu). The smallest rate is therefore
  ``lam = gamma.ppf(P, k) / (weeks * p)``. It is a little above the fixed-N answer divided by the
  weeks, because the number of leads is itself random.
"""

from __future__ import annotations

import math

from scipy import special


def customers_needed(target_revenue: float, deal_size: float) -> int:
    """Deals of ``deal_size`` needed to reach ``target_revenue`` (at least 1)."""
    return max(1, math.ceil(target_revenue / deal_size - 1e-9))


def fixed_leads_quota(customers: int, p_end: float, confidence: float) -> int:
    """Fewest leads N with P(Binomial(N, p_end) >= customers) >= confidence."""
    from scipy import stats  # only here: scipy.stats costs a third of a second at import

    return int(customers + stats.nbinom.ppf(confidence, customers, p_end))


def poisson_quota_rate(customers: int, p_end: float, weeks: float, confidence: float) -> float:
    """Smallest Poisson rate per week with P(Poisson(rate * weeks * p_end) >= customers) >=
    confidence."""
    return float(special.gammaincinv(customers, confidence)) / (weeks * p_end)


def poisson_hit_probability(rate: float, customers: int, p_end: float, weeks: float) -> float:
    """P(Poisson(rate * weeks * p_end) >= customers): the exact hit probability at ``rate``."""
    return float(special.gammainc(customers, rate * weeks * p_end))
