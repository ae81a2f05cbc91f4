"""Planning: lead quotas and sales headcount for a revenue target, with the probability of
hitting it.

    import funnelsim as fs
    plan = fs.quota(fs.load("scenarios/aligned.toml"), target_revenue=6e6, confidence=0.9)
    plan.table()
"""

from .analytic import fixed_leads_quota, poisson_hit_probability, poisson_quota_rate
from .basis import BASES, RevenueBasis, counted_revenue, resolve_basis
from .confidence import Design, Validation, rank_for, replications_for
from .erlang import ErlangEstimate, erlang_reps
from .evaluation import wilson_interval
from .plan import QuotaPlan
from .quota import quota
from .reverse_funnel import ReverseFunnel, counted_share, in_time_share, reverse_funnel
from .staffing import StaffingResult, staffing

__all__ = [
    "BASES",
    "Design",
    "ErlangEstimate",
    "QuotaPlan",
    "ReverseFunnel",
    "RevenueBasis",
    "StaffingResult",
    "Validation",
    "counted_revenue",
    "counted_share",
    "erlang_reps",
    "fixed_leads_quota",
    "in_time_share",
    "poisson_hit_probability",
    "poisson_quota_rate",
    "quota",
    "rank_for",
    "replications_for",
    "resolve_basis",
    "reverse_funnel",
    "staffing",
    "wilson_interval",
]
