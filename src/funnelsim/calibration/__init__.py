"""Calibration from CRM data: fit a scenario to a team's own export, backtest it on a holdout,
and carry the fit's uncertainty into every run."""

from .backtest import Backtest, backtest
from .calibrate import FORMATS, Calibration, calibrate, column_map, fit_export, load_export
from .export import Export, read_export

__all__ = [
    "Backtest",
    "backtest",
    "FORMATS",
    "Calibration",
    "Export",
    "calibrate",
    "column_map",
    "fit_export",
    "load_export",
    "read_export",
]
