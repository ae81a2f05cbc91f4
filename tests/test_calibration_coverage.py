"""The CIs cover: over repeated synthetic exports, the 95% intervals of a censored (rate,
delay) fit contain the truth about 95% of the time.

K = 60 exports of 800 leads arriving over 60 days, MQL rate 0.4 after an exponential delay of
mean 15 days, snapshot at day 60 (a third of the eventual MQLs are still to come). With K = 60
the hit count is binomial(60, 0.95): sd 1.7 hits, so [52, 60] (0.867 to 1) holds with
probability > 99.5%. Power guard: intervals half as wide (z = 0.98) would cover about 67%,
far outside the band.
"""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim.calibration.estimates import block_from_fit
from funnelsim.calibration.survival import fit_delay

pytestmark = pytest.mark.slow
K, N, DAYS, RATE, MEAN = 60, 800, 60.0, 0.4, 15.0


def one(seed: int):
    rng = np.random.default_rng(seed)
    created = rng.uniform(0, DAYS, N)
    delay = rng.exponential(MEAN, N)
    event = (rng.random(N) < RATE) & (created + delay <= DAYS)
    d = np.maximum(np.where(event, delay, DAYS - created), 1e-4)
    fit = fit_delay(d, event, cure=True, families=("exponential",))
    b = block_from_fit("t", fit, "rate", "delay")
    theta, cov = b.theta, b.cov
    return theta, np.sqrt(np.diag(cov)), event.mean()


def test_95_percent_intervals_cover_the_truth():
    truth = np.log([RATE / (1 - RATE), MEAN])
    hits = np.zeros(2, int)
    narrow = np.zeros(2, int)
    naive_hits = 0
    for seed in range(K):
        theta, se, naive = one(seed)
        hits += np.abs(theta - truth) <= 1.959964 * se
        narrow += np.abs(theta - truth) <= 0.98 * se
        naive_hits += abs(np.log(naive / (1 - naive)) - truth[0]) <= 1.959964 * se[0]
    assert all(52 <= h <= 60 for h in hits), hits
    assert all(h < 48 for h in narrow), narrow  # the band catches intervals that are too narrow
    assert naive_hits < 8  # counting MQLs over leads misses the truth
