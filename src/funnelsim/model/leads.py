"""Where the sales engine's leads come from: arrivals chunk by chunk, each prospect's channel,
score and MQL fate, and every per-lead draw the engine will need, in bulk.

The counted cohort arrives in [warmup, horizon). Around it the run simulates, but never counts:

- **before day 0**, the prospects whose first hand-off lands after day 0 (for a slow
  ``time_to_mql_days`` the hand-offs reach sales at their steady rate from day 0, not ramping up
  as if marketing had just started), and
- **after the horizon**, prospects keep arriving chunk by chunk for as long as the cohort still
  has work in the sales queue (hand-offs to come, attempts due, leads in nurture), so the last
  cohort hand-offs meet a steady queue rather than one draining empty.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..scenario import Scenario
from .arrivals import ActivityClock, ChunkArrivals, chunk_arrivals, chunk_hours
from .channels import ChannelMix
from .streams import Streams, mix64, prospect_ids

_EPS = 1e-12
# A hand-off delay is bounded, for planning the pre-history and the tail, by this quantile, and
# never by more than two years (a longer-tailed delay loses < 1e-6 of its hand-offs at day 0).
_DELAY_QUANTILE = 1.0 - 1e-6
_DELAY_CAP_H = 730.0 * 24.0


@dataclass(frozen=True)
class LeadPlan:
    """What the lead source needs from the scenario's hand-off and sales rules."""

    max_cycles: int
    attempts: int
    contact_rate: float
    handling_minutes: object  # a Distribution
    recycle: bool
    feedback: bool
    tail_cap_h: float  # no arrivals are simulated after this, whatever the cohort still needs


@dataclass
class LeadBatch:
    """MQL leads handed to the engine, sorted by first hand-off time.

    Per lead: identity (``chunk``, ``index`` within it, ``ids`` = mixed 64-bit ids), ``arrival``,
    ``channel``, score ``z``, rejection ``kind``, ``first_at`` and ``cohort``; per MQL cycle c the
    uniforms ``accept[c]``, ``cover[c]``, ``qualify[c]``, ``nurture[c]`` (cycles before the last),
    ``hold[c]`` (with feedback), the 1-based attempt that reaches the lead ``reach[c]``
    (attempts + 1: never), and ``handling[c]`` (attempts x leads, hours)."""

    chunk: np.ndarray
    index: np.ndarray
    ids: np.ndarray
    arrival: np.ndarray
    channel: np.ndarray
    z: np.ndarray
    kind: np.ndarray
    first_at: np.ndarray
    cohort: np.ndarray
    accept: list[np.ndarray]
    cover: list[np.ndarray]
    qualify: list[np.ndarray]
    nurture: list[np.ndarray]
    hold: list[np.ndarray]
    reach: list[np.ndarray]
    handling: list[np.ndarray]

    def __len__(self) -> int:
        return int(self.first_at.size)


@dataclass(frozen=True)
class ChunkProspects:
    """Every prospect of one chunk, in arrival order (for the record and the ledger)."""

    chunk: int
    times: np.ndarray
    index: np.ndarray
    channel: np.ndarray
    z: np.ndarray


def delay_bound_h(mix: ChannelMix) -> float:
    """Hours within which (almost) every first hand-off follows its arrival."""
    worst = max(float(np.asarray(d.ppf(np.array([_DELAY_QUANTILE])))[0]) for d in mix.delays)
    return min(24.0 * worst, _DELAY_CAP_H) if math.isfinite(worst) else _DELAY_CAP_H


class LeadSource:
    """The leads of one replication: pre-history and the horizon's chunks at once, then the tail
    chunk by chunk (`next_batch`) while the engine asks for it."""

    def __init__(
        self, s: Scenario, streams: Streams, mix: ChannelMix, plan: LeadPlan, reasons: np.ndarray
    ) -> None:
        self.s, self.streams, self.mix, self.plan = s, streams, mix, plan
        self._cum_reasons = reasons
        self.horizon_h = s.run.horizon_days * 24.0
        self.warmup_h = s.run.warmup_days * 24.0
        self.delay_h = delay_bound_h(mix)
        self.chunk_h = c = chunk_hours(s)
        self.first_chunk = -math.ceil(self.delay_h / c) if self.delay_h > 0 else 0
        self.last_main_chunk = max(0, math.ceil(self.horizon_h / c) - 1)
        self._next = self.last_main_chunk + 1
        self.prospects: list[ChunkProspects] = []
        self.clock = ActivityClock(s, self.first_chunk * c, plan.tail_cap_h + c + self.delay_h)

    @property
    def tail_cap_h(self) -> float:
        """No arrival is simulated after this."""
        return self.plan.tail_cap_h

    @property
    def next_start(self) -> float:
        """When the next undrawn chunk starts (inf once the tail cap is reached)."""
        start = self._next * self.chunk_h
        return start if start < self.plan.tail_cap_h else math.inf

    def first_batches(self) -> Iterator[LeadBatch]:
        """The leads from before day 0 (only those handed off from day 0 on) and of every chunk
        the horizon touches, a chunk at a time (each sorted by first hand-off; together they
        overlap in time)."""
        for k in range(self.first_chunk, self.last_main_chunk + 1):
            yield self._batch(k)

    def first_batch(self) -> LeadBatch:
        """`first_batches` as one batch, sorted by first hand-off."""
        return _concat(list(self.first_batches()))

    def next_batch(self) -> LeadBatch:
        """The leads of the next tail chunk."""
        k = self._next
        self._next += 1
        return self._batch(k)

    def _batch(self, k: int) -> LeadBatch:
        s, st, mix = self.s, self.streams, self.mix
        arr: ChunkArrivals = chunk_arrivals(s, st, k)
        n, j = arr.times.size, arr.index
        channel = mix.assign(st.chunk("channel", k).random(n)[j])
        mql = st.chunk("mql", k).random(n)[j] < mix.mql_rate[channel]
        keep_all = k >= 0 and k <= self.last_main_chunk
        z = None
        if keep_all:
            z = _score(st.chunk("score", k).random(n)[j]) + mix.score_shift[channel]
            self.prospects.append(ChunkProspects(k, arr.times, j, channel, z))
        lead = np.flatnonzero(mql)
        ids = mix64(prospect_ids(k, j[lead]))
        first_at = self.clock.delayed(
            arr.times[lead], 24.0 * mix.time_to_mql_days(channel[lead], st.at("time_to_mql", ids))
        )
        if k < 0:
            # Before day 0 only the hand-offs that land after it are part of the run.
            later = first_at >= 0.0
            lead, ids, first_at = lead[later], ids[later], first_at[later]
        if z is None:
            zl = _score(st.chunk("score", k).random(n)[j][lead]) + mix.score_shift[channel[lead]]
        else:
            zl = z[lead]
        order = np.argsort(first_at, kind="stable")
        lead, ids, first_at, zl = lead[order], ids[order], first_at[order], zl[order]
        arrival = arr.times[lead]
        return self._draws(k, j[lead], ids, arrival, channel[lead], zl, first_at)

    def _draws(self, k, index, ids, arrival, channel, z, first_at) -> LeadBatch:
        st, plan = self.streams, self.plan
        m = ids.size
        kind = np.minimum(
            np.searchsorted(self._cum_reasons, st.at("reason", ids), side="right"),
            len(self._cum_reasons) - 1,
        )

        def cyc(name: str, c: int) -> np.ndarray:
            return st.at(name if c == 0 else f"{name}.{c}", ids)

        cycles = range(plan.max_cycles)
        hand = plan.handling_minutes
        return LeadBatch(
            chunk=np.full(m, k, np.int32),
            index=np.asarray(index, np.int64),
            ids=ids,
            arrival=arrival,
            channel=channel,
            z=z,
            kind=kind,
            first_at=first_at,
            cohort=(arrival >= self.warmup_h) & (arrival < self.horizon_h),
            accept=[cyc("accept", c) for c in cycles],
            cover=[cyc("coverage", c) for c in cycles],
            qualify=[cyc("qualify", c) for c in cycles],
            nurture=[cyc("nurture", c) for c in cycles[:-1]] if plan.recycle else [],
            hold=[cyc("hold", c) for c in cycles] if plan.feedback else [],
            reach=[
                reaching_attempt(cyc("contact", c), plan.contact_rate, plan.attempts)
                for c in cycles
            ],
            handling=[
                np.vstack(
                    [hand.ppf(cyc(f"handling{a}", c)) / 60.0 for a in range(plan.attempts)]
                ).reshape(plan.attempts, m)
                for c in cycles
            ],
        )


def _score(u: np.ndarray) -> np.ndarray:
    return special.ndtri(np.clip(u, _EPS, 1 - _EPS))


def reaching_attempt(u: np.ndarray, contact_rate: float, attempts: int) -> np.ndarray:
    """The 1-based attempt at which each lead is first reached (geometric by inverse transform);
    ``attempts + 1`` stands for never."""
    never = attempts + 1
    if contact_rate >= 1.0:
        return np.ones(u.size, np.int64)
    if contact_rate <= 0.0:
        return np.full(u.size, never, np.int64)
    k = np.floor(np.log1p(-u) / np.log1p(-contact_rate)).astype(np.int64) + 1
    return np.minimum(k, never)


def _concat(parts: list[LeadBatch]) -> LeadBatch:
    """One batch from several, re-sorted by first hand-off time."""
    if len(parts) == 1:
        return parts[0]
    first_at = np.concatenate([p.first_at for p in parts])
    order = np.argsort(first_at, kind="stable")

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])[order]

    def per_cycle(name: str) -> list[np.ndarray]:
        lists = [getattr(p, name) for p in parts]
        return [np.concatenate([lst[c] for lst in lists])[order] for c in range(len(lists[0]))]

    handling = [
        np.concatenate([p.handling[c] for p in parts], axis=1)[:, order]
        for c in range(len(parts[0].handling))
    ]
    return LeadBatch(
        chunk=cat("chunk"),
        index=cat("index"),
        ids=cat("ids"),
        arrival=cat("arrival"),
        channel=cat("channel"),
        z=cat("z"),
        kind=cat("kind"),
        first_at=first_at[order],
        cohort=cat("cohort"),
        accept=per_cycle("accept"),
        cover=per_cycle("cover"),
        qualify=per_cycle("qualify"),
        nurture=per_cycle("nurture"),
        hold=per_cycle("hold"),
        reach=per_cycle("reach"),
        handling=handling,
    )
