"""Find the volume of a quota: the rank-th smallest threshold volume of R replications (see
`confidence`), with as few simulations as the answer needs.

Three devices keep the count low:

1. **A pilot.** A few replications walk from the reverse funnel towards the answer: each step
   scales every pilot replication's revenue to the target (interpolating between the volumes it
   has seen), and a rough log-normal quantile of those thresholds gives the next volume. The
   pilot is also what notices an unreachable target, cheaply: revenue that stops growing with
   volume, or a target beyond the volume limit.
2. **Monotone reuse.** Replication r's revenue grows with volume (common random numbers, an
   arrival process that only adds prospects), so once it has hit at some volume it hits at every
   higher one, and once it has missed it misses at every lower one. At a new candidate only the
   replications whose outcome is not implied yet are simulated; near the answer that is a few.
   The full search therefore starts a little on the cheap side of the pilot's estimate: below it
   for a high confidence, where on the way up only the replications that still miss (about
   1 - P of them) need simulating.
3. **Interpolated thresholds.** Every replication's threshold is estimated from what it has
   shown (between its nearest miss and hit, or extrapolated at the common revenue per unit of
   volume), and the next candidate is the estimated rank-th threshold just above or below, so the
   bracket usually closes to ``tolerance`` in two or three steps (bisection is the fallback).

A replication whose revenue is not quite monotone (capacity couples leads: one more lead can
delay another's first touch) makes an implied outcome slightly wrong; the fresh-replication check
in `quota` measures the plan's hit probability without relying on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..experiment.stats import mean_ci
from ..scenario.checks import offered_load
from .confidence import Design
from .evaluation import Evaluation, Evaluator

PILOT_REPLICATIONS = 4
_PILOT_STEPS = 8
_MAX_STEPS = 60
# The pilot hands over once its estimate is within this factor of where it stands.
_CLOSE = 1.15
# The full search starts this many standard errors of the pilot's estimate on the cheap side of
# it (at most _MAX_APPROACH, relative); _APPROACH is the error assumed before the pilot knows.
_APPROACH_SE = 1.0
_APPROACH = 0.04
_MAX_APPROACH = 0.25
# One step moves the volume by at most this factor.
_STRIDE = 4.0
# Doubling the volume must raise mean counted revenue by at least this share, or revenue has
# saturated (a linear funnel doubles it). A smaller step scales it down in proportion.
_SATURATION_GAIN = 0.10
# Saturation is judged where mean revenue stands well above its noise (95% CI half-width at most
# this share of the mean) or capacity binds: at a trickle of deals no gain is often just chance.
_SATURATION_PRECISION = 0.5


@dataclass(frozen=True)
class Found:
    """The answer: the smallest volume known to reach the target in at least ``rank`` of the
    design's replications (``hits`` of them), and the largest known to miss (0: none seen)."""

    volume: float
    misses_below: float
    hits: int


@dataclass(frozen=True)
class Stalled:
    """No volume up to the limit is enough. ``why``: "limit" (the target needs more than
    ``limit`` prospects/week) or "saturated" (raising the volume stopped raising counted
    revenue). ``evidence`` is the evaluation at the largest volume tried."""

    why: str
    evidence: Evaluation
    hits: int
    replications: int
    limit: float


@dataclass
class VolumeSearch:
    """The search's memory: what each replication showed at each volume, and the trace."""

    evaluate: Evaluator
    reps: int
    target: float
    design: Design
    ids: tuple[int, ...]
    deal: float
    trace: list[dict] = field(default_factory=list)
    seen: dict[int, dict[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for r in self.ids:
            self.seen.setdefault(r, {})

    # ------------------------------------------------------------------ what is known
    def _implied(self, r: int, v: float) -> bool | None:
        """Replication r's outcome at volume v, if what it showed implies it."""
        obs = self.seen[r]
        if v in obs:
            return obs[v] >= self.target
        hit_at = [u for u, y in obs.items() if y >= self.target and u <= v]
        miss_at = [u for u, y in obs.items() if y < self.target and u >= v]
        if hit_at and not miss_at:
            return True
        if miss_at and not hit_at:
            return False
        return None  # nothing known, or contradictory evidence: simulate

    def simulate(self, v: float, ids: Sequence[int], phase: str) -> Evaluation:
        ev = self.evaluate(v, self.reps, ids)
        for r, y in zip(ev.frame.index, ev.values("revenue"), strict=True):
            self.seen[int(r)][v] = float(y)
        return ev

    def count(self, v: float, phase: str) -> tuple[int, Evaluation | None]:
        """Hits at v over all the design's replications, simulating only what is not implied."""
        unknown = [r for r in self.ids if self._implied(r, v) is None]
        ev = self.simulate(v, unknown, phase) if unknown else None
        hits = sum(bool(self._implied(r, v)) for r in self.ids)
        self._log(phase, v, hits, len(self.ids), ev)
        return hits, ev

    def _log(self, phase: str, v: float, hits: int, n: int, ev: Evaluation | None) -> None:
        self.trace.append(
            {
                "phase": phase,
                "prospects_per_week": v,
                "reps": self.reps,
                "p_hit": hits / n,
                "hits": hits,
                "replications": n,
                "simulated": 0 if ev is None else ev.replications,
                "revenue_mean": math.nan if ev is None else ev.mean("revenue"),
            }
        )

    def threshold(self, r: int, slope: float | None = None) -> float:
        """Replication r's estimated threshold volume, from what it showed: interpolated between
        its nearest miss and hit, else extrapolated from its nearest volume at ``slope``, the
        revenue a unit of volume adds on average (default: `slope`). Additive, not scaled by
        its own revenue: a replication that is short by chance gains at the common rate; and
        revenue comes in whole deals, so a miss needs at least one more (``deal``)."""
        obs = sorted(self.seen[r].items())
        if not obs:
            return math.nan
        t = self.target
        hits = [(v, y) for v, y in obs if y >= t]
        misses = [(v, y) for v, y in obs if y < t]
        if hits and misses:
            (va, ya), (vb, yb) = max(misses), min(hits)
            if va < vb and yb > ya:
                return va + (t - ya) * (vb - va) / (yb - ya)
            return vb
        s = self.slope() if slope is None else slope
        if s <= 0:
            return math.inf if misses else obs[0][0] / _STRIDE
        if misses:
            v, y = obs[-1]
            return v + max(t - y, self.deal) / s
        v, y = obs[0]
        return max(v / _STRIDE, v - (y - t) / s)

    def slope(self) -> float:
        """Counted revenue per unit of volume: the mean paired gain over replications seen at two
        volumes (at least three of them), else mean revenue over volume."""
        gains, ratios = [], []
        for obs in self.seen.values():
            if not obs:
                continue
            pts = sorted(obs.items())
            (v1, y1), (v2, y2) = pts[0], pts[-1]
            if v2 > v1:
                gains.append((y2 - y1) / (v2 - v1))
            ratios.append(y2 / v2)
        if len(gains) >= 3:
            return float(np.mean(gains))
        return float(np.mean(ratios)) if ratios else 0.0

    def rank_threshold(self) -> float:
        s = self.slope()
        est = np.sort([self.threshold(r, s) for r in self.ids])
        return float(est[self.design.rank - 1])


def search(
    evaluate: Evaluator,
    reps: int,
    target: float,
    design: Design,
    start: float,
    limit: float,
    tolerance: float,
    trace: list[dict],
    deal: float,
) -> Found | Stalled:
    """The rank-th smallest threshold volume of the design's replications (ids 0..R-1), to within
    ``tolerance`` (relative), searching no higher than ``limit`` prospects/week. ``deal``: the
    mean counted value of one deal (revenue comes in such steps)."""
    ids = tuple(range(design.replications))
    vs = VolumeSearch(evaluate, reps, target, design, ids, deal, trace)
    first = _pilot(vs, start, limit)
    if isinstance(first, Stalled):
        return first
    return _bracket(vs, *first, limit, tolerance)


def _pilot(vs: VolumeSearch, start: float, limit: float) -> tuple[float, float] | Stalled:
    """Walk a few replications to the neighbourhood of the answer. Returns the estimated answer
    and the standard error of its logarithm, or the verdict that no volume up to ``limit``
    will do."""
    pilot = vs.ids[: min(PILOT_REPLICATIONS, len(vs.ids))]
    z = float(special.ndtri(vs.design.confidence))
    v = min(start, limit)
    before: Evaluation | None = None
    guess, se = v, _APPROACH
    for _ in range(_PILOT_STEPS):
        ev = vs.simulate(v, pilot, "pilot")
        hits = ev.hits(vs.target)
        vs._log("pilot", v, hits, len(pilot), ev)
        if before is not None and _saturated(before, ev):
            return Stalled("saturated", ev, hits, len(pilot), limit)
        s = vs.slope()
        guess, se = _rough_quantile([vs.threshold(r, s) for r in pilot], z, v)
        if guess > limit and v >= limit:
            if _clearly_short(ev, vs.target):
                return Stalled("limit", ev, hits, len(pilot), limit)
            return limit, se
        if 1.0 / _CLOSE <= guess / v <= _CLOSE:
            return guess, se
        before = ev if guess > v else None
        v = min(limit, max(v / _STRIDE, min(v * _STRIDE, guess)))
    return v, se


def _bracket(
    vs: VolumeSearch, guess: float, se: float, limit: float, tolerance: float
) -> Found | Stalled:
    """Close a bracket [misses, hits] around the rank-th threshold over all replications,
    starting from the pilot's ``guess`` (log standard error ``se``)."""
    j = vs.design.rank
    lo, hi, hi_hits = 0.0, math.inf, 0
    # Approach from the side where few replications are left to decide: below the answer for a
    # high confidence (only the misses need simulating on the way up), above it for a low one;
    # far enough that the pilot's error rarely puts the start on the wrong side.
    side = -1.0 if vs.design.confidence >= 0.5 else 1.0
    shift = min(max(_APPROACH_SE * se, tolerance), _MAX_APPROACH)
    v = min(limit, guess * math.exp(side * shift))
    last_width, slow, streak, direction = math.inf, 0, 0, 0
    for _ in range(_MAX_STEPS):
        hits, _ = vs.count(v, "bracket" if math.isinf(hi) or lo == 0 else "bisect")
        if hits >= j:
            hi, hi_hits = v, hits
            if lo >= hi:  # a miss above this hit (revenue not quite monotone): trust the hit
                lo = 0.0
        else:
            lo = max(lo, v)
            if lo >= hi:
                hi = math.inf
        if not math.isinf(hi) and hi - lo <= tolerance * hi:
            return Found(hi, lo, hi_hits)
        if math.isinf(hi) and v >= limit:
            ev = vs.simulate(v, vs.ids, "bracket")
            return Stalled("limit", ev, hits, len(vs.ids), limit)
        if lo == 0.0 and v < 1e-6 * guess:
            return Found(hi, 0.0, hi_hits)  # a target so small that a trickle of leads hits it
        # Repeated steps the same way, with the bracket still open, grow geometrically: the
        # estimates are not helping (lumpy revenue), so find the other side fast.
        way = 1 if hits < j else -1
        streak = streak + 1 if way == direction and (math.isinf(hi) or lo == 0.0) else 0
        direction = way
        width = math.log(hi / lo) if lo > 0 and not math.isinf(hi) else math.inf
        slow = slow + 1 if width > 0.5 * last_width else 0
        last_width = min(last_width, width)
        step = min(_STRIDE, 1.0 + tolerance * 2.0**streak)
        v = _next_volume(vs.rank_threshold(), lo, hi, v, step, tolerance, limit, slow >= 2)
    raise RuntimeError(f"the volume search did not settle in {_MAX_STEPS} steps (at {v:g})")


def _next_volume(
    q: float, lo: float, hi: float, v: float, step: float, tol: float, limit: float, bisect: bool
) -> float:
    """The next candidate: just above the estimated threshold while no hit is known, just below
    while no miss is (moving at least by the factor ``step``), else on the side that would close
    the bracket; the midpoint when the estimates stop helping."""
    if not math.isfinite(q):
        q = v * _STRIDE
    if math.isinf(hi):
        return min(limit, max(v * step, min(v * _STRIDE, q * (1.0 + tol / 2.0))))
    if lo == 0.0:
        return max(v / _STRIDE, min(v / step, q * (1.0 - tol / 2.0)))
    if bisect:
        return math.sqrt(lo * hi)
    up, down = q * (1.0 + tol / 2.0), q * (1.0 - tol / 2.0)
    inner_lo, inner_hi = lo * (1.0 + tol / 4.0), hi * (1.0 - tol / 4.0)
    if inner_lo < up < inner_hi:
        return up
    if inner_lo < down < inner_hi:
        return down
    return math.sqrt(lo * hi)


def _rough_quantile(thresholds: list[float], z: float, v: float) -> tuple[float, float]:
    """A log-normal guess at the P-quantile of a few thresholds (only to steer the search), and
    the standard error of its logarithm, sd * sqrt(1/n + z^2 / (2 (n - 1)))."""
    x = np.asarray(thresholds, float)
    if not np.all(np.isfinite(x)) or x.size == 0:
        return v * _STRIDE, _MAX_APPROACH
    logs = np.log(x)
    n = logs.size
    sd = max(float(logs.std(ddof=1)) if n > 1 else 0.1, 0.02)
    se = sd * math.sqrt(1.0 / n + (z * z / (2.0 * (n - 1)) if n > 1 else 1.0))
    return float(np.exp(logs.mean() + z * sd)), se


def _clearly_short(ev: Evaluation, target: float) -> bool:
    """Mean counted revenue is below the target beyond its 95% CI: even the average plan misses,
    so no share above one half can hit (with one replication: it missed by a factor of 2)."""
    mean, _, hi, n = mean_ci(ev.values("revenue"))
    if n < 2 or not math.isfinite(hi):
        return mean < 0.5 * target
    return hi < target


def _saturated(before: Evaluation, after: Evaluation) -> bool:
    """True when the step from ``before`` to ``after`` (a higher volume, the same replications)
    clearly stopped raising revenue: the paired 95% CI of the gain lies wholly below the least
    growth a working funnel shows, where that is telling: mean revenue at ``before`` is known to
    within `_SATURATION_PRECISION` of itself, or the reps are already offered more work than
    they have time for (so extra leads only queue). At a trickle of deals no growth is chance."""
    b, a = before.values("revenue"), after.values("revenue")
    mean, lo, _, n = mean_ci(b)
    if n < 2 or a.shape != b.shape or after.prospects_per_week <= before.prospects_per_week:
        return False
    precise = mean > 0 and mean - lo <= _SATURATION_PRECISION * mean
    if not (precise or offered_load(before.scenario) >= 1.0):
        return False
    step = after.prospects_per_week / before.prospects_per_week
    _, _, gain_high, _ = mean_ci(a - b)
    return bool(gain_high <= _SATURATION_GAIN * (step - 1) * mean)
