"""Lead sources: each prospect is assigned a channel, which sets its MQL rate, time to MQL,
lead-score offset and marketing cost. A scenario without channels is one plain stream."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..distributions import Distribution
from ..scenario import Scenario


@dataclass(frozen=True)
class ChannelMix:
    names: tuple[str, ...]
    cumulative_share: np.ndarray
    mql_rate: np.ndarray
    score_shift: np.ndarray
    cost_per_prospect: np.ndarray
    delays: tuple[Distribution, ...]

    def assign(self, u: np.ndarray) -> np.ndarray:
        """Channel index of each prospect from its uniform (inverse transform over the shares)."""
        if len(self.names) == 1:
            return np.zeros(u.size, np.int8)
        idx = np.searchsorted(self.cumulative_share, u, side="right")
        return np.minimum(idx, len(self.names) - 1).astype(np.int8)

    def time_to_mql_days(self, channel: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Each MQL's delay from arrival, drawn from its channel's distribution."""
        if len(self.delays) == 1:
            return self.delays[0].ppf(u)
        out = np.empty(u.size)
        for i, dist in enumerate(self.delays):
            mask = channel == i
            out[mask] = dist.ppf(u[mask])
        return out


def channel_mix(s: Scenario) -> ChannelMix:
    """The scenario's channels, with scenario-wide values filled in where a channel is silent."""
    default_cost = s.costs.cost_per_prospect
    if not s.arrivals.channels:
        return ChannelMix(
            ("all",),
            np.array([1.0]),
            np.array([s.marketing.mql_rate]),
            np.array([0.0]),
            np.array([default_cost]),
            (s.marketing.time_to_mql_days,),
        )
    chans = s.arrivals.channels
    shares = np.array([c.share for c in chans])
    return ChannelMix(
        tuple(c.name for c in chans),
        np.cumsum(shares) / shares.sum(),
        np.array([s.marketing.mql_rate if c.mql_rate is None else c.mql_rate for c in chans]),
        np.array([c.score_shift for c in chans]),
        np.array(
            [default_cost if c.cost_per_prospect is None else c.cost_per_prospect for c in chans]
        ),
        tuple(c.time_to_mql_days or s.marketing.time_to_mql_days for c in chans),
    )
