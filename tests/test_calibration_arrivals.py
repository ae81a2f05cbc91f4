"""Arrival profiles are written only where the data shows one (chi-square at 1%)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelsim.calibration.arrivals import fit_arrivals
from funnelsim.calibration.export import build_export
from funnelsim.calibration.stages import Fits
from funnelsim.scenario.schema import Arrivals


def export(hours: np.ndarray):
    t = pd.Timestamp("2029-01-01") + pd.to_timedelta(hours, unit="h")
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(len(hours))],
            "created_at": t.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    return build_export(frame, "test.csv")


def test_office_hours_and_weekdays_are_found_and_a_flat_funnel_keeps_the_neutral():
    rng = np.random.default_rng(1)
    day = rng.integers(0, 70, 6000)
    weekday = day % 7
    keep = (weekday < 5) | (rng.random(6000) < 0.3)  # weekends at 30%
    hour = np.where(rng.random(6000) < 0.8, rng.uniform(9, 17, 6000), rng.uniform(0, 24, 6000))
    fits = Fits()
    fit_arrivals(export((24.0 * day + hour)[keep]), fits)
    weekly = fits.parameters["arrivals.weekday_profile"].value
    assert min(weekly[:5]) > 1.0 > max(weekly[5:])
    key = "arrivals.hourly_profile"
    hourly = fits.parameters.get(key) or fits.parameters[f"report.{key}"]
    assert (key in fits.parameters) == ("hourly_profile" in Arrivals.model_fields)
    assert hourly.value[12] > 1.5 > 0.5 > hourly.value[3]
    flat = Fits()
    fit_arrivals(export(np.sort(rng.uniform(0, 24 * 70, 6000))), flat)
    assert "arrivals.weekday_profile" not in flat.parameters
    assert any("no weekday pattern beyond chance" in n for n in flat.notes)
    rate = flat.parameters["arrivals.prospects_per_week"]
    assert abs(rate.value - 600) < 4 * (rate.ci95[1] - rate.ci95[0]) / 3.92
