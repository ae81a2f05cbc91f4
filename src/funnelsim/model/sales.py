"""Hand-off and the sales team, in SimPy: everything that happens in time order.

A lead reaches this engine when it first becomes an MQL. From then on the order of events
matters: sales accepts or rejects it with the acceptance rule in force at that moment (closed-loop
feedback changes the rule at each marketing review), reps take attempts from the queues, the
first reaching attempt decides qualification with the response-time decay, and a lead that is
rejected, never reached or not qualified may go back to nurture and return as an MQL later, to
compete for reps again. Stages with no such coupling (arrivals, deals) stay in bulk numpy
elsewhere.

The engine (`_Engine`) is grouped into parts that can be read one at a time, each leaning on a
small module: the **feeder** walks first hand-offs in time order and draws the tail of arrivals
chunk by chunk while the counted cohort still has work (`CohortWatch`, `leads`); the **hand-off
desk** accepts or rejects, files the row, routes the lead to an owner (`routing`) and sends
unconverted leads to nurture and back; the **team** is reps as callback state machines taking
work from their own queue and the shared pool (`queues`, `reps.IdleReps`; an attempt is one bare
timeout, an idle rep is called directly when work arrives, with no wake-up event); the
**reviewer** is marketing's feedback loop.

Queue rules (what the tests pin down):
- A rep starts an attempt only while its calendar is open (working hours, focus blocks, not on
  vacation); an attempt in progress runs to the end.
- Attempt k of a hand-off is due ``cadence[k]`` hours after its first attempt started, and joins
  the queue when due: its owner's queue, or the shared pool when it has none. ``fifo`` serves
  the oldest entry first, ``lifo`` the newest, ``priority`` the highest lead score (then the
  oldest); a rep with its own queue and the pool takes whichever head comes first.
- With ``pull_times`` a new hand-off's first attempt joins at the next pull (re-attempts are
  the rep's own follow-ups and join when due).
- With ``reassign_after_hours`` an owned lead whose first attempt has not started by then moves
  to the pool (keeping its place by age or score); whoever touches it first owns it.
- A hand-off leaves the queue at the attempt that reaches the lead, or after its last attempt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from .leads import LeadBatch
from .queues import key_maker, make_queue
from .reps import NEVER, IdleReps, Ramp, RepCalendar
from .routing import POOL, PullSchedule, make_router
from .scoring import StageScores, stage_scores


def cadence_offsets(cadence: tuple[float, ...], attempts: int) -> list[float]:
    """Due offsets for ``attempts`` attempts; past the list, the last gap repeats."""
    out = list(cadence[:attempts])
    gap = cadence[-1] - cadence[-2] if len(cadence) > 1 else 24.0
    while len(out) < attempts:
        out.append(out[-1] + gap)
    return out


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
    coverage: float
    sql_uplift: float
    decay_floor: float
    decay_tau_h: float
    cadence: list[float]
    queue: str
    scores: StageScores
    recycle: frozenset[str] = frozenset()  # of "rejected", "unreached", "unqualified"
    nurture_hazard_per_h: float = 0.0
    max_nurture_h: float = NEVER
    max_cycles: int = 1
    feedback: Feedback | None = None
    n_kinds: int = 1
    routing: str = "pool"
    reassign_after_h: float | None = None
    pulls: PullSchedule | None = None

    @property
    def attempts(self) -> int:
        return len(self.cadence)


@dataclass
class Handoffs:
    """What the engine returns: one entry per hand-off (MQL event) in the order they happened,
    the attempt log, and the leads it simulated (``leads``, in engine order)."""

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
    # the attempt log: one entry per attempt made
    att_row: list[int] = field(default_factory=list)
    att_k: list[int] = field(default_factory=list)
    att_start: list[float] = field(default_factory=list)
    att_rep: list[int] = field(default_factory=list)
    att_hours: list[float] = field(default_factory=list)
    leads: list[LeadBatch] = field(default_factory=list)
    cohort_done_at: float = math.nan  # when the cohort's last work ended (tail arrivals stop)

    @property
    def rows(self) -> int:
        return len(self.lead)


class CohortWatch:
    """Counts the counted cohort's open work: first hand-offs not yet made, hand-offs still being
    worked, and leads waiting in nurture. When all three are zero the cohort is done, and no
    further arrivals are needed for it to meet a steady queue."""

    __slots__ = ("unfed", "open", "done_at")

    def __init__(self) -> None:
        self.unfed = 0
        self.open = 0
        self.done_at = math.nan

    def close(self, now: float) -> None:
        self.open -= 1
        if self.open == 0 and self.unfed == 0:
            self.done_at = now

    @property
    def done(self) -> bool:
        return self.done_at == self.done_at  # not NaN


class Leads:
    """The engine's per-lead state, grown batch by batch (Python lists: the hot path reads one
    value at a time)."""

    def __init__(self, n_cycles: int, n_att: int) -> None:
        self.batches: list[LeadBatch] = []
        self.n = 0
        self.z: list[float] = []
        self.kind: list[int] = []
        self.cohort: list[bool] = []
        self.first: list[tuple] = []  # cycle 0: (u_accept, u_cover, u_qualify, reach, hand)
        self.later: list[tuple[int, LeadBatch]] = []  # (offset, batch) for cycles >= 1
        self.n_cycles, self.n_att = n_cycles, n_att

    def add(self, b: LeadBatch) -> int:
        """Append a batch; returns the engine index of its first lead."""
        offset = self.n
        self.batches.append(b)
        self.later.append((offset, b))
        self.n += len(b)
        self.z += b.z.tolist()
        self.kind += b.kind.tolist()
        self.cohort += b.cohort.tolist()
        self.first += zip(
            b.accept[0].tolist(),
            b.cover[0].tolist(),
            b.qualify[0].tolist(),
            b.reach[0].tolist(),
            b.handling[0].T.tolist(),
            strict=True,
        )
        return offset

    def cycle(self, lead: int, c: int) -> tuple:
        """(u_accept, u_cover, u_qualify, reach, hand) of ``lead`` in MQL cycle ``c`` >= 1."""
        for offset, b in reversed(self.later):
            if lead >= offset:
                i = lead - offset
                return (
                    float(b.accept[c][i]),
                    float(b.cover[c][i]),
                    float(b.qualify[c][i]),
                    int(b.reach[c][i]),
                    b.handling[c][:, i].tolist(),
                )
        raise IndexError(lead)

    def draw(self, name: str, c: int, lead: int) -> float:
        for offset, b in reversed(self.later):
            if lead >= offset:
                return float(getattr(b, name)[c][lead - offset])
        raise IndexError(lead)


def run_sales(
    source,
    rules: Rules,
    calendars: Sequence[RepCalendar],
    productivity: Sequence[Ramp | None],
) -> Handoffs:
    """Simulate hand-offs and the sales team until the cohort's work is done and every lead in
    progress has finished.

    ``source`` gives the leads: ``first_batch()``, then ``next_batch()`` for each chunk of tail
    arrivals while ``next_start`` (when that chunk begins) is finite and the cohort needs it.
    ``productivity[i]`` scales rep i's speed over time (ramp-up of a new hire), or is None.
    """
    return _Engine(source, rules, calendars, productivity).run()


class _Engine:
    def __init__(self, source, rules, calendars, productivity) -> None:
        self.env = simpy.Environment()
        self.source = source
        self.rules = rules
        self.calendars = list(calendars)
        self.productivity = list(productivity)
        self.out = Handoffs()
        self.n_att = rules.attempts
        self.leads = Leads(rules.max_cycles, rules.attempts)
        self.watch = CohortWatch()
        self.horizon_h = source.horizon_h
        # Hand-off rows (the hot path appends to and reads from these lists).
        self.row_reach: list[int] = []
        self.row_psql: list[float] = []
        self.row_uq: list[float] = []
        self.row_hand: list[list[float]] = []
        self.row_first: list[float] = []
        self.row_cohort: list[bool] = []
        # Policy learned by feedback, and the per-lead chances it implies.
        self.acceptance = rules.acceptance_rate
        self.quality = 0.0
        self.block = [0.0] * rules.n_kinds
        self.rejected_since_review = [0] * rules.n_kinds
        self.p_accept: list[float] = []
        self.p_sql: list[float] = []
        # The queues and the team: the shared pool, and with owners one queue per rep whose
        # entries go stale when their lead moves to the pool.
        n_reps = len(self.calendars)
        self.queue = make_queue(rules.queue)
        self.key = key_maker(rules.queue)
        self.joined = 0
        self.router = make_router(rules.routing, n_reps)
        self.owner: list[int] = []  # per row: the rep who owns it, or POOL
        self.where: list[int] = []  # per row: the queue its pending entry is in
        self.first_key: list = []
        n_att = rules.attempts
        self.own = (
            [
                make_queue(rules.queue, lambda code, q, i=i: self.where[code // n_att] == i)
                for i in range(n_reps)
            ]
            if self.router is not None
            else None
        )
        self.state = [_BUSY] * n_reps
        self.held: list[int] = []  # rows waiting for the next pull
        self.pull_due = False
        self.always_of = [c.always_open for c in self.calendars]
        self.shift_of = [c.shift if c.away_days else c.week.shift for c in self.calendars]
        self.shift_start = [NEVER] * len(self.calendars)
        self.shift_end = [-1.0] * len(self.calendars)
        self.idle = IdleReps(
            [_always if a else f for a, f in zip(self.always_of, self.shift_of, strict=True)]
        )

    # -- leads ------------------------------------------------------------------------------

    def _add_leads(self, batch: LeadBatch) -> int:
        offset = self.leads.add(batch)
        self.out.leads.append(batch)
        zq = batch.z + self.quality
        s = self.rules.scores
        self.p_accept += s.accept(self.acceptance, zq).tolist()
        self.p_sql += np.minimum(1.0, self.rules.sql_uplift * s.sql(zq)).tolist()
        return offset

    def _refresh(self) -> None:
        # Bulk over all leads, once per review: the per-hand-off work is then a list lookup.
        z = np.asarray(self.leads.z) + self.quality
        s = self.rules.scores
        self.p_accept[:] = s.accept(self.acceptance, z).tolist()
        self.p_sql[:] = np.minimum(1.0, self.rules.sql_uplift * s.sql(z)).tolist()

    def feeder(self):
        """First hand-offs in time order. Every lead handed off before the horizon is fed; after
        it, tail chunks are drawn as time reaches them and fed only while the cohort still has
        work (`over`)."""
        env, watch, source = self.env, self.watch, self.source
        batch = source.first_batch()
        offset = self._add_leads(batch)
        watch.unfed = int(batch.cohort.sum())
        times = batch.first_at.tolist()
        who = list(range(offset, offset + len(batch)))
        cohort = self.leads.cohort
        i = 0
        while True:
            horizon = source.next_start
            if i < len(times) and times[i] < horizon:
                t = times[i]
                if t >= self.horizon_h and watch.done:
                    return
                if t > env.now:
                    yield env.timeout(t - env.now)
                    if self.over():
                        return
                lead = who[i]
                i += 1
                self.handoff(lead, 0)
                if cohort[lead]:
                    watch.unfed -= 1
                    if watch.unfed == 0 and watch.open == 0:
                        watch.done_at = env.now
            elif math.isfinite(horizon) and not watch.done:
                new = source.next_batch()
                offset = self._add_leads(new)
                fresh = zip(new.first_at.tolist(), range(offset, offset + len(new)), strict=True)
                merged = sorted([*zip(times[i:], who[i:], strict=True), *fresh])
                times = [t for t, _ in merged]
                who = [w for _, w in merged]
                i = 0
            else:
                return

    def over(self) -> bool:
        """True once the cohort is done and the horizon has passed: nothing that happens from
        now on is counted or shapes what is counted."""
        return self.watch.done and self.env.now >= self.horizon_h

    # -- hand-off and nurture ------------------------------------------------------------------

    def handoff(self, lead: int, c: int) -> None:
        env, out, rules, leads = self.env, self.out, self.rules, self.leads
        now = env.now
        k = leads.kind[lead]
        if c == 0:
            u_acc, u_cov, u_q, reach, hand = leads.first[lead]
        else:
            u_acc, u_cov, u_q, reach, hand = leads.cycle(lead, c)
        accepted = u_acc < self.p_accept[lead]
        cohort = leads.cohort[lead]
        # Marketing learned to spot the leads sales rejects for reason k: it keeps back a
        # share of them instead of handing them over (they never become MQLs).
        if not accepted and self.block[k] > 0.0 and leads.draw("hold", c, lead) < self.block[k]:
            out.held_lead.append(lead)
            out.held_at.append(now)
            return
        row = len(out.lead)
        worked = accepted and u_cov < rules.coverage
        out.lead.append(lead)
        out.cycle.append(c)
        out.at.append(now)
        out.z.append(leads.z[lead] + self.quality)
        out.accepted.append(accepted)
        out.kind.append(k)
        out.worked.append(worked)
        out.contact_attempt.append(0)
        out.sql.append(False)
        out.returned_at.append(math.nan)
        self.row_reach.append(reach)
        self.row_psql.append(self.p_sql[lead])
        self.row_uq.append(u_q)
        self.row_hand.append(hand)
        self.row_first.append(math.nan)
        self.row_cohort.append(cohort)
        self.where.append(POOL)
        self.first_key.append(None)
        if not accepted:
            self.owner.append(POOL)
            self.rejected_since_review[k] += 1
            if "rejected" in rules.recycle:
                self.to_nurture(row, now)
        elif worked:
            if cohort:
                self.watch.open += 1
            self._route(row, now)
        else:
            self.owner.append(POOL)

    def _route(self, row: int, now: float) -> None:
        """Give a worked hand-off its owner, and queue its first attempt (now, or at the next
        pull)."""
        rules, router = self.rules, self.router
        if router is None:
            self.owner.append(POOL)
        else:
            rep = router.assign()
            router.opened(rep)
            self.owner.append(rep)
            if rules.reassign_after_h is not None:
                self.env.timeout(rules.reassign_after_h, row).callbacks.append(self.on_reassign)
        if rules.pulls is None:
            self.push(row * self.n_att)
            return
        self.held.append(row)
        if not self.pull_due:
            self.pull_due = True
            at = rules.pulls.next_at(now)
            self.env.timeout(at - now).callbacks.append(self.on_pull)

    def on_pull(self, event: simpy.Event) -> None:
        """Reps look at the CRM: every lead handed off since the last pull joins the queues."""
        self.pull_due = False
        rows, self.held = self.held, []
        for row in rows:
            self.push(row * self.n_att)

    def on_reassign(self, event: simpy.Event) -> None:
        """An owned lead still untouched: it moves to the pool, keeping its place."""
        row = event.value
        old = self.owner[row]
        if old == POOL or self.row_first[row] == self.row_first[row]:  # touched (not NaN)
            return
        self.owner[row] = POOL
        self.router.closed(old)
        if self.where[row] == old and self.first_key[row] is not None:
            self.where[row] = POOL  # its entry in the old owner's queue is now stale
            self.queue.put(self.first_key[row], row * self.n_att)
            self._wake_any()

    def to_nurture(self, row: int, now: float) -> None:
        rules, out = self.rules, self.out
        c = out.cycle[row] + 1
        if c >= rules.max_cycles:
            return
        lead = out.lead[row]
        cohort = self.row_cohort[row]
        if not cohort and self.over():
            return  # no new work for leads nobody counts, once nothing counted needs it
        u = self.leads.draw("nurture", c - 1, lead)
        delay = -math.log1p(-u) / rules.nurture_hazard_per_h
        if delay > rules.max_nurture_h:
            return
        out.returned_at[row] = now + delay
        if cohort:
            self.watch.open += 1
        self.env.timeout(delay, (lead, c, cohort, row)).callbacks.append(self.on_return)

    def on_return(self, event: simpy.Event) -> None:
        lead, c, cohort, row = event.value
        if cohort:
            self.handoff(lead, c)
            self.watch.close(self.env.now)
        elif not self.over():
            self.handoff(lead, c)
        else:
            self.out.returned_at[row] = math.nan  # the run ended first: it never came back

    # -- the queue and the team ----------------------------------------------------------------

    def push(self, code: int) -> None:
        """An attempt is due: queue it with its owner (waking the owner if idle), or in the pool
        (waking the rep who should take it)."""
        self.joined += 1
        row = code // self.n_att
        key = self.key(self.joined, self.out.z[row])
        if code % self.n_att == 0:
            self.first_key[row] = key
        rep = self.owner[row]
        if rep == POOL:
            self.where[row] = POOL
            self.queue.put(key, code)
            self._wake_any()
            return
        self.where[row] = rep
        self.own[rep].put(key, code)
        if self.state[rep] == _IDLE:
            self.idle.discard(rep)
            self.rep_free(rep)

    def _wake_any(self) -> None:
        if not self.idle:
            return
        got = self.idle.take(self.env.now)
        if got is None:
            return
        rep, start = got
        if start <= self.env.now:
            self.rep_free(rep)
        else:
            self.state[rep] = _ASLEEP
            self.shift_start[rep] = start
            self.shift_end[rep] = self.shift_of[rep](start)[1]
            self.env.timeout(start - self.env.now, rep).callbacks.append(self.on_shift_start)

    def rep_free(self, i: int) -> None:
        """Rep i has nothing in hand: start the next attempt, sleep until its shift, or idle."""
        env = self.env
        now = env.now
        mine = self.own[i] if self.own is not None else None
        own_head = mine.head() if mine is not None else None
        pool_head = self.queue.head()
        if own_head is None and pool_head is None:
            self.state[i] = _IDLE
            self.idle.add(i, now)
            return
        if not self.always_of[i] and not self.shift_start[i] <= now < self.shift_end[i]:
            start, self.shift_end[i] = self.shift_of[i](now)
            self.shift_start[i] = start
            if start > now:
                self.state[i] = _ASLEEP
                env.timeout(start - now, i).callbacks.append(self.on_shift_start)
                return
        if pool_head is None or (own_head is not None and own_head < pool_head):
            code = mine.take()
        else:
            code = self.queue.take()
            if self.router is not None:
                row = code // self.n_att
                if self.owner[row] == POOL:  # whoever touches a pool lead first owns it
                    self.owner[row] = i
                    self.router.opened(i)
        self.state[i] = _BUSY
        row, k = divmod(code, self.n_att)
        out = self.out
        out.att_row.append(row)
        out.att_k.append(k)
        out.att_start.append(now)
        out.att_rep.append(i)
        if k == 0:
            self.row_first[row] = now
        dur = self.row_hand[row][k]
        speed = self.productivity[i]
        if speed is not None:
            dur /= speed.at(now)
        out.att_hours.append(dur)
        env.timeout(dur, (i, code, now)).callbacks.append(self.on_attempt_done)

    def on_shift_start(self, event: simpy.Event) -> None:
        self.rep_free(event.value)

    def on_due(self, event: simpy.Event) -> None:
        self.push(event.value)

    def on_attempt_done(self, event: simpy.Event) -> None:
        i, code, started = event.value
        row, k = divmod(code, self.n_att)
        nk = k + 1
        rules, out, now = self.rules, self.out, self.env.now
        if self.row_reach[row] == nk:
            out.contact_attempt[row] = nk
            p = self.row_psql[row]
            floor = rules.decay_floor
            if floor < 1.0:
                p *= floor + (1.0 - floor) * math.exp(-(started - out.at[row]) / rules.decay_tau_h)
            if self.row_uq[row] < p:
                out.sql[row] = True
            elif "unqualified" in rules.recycle:
                self.to_nurture(row, now)
            self._finished(row)
        elif nk < self.n_att:
            delay = self.row_first[row] + rules.cadence[nk] - now
            if delay <= 0:
                self.push(code + 1)
            else:
                self.env.timeout(delay, code + 1).callbacks.append(self.on_due)
        else:
            if "unreached" in rules.recycle:
                self.to_nurture(row, now)
            self._finished(row)
        self.rep_free(i)

    def _finished(self, row: int) -> None:
        if self.router is not None and self.owner[row] != POOL:
            self.router.closed(self.owner[row])
        if self.row_cohort[row]:
            self.watch.close(self.env.now)

    # -- marketing's feedback loop ---------------------------------------------------------------

    def reviewer(self, fb: Feedback):
        env, rules = self.env, self.rules
        while env.now + fb.review_h <= fb.until_h:
            yield env.timeout(fb.review_h)
            lr = fb.learning_rate
            self.acceptance += lr * (fb.acceptance_ceiling - self.acceptance)
            self.quality += lr * (fb.quality_ceiling - self.quality)
            seen = self.rejected_since_review
            worst = max(range(rules.n_kinds), key=seen.__getitem__)
            n_rejected = sum(seen)
            if n_rejected:
                self.block[worst] += lr * (fb.filter_ceiling - self.block[worst])
            self.out.policy.append(
                (env.now, self.acceptance, self.quality, worst, self.block[worst], n_rejected)
            )
            self.rejected_since_review = [0] * rules.n_kinds
            self._refresh()

    def run(self) -> Handoffs:
        env = self.env
        env.process(self.feeder())
        for i in range(len(self.calendars)):
            self.rep_free(i)
        if self.rules.feedback is not None:
            env.process(self.reviewer(self.rules.feedback))
        env.run()
        self.out.cohort_done_at = self.watch.done_at
        return self.out


_IDLE, _BUSY, _ASLEEP = 0, 1, 2


def _always(t: float) -> tuple[float, float]:
    return -NEVER, NEVER


class _ArraySource:
    """A fixed set of leads as a lead source (for `simulate_sales` and tests)."""

    def __init__(self, batch: LeadBatch) -> None:
        self.batch = batch
        self.next_start = math.inf
        self.horizon_h = math.inf

    def first_batch(self) -> LeadBatch:
        return self.batch


def simulate_sales(
    handoff: np.ndarray,
    score: np.ndarray,
    reaching_attempt: np.ndarray,
    handling: np.ndarray,
    cadence: list[float],
    calendars: Sequence[RepCalendar | object],
    queue: str,
    *,
    routing: str = "pool",
    reassign_after_h: float | None = None,
    pulls: PullSchedule | None = None,
) -> Handoffs:
    """The bare sales queue: every lead accepted and worked, no qualification, no recycling.

    ``handoff`` must be sorted; ``reaching_attempt[j]`` is the 1-based attempt that reaches lead
    j; ``handling[k, j]`` is attempt k's rep time in hours; ``routing``, ``reassign_after_h``
    and ``pulls`` as in `Rules`. Returns `Handoffs`; `attempt_matrix` turns its attempt log into
    ``start`` and ``rep`` matrices ``[attempt, lead]``.
    """
    m = len(handoff)
    zeros = np.zeros(m)
    batch = LeadBatch(
        chunk=np.zeros(m, np.int32),
        index=np.arange(m),
        ids=np.arange(m, dtype=np.uint64),
        arrival=np.asarray(handoff, dtype=float),
        channel=np.zeros(m, np.int64),
        z=np.asarray(score, dtype=float),
        kind=np.zeros(m, np.int64),
        first_at=np.asarray(handoff, dtype=float),
        cohort=np.ones(m, bool),
        accept=[zeros],
        cover=[zeros],
        qualify=[zeros],
        nurture=[],
        hold=[],
        reach=[np.asarray(reaching_attempt, np.int64)],
        handling=[np.asarray(handling, dtype=float).reshape(len(cadence), m)],
    )
    scores = stage_scores(0.0, ((1.0, 0.0),), 1.0, 1.0, 1.0)
    rules = Rules(
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
        list(cadence),
        queue,
        scores,
        routing=routing,
        reassign_after_h=reassign_after_h,
        pulls=pulls,
    )
    cals = [c if isinstance(c, RepCalendar) else RepCalendar(c) for c in calendars]
    return run_sales(_ArraySource(batch), rules, cals, [None] * len(cals))


def attempt_matrix(out: Handoffs, n_att: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The attempt log as ``[attempt, row]`` matrices: start hours (NaN: not made), rep (-1) and
    hours spent."""
    m = out.rows
    start = np.full((n_att, m), np.nan)
    rep = np.full((n_att, m), -1, np.int32)
    hours = np.full((n_att, m), np.nan)
    k = np.asarray(out.att_k, dtype=np.int64)
    r = np.asarray(out.att_row, dtype=np.int64)
    start[k, r] = out.att_start
    rep[k, r] = out.att_rep
    hours[k, r] = out.att_hours
    return start, rep, hours
