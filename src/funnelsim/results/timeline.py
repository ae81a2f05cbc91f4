"""Simulation hours as calendar timestamps, for any hour a run can produce.

A run drains (every lead is followed to its end), and a heavy-tailed delay can put a rare event
centuries after ``run.start_date``: past pandas' nanosecond range (the year 2262), or even past
the year 9999, which no date type of Python or a spreadsheet holds. Such instants are kept at
microsecond resolution while they fit, and become NaT (empty) after 9999-12-31, with a warning
saying how many.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from ..errors import ScenarioWarning

LAST = np.datetime64("9999-12-31T23:59:59", "us")
_NS_LAST = np.datetime64(pd.Timestamp.max.floor("D").to_datetime64(), "us")


class LateEventWarning(ScenarioWarning):
    """Some events fall after 9999-12-31 and are shown without a date."""


def timestamps(start_date: dt.date, hours: np.ndarray) -> pd.DatetimeIndex:
    """``start_date`` plus ``hours`` (NaN: NaT), as nanosecond timestamps when every instant
    fits them, else microsecond ones; instants after `LAST` become NaT, with a warning."""
    h = np.asarray(hours, dtype=float)
    start = np.datetime64(start_date, "us")
    finite = np.isfinite(h)
    latest = float(h[finite].max()) if finite.any() else 0.0
    # Beyond ~285 years the nanosecond arithmetic itself overflows: check the size first.
    if latest < 2.5e6 and start + _hours(latest) <= _NS_LAST:
        return pd.DatetimeIndex(pd.Timestamp(start_date) + pd.to_timedelta(h, unit="h"))
    limit = float((LAST - start) / np.timedelta64(1, "h"))
    late = finite & (h > limit)
    if late.any():
        warnings.warn(
            f"{int(late.sum())} event(s) fall after {LAST.astype('datetime64[D]')} (a delay "
            "distribution's tail), and are shown without a date",
            LateEventWarning,
            stacklevel=2,
        )
    ok = finite & ~late
    micros = np.zeros(h.size, dtype=np.int64)
    micros[ok] = np.round(h[ok] * 3.6e9).astype(np.int64)
    out = start + micros.astype("timedelta64[us]")
    out[~ok] = np.datetime64("NaT")
    return pd.DatetimeIndex(out)


def _hours(h: float) -> np.timedelta64:
    return np.timedelta64(int(round(h * 3.6e9)), "us")
