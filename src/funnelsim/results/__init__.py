"""Results: KPI definitions and computation, ledgers as DataFrames."""

from .kpis import KPI_NAMES, KPIS, UNITS, Kpi, compute_kpis
from .ledger import attempts_frame, feedback_frame, handoffs_frame, ledger_frame
from .periods import (
    FREQUENCIES,
    mean_of_period_reports,
    mean_period_report,
    period_report,
    period_reports,
    sla_breaches_by_rep_day,
)

__all__ = [
    "FREQUENCIES",
    "KPIS",
    "KPI_NAMES",
    "UNITS",
    "Kpi",
    "attempts_frame",
    "compute_kpis",
    "feedback_frame",
    "handoffs_frame",
    "ledger_frame",
    "mean_of_period_reports",
    "mean_period_report",
    "period_report",
    "period_reports",
    "sla_breaches_by_rep_day",
]
