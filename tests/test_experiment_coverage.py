"""CI coverage meta-test: about 95% of our 95% intervals contain the true mean wait.

The sales team reduced to an M/M/c queue (contract, "Time semantics") has a known mean wait to
first touch, W_q = C(c, a) / (c mu - lam) (`queueing.mmc_mean_wait`). K independent experiments
(different seeds), each n replications, each give a 95% t interval for the mean of the
per-replication ``first_touch_hours_mean``. If the intervals are right, the number that cover
W_q is Binomial(K, 0.95); the test accepts the central 99.9% of that distribution (exact
intervals would fail it with probability 1e-3).

Setup: c = 2 reps, lam = 7/h, mu = 5/h (rho = 0.7, relaxation time 1 / (c mu (1 - sqrt(rho))^2)
about 3 h), 10 counted days of arrivals (about 1,700 per replication) after a 2-day warm-up (16
relaxation times), so start-up bias is far below the interval width (about ±27% of W_q; 1,500
replications put the mean within 0.4 standard errors of W_q). The per-replication mean is
right-skewed (skewness about 1.2), so n = 5 intervals cover a little less than nominal: about
0.94 in 1,200 trial experiments; the test then fails with probability about 0.4%. A power guard
checks that a wait 25% off would fall far outside the band (its coverage is about 0.45).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import funnelsim as fs
from funnelsim.queueing import mmc_mean_wait

C, LAM, MEAN_HANDLING_H = 2, 7.0, 0.2
K, N = 100, 5


@pytest.mark.slow
def test_95_percent_intervals_cover_the_mm_c_mean_wait_about_95_percent_of_the_time(
    mmc_scenario,
):
    scenario = mmc_scenario(C, LAM, MEAN_HANDLING_H, 12.0, 2.0)
    truth = mmc_mean_wait(LAM, 1.0 / MEAN_HANDLING_H, C)
    bounds = np.empty((K, 2))
    for k in range(K):
        result = fs.run(scenario, N, seed=1000 + k, keep_records=False, progress=False)
        row = result.summary().loc["first_touch_hours_mean"]
        bounds[k] = row["ci_low"], row["ci_high"]

    def covered(value: float) -> int:
        return int(np.sum((bounds[:, 0] <= value) & (value <= bounds[:, 1])))

    low, high = stats.binom.ppf([0.0005, 0.9995], K, 0.95)
    assert low <= covered(truth) <= high
    # Power guard: the band is narrow enough to catch intervals centred 25% off.
    assert covered(1.25 * truth) < low
    assert covered(0.75 * truth) < low
