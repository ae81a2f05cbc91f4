"""Headcount by simulation: the fewest reps that keep the follow-up SLA, and the most profitable
headcount that keeps it, each decided with as few replications as the decision needs.

Every rep count runs the same replication ids (common random numbers), so adding a rep changes
only what the extra rep does. A decision ("does c reps keep the SLA?", "does rep c pay for
itself?") first looks at a few replications and adds more, doubling, only while the 95% CI of
the quantity straddles the line it is judged against and is wider than an indifference zone
(a point of attainment; a tenth of a rep's cost); then, or at the full count, the mean
decides.
Nothing here depends on how reps are organised (one pool, round robin, batch pulls): the
simulation measures whatever the scenario says, and the Erlang estimate only suggests where to
start looking.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..experiment.stats import mean_ci
from ..scenario.checks import offered_load
from .evaluation import Evaluation, Evaluator

# Replications of a first look at a rep count; more only when the decision needs them.
FIRST_LOOK = 4
# Indifference zones: attainment within a point of the target, or a rep whose revenue is within
# a tenth of its cost, is a toss-up that more replications would not make worth deciding.
SLA_ZONE = 0.01
PROFIT_ZONE = 0.1
# The stepping stops once a further rep raises attainment by less than this while still short of
# the target (a plateau set by the calendar or coverage, not by headcount).
_PLATEAU = 0.002
# The profit walk adds at most this many reps above the SLA's fewest.
_PROFIT_STEPS = 40


@dataclass
class Headcount:
    """Rep counts evaluated at one volume over replication ``ids``; ``rows`` keeps the largest
    evaluation of each count."""

    evaluate: Evaluator
    volume: float
    ids: tuple[int, ...]
    first_look: int = FIRST_LOOK
    rows: dict[int, Evaluation] = field(default_factory=dict)

    def row(self, reps: int, n: int | None = None) -> Evaluation:
        """``reps`` over the first ``n`` ids (default: a first look, or all it has already)."""
        have = self.rows.get(reps)
        if n is None:
            n = max(min(self.first_look, len(self.ids)), have.replications if have else 0)
        n = min(n, len(self.ids))
        ev = self.evaluate(self.volume, reps, self.ids[:n])
        if have is None or ev.replications > have.replications:
            self.rows[reps] = ev
        return ev

    def decide(
        self, measure: Callable[[int], np.ndarray], line: float, zone: float, *rep_counts: int
    ) -> tuple[bool, float]:
        """Is the mean of ``measure(n)`` (one value per replication over the first n ids) at
        least ``line``? Adds replications while its 95% CI straddles the line and is wider than
        ``zone`` either side (inside it the two answers are equally good: an indifference
        zone). Returns the answer and the mean."""
        n = min(self.first_look, len(self.ids))
        for c in rep_counts:  # start where earlier looks already are
            if c in self.rows:
                n = max(n, self.rows[c].replications)
        while True:
            mean, lo, hi, k = mean_ci(measure(n))
            if k == 0:
                return True, math.nan  # nothing to measure (no leads): nothing breaches
            settled = not (lo <= line <= hi) or hi - lo <= 2 * zone
            if n >= len(self.ids) or settled:
                return bool(mean >= line), mean
            n = min(2 * n, len(self.ids))

    def attainment(self, reps: int) -> float:
        return self.row(reps).mean("sla_attainment")

    def keeps_sla(self, reps: int, target: float) -> bool:
        values = lambda n: self.row(reps, n).values("sla_attainment")  # noqa: E731
        ok, _ = self.decide(values, target, SLA_ZONE, reps)
        return ok

    def pays(self, reps: int, cost_per_rep: float) -> bool:
        """Does rep number ``reps`` add at least its cost in counted revenue (paired with
        ``reps - 1`` on the same replications)?"""

        def gain(n: int) -> np.ndarray:
            return self.row(reps, n).values("revenue") - self.row(reps - 1, n).values("revenue")

        ok, _ = self.decide(gain, cost_per_rep, PROFIT_ZONE * cost_per_rep, reps, reps - 1)
        return ok


@dataclass(frozen=True)
class SlaSearch:
    """The fewest reps that keep the SLA (None: no count tried does; ``reason`` says why)."""

    reps_needed: int | None
    reason: str = ""


_SLA_STEPS = 40


def fewest_for_sla(
    hc: Headcount,
    target: float,
    start: int,
    guide: Callable[[int], float] | None = None,
    cap: int | None = None,
) -> SlaSearch:
    """Fewest reps whose mean ``sla_attainment`` is >= ``target``, from ``start``.

    ``guide(c)`` (an estimate of attainment with c reps, such as Erlang C's) steers the steps: it
    is shifted to agree with the simulation at the last count tried, and the next count is where
    the shifted curve crosses the target, kept inside the bracket of counts known to miss and to
    keep the SLA. Without a guide, or where it is flat, steps are secants on the simulated
    attainments, or doubling. Stops at a plateau (a rep adds less than 0.2 points while short of
    the target) or at ``cap`` (default: 4 x start, at least start + 50)."""
    cap = cap if cap is not None else max(4 * start, start + 50)
    keeps: dict[int, bool] = {}
    lo, hi = 0, None  # the largest count known to miss (0: none), the smallest known to keep it
    c = max(1, min(start, cap))
    for _ in range(_SLA_STEPS):
        if c not in keeps:
            keeps[c] = hc.keeps_sla(c, target)
        if keeps[c]:
            hi = c if hi is None else min(hi, c)
        else:
            lo = max(lo, c)
        if hi is not None and hi - lo <= 1:
            return SlaSearch(hi)
        if hi is None:
            stuck = _plateau(hc, keeps, c)
            if stuck:
                return SlaSearch(None, stuck)
            if c >= cap:
                return SlaSearch(
                    None,
                    f"sla_attainment is {hc.attainment(c):.1%} at {c} reps, the most tried "
                    f"(limit {cap})",
                )
        c = _next_count(hc, keeps, guide, target, c, lo, hi, cap)
    return SlaSearch(hi, "" if hi is not None else "the search did not settle")


def _next_count(
    hc: Headcount,
    keeps: dict[int, bool],
    guide: Callable[[int], float] | None,
    target: float,
    c: int,
    lo: int,
    hi: int | None,
    cap: int,
) -> int:
    top = cap if hi is None else hi - 1
    want = None
    att = hc.attainment(c)
    if guide is not None and math.isfinite(att):
        pred = _calibrated(hc, keeps, guide, c)
        if pred(top) >= target:
            a, b = lo + 1, top  # the smallest count in [a, b] the calibrated guide says keeps it
            while a < b:
                mid = (a + b) // 2
                a, b = (a, mid) if pred(mid) >= target else (mid + 1, b)
            want = a
        elif hi is not None:
            want = top  # the guide says none below the known answer does: check the next one
    if want is None:
        if keeps[c]:
            want = c - max(1, (c - lo) // 2)
        else:
            other = max((k for k in keeps if k < c), default=None)
            slope = (att - hc.attainment(other)) / (c - other) if other is not None else 0.0
            want = c + (math.ceil((target - att) / slope) if slope > 0 else max(1, c))
    want = min(max(want, lo + 1), top)
    if want in keeps:  # no new count in that direction: close in by one
        want = min(top, c + 1) if not keeps[c] else max(lo + 1, c - 1)
    return max(1, want)


def _calibrated(
    hc: Headcount, keeps: dict[int, bool], guide: Callable[[int], float], c: int
) -> Callable[[int], float]:
    """The guide made to pass through the simulated attainment at ``c``, and with its slope
    scaled to the simulated one between ``c`` and the nearest other count tried (within 0.2 to
    5 times the guide's own)."""
    att = hc.attainment(c)
    scale = 1.0
    others = [k for k in keeps if k != c and math.isfinite(hc.attainment(k))]
    if others:
        k = min(others, key=lambda x: abs(x - c))
        dg = guide(c) - guide(k)
        if abs(dg) > 1e-9:
            scale = min(5.0, max(0.2, (att - hc.attainment(k)) / dg))
    g = guide(c)
    return lambda x: att + scale * (guide(x) - g)


def _plateau(hc: Headcount, keeps: dict[int, bool], c: int) -> str:
    """A reason when attainment has stopped rising with reps short of the target, else ""."""
    below = [k for k in keeps if k < c]
    if not below or offered_load(hc.row(c).scenario) >= 1.0:
        return ""  # overloaded, extra reps mostly shorten the queue: no plateau yet
    b = max(below)
    gain = (hc.attainment(c) - hc.attainment(b)) / (c - b)
    if math.isfinite(gain) and gain < _PLATEAU:
        return (
            f"sla_attainment plateaus at {hc.attainment(c):.1%} ({c} reps; {hc.attainment(b):.1%} "
            f"at {b}): more reps do not raise it, so the calendar (leads handed off while reps "
            "are off shift count on a calendar SLA clock), sales.sla_hours or sales.coverage "
            "binds, not headcount"
        )
    return ""


def most_profitable(hc: Headcount, floor: int, cost_per_rep: float) -> tuple[int, bool]:
    """The headcount from ``floor`` up that maximises counted revenue minus rep cost, walking up
    while the next rep pays for itself (revenue falls off with each added rep, so the first that
    does not pay ends the walk). Returns it and whether the walk stopped on its own (False: it
    hit the step limit)."""
    c = floor
    for _ in range(_PROFIT_STEPS):
        if not hc.pays(c + 1, cost_per_rep):
            return c, True
        c += 1
    return c, False
