"""The sales team reduced to an M/M/c queue agrees with queueing theory.

With the contract's "Time semantics" settings (24/7, one attempt that always reaches, every
prospect an MQL at once, all accepted and worked, FIFO, exponential handling) the sales team is an
M/M/c queue, so Erlang C gives the wait distribution exactly: P(W = 0) = 1 - C,
P(W <= t) = 1 - C exp(-(c mu - lam) t), E[W] = C / (c mu - lam).

Statistics. Waits inside one run are strongly autocorrelated, so no test here treats them as iid.
Every estimate is a per-replication number (replications are independent: distinct replication
ids give independent streams), and tolerances are 4 standard errors of the across-replication
mean, SE = sd / sqrt(R): a correct model fails such a check with probability ~1e-4 (t with R-1 df).
Each run starts empty; the warm-up (several relaxation times 1 / (c mu (1 - sqrt(rho))^2)) keeps
the start-up bias well below one SE. A power guard asserts each band is narrow enough that a real
error (e.g. 10-15 %) would fail the test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import funnelsim as fs
from funnelsim import queueing
from funnelsim.results import KPI_NAMES, compute_kpis

# Statistical and the heaviest of this suite (~1.5M simulated leads): marked, still run by default.
pytestmark = pytest.mark.slow

SEED = 20290101
# (c, mean handling hours, rho, horizon days, warm-up days, replications)
# heavy: relaxation ~1 / (6 * (1 - sqrt(0.9))^2) = 63 h; warm-up 240 h ~ 3.8 relaxation times.
HEAVY = (3, 0.5, 0.9, 100.0, 10.0, 80)
# light: relaxation ~1 / (10 * (1 - sqrt(0.6))^2) = 2 h; warm-up 24 h.
LIGHT = (5, 0.5, 0.6, 30.0, 1.0, 50)
# Decay settings ride along on the heavy case: they do not touch the queue (own stream).
DECAY = {"qualification.sql_rate": 0.6, "qualification.decay_floor": 0.3}
TAU_H = 1.0


def decay(wait_h: np.ndarray, floor: float, tau_h: float) -> np.ndarray:
    """The contract's response-time decay multiplier, written out independently of the engine."""
    return floor + (1.0 - floor) * np.exp(-wait_h / tau_h)


def _params(case):
    c, h, rho, horizon, warm, reps = case
    mu = 1.0 / h
    return c, mu, rho * c * mu, horizon, warm, reps


@dataclass(frozen=True)
class Case:
    """One M/M/c case: per-replication statistics (one row per replication) and the first few
    records (keeping all of them would hold ~200 MB)."""

    c: int
    mu: float
    lam: float
    scenario: fs.Scenario
    stats: pd.DataFrame
    records: tuple


def _replication_stats(rec, tau: float) -> dict[str, float]:
    """What the tests need from one replication: its KPIs and a few ledger-derived numbers."""
    k = compute_kpis(rec)
    q_floor, sql_rate = DECAY["qualification.decay_floor"], DECAY["qualification.sql_rate"]
    reached = rec.cohort_mqls() & ~np.isnan(rec.contact_at)
    m = decay(rec.contact_at[reached] - rec.mql_at[reached], q_floor, tau)
    p = sql_rate * m
    swept, _ = _time_average_waiting(rec)
    return {
        **{name: k[name] for name in KPI_NAMES},
        # A zero wait may come out as a rounding-size number: the feeder reaches t as now + (t -
        # now).
        "zero_wait_share": float(np.mean(_cohort_waits(rec) <= 1e-9)),
        "queue_length": swept / (rec.horizon_h - rec.warmup_h),
        "decay_mean": float(m.mean()),
        "sql_share": float(rec.sql[reached].mean()),
        "sql_expected": float(p.sum()),
        "sql_variance": float((p * (1 - p)).sum()),
        "sql_realised": float(rec.sql[reached].sum()),
    }


@pytest.fixture(scope="module")
def runs(mmc_scenario) -> dict[str, Case]:
    """Both cases, simulated once."""
    out = {}
    for name, case in (("heavy", HEAVY), ("light", LIGHT)):
        c, mu, lam, horizon, warm, reps = _params(case)
        over = dict(DECAY, **{"qualification.decay_tau_hours": TAU_H})
        # SLA threshold at one mean handling time: P(W <= t) is well inside (0, 1).
        s = mmc_scenario(c, lam, 1.0 / mu, horizon, warm, overrides=over, sla_hours=1.0 / mu)
        rows, kept = [], []
        for r in range(reps):
            rec = fs.simulate(s, SEED, r)
            rows.append(_replication_stats(rec, TAU_H))
            if r < 5:
                kept.append(rec)
        stats = pd.DataFrame(rows, index=pd.Index(range(reps), name="replication"))
        out[name] = Case(c, mu, lam, s, stats, tuple(kept))
    return out


def test_the_public_run_gives_the_same_kpis(runs):
    """The statistics below come from simulate + compute_kpis; fs.run computes the same."""
    case = runs["light"]
    k = fs.run(case.scenario, [0, 1], SEED, keep_records=False, progress=False).kpis
    for name in ("first_touch_hours_mean", "sla_attainment", "rep_utilization", "sqls"):
        assert k[name].tolist() == case.stats[name].iloc[:2].tolist(), name


def _band(values) -> tuple[float, float]:
    """Mean of per-replication values and 4 standard errors of it."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), 4.0 * float(v.std(ddof=1)) / math.sqrt(v.size)


def _cohort_waits(rec) -> np.ndarray:
    cm = rec.cohort_mqls() & rec.worked
    return rec.first_touch_at[cm] - rec.mql_at[cm]


@pytest.mark.parametrize("case", ["heavy", "light"])
def test_mean_wait_matches_erlang_c(runs, case):
    """first_touch_hours_mean averages to W_q = C / (c mu - lam)."""
    x = runs[case]
    theory = queueing.mmc_mean_wait(x.lam, x.mu, x.c)
    mean, tol = _band(x.stats["first_touch_hours_mean"])
    assert tol < 0.12 * theory, "band too wide to detect a 12% error"
    assert abs(mean - theory) <= tol, (mean, theory, tol)
    # The KPI is the mean of the ledger's waits.
    assert x.stats["first_touch_hours_mean"].iloc[0] == pytest.approx(
        _cohort_waits(x.records[0]).mean(), rel=1e-12
    )


@pytest.mark.parametrize("case", ["heavy", "light"])
def test_sla_attainment_matches_erlang_c(runs, case):
    """sla_attainment (calendar clock) is P(W <= sla_hours) = 1 - C exp(-(c mu - lam) t)."""
    x = runs[case]
    theory = queueing.mmc_wait_within(x.scenario.sales.sla_hours, x.lam, x.mu, x.c)
    mean, tol = _band(x.stats["sla_attainment"])
    assert tol < 0.1 * min(theory, 1 - theory) + 0.01
    assert abs(mean - theory) <= tol, (mean, theory, tol)


@pytest.mark.parametrize("case", ["heavy", "light"])
def test_share_not_waiting_is_one_minus_erlang_c(runs, case):
    """The share of leads touched the instant they arrive is 1 - C(c, a)."""
    x = runs[case]
    theory = 1.0 - queueing.erlang_c(x.c, x.lam / x.mu)
    mean, tol = _band(x.stats["zero_wait_share"])
    assert abs(mean - theory) <= tol, (mean, theory, tol)


@pytest.mark.parametrize("case", ["heavy", "light"])
def test_utilization_is_rho(runs, case):
    """Reps are busy a share rho = lam / (c mu) of their time."""
    x = runs[case]
    rho = x.lam / (x.c * x.mu)
    mean, tol = _band(x.stats["rep_utilization"])
    assert abs(mean - rho) <= tol, (mean, rho, tol)


def _step_state(events_t: np.ndarray, deltas: list[np.ndarray]):
    """Sweep events: distinct times and, after all events at each time, each running count."""
    order = np.argsort(events_t, kind="stable")
    t = events_t[order]
    counts = [np.cumsum(d[order]) for d in deltas]
    last = np.r_[np.flatnonzero(np.diff(t) > 0), t.size - 1]
    return t[last], [x[last] for x in counts]


def _queue_sweep(rec):
    """(times, number waiting, reps busy) as step functions from the record's events."""
    a = rec.mql_at[rec.worked_row]
    # The feeder reaches hand-off time t as now + (t - now), which can land an ulp before t; an
    # instant start must not sort before its own hand-off.
    d = np.maximum(rec.attempt_start[0], a)
    s = rec.attempt_start[~np.isnan(rec.attempt_start)]
    e = s + rec.attempt_hours[~np.isnan(rec.attempt_start)]
    t = np.concatenate([a, d, s, e])
    n1, n2 = a.size, s.size
    dq = np.concatenate([np.ones(n1), -np.ones(n1), np.zeros(2 * n2)])
    db = np.concatenate([np.zeros(2 * n1), np.ones(n2), -np.ones(n2)])
    times, (queue, busy) = _step_state(t, [dq, db])
    return times, queue, busy


@pytest.mark.parametrize("case", ["heavy", "light"])
def test_reps_never_idle_while_a_lead_waits(runs, case):
    """Work conservation (exact): whenever a lead waits, every rep is busy."""
    x = runs[case]
    for rec in x.records:
        times, queue, busy = _queue_sweep(rec)
        # Ignore rounding-size slivers between a hand-off and its own start.
        real = np.diff(times) > 1e-9
        waiting = (queue[:-1] > 0) & real
        assert waiting.any()
        assert np.all(busy[:-1][waiting] == x.c)
        assert busy.max() <= x.c and queue.min() >= 0


def _time_average_waiting(rec) -> tuple[float, float]:
    """(integral of N_q over [warm-up, horizon) by sweeping the step function,
    the same from each lead's clipped wait: sum (min(d, T) - max(a, w))^+)."""
    w, T = rec.warmup_h, rec.horizon_h
    times, queue, _ = _queue_sweep(rec)
    lo = np.clip(times[:-1], w, T)
    hi = np.clip(times[1:], w, T)
    swept = float(np.sum(queue[:-1] * (hi - lo)))
    a = rec.mql_at[rec.worked_row]
    d = rec.attempt_start[0]
    per_lead = float(np.sum(np.clip(np.minimum(d, T) - np.maximum(a, w), 0.0, None)))
    return swept, per_lead


def test_littles_law_sample_path_identity(runs):
    """Exact on every run: the area under N_q(t) over a window is the waits' time in it."""
    for rec in runs["heavy"].records:
        swept, per_lead = _time_average_waiting(rec)
        assert swept == pytest.approx(per_lead, rel=1e-9)


@pytest.mark.parametrize("case", ["heavy", "light"])
def test_littles_law_queue_length(runs, case):
    """The time-average number waiting is L_q = lam * W_q (Erlang C)."""
    x = runs[case]
    theory = x.lam * queueing.mmc_mean_wait(x.lam, x.mu, x.c)
    mean, tol = _band(x.stats["queue_length"])
    assert tol < 0.15 * theory
    assert abs(mean - theory) <= tol, (mean, theory, tol)


def test_sqls_follow_the_decay_of_the_realised_waits(runs):
    """Given the waits, SQLs are independent Bernoulli(sql_rate * m(wait)) draws, so the SQL count
    is within 4 sd (sd^2 = sum p (1 - p), the Poisson-binomial variance) of sum p."""
    st = runs["heavy"].stats
    assert st["sqls"].sum() == st["sql_realised"].sum()
    realised, expected = st["sql_realised"].sum(), st["sql_expected"].sum()
    sd = math.sqrt(st["sql_variance"].sum())
    assert abs(realised - expected) <= 4 * sd, (realised, expected, sd)


def test_decay_matches_erlang_c_wait_distribution(runs):
    """E[m(W)] = floor + (1 - floor) ((1 - C) + C r / (r + 1/tau)), r = c mu - lam, because W is 0
    with probability 1 - C and otherwise Exp(r). Checked on the mean multiplier of the realised
    waits and on the SQL share of reached MQLs, both across replications (4 SE)."""
    x = runs["heavy"]
    floor, sql_rate = DECAY["qualification.decay_floor"], DECAY["qualification.sql_rate"]
    pc, r = queueing.erlang_c(x.c, x.lam / x.mu), x.c * x.mu - x.lam
    e_m = floor + (1 - floor) * ((1 - pc) + pc * r / (r + 1.0 / TAU_H))
    mean, tol = _band(x.stats["decay_mean"])
    assert abs(mean - e_m) <= tol, (mean, e_m, tol)
    mean, tol = _band(x.stats["sql_share"])
    assert tol < 0.05 * sql_rate * e_m
    assert abs(mean - sql_rate * e_m) <= tol, (mean, sql_rate * e_m, tol)
    # Sanity of the oracle itself: the decay genuinely bites at this load.
    assert e_m < 0.8


@pytest.mark.parametrize("c", [1, 3])
def test_adding_a_rep_never_delays_any_lead(mmc_scenario, c):
    """Sample-path monotonicity of first-come-first-served multi-server queues (Kiefer-Wolfowitz
    workload recursion): with the same arrivals and handling times (common random numbers) one
    more rep cannot make any single lead wait longer. Exact, lead by lead."""
    s = mmc_scenario(c, 0.9 * c * 2.0, 0.5, 20.0, 0.0)
    a = fs.simulate(s, 3, 0)
    b = fs.simulate(fs.override(s, {"sales.reps": c + 1}), 3, 0)
    # The hand-offs are the same ones in the same order; the tail of uncounted arrivals after
    # the horizon stops when each run's cohort is done, so one run may have more of them.
    n = min(a.mql_id.size, b.mql_id.size)
    assert n >= a.cohort_mqls().sum()
    np.testing.assert_array_equal(a.arrival[a.mql_id[:n]], b.arrival[b.mql_id[:n]])
    wait_a = (a.first_touch_at - a.mql_at)[:n]
    wait_b = (b.first_touch_at - b.mql_at)[:n]
    assert np.all(wait_b <= wait_a + 1e-9)
    assert wait_b.mean() < wait_a.mean()
