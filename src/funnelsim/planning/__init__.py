"""Planning: lead quotas and sales headcount for a revenue target, with the probability of
hitting it.

    import funnelsim as fs
    plan = fs.quota(fs.load("scenarios/aligned.toml"), target_revenue=6e6, confidence=0.9)
    plan.table()
"""

from .analytic import fixed_leads_quota, poisson_hit_probability, poisson_quota_rate
from .evaluation import cohort_revenue, wilson_interval
from .quota import QuotaPlan, Validation, quota
from .reverse_funnel import ReverseFunnel, in_time_share, reverse_funnel
from .staffing import ErlangEstimate, StaffingResult, erlang_reps, staffing

__all__ = [
    "ErlangEstimate",
    "QuotaPlan",
    "ReverseFunnel",
    "StaffingResult",
    "Validation",
    "cohort_revenue",
    "erlang_reps",
    "fixed_leads_quota",
    "in_time_share",
    "poisson_hit_probability",
    "poisson_quota_rate",
    "quota",
    "reverse_funnel",
    "staffing",
    "wilson_interval",
]
