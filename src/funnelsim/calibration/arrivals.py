"""Arrivals: the weekly rate, the weekday, hour-of-day and monthly profiles, and the channels.

The rate is a Poisson rate (leads over the weeks from the first lead to the snapshot). A
profile is written only where the data shows one: counts per weekday (hour, month) against
what a flat rate gives over the same exposure, by a chi-square test at the 1% level; a flat
funnel keeps the neutral (no profile). The monthly profile needs a year of arrivals, and it
cannot tell seasonality from growth.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..scenario.schema import Arrivals
from .estimates import Block, Parameter, rounded, scalar
from .export import Export
from .stages import MIN_LEADS, Fits

ALPHA = 0.01


def fit_arrivals(e: Export, fits: Fits) -> None:
    created = e.times["created_at"]
    start = float(np.floor(created.min() / 24.0) * 24.0)
    end = e.as_of_h if e.created_until_h is None else e.created_until_h
    weeks = (end - start) / 168.0
    n = e.n
    if weeks <= 0:
        weeks = 1.0 / 7.0
    rate = n / weeks
    b = Block(
        "arrivals.volume",
        ("arrivals.prospects_per_week",),
        ("log",),
        np.array([math.log(rate)]),
        np.array([[1.0 / n]]),
    )
    fits.blocks.append(b)
    fits.add(
        scalar(
            "arrivals.prospects_per_week",
            b,
            n,
            f"Poisson rate: {n:,} leads over {weeks:,.1f} weeks",
        )
    )
    stamp = e.origin + pd.to_timedelta(created, unit="h")
    days = pd.date_range(e.origin + pd.Timedelta(hours=start), e.as_of.normalize(), freq="D")
    _weekday(fits, stamp, days)
    _hourly(fits, stamp, e.has_time["created_at"])
    _monthly(fits, stamp, days)


def _profile(counts: np.ndarray, exposure: np.ndarray) -> tuple[list[float] | None, float]:
    ok = exposure > 0
    expected = exposure / exposure.sum() * counts.sum()
    if ok.sum() < 2 or counts.sum() < 100:
        return None, math.nan
    from scipy import stats

    chi = stats.chisquare(counts[ok], expected[ok])
    rate = np.where(ok, counts / np.where(ok, exposure, 1.0), 0.0)
    mean = rate[ok].mean()
    profile = [round(float(x / mean), 3) if ok[i] else 1.0 for i, x in enumerate(rate)]
    return profile, float(chi.pvalue)


def _write_profile(fits: Fits, key: str, profile, p: float, n: int, what: str) -> None:
    if profile is None:
        fits.notes.append(f"{key}: too few arrivals to see a {what} pattern; none is written")
        return
    if p >= ALPHA:
        fits.notes.append(
            f"{key}: no {what} pattern beyond chance (chi-square p = {p:.2g}); none is written"
        )
        return
    fits.add(
        Parameter(
            key,
            profile,
            None,
            n,
            f"arrivals per {what} over the exposure, mean 1 (chi-square vs flat p = {p:.2g})",
        )
    )


def _weekday(fits: Fits, stamp: pd.DatetimeIndex, days: pd.DatetimeIndex) -> None:
    counts = np.bincount(np.asarray(stamp.weekday), minlength=7).astype(float)
    exposure = np.bincount(np.asarray(days.weekday), minlength=7).astype(float)
    if len(days) < 14:
        fits.notes.append("arrivals.weekday_profile: needs at least two weeks of arrivals")
        return
    profile, p = _profile(counts, exposure)
    _write_profile(fits, "arrivals.weekday_profile", profile, p, int(counts.sum()), "weekday")


def _hourly(fits: Fits, stamp: pd.DatetimeIndex, timed: np.ndarray) -> None:
    key = "arrivals.hourly_profile"
    if timed.mean() < 0.8:
        fits.notes.append(f"{key}: created_at has no time of day, so no hour-of-day profile")
        return
    counts = np.bincount(np.asarray(stamp[timed].hour), minlength=24).astype(float)
    profile, p = _profile(counts, np.ones(24))
    if "hourly_profile" not in Arrivals.model_fields:
        if profile is not None and p < ALPHA:
            fits.notes.append(
                f"{key}: arrivals vary by hour (p = {p:.2g}), but this version of funnelsim "
                "has no such key; the profile is reported, not written"
            )
            fits.add(Parameter(f"report.{key}", profile, None, int(counts.sum()), "report only"))
        return
    _write_profile(fits, key, profile, p, int(counts.sum()), "hour of day")


def _monthly(fits: Fits, stamp: pd.DatetimeIndex, days: pd.DatetimeIndex) -> None:
    key = "arrivals.monthly_seasonality"
    if len(days) < 365:
        fits.notes.append(f"{key}: needs a year of arrivals ({len(days)} days given)")
        return
    counts = np.bincount(np.asarray(stamp.month) - 1, minlength=12).astype(float)
    exposure = np.bincount(np.asarray(days.month) - 1, minlength=12).astype(float)
    profile, p = _profile(counts, exposure)
    _write_profile(fits, key, profile, p, int(counts.sum()), "month")


def _channel_rate(k: int, shown: np.ndarray) -> tuple[float, float] | None:
    """MLE of a rate p from k events and the leads still waiting, each of which would have
    shown its event by the snapshot with probability F(c) if it has one:
    L(p) = k log p + sum log(1 - p F(c)). Returns (p, variance of logit p), or None at 0 or 1."""
    from scipy import optimize

    n = k + shown.size
    if k == 0 or n < MIN_LEADS:
        return None

    def nll(p: float) -> float:
        return -(k * math.log(p) + float(np.sum(np.log1p(-p * shown))))

    res = optimize.minimize_scalar(
        nll, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-10}
    )
    p = float(res.x)
    if not 1e-6 < p < 1 - 1e-6:
        return None
    info = k / p**2 + float(np.sum(shown**2 / (1 - p * shown) ** 2))
    return p, 1.0 / (info * (p * (1 - p)) ** 2)


def fit_channels(e: Export, fits: Fits) -> None:
    """Channels from ``source``, after the stages (their MQL rates use the fitted delay)."""
    if not e.has("source"):
        return
    codes = e.source.codes
    names = np.asarray([*e.source.names, "unknown"], dtype=object)
    label = names[np.where(codes >= 0, codes, len(names) - 1)]
    counts = pd.Series(label).value_counts()
    small = counts[(counts < MIN_LEADS) | (counts < 0.01 * e.n)].index
    label = np.where(pd.Series(label).isin(small), "other", label)
    counts = pd.Series(label).value_counts()
    if len(counts) < 2:
        fits.notes.append("arrivals.channels: one source only; no channels are written")
        return
    mql_fit = fits.delays.get("prospect -> MQL")
    channels = []
    created, mql, until = e.times["created_at"], e.times["mql_at"], e.observed_until
    for i, (name, count) in enumerate(counts.items()):
        mine = label == name
        key = f"arrivals.channels[{i}].mql_rate"
        event = mine & ~np.isnan(mql)
        waiting = mine & np.isnan(mql)
        shown = (
            np.ones(int(waiting.sum()))
            if mql_fit is None
            else mql_fit.cdf((until[waiting] - created[waiting]) / 24.0)
        )
        entry = {"name": str(name), "share": rounded(count / e.n)}
        rate = _channel_rate(int(event.sum()), shown)
        if rate is not None:
            p, var = rate
            b = Block(
                f"channel.{name}",
                (key,),
                ("logit",),
                np.array([math.log(p / (1 - p))]),
                np.array([[var]]),
            )
            fits.blocks.append(b)
            method = (
                "MLE of the channel's MQL rate with the overall time to MQL, censored at the "
                "snapshot (an MQL still to come counts as such)"
            )
            fits.add(scalar(key, b, int(count), method, float(event.sum() / count)))
            entry["mql_rate"] = fits.parameters[key].value
        channels.append(entry)
        fits.add(
            Parameter(
                f"arrivals.channels[{i}].share",
                entry["share"],
                None,
                e.n,
                "share of leads from this source",
            )
        )
    fits.add(
        Parameter(
            "arrivals.channels",
            channels,
            None,
            e.n,
            "lead sources from `source` (under 1% or 30 leads pooled as other)",
        )
    )
