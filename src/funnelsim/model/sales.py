"""Hand-off and the sales team, in SimPy: everything that happens in time order.

A lead reaches this engine when it first becomes an MQL. From then on the order of events
matters: sales accepts or rejects it with the acceptance rule in force at that moment (closed-loop
feedback changes the rule at each marketing review), reps pull attempts from one shared queue,
the first reaching attempt decides qualification with the response-time decay, and a lead that is
rejected, never reached or not qualified may go back to nurture and return as an MQL later, to
compete for reps again. Stages with no such coupling (arrivals, deals) stay in bulk numpy
elsewhere.

The loop is lean on purpose: one feeder process walks first hand-offs in time order; a rep is a
small state machine driven by callbacks (an attempt is one bare timeout, and an idle rep is
called directly when a lead arrives, with no wake-up event); anything scheduled for later (a
re-attempt, a return from nurture, the start of a shift) is a bare timeout with a callback, not
a process. Per-lead values are read from preallocated lists, and results are written into
them: nothing is kept as an object per event.

Queue rules (what the tests pin down):
- A rep starts an attempt only while its calendar is open (working hours, focus blocks, not on
  vacation); an attempt in progress runs to the end.
- Attempt k of a hand-off is due ``cadence[k]`` hours after its first attempt started, and joins
  the queue when due. ``fifo`` serves the oldest entry first, ``lifo`` the newest, ``priority``
  the highest lead score (then the oldest).
- A hand-off leaves the queue at the attempt that reaches the lead, or after its last attempt.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..calendar import WeekCalendar
from .scoring import stage_probability

NEVER = math.inf


def cadence_offsets(cadence: tuple[float, ...], attempts: int) -> list[float]:
    """Due offsets for ``attempts`` attempts; past the list, the last gap repeats."""
    out = list(cadence[:attempts])
    gap = cadence[-1] - cadence[-2] if len(cadence) > 1 else 24.0
    while len(out) < attempts:
        out.append(out[-1] + gap)
    return out


@dataclass(frozen=True)
class RepCalendar:
    """A rep's calendar: the weekly pattern, minus whole days away (vacation)."""

    week: WeekCalendar
    away_days: frozenset[int] = frozenset()

    @property
    def always_open(self) -> bool:
        return self.week.always_open and not self.away_days

    def next_open(self, t: float) -> float:
        t = self.week.next_open(t)
        while self.away_days and int(t // 24.0) in self.away_days:
            t = self.week.next_open((t // 24.0 + 1.0) * 24.0)
        return t

    def shift(self, t: float) -> tuple[float, float]:
        """(start, end) of the open stretch containing t, or else of the next one; a day away is
        skipped, and ends a stretch at midnight."""
        start, end = self.week.shift(t)
        if self.away_days:
            while int(start // 24.0) in self.away_days:
                start, end = self.week.shift((start // 24.0 + 1.0) * 24.0)
            end = min(end, (start // 24.0 + 1.0) * 24.0)
        return start, end

    def open_hours_within(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Open hours in each short interval [t0, t1) (under a day: an attempt), elementwise.

        An attempt never starts on a day away, but one may run past midnight into one; that
        part is not open time."""
        hours = self.week.open_hours_between(t0, t1)
        if self.away_days:
            next_day = np.floor(t0 / 24.0) + 1.0
            into_away = (t1 > next_day * 24.0) & np.isin(next_day, list(self.away_days))
            if into_away.any():
                hours[into_away] -= self.week.open_hours_between(
                    next_day[into_away] * 24.0, t1[into_away]
                )
        return hours

    def open_hours_between(self, t0: float, t1: float) -> float:
        hours = float(self.week.open_hours_between(np.asarray(t0), np.asarray(t1)))
        for d in self.away_days:
            lo, hi = max(t0, d * 24.0), min(t1, (d + 1) * 24.0)
            if hi > lo:
                hours -= float(self.week.open_hours_between(np.asarray(lo), np.asarray(hi)))
        return hours


@dataclass(frozen=True)
class Ramp:
    """A new hire's speed: ``start`` of full speed at time 0, rising linearly to full at
    ``ramp_h`` hours."""

    start: float
    ramp_h: float

    def at(self, t: float) -> float:
        return self.start + (1.0 - self.start) * min(t / self.ramp_h, 1.0)

    def of(self, t: np.ndarray) -> np.ndarray:
        return self.start + (1.0 - self.start) * np.minimum(t / self.ramp_h, 1.0)


@dataclass(frozen=True)
class Feedback:
    """Closed-loop feedback: every ``review_h`` hours marketing reviews the rejections since the
    last review and closes ``learning_rate`` of the gap to each ceiling."""

    review_h: float
    learning_rate: float
    acceptance_ceiling: float
    quality_ceiling: float
    filter_ceiling: float
    until_h: float


@dataclass(frozen=True)
class Rules:
    acceptance_rate: float
    score_strength: float
    coverage: float
    sql_rate: float
    sql_uplift: float
    decay_floor: float
    decay_tau_h: float
    cadence: list[float]
    queue: str
    recycle: frozenset[str] = frozenset()  # of "rejected", "unreached", "unqualified"
    nurture_hazard_per_h: float = 0.0
    max_nurture_h: float = NEVER
    max_cycles: int = 1
    feedback: Feedback | None = None
    n_kinds: int = 1

    @property
    def attempts(self) -> int:
        return len(self.cadence)


@dataclass(frozen=True)
class Draws:
    """Uniforms per lead for each MQL cycle c: ``accept[c][i]`` etc. ``reach[c][i]`` is the
    1-based attempt that would reach lead i (attempts + 1: never); ``handling[c][k, i]`` hours."""

    accept: Sequence[np.ndarray]
    cover: Sequence[np.ndarray]
    reach: Sequence[np.ndarray]
    qualify: Sequence[np.ndarray]
    nurture: Sequence[np.ndarray]
    hold: Sequence[np.ndarray]
    handling: Sequence[np.ndarray]


@dataclass
class Handoffs:
    """What the engine returns: one entry per hand-off (MQL event) in the order they happened."""

    lead: list[int] = field(default_factory=list)
    cycle: list[int] = field(default_factory=list)
    at: list[float] = field(default_factory=list)
    z: list[float] = field(default_factory=list)
    accepted: list[bool] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    worked: list[bool] = field(default_factory=list)
    contact_attempt: list[int] = field(default_factory=list)  # 0: not reached
    sql: list[bool] = field(default_factory=list)
    returned_at: list[float] = field(default_factory=list)  # next hand-off from nurture
    held_lead: list[int] = field(default_factory=list)  # held back by marketing's filter
    held_at: list[float] = field(default_factory=list)
    policy: list[tuple[float, float, float, int, float, int]] = field(default_factory=list)
    start: np.ndarray | None = None  # [attempt, hand-off] hours, NaN: not made
    rep: np.ndarray | None = None
    hours: np.ndarray | None = None


def run_sales(
    first_at: np.ndarray,
    z: np.ndarray,
    kind: np.ndarray,
    draws: Draws,
    rules: Rules,
    calendars: Sequence[RepCalendar],
    productivity: Sequence[Ramp | None],
) -> Handoffs:
    """Simulate hand-offs and the sales team until every lead is done.

    ``first_at`` (sorted), ``z`` (lead score) and ``kind`` (the reason sales would give if it
    rejected the lead) are per lead. ``productivity[i]`` scales rep i's speed over time (ramp-up
    of a new hire), or is None.
    """
    env = simpy.Environment()
    n_att = rules.attempts
    out = Handoffs()
    # Rows are preallocated (a lead has at most max_cycles hand-offs) and cut to size at the
    # end: assigning into a list is cheaper than appending to a dozen of them per hand-off.
    cap = len(first_at) * rules.max_cycles
    nan = math.nan
    starts = [[nan] * cap for _ in range(n_att)]
    reps_of = [[-1] * cap for _ in range(n_att)]
    first_start = [nan] * cap
    row_lead, row_cycle, row_at, row_z = [0] * cap, [0] * cap, [nan] * cap, [nan] * cap
    row_accepted, row_kind, row_worked = [False] * cap, [0] * cap, [False] * cap
    row_contact, row_sql, row_returned = [0] * cap, [False] * cap, [nan] * cap
    row_reach, row_psql, row_uq = [0] * cap, [nan] * cap, [nan] * cap
    row_hand: list[list[float]] = [[]] * cap
    n_rows = [0]
    strength = rules.score_strength
    z_base = np.asarray(z, dtype=float)
    z_list = z_base.tolist()
    state = {"acceptance": rules.acceptance_rate, "quality": 0.0}
    block = [0.0] * rules.n_kinds
    rejected_since_review = [0] * rules.n_kinds
    p_accept: list[float] = []
    p_sql: list[float] = []

    def refresh() -> None:
        # Bulk over all leads, once per review: the per-hand-off work is then a list lookup.
        zq = z_base + state["quality"]
        p_accept[:] = stage_probability(state["acceptance"], strength, zq).tolist()
        p_sql[:] = np.minimum(
            1.0, rules.sql_uplift * stage_probability(rules.sql_rate, strength, zq)
        ).tolist()

    refresh()
    cycle0 = [d[0].tolist() for d in (draws.accept, draws.cover, draws.qualify)]
    reach0 = draws.reach[0].tolist()
    hand0 = draws.handling[0].T.tolist()
    # Later cycles are rare: lead-major copies make one lead's attempt times one contiguous row.
    hand_by_lead = [None, *(np.ascontiguousarray(h.T) for h in draws.handling[1:])]
    kinds = kind.tolist()
    floor, tau = rules.decay_floor, rules.decay_tau_h
    cadence = rules.cadence
    recycle = rules.recycle
    # Idle reps, longest idle first: [rep, start of its shift, end of its shift].
    idle: deque[list] = deque()
    all_open = all(c.always_open for c in calendars)
    # Bound once: without vacations a rep's calendar is its weekly pattern.
    shift_of = [c.shift if c.away_days else c.week.shift for c in calendars]

    if rules.queue == "fifo":
        pending: deque[int] | list = deque()
        put, take = pending.append, pending.popleft
    elif rules.queue == "lifo":
        pending = []
        put, take = pending.append, pending.pop
    else:
        pending = []
        counter = [0]

        def put(code: int) -> None:
            counter[0] += 1
            heapq.heappush(pending, (-row_z[code // n_att], counter[0], code))

        def take() -> int:
            return heapq.heappop(pending)[2]

    def push(code: int) -> None:
        put(code)
        if not idle:
            return
        if all_open:
            rep_free(idle.popleft()[0])
            return
        # The longest-idle rep on shift takes the lead now; if nobody idle is on shift, the one
        # whose shift starts soonest wakes and sleeps until then. One wake-up per lead: reps
        # with nothing to do never cycle through their focus blocks.
        now = env.now
        best = 0
        for pos, entry in enumerate(idle):
            if now >= entry[2]:
                entry[1], entry[2] = shift_of[entry[0]](now)
            if entry[1] <= now:
                best = pos
                break
            if entry[1] < idle[best][1]:
                best = pos
        entry = idle[best]
        del idle[best]
        rep_free(entry[0])

    def to_nurture(row: int, now: float) -> None:
        c = row_cycle[row] + 1
        if c >= rules.max_cycles:
            return
        lead = row_lead[row]
        delay = -math.log1p(-float(draws.nurture[c - 1][lead])) / rules.nurture_hazard_per_h
        if delay > rules.max_nurture_h:
            return
        row_returned[row] = now + delay
        env.timeout(delay, (lead, c)).callbacks.append(on_return)

    def on_return(event: simpy.Event) -> None:
        handoff(*event.value)

    coverage = rules.coverage

    def handoff(lead: int, c: int) -> None:
        now = env.now
        k = kinds[lead]
        if c == 0:
            u_acc, u_cov, u_q = cycle0[0][lead], cycle0[1][lead], cycle0[2][lead]
            reach, hand = reach0[lead], hand0[lead]
        else:
            u_acc, u_cov = float(draws.accept[c][lead]), float(draws.cover[c][lead])
            u_q, reach = float(draws.qualify[c][lead]), int(draws.reach[c][lead])
            hand = hand_by_lead[c][lead].tolist()
        accepted = u_acc < p_accept[lead]
        # Marketing learned to spot the leads sales rejects for reason k: it keeps back a
        # share of them instead of handing them over (they never become MQLs).
        if not accepted and block[k] > 0.0 and float(draws.hold[c][lead]) < block[k]:
            out.held_lead.append(lead)
            out.held_at.append(now)
            return
        row = n_rows[0]
        n_rows[0] = row + 1
        worked = accepted and u_cov < coverage
        row_lead[row] = lead
        row_cycle[row] = c
        row_at[row] = now
        row_z[row] = z_list[lead] + state["quality"]
        row_accepted[row] = accepted
        row_kind[row] = k
        row_worked[row] = worked
        row_reach[row] = reach
        row_psql[row] = p_sql[lead]
        row_uq[row] = u_q
        row_hand[row] = hand
        if not accepted:
            rejected_since_review[k] += 1
            if "rejected" in recycle:
                to_nurture(row, now)
        elif worked:
            push(row * n_att)

    def feeder():
        for lead, t in enumerate(first_at.tolist()):
            dt = t - env.now
            if dt > 0:
                yield env.timeout(dt)
            handoff(lead, 0)

    def on_due(event: simpy.Event) -> None:
        push(event.value)

    # Reps are state machines driven by timeout callbacks, not processes: a rep with nothing in
    # hand is called by `push` directly, and an attempt is one bare timeout. No generator is
    # resumed and no wake-up event is made per attempt.
    always_of = [c.always_open for c in calendars]
    # Each rep's current or next open stretch, refreshed only when time has moved past it.
    shift_start = [NEVER] * len(calendars)
    shift_end = [-1.0] * len(calendars)

    def rep_free(i: int) -> None:
        """Rep i has nothing in hand: start the next attempt, sleep until its shift, or idle."""
        if not pending:
            if always_of[i]:
                idle.append([i, -NEVER, NEVER])
            else:
                idle.append([i, shift_start[i], shift_end[i]])
            return
        now = env.now
        if not always_of[i] and not shift_start[i] <= now < shift_end[i]:
            start, shift_end[i] = shift_of[i](now)
            shift_start[i] = start
            if start > now:
                env.timeout(start - now, i).callbacks.append(on_shift_start)
                return
        code = take()
        row, k = divmod(code, n_att)
        starts[k][row] = now
        reps_of[k][row] = i
        if k == 0:
            first_start[row] = now
        dur = row_hand[row][k]
        speed = productivity[i]
        if speed is not None:
            dur /= speed.at(now)
        env.timeout(dur, (i, code)).callbacks.append(on_attempt_done)

    def on_shift_start(event: simpy.Event) -> None:
        rep_free(event.value)

    def on_attempt_done(event: simpy.Event) -> None:
        i, code = event.value
        row, k = divmod(code, n_att)
        nk = k + 1
        if row_reach[row] == nk:
            row_contact[row] = nk
            p = row_psql[row]
            if floor < 1.0:
                p *= floor + (1.0 - floor) * math.exp(-(starts[k][row] - row_at[row]) / tau)
            if row_uq[row] < p:
                row_sql[row] = True
            elif "unqualified" in recycle:
                to_nurture(row, env.now)
        elif nk < n_att:
            delay = first_start[row] + cadence[nk] - env.now
            if delay <= 0:
                push(code + 1)
            else:
                env.timeout(delay, code + 1).callbacks.append(on_due)
        elif "unreached" in recycle:
            to_nurture(row, env.now)
        rep_free(i)

    def reviewer(fb: Feedback):
        while env.now + fb.review_h <= fb.until_h:
            yield env.timeout(fb.review_h)
            lr = fb.learning_rate
            state["acceptance"] += lr * (fb.acceptance_ceiling - state["acceptance"])
            state["quality"] += lr * (fb.quality_ceiling - state["quality"])
            worst = max(range(rules.n_kinds), key=rejected_since_review.__getitem__)
            n_rejected = sum(rejected_since_review)
            if n_rejected:
                block[worst] += lr * (fb.filter_ceiling - block[worst])
            out.policy.append(
                (env.now, state["acceptance"], state["quality"], worst, block[worst], n_rejected)
            )
            rejected_since_review[:] = [0] * rules.n_kinds
            refresh()

    # One process walks the first hand-offs, which are known in advance; scheduling them all
    # up front instead was measured slower (a larger event heap).
    env.process(feeder())
    for i in range(len(calendars)):
        rep_free(i)
    if rules.feedback is not None:
        env.process(reviewer(rules.feedback))
    env.run()
    m = n_rows[0]
    out.lead, out.cycle, out.at, out.z = row_lead[:m], row_cycle[:m], row_at[:m], row_z[:m]
    out.accepted, out.kind, out.worked = row_accepted[:m], row_kind[:m], row_worked[:m]
    out.contact_attempt, out.sql, out.returned_at = row_contact[:m], row_sql[:m], row_returned[:m]
    out.start = np.array([lst[:m] for lst in starts], dtype=float).reshape(n_att, m)
    out.rep = np.array([lst[:m] for lst in reps_of], dtype=np.int16).reshape(n_att, m)
    hand = np.array(row_hand[:m], dtype=float).reshape(m, n_att).T
    out.hours = np.where(np.isnan(out.start), np.nan, hand)
    # A ramping rep took longer than the drawn time: record the time actually spent.
    for i, speed in enumerate(productivity):
        if speed is not None:
            mine = out.rep == i
            out.hours[mine] = hand[mine] / speed.of(out.start[mine])
    return out


def simulate_sales(
    handoff: np.ndarray,
    score: np.ndarray,
    reaching_attempt: np.ndarray,
    handling: np.ndarray,
    cadence: list[float],
    calendars: Sequence[WeekCalendar | RepCalendar],
    queue: str,
) -> Handoffs:
    """The bare sales queue: every lead accepted and worked, no qualification, no recycling.

    ``handoff`` must be sorted; ``reaching_attempt[j]`` is the 1-based attempt that reaches lead
    j; ``handling[k, j]`` is attempt k's rep time in hours. Returns `Handoffs` whose ``start`` and
    ``rep`` are ``[attempt, lead]``.
    """
    m = len(handoff)
    zeros = np.zeros(m)
    draws = Draws(
        accept=[zeros],
        cover=[zeros],
        reach=[np.asarray(reaching_attempt)],
        qualify=[zeros],
        nurture=[],
        hold=[zeros],
        handling=[np.asarray(handling, dtype=float)],
    )
    rules = Rules(1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, list(cadence), queue)
    cals = [c if isinstance(c, RepCalendar) else RepCalendar(c) for c in calendars]
    return run_sales(
        np.asarray(handoff, dtype=float),
        np.asarray(score, dtype=float),
        np.zeros(m, np.int64),
        draws,
        rules,
        cals,
        [None] * len(cals),
    )
