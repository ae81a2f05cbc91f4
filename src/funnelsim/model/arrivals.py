"""Prospect arrivals: a Poisson process, non-homogeneous when a weekday or monthly profile is set.

Arrival times come from inverting the cumulative intensity: t_i = Λ⁻¹(E_i), where E_i are the
points of a unit-rate Poisson process. This is an exact NHPP, and it couples volumes well: at a
higher rate, the same E_i land earlier, so the prospects of a smaller volume are a prefix of those
of a larger one (what a quota search on common random numbers needs).
"""

from __future__ import annotations

import numpy as np

from ..scenario import Scenario
from .streams import stream

_CHUNK = 1 << 16


def daily_multipliers(s: Scenario, days: int) -> np.ndarray:
    """Rate multiplier for each day in [0, days), mean 1 over a full week and a full year."""
    mult = np.ones(days)
    dates = np.datetime64(s.run.start_date) + np.arange(days).astype("timedelta64[D]")
    if s.arrivals.weekday_profile is not None:
        prof = np.asarray(s.arrivals.weekday_profile, dtype=float)
        prof = prof / prof.mean()
        weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
        mult *= prof[weekday]
    if s.arrivals.monthly_seasonality is not None:
        prof = np.asarray(s.arrivals.monthly_seasonality, dtype=float)
        month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
        prof = prof / (prof @ month_days / 365.0)
        month = dates.astype("datetime64[M]").astype(int) % 12
        mult *= prof[month]
    return mult


def arrival_times(s: Scenario, seed: int, replication: int) -> np.ndarray:
    """Sorted arrival times in hours within [0, horizon)."""
    horizon_h = s.run.horizon_days * 24.0
    rate_h = s.arrivals.prospects_per_week / 168.0
    profiled = s.arrivals.weekday_profile is not None or s.arrivals.monthly_seasonality is not None
    if profiled:
        days = int(np.ceil(s.run.horizon_days))
        day_rate = rate_h * daily_multipliers(s, days)
        knots_h = np.arange(days + 1) * 24.0
        cum = np.concatenate(([0.0], np.cumsum(day_rate * 24.0)))
        total = float(np.interp(horizon_h, knots_h, cum))
    else:
        total = rate_h * horizon_h
    points = _unit_poisson_points(seed, replication, total)
    if not profiled:
        return points / rate_h
    # Λ is linear within each day, so its inverse is exact linear interpolation.
    times = np.interp(points, cum, knots_h)
    return times[times < horizon_h]


def _unit_poisson_points(seed: int, replication: int, upto: float) -> np.ndarray:
    rng = stream(seed, replication, "arrivals")
    chunks, last = [], 0.0
    while last < upto:
        pts = last + np.cumsum(-np.log1p(-rng.random(_CHUNK)))
        chunks.append(pts)
        last = float(pts[-1])
    if not chunks:
        return np.empty(0)
    points = np.concatenate(chunks)
    return points[: np.searchsorted(points, upto, side="left")]
