"""The columnar record of one replication: numpy arrays filled during the run, no object per lead.

Prospect-level arrays have one entry per prospect: every prospect that arrived in [0, horizon),
plus the leads from before day 0 or after the horizon that the run handed off (simulated so the
cohort meets a steady queue, never counted). MQL-level arrays have one entry per hand-off
(an MQL event; a lead recycled through nurture has one per cycle): ``mql_id`` maps back to the
prospect and ``cycle`` counts its returns. Attempt arrays are ``[attempt, worked hand-off]``.
Times are hours since day 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FunnelRecord:
    scenario: str
    seed: int
    replication: int
    start_date: dt.date
    horizon_h: float
    warmup_h: float
    sla_hours: float
    sla_clock: str
    reason_names: tuple[str, ...]
    channel_names: tuple[str, ...]
    channel_cost: np.ndarray  # marketing cost of one prospect, per channel
    recurring: bool
    reps: int
    attempts_allowed: int
    mql_commitment_per_week: float  # NaN: marketing made no commitment
    rep_cost_per_year: float
    # prospects
    arrival: np.ndarray
    channel: np.ndarray
    score_z: np.ndarray
    # MQLs
    mql_id: np.ndarray
    cycle: np.ndarray
    mql_at: np.ndarray
    row_score_z: np.ndarray  # lead score at this hand-off (feedback can raise quality)
    accepted: np.ndarray
    reason: np.ndarray
    worked: np.ndarray
    attempts_made: np.ndarray
    first_touch_at: np.ndarray
    contact_at: np.ndarray
    sla_met: np.ndarray
    sql: np.ndarray
    sql_at: np.ndarray
    opportunity: np.ndarray
    opportunity_at: np.ndarray
    won: np.ndarray
    closed_at: np.ndarray
    amount: np.ndarray
    billed_months: np.ndarray  # recurring revenue: months a customer pays (inf: never churns)
    returned_at: np.ndarray  # when this hand-off's lead came back from nurture (NaN: never)
    # leads marketing's feedback filter held back, and the policy after each review:
    # (time, acceptance rate, quality shift, most-rejected kind, its hold-back share, rejections)
    held_id: np.ndarray
    held_at: np.ndarray
    policy: np.ndarray
    # attempts of worked hand-offs: worked_row[j] is the MQL row of worked hand-off j
    worked_row: np.ndarray
    attempt_start: np.ndarray
    attempt_hours: np.ndarray
    attempt_rep: np.ndarray
    # rep time inside the cohort window [warmup, horizon): attempt hours, and open MQL hours
    # plus the attempt hours that ran outside them
    rep_available_h: float
    rep_busy_h: float
    # rep-years charged to the cohort (its share of each week's attempt time, week by week)
    cohort_rep_years: float
    # when the cohort's last work in the sales queue ended (NaN: it had none)
    cohort_done_at: float

    @property
    def n_prospects(self) -> int:
        return int(self.arrival.size)

    def cohort_prospects(self) -> np.ndarray:
        """Mask over prospects: arrived in [warmup, horizon), the counted cohort."""
        return (self.arrival >= self.warmup_h) & (self.arrival < self.horizon_h)

    def cohort_mqls(self) -> np.ndarray:
        """Mask over MQL rows belonging to the counted cohort."""
        a = self.arrival[self.mql_id]
        return (a >= self.warmup_h) & (a < self.horizon_h)

    def in_cohort(self, prospect: np.ndarray) -> np.ndarray:
        """Mask over the given prospect indices: which belong to the counted cohort."""
        a = self.arrival[prospect]
        return (a >= self.warmup_h) & (a < self.horizon_h)
