"""Queueing theory the simulation is checked against, and that planning uses for quick estimates.

M/M/c (Erlang C): Poisson arrivals at rate ``lam``, ``c`` servers, exponential service at rate
``mu`` each. Computed through the Erlang B recursion, which is stable for large c.
"""

from __future__ import annotations

import math


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a = lam / mu``."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a`` (needs a < c)."""
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue W_q = C(c, a) / (c mu - lam); infinite when unstable."""
    if lam >= c * mu:
        return math.inf
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_wait_within(t: float, lam: float, mu: float, c: int) -> float:
    """P(W_q <= t) = 1 - C(c, a) exp(-(c mu - lam) t); 0 when unstable."""
    if lam >= c * mu:
        return 0.0
    return 1.0 - erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def mmc_wait_variance(lam: float, mu: float, c: int) -> float:
    """Var(W_q): W_q is 0 with prob 1-C and Exp(c mu - lam) with prob C."""
    if lam >= c * mu:
        return math.inf
    pc = erlang_c(c, lam / mu)
    r = c * mu - lam
    return pc * (2.0 - pc) / r**2


def servers_for_wait_within(t: float, target: float, lam: float, mu: float) -> int:
    """Fewest servers with P(W_q <= t) >= target (the Erlang C staffing estimate)."""
    c = max(1, math.floor(lam / mu) + 1)
    while mmc_wait_within(t, lam, mu, c) < target:
        c += 1
    return c


def erlang_m1_sigma(k: int, lam: float, mu: float) -> float:
    """The root sigma in (0, 1) of sigma = A*(mu (1 - sigma)) for the E_k/M/1 queue: one server
    fed every k-th arrival of a Poisson(lam) stream, so interarrivals are Erlang(k, lam) with
    transform A*(s) = (lam / (lam + s))^k. Needs lam / k < mu."""
    from scipy import optimize

    if lam / k >= mu:
        return 1.0

    def gap(sigma: float) -> float:
        return (lam / (lam + mu * (1.0 - sigma))) ** k - sigma

    return optimize.brentq(gap, 0.0, 1.0 - 1e-9, xtol=1e-14)


def erlang_m1_mean_wait(k: int, lam: float, mu: float) -> float:
    """Mean wait in queue of E_k/M/1 (GI/M/1): W_q = sigma / (mu (1 - sigma))."""
    sigma = erlang_m1_sigma(k, lam, mu)
    return math.inf if sigma >= 1.0 else sigma / (mu * (1.0 - sigma))


def erlang_m1_wait_within(t: float, k: int, lam: float, mu: float) -> float:
    """P(W_q <= t) = 1 - sigma exp(-mu (1 - sigma) t) for E_k/M/1 (GI/M/1)."""
    sigma = erlang_m1_sigma(k, lam, mu)
    return 0.0 if sigma >= 1.0 else 1.0 - sigma * math.exp(-mu * (1.0 - sigma) * t)
