"""The sales team as a SimPy model: reps pull contact attempts from one shared queue.

Only accepted, covered MQLs enter here; everything that needs no rep is drawn in bulk with numpy
elsewhere. The loop is lean on purpose: one feeder process walks the hand-offs in time order,
each rep is one process, and an attempt costs one timeout. A re-attempt that is not yet due is a
bare timeout with a callback, not a process. Attempts are written into preallocated lists, not
into an object per event.

Rules (what the tests pin down):
- A rep starts an attempt only while its calendar is open (working hours and, with
  ``availability`` < 1, its focus blocks); an attempt in progress runs to the end.
- Attempt k of a lead is due ``cadence[k]`` hours after its first attempt started, and joins the
  queue when due. The queue serves ``fifo`` (oldest first), ``lifo`` (newest first) or
  ``priority`` (highest score first, then oldest).
- A lead leaves the queue at the attempt that reaches it, or after its last attempt.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import simpy

from ..calendar import WeekCalendar


@dataclass(frozen=True)
class SalesOutcome:
    """Per worked lead j and attempt k: ``start[k, j]`` (NaN: not made), ``rep[k, j]``."""

    start: np.ndarray
    rep: np.ndarray


def cadence_offsets(cadence: tuple[float, ...], attempts: int) -> list[float]:
    """Due offsets for ``attempts`` attempts; past the list, the last gap repeats."""
    out = list(cadence[:attempts])
    gap = cadence[-1] - cadence[-2] if len(cadence) > 1 else 24.0
    while len(out) < attempts:
        out.append(out[-1] + gap)
    return out


def simulate_sales(
    handoff: np.ndarray,
    score: np.ndarray,
    reaching_attempt: np.ndarray,
    handling: np.ndarray,
    cadence: list[float],
    calendars: list[WeekCalendar],
    queue: str,
) -> SalesOutcome:
    """Run the queue until every lead is done.

    ``handoff`` must be sorted. ``reaching_attempt[j]`` is the 1-based attempt that would reach
    lead j (beyond the last attempt: never reached). ``handling[k, j]`` is attempt k's rep time in
    hours.
    """
    n_att, m = handling.shape
    env = simpy.Environment()
    nan = math.nan
    starts = [[nan] * m for _ in range(n_att)]
    reps = [[-1] * m for _ in range(n_att)]
    first = [0.0] * m
    hand = handling.tolist()
    reach = reaching_attempt.tolist()
    idle: deque[tuple[int, simpy.Event]] = deque()
    all_open = all(c.always_open for c in calendars)

    if queue == "fifo":
        pending: deque[int] | list = deque()
        put, take = pending.append, pending.popleft
    elif queue == "lifo":
        pending = []
        put, take = pending.append, pending.pop
    else:
        pending = []
        neg_score = (-score).tolist()
        counter = [0]

        def put(code: int) -> None:
            counter[0] += 1
            heapq.heappush(pending, (neg_score[code // n_att], counter[0], code))

        def take() -> int:
            return heapq.heappop(pending)[2]

    def push(code: int) -> None:
        put(code)
        if not idle:
            return
        if all_open:
            idle.popleft()[1].succeed()
            return
        now = env.now
        for pos, (i, ev) in enumerate(idle):
            if calendars[i].next_open(now) == now:
                del idle[pos]
                ev.succeed()
                return
        # Nobody idle is on shift: wake them all so each sleeps until its own next opening.
        while idle:
            idle.popleft()[1].succeed()

    def on_due(event: simpy.Event) -> None:
        push(event.value)

    def feeder():
        for j, t in enumerate(handoff.tolist()):
            dt = t - env.now
            if dt > 0:
                yield env.timeout(dt)
            push(j * n_att)

    def rep(i: int):
        cal = calendars[i]
        always = cal.always_open
        while True:
            if not always:
                now = env.now
                nxt = cal.next_open(now)
                if nxt > now:
                    yield env.timeout(nxt - now)
                    continue
            if not pending:
                ev = env.event()
                idle.append((i, ev))
                yield ev
                continue
            code = take()
            j, k = divmod(code, n_att)
            now = env.now
            starts[k][j] = now
            reps[k][j] = i
            if k == 0:
                first[j] = now
            yield env.timeout(hand[k][j])
            nk = k + 1
            if reach[j] != nk and nk < n_att:
                delay = first[j] + cadence[nk] - env.now
                if delay <= 0:
                    push(code + 1)
                else:
                    env.timeout(delay, code + 1).callbacks.append(on_due)

    env.process(feeder())
    for i in range(len(calendars)):
        env.process(rep(i))
    env.run()
    return SalesOutcome(np.array(starts, dtype=float), np.array(reps, dtype=np.int16))
