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

import heapq
import math
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from .leads import LeadBatch
from .queues import key_maker, make_queue
from .reps import NEVER, IdleReps, Ramp, RepCalendar, ShiftTable
from .routing import POOL, PullSchedule, make_router
from .scoring import StageScores, stage_scores
from .state import LeadIds, Leads, Rows


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


@dataclass(frozen=True)
class Handoffs:
    """What the engine returns: one entry per hand-off (MQL event) in the order they happened
    (numpy arrays), the attempt matrices ``[attempt, row]``, the leads it simulated (``leads``,
    their ids batch by batch, in engine order), marketing's hold-backs and policy reviews."""

    lead: np.ndarray
    cycle: np.ndarray
    at: np.ndarray
    z: np.ndarray
    accepted: np.ndarray
    kind: np.ndarray
    worked: np.ndarray
    contact_attempt: np.ndarray  # the attempt that reached the lead; 0: not reached
    sql: np.ndarray
    returned_at: np.ndarray  # next hand-off from nurture (NaN: never)
    start: np.ndarray
    rep: np.ndarray
    hours: np.ndarray
    held_lead: np.ndarray  # held back by marketing's filter
    held_at: np.ndarray
    policy: list[tuple[float, float, float, int, float, int]]
    leads: list[LeadIds]
    cohort_done_at: float  # when the cohort's last work ended (tail arrivals stop)

    @property
    def rows(self) -> int:
        return int(self.lead.size)


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


def run_sales(
    source,
    rules: Rules,
    calendars: Sequence[RepCalendar],
    productivity: Sequence[Ramp | None],
    until_h: float | None = None,
) -> Handoffs:
    """Simulate hand-offs and the sales team until the cohort's work is done and every lead in
    progress has finished, or only until ``until_h`` (the events after it never happen).

    ``source`` gives the leads: ``first_batch()``, then ``next_batch()`` for each chunk of tail
    arrivals while ``next_start`` (when that chunk begins) is finite and the cohort needs it.
    ``productivity[i]`` scales rep i's speed over time (ramp-up of a new hire), or is None.
    """
    return _Engine(source, rules, calendars, productivity).run(until_h)


_IDLE, _BUSY, _ASLEEP = 0, 1, 2


class _Engine:
    def __init__(self, source, rules, calendars, productivity) -> None:
        self.env = simpy.Environment()
        self.source = source
        self.rules = rules
        self.calendars = list(calendars)
        self.productivity = list(productivity)
        self.n_att = n_att = rules.attempts
        self.L = Leads(rules.max_cycles, n_att, bool(rules.recycle), rules.feedback is not None)
        self.R = Rows(n_att, owners=rules.routing != "pool")
        self.watch = CohortWatch()
        self.horizon_h = source.horizon_h
        self.coverage = rules.coverage
        self.held_lead: list[int] = []
        self.held_at: list[float] = []
        self.policy: list[tuple] = []
        # Policy learned by feedback, and the per-lead chances it implies.
        self.acceptance = rules.acceptance_rate
        self.quality = 0.0
        self.block = [0.0] * rules.n_kinds
        self.rejected_since_review = [0] * rules.n_kinds
        self.p_accept = array("d")
        self.p_sql = array("d")
        # The queues and the team: the shared pool, and with owners one queue per rep whose
        # entries go stale when their lead moves to the pool.
        n_reps = len(self.calendars)
        self.queue = make_queue(rules.queue)
        self.key = key_maker(rules.queue)
        self.joined = 0
        self.router = make_router(rules.routing, n_reps)
        where = getattr(self.R, "where", None)
        self.own = (
            [
                make_queue(rules.queue, lambda code, q, i=i: where[code // n_att] == i)
                for i in range(n_reps)
            ]
            if self.router is not None
            else None
        )
        self.state = [_BUSY] * n_reps
        self.held: list[int] = []  # rows waiting for the next pull
        self.pull_due = False
        self.always_of = [c.always_open for c in self.calendars]
        span = getattr(source, "tail_cap_h", 0.0)
        self.shift_of = [
            c.shift if c.always_open else ShiftTable(c, span).shift for c in self.calendars
        ]
        # Each rep's current or next open stretch, looked up again only once time has passed its
        # end (an always-open rep's never ends).
        self.shift_start = [-NEVER if a else NEVER for a in self.always_of]
        self.shift_end = [NEVER if a else -1.0 for a in self.always_of]
        self.idle = IdleReps(n_reps, self._shift_at)
        if self.router is None:
            self._pool_queue(rules.queue)
            self.push = self._push_pool
            self.rep_free = self._rep_free_pool

    # -- leads ------------------------------------------------------------------------------

    def _add_leads(self, batch: LeadBatch) -> int:
        offset = self.L.add(batch)
        zq = batch.z + self.quality
        s = self.rules.scores
        self.p_accept.frombytes(s.accept(self.acceptance, zq).astype(float).tobytes())
        p_sql = np.minimum(1.0, self.rules.sql_uplift * s.sql(zq)).astype(float)
        self.p_sql.frombytes(p_sql.tobytes())
        return offset

    def _refresh(self) -> None:
        # Bulk over all leads, once per review: the per-hand-off work is then a lookup.
        z = np.frombuffer(self.L.z, dtype=float) + self.quality
        s = self.rules.scores
        self.p_accept = array("d", s.accept(self.acceptance, z).astype(float).tobytes())
        p_sql = np.minimum(1.0, self.rules.sql_uplift * s.sql(z)).astype(float)
        self.p_sql = array("d", p_sql.tobytes())

    def feeder(self):
        """First hand-offs in time order. Every lead handed off before the horizon is fed; after
        it, tail chunks are drawn as time reaches them and fed only while the cohort still has
        work (`over`)."""
        env, watch, source = self.env, self.watch, self.source
        times, who = self._first_leads()
        cohort = self.L.cohort
        watch.unfed = int(np.frombuffer(cohort, dtype=np.int8).sum())
        handoff, timeout, horizon_h = self.handoff, env.timeout, self.horizon_h
        next_chunk = source.next_start
        i, n = 0, len(times)
        while True:
            if i < n and times[i] < next_chunk:
                t = times[i]
                if t >= horizon_h and watch.done:
                    return
                if t > env.now:
                    yield timeout(t - env.now)
                    if watch.done and env.now >= horizon_h:
                        return
                lead = who[i]
                i += 1
                handoff(lead, 0)
                if cohort[lead]:
                    watch.unfed -= 1
                    if watch.unfed == 0 and watch.open == 0:
                        watch.done_at = env.now
            elif math.isfinite(next_chunk) and not watch.done:
                new = source.next_batch()
                offset = self._add_leads(new)
                at = np.concatenate([np.frombuffer(times, dtype=float)[i:], new.first_at])
                lead = np.concatenate(
                    [np.frombuffer(who, dtype=np.int64)[i:], offset + np.arange(len(new))]
                )
                order = np.argsort(at, kind="stable")
                times, who = array("d", at[order].tobytes()), array("q", lead[order].tobytes())
                i, n = 0, len(times)
                next_chunk = source.next_start
            else:
                return

    def _first_leads(self) -> tuple[array, array]:
        """Add the first batches' leads, chunk by chunk (only their draws are kept, in the
        engine's arrays), and return every first hand-off time with its lead, in time order."""
        times, leads = [], []
        for batch in self.source.first_batches():
            offset = self._add_leads(batch)
            times.append(batch.first_at)
            leads.append(offset + np.arange(len(batch)))
        at = np.concatenate(times) if times else np.empty(0)
        lead = np.concatenate(leads) if leads else np.empty(0, np.int64)
        order = np.argsort(at, kind="stable")
        return array("d", at[order].tobytes()), array("q", lead[order].astype(np.int64).tobytes())

    def over(self) -> bool:
        """True once the cohort is done and the horizon has passed: nothing that happens from
        now on is counted or shapes what is counted."""
        return self.watch.done and self.env.now >= self.horizon_h

    # -- hand-off and nurture ------------------------------------------------------------------

    def handoff(self, lead: int, c: int) -> None:
        L, R = self.L, self.R
        now = self.env.now
        k = L.kind[lead]
        accepted = L.acc[c][lead] < self.p_accept[lead]
        # Marketing learned to spot the leads sales rejects for reason k: it keeps back a
        # share of them instead of handing them over (they never become MQLs).
        if not accepted and self.block[k] > 0.0 and L.hold[c][lead] < self.block[k]:
            self.held_lead.append(lead)
            self.held_at.append(now)
            return
        row = R.n
        if row == R.cap:
            R.grow()
        R.n = row + 1
        worked = accepted and L.cov[c][lead] < self.coverage
        cohort = L.cohort[lead]
        R.lead[row] = lead
        R.cycle[row] = c
        R.at[row] = now
        R.z[row] = L.z[lead] + self.quality
        R.kind[row] = k
        R.psql[row] = self.p_sql[lead]
        R.cohort[row] = cohort
        if not accepted:
            self.rejected_since_review[k] += 1
            if "rejected" in self.rules.recycle:
                self.to_nurture(row, now)
            return
        R.accepted[row] = 1
        if worked:
            R.worked[row] = 1
            if cohort:
                self.watch.open += 1
            self._route(row, now)

    def _route(self, row: int, now: float) -> None:
        """Give a worked hand-off its owner, and queue its first attempt (now, or at the next
        pull)."""
        rules, router = self.rules, self.router
        if router is not None:
            rep = router.assign()
            router.opened(rep)
            self.R.owner[row] = rep
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
        R = self.R
        old = R.owner[row]
        if old == POOL or R.start[0][row] == R.start[0][row]:  # touched (not NaN)
            return
        R.owner[row] = POOL
        self.router.closed(old)
        if R.where[row] == old and R.first_key[row] is not None:
            R.where[row] = POOL  # its entry in the old owner's queue is now stale
            self.queue.put(R.first_key[row], row * self.n_att)
            self._wake_any()

    def to_nurture(self, row: int, now: float) -> None:
        R, rules = self.R, self.rules
        c = R.cycle[row] + 1
        if c >= rules.max_cycles:
            return
        lead = R.lead[row]
        cohort = R.cohort[row]
        if not cohort and self.over():
            return  # no new work for leads nobody counts, once nothing counted needs it
        u = self.L.nurture[c - 1][lead]
        delay = -math.log1p(-u) / rules.nurture_hazard_per_h
        if delay > rules.max_nurture_h:
            return
        R.returned[row] = now + delay
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
            self.R.returned[row] = math.nan  # the run ended first: it never came back

    # -- the queue and the team ----------------------------------------------------------------

    def push(self, code: int) -> None:
        """An attempt is due: queue it with its owner (waking the owner if idle), or in the pool
        (waking the rep who should take it)."""
        R = self.R
        self.joined += 1
        row = code // self.n_att
        key = self.key(self.joined, R.z[row])
        if code % self.n_att == 0:
            R.first_key[row] = key
        rep = R.owner[row]
        if rep == POOL:
            R.where[row] = POOL
            self.queue.put(key, code)
            self._wake_any()
            return
        R.where[row] = rep
        self.own[rep].put(key, code)
        if self.state[rep] == _IDLE:
            self.idle.discard(rep)
            self.rep_free(rep)

    # The shared pool alone (no owners) is the common case and the hot path: its queue holds bare
    # codes (fifo: a deque; lifo: a list; priority: a heap of (-score, counter, code)), and
    # `push` and `rep_free` are specialised to it.

    def _pool_queue(self, discipline: str) -> None:
        if discipline == "fifo":
            q: deque | list = deque()
            self._pool_put, self._pool_take = q.append, q.popleft
        elif discipline == "lifo":
            q = []
            self._pool_put, self._pool_take = q.append, q.pop
        else:
            q = []
            z, n_att = self.R.z, self.n_att

            def put(code: int) -> None:
                self.joined += 1
                heapq.heappush(q, (-z[code // n_att], self.joined, code))

            def take() -> int:
                return heapq.heappop(q)[2]

            self._pool_put, self._pool_take = put, take
        self._pool = q

    def _push_pool(self, code: int) -> None:
        self._pool_put(code)
        if self.idle:
            self._wake_any()

    def _rep_free_pool(self, i: int) -> None:
        env = self.env
        now = env.now
        if not self._pool:
            self.state[i] = _IDLE
            self.idle.add(i, now)
            return
        if now < self.shift_start[i] or now >= self.shift_end[i]:
            start, _ = self._shift_at(i, now)
            if start > now:
                self.state[i] = _ASLEEP
                env.timeout(start - now, i).callbacks.append(self.on_shift_start)
                return
        self._start(i, self._pool_take(), now)

    def _start(self, i: int, code: int, now: float) -> None:
        """Rep i starts attempt ``code`` at ``now``: log it and schedule its end."""
        self.state[i] = _BUSY
        R = self.R
        n_att = self.n_att
        row, k = divmod(code, n_att)
        R.start[k][row] = now
        R.rep[k][row] = i
        dur = self.L.hand[R.cycle[row]][R.lead[row] * n_att + k]
        speed = self.productivity[i]
        if speed is not None:
            dur /= speed.at(now)
        R.hours[k][row] = dur
        self.env.timeout(dur, (i, code, now)).callbacks.append(self.on_attempt_done)

    def _shift_at(self, i: int, now: float) -> tuple[float, float]:
        """(start, end) of rep i's open stretch containing ``now``, or else of its next one.
        Time only moves forward, so the cached stretch holds until its end has passed."""
        end = self.shift_end[i]
        if now < end:
            return self.shift_start[i], end
        start, end = self.shift_of[i](now)
        self.shift_start[i] = start
        self.shift_end[i] = end
        return start, end

    def _wake_any(self) -> None:
        got = self.idle.take(self.env.now)
        if got is None:
            return
        rep, start = got
        if start <= self.env.now:
            self.rep_free(rep)
        else:
            self.state[rep] = _ASLEEP
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
        start = self.shift_start[i]
        if now < start or now >= self.shift_end[i]:
            start, _ = self._shift_at(i, now)
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
                if self.R.owner[row] == POOL:  # whoever touches a pool lead first owns it
                    self.R.owner[row] = i
                    self.router.opened(i)
        self._start(i, code, now)

    def on_shift_start(self, event: simpy.Event) -> None:
        self.rep_free(event.value)

    def on_due(self, event: simpy.Event) -> None:
        self.push(event.value)

    def on_attempt_done(self, event: simpy.Event) -> None:
        i, code, started = event.value
        n_att = self.n_att
        row, k = divmod(code, n_att)
        nk = k + 1
        R, rules = self.R, self.rules
        lead, c = R.lead[row], R.cycle[row]
        if self.L.reach[c][lead] == nk:
            R.contact[row] = nk
            p = R.psql[row]
            floor = rules.decay_floor
            if floor < 1.0:
                p *= floor + (1.0 - floor) * math.exp(-(started - R.at[row]) / rules.decay_tau_h)
            if self.L.qual[c][lead] < p:
                R.sql[row] = 1
            elif "unqualified" in rules.recycle:
                self.to_nurture(row, self.env.now)
            self._finished(row)
        elif nk < n_att:
            delay = R.start[0][row] + rules.cadence[nk] - self.env.now
            if delay <= 0:
                self.push(code + 1)
            else:
                self.env.timeout(delay, code + 1).callbacks.append(self.on_due)
        else:
            if "unreached" in rules.recycle:
                self.to_nurture(row, self.env.now)
            self._finished(row)
        self.rep_free(i)

    def _finished(self, row: int) -> None:
        if self.router is not None and self.R.owner[row] != POOL:
            self.router.closed(self.R.owner[row])
        if self.R.cohort[row]:
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
            self.policy.append(
                (env.now, self.acceptance, self.quality, worst, self.block[worst], n_rejected)
            )
            self.rejected_since_review = [0] * rules.n_kinds
            self._refresh()

    def run(self, until_h: float | None = None) -> Handoffs:
        env = self.env
        env.process(self.feeder())
        for i in range(len(self.calendars)):
            self.rep_free(i)
        if self.rules.feedback is not None:
            env.process(self.reviewer(self.rules.feedback))
        env.run(until=until_h)
        self.L.release()
        self.p_accept = self.p_sql = array("d")
        R = self.R
        start, rep, hours = R.matrices()
        return Handoffs(
            lead=R.column("lead"),
            cycle=R.column("cycle"),
            at=R.column("at"),
            z=R.column("z"),
            accepted=R.column("accepted").astype(bool),
            kind=R.column("kind"),
            worked=R.column("worked").astype(bool),
            contact_attempt=R.column("contact"),
            sql=R.column("sql").astype(bool),
            returned_at=R.column("returned"),
            start=start,
            rep=rep,
            hours=hours,
            held_lead=np.asarray(self.held_lead, dtype=np.int64),
            held_at=np.asarray(self.held_at, dtype=float),
            policy=self.policy,
            leads=self.L.batches,
            cohort_done_at=self.watch.done_at,
        )


class _ArraySource:
    """A fixed set of leads as a lead source (for `simulate_sales` and tests)."""

    def __init__(self, batch: LeadBatch) -> None:
        self.batch = batch
        self.next_start = math.inf
        self.horizon_h = math.inf

    def first_batches(self):
        yield self.batch


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
    """The attempts as ``[attempt, row]`` matrices: start hours (NaN: not made), rep (-1) and
    hours spent."""
    return out.start, out.rep, out.hours
