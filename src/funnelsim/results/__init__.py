"""Results: KPI definitions and computation, ledgers as DataFrames."""

from .kpis import KPI_NAMES, KPIS, UNITS, Kpi, compute_kpis
from .ledger import attempts_frame, ledger_frame

__all__ = ["KPIS", "KPI_NAMES", "UNITS", "Kpi", "attempts_frame", "compute_kpis", "ledger_frame"]
