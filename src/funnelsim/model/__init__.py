"""The simulation model: arrivals, lead scores, the SimPy sales team, and one whole replication."""

from .funnel import simulate
from .record import FunnelRecord

__all__ = ["FunnelRecord", "simulate"]
