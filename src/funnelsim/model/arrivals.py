"""Prospect arrivals: a Poisson process at ``prospects_per_week``, non-homogeneous when a weekday,
monthly or hour-of-day profile is set.

Time is cut into chunks of `chunk_hours` (13 weeks, or the horizon when shorter). In chunk k the
process is drawn as a Poisson process in (time, level) space: prospect j of the chunk has a
level Γ_j (the j-th point of a unit-rate Poisson process, scaled by the chunk's integrated
intensity) and an arrival time drawn independently from the chunk's intensity profile; the
prospects at rate λ are those with a level
below λ. So:

- it is an exact non-homogeneous Poisson process (given their number, the points of a Poisson
  process are independent draws from its intensity);
- a higher rate only *adds* prospects, in every window: prospect j of chunk k keeps its arrival
  time and every draw keyed by it (`streams.prospect_ids`), so cohort membership never depends on
  the volume and a quota search sees a monotone funnel;
- chunks are drawn on demand, so arrivals can go on after the horizon (simulated, never counted)
  for as long as the cohort still needs a steady queue, and before day 0 for the leads whose
  hand-off lands after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scenario import Scenario
from .streams import Streams

CHUNK_DAYS = 91  # thirteen weeks: few chunks a year, little overshoot when the tail stops
CHUNK_H = CHUNK_DAYS * 24.0


def chunk_hours(s: Scenario) -> float:
    """The scenario's chunk length: `CHUNK_DAYS`, or the horizon in whole days when shorter, so
    a short run at a huge rate never draws a quarter's worth of prospects it does not need. It
    depends on the horizon only, never on the volume (higher rates still only add prospects)."""
    return 24.0 * min(CHUNK_DAYS, max(1, math.ceil(s.run.horizon_days)))


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def _profiled(s: Scenario) -> bool:
    a = s.arrivals
    return (
        a.weekday_profile is not None
        or a.monthly_seasonality is not None
        or a.hourly_profile is not None
    )


def daily_multipliers(s: Scenario, days: int, first_day: int = 0) -> np.ndarray:
    """Rate multiplier of each day in [first_day, first_day + days): weekday times month, each
    profile rescaled to mean 1 over a week and over a (365-day) year."""
    mult = np.ones(days)
    dates = np.datetime64(s.run.start_date, "D") + np.arange(first_day, first_day + days)
    if s.arrivals.weekday_profile is not None:
        prof = np.asarray(s.arrivals.weekday_profile, dtype=float)
        weekday = (dates.view("int64") - 4) % 7  # 1970-01-01 was a Thursday
        mult *= (prof / prof.mean())[weekday]
    if s.arrivals.monthly_seasonality is not None:
        prof = np.asarray(s.arrivals.monthly_seasonality, dtype=float)
        month = dates.astype("datetime64[M]").astype(int) % 12
        mult *= (prof / (prof @ _MONTH_DAYS / 365.0))[month]
    return mult


def hourly_multipliers(s: Scenario, hours: int, first_hour: int = 0) -> np.ndarray:
    """Rate multiplier of each hour in [first_hour, first_hour + hours) (``first_hour`` a whole
    number of days): the day's multiplier times the hour-of-day profile, rescaled to mean 1."""
    first_day, n_days = first_hour // 24, -(-hours // 24)
    day = np.repeat(daily_multipliers(s, n_days, first_day), 24)
    if s.arrivals.hourly_profile is not None:
        prof = np.asarray(s.arrivals.hourly_profile, dtype=float)
        day *= np.tile(prof / prof.mean(), n_days)
    return day[:hours]


class ActivityClock:
    """Time as the leads' activity runs: the cumulative arrival intensity, normalised to mean 1
    (so it keeps pace with the wall clock on average), over [first_h, last_h).

    A lead's ``time_to_mql_days`` runs on this clock: it engages, and so becomes an MQL, at the
    hours, weekdays and seasons when inquiries come in, and hand-offs keep the profile of
    arrivals. Arrivals are a homogeneous Poisson process on the activity clock, so delays on it
    keep hand-offs an exact Poisson process with the arrivals' intensity, and averaged over
    leads the wall-clock delay is exactly the configured one. Without a profile it is the wall
    clock."""

    def __init__(self, s: Scenario, first_h: float, last_h: float) -> None:
        self.flat = not _profiled(s)
        if self.flat:
            return
        first = int(np.floor(first_h / 24.0)) * 24
        hours = int(np.ceil(last_h)) - first + 24
        cum = np.concatenate(([0.0], np.cumsum(hourly_multipliers(s, hours, first))))
        self._wall = first + np.arange(hours + 1, dtype=float)
        self._activity = cum + first  # activity time equals wall time at first_h

    def to_activity(self, t: np.ndarray) -> np.ndarray:
        return t if self.flat else np.interp(t, self._wall, self._activity)

    def to_wall(self, u: np.ndarray) -> np.ndarray:
        if self.flat:
            return u
        # Past the grid (a delay beyond the run's span) the clock runs at its mean pace.
        inside = np.interp(u, self._activity, self._wall)
        beyond = u > self._activity[-1]
        return np.where(beyond, self._wall[-1] + (u - self._activity[-1]), inside)

    def delayed(self, t: np.ndarray, delay_h: np.ndarray) -> np.ndarray:
        """Wall-clock times ``delay_h`` hours of activity after ``t``."""
        if self.flat:
            return t + delay_h
        return np.maximum(self.to_wall(self.to_activity(t) + delay_h), t)


@dataclass(frozen=True)
class ChunkArrivals:
    """The prospects of one chunk in arrival order: ``times`` in hours since day 0 and ``index``,
    each prospect's rank by level, which is its identity within the chunk."""

    chunk: int
    times: np.ndarray
    index: np.ndarray


def chunk_arrivals(s: Scenario, streams: Streams, chunk: int) -> ChunkArrivals:
    """The prospects arriving in chunk ``chunk``: [chunk * C, (chunk + 1) * C), C the
    scenario's `chunk_hours`."""
    rate_h = s.arrivals.prospects_per_week / 168.0
    length = chunk_hours(s)
    start_h = chunk * length
    hours = int(length)
    if _profiled(s):
        mult = hourly_multipliers(s, hours, chunk * hours)
        cum = np.concatenate(([0.0], np.cumsum(mult)))
    else:
        cum = None
    mass = float(cum[-1]) if cum is not None else length
    n = _count_below(streams, chunk, rate_h * mass)
    u = streams.chunk("arrival_time", chunk).random(n)
    if cum is None:
        offset = u * length
    else:
        # The cumulative intensity is linear within each hour, so its inverse is exact linear
        # interpolation between hour knots.
        offset = np.interp(u * mass, cum, np.arange(hours + 1, dtype=float))
    order = np.argsort(offset, kind="stable")
    return ChunkArrivals(chunk, start_h + offset[order], order)


def _count_below(streams: Streams, chunk: int, level: float) -> int:
    """How many points of the chunk's unit-rate level process lie below ``level``: a Poisson
    count whose prospects are a prefix of those at any higher level."""
    if level <= 0:
        return 0
    gen = streams.chunk("arrivals", chunk)
    block = int(level + 6.0 * level**0.5 + 64)
    total, n = 0.0, 0
    while True:
        pts = total - np.cumsum(np.log1p(-gen.random(block)))
        below = int(np.searchsorted(pts, level, side="left"))
        n += below
        if below < block:
            return n
        total = float(pts[-1])


def arrival_times(s: Scenario, seed: int, replication: int) -> np.ndarray:
    """Sorted arrival times in hours within [0, horizon): the prospects a run counts from."""
    streams = Streams(seed, replication)
    horizon_h = s.run.horizon_days * 24.0
    out = []
    for k in range(int(np.ceil(horizon_h / chunk_hours(s)))):
        t = chunk_arrivals(s, streams, k).times
        out.append(t[t < horizon_h])
    return np.concatenate(out) if out else np.empty(0)
