"""The sales team from its attempts: first touches and reaches, attempts and cadence, contact
rate, handling time, reps, and the working hours and days in which attempts happen.

The contact rate respects censoring exactly: attempts until a lead is reached are Bernoulli
trials, so with R leads reached over N attempts counted up to and including the reaching one
(a lead still being worked contributes the attempts it had so far) the maximum-likelihood
estimate is R / N with information N / (c (1 - c)), whether or not a lead's cadence is over.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .estimates import Block, Parameter, block_from_fit, delay_parameters, rounded, scalar
from .export import Export
from .stages import Fits, Touches
from .survival import FitFailed, fit_delay

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRESET_HANDLING = {"dist": "exponential", "mean": 18.0}
RECENT_DAYS = 90.0
FINISHED_DAYS = 30.0


def touches(e: Export) -> Touches:
    """First touch and first reach per lead, from the export's columns or else its activities."""
    nan = np.full(e.n, np.nan)
    no = np.zeros(e.n, bool)
    ft = e.times.get("first_touch_at", nan) if e.has("first_touch_at") else nan
    ft_t = e.has_time.get("first_touch_at", no) if e.has("first_touch_at") else no
    ra = e.times.get("reached_at", nan) if e.has("reached_at") else nan
    ra_t = e.has_time.get("reached_at", no) if e.has("reached_at") else no
    acts = e.activities
    if acts is not None and acts.n:
        frame = pd.DataFrame({"lead": acts.lead, "at": acts.at, "timed": acts.has_time})
        first = frame.sort_values("at").groupby("lead").first()
        if not e.has("first_touch_at"):
            ft, ft_t = nan.copy(), no.copy()
            ft[first.index] = first["at"].to_numpy()
            ft_t[first.index] = first["timed"].to_numpy()
        if not e.has("reached_at") and not np.all(np.isnan(acts.reached)):
            hit = frame[acts.reached == 1.0].sort_values("at").groupby("lead").first()
            ra, ra_t = nan.copy(), no.copy()
            ra[hit.index] = hit["at"].to_numpy()
            ra_t[hit.index] = hit["timed"].to_numpy()
    return Touches(ft, ft_t, ra, ra_t)


def fit_team(e: Export, fits: Fits, t: Touches) -> None:
    """Every ``sales.*`` key the attempts identify (coverage is a stage, fitted in `stages`)."""
    acts = e.activities
    if fits.sql_base != "reached":
        base = "first touch" if fits.sql_base == "touched" else "hand-off"
        why = (
            f"the SQL step is measured from the {base} (most SQLs have no recorded reach "
            "before them), so it takes in the contact rate"
        )
        fits.keep("sales.contact_rate", 1.0, why)
        fits.keep("sales.attempts", 1, why)
    elif acts is not None and acts.n and not np.all(np.isnan(acts.reached)):
        _attempts(e, fits, t)
    elif not np.all(np.isnan(t.reached_at)):
        _reach_without_attempts(e, fits, t)
    else:
        fits.keep("sales.contact_rate", 1.0, "no reached times and no activities")
        fits.keep("sales.attempts", 1, "no activities to count attempts in")
    _handling(e, fits)
    _calendar(e, fits, t)
    _reps(e, fits)


def _attempts(e: Export, fits: Fits, t: Touches) -> None:
    acts = e.activities
    assert acts is not None
    reach = t.reached_at[acts.lead]
    counted = np.isnan(reach) | (acts.at <= reach)
    n_att = int(counted.sum())
    reached_leads = int(np.sum(~np.isnan(t.reached_at) & ~np.isnan(t.first_touch)))
    if n_att < 30 or reached_leads in (0, n_att):
        fits.keep("sales.contact_rate", 1.0, f"{reached_leads} reaches in {n_att} attempts")
    else:
        c = reached_leads / n_att
        b = Block(
            "sales.contact",
            ("sales.contact_rate",),
            ("logit",),
            np.array([math.log(c / (1 - c))]),
            np.array([[1.0 / (n_att * c * (1 - c))]]),
        )
        fits.blocks.append(b)
        method = (
            "attempts until reached as Bernoulli trials (MLE reaches / attempts up to the "
            "reaching one; leads still being worked count as far as they got)"
        )
        fits.add(scalar("sales.contact_rate", b, n_att, method))
    frame = pd.DataFrame({"lead": acts.lead[counted], "at": acts.at[counted]}).sort_values("at")
    frame["k"] = frame.groupby("lead").cumcount()
    per_lead = frame.groupby("lead")["k"].max() + 1
    first = frame.groupby("lead")["at"].min()
    unreached = np.isnan(t.reached_at[per_lead.index])
    old = (e.observed_until[per_lead.index] - first.to_numpy()) / 24.0 >= FINISHED_DAYS
    done = per_lead[unreached & old]
    if done.size >= 10:
        attempts = int(done.mode().iloc[0])
        how = f"most common attempt count of {done.size:,} unreached leads worked >= 30 days ago"
    else:
        attempts = int(max(1, round(float(np.percentile(per_lead, 95)))))
        how = "95th percentile of attempts per worked lead (few finished unreached leads)"
    attempts = min(max(attempts, 1), 50)
    fits.add(Parameter("sales.attempts", attempts, None, int(per_lead.size), how))
    frame["offset"] = frame["at"] - frame["lead"].map(first)
    med = frame.groupby("k")["offset"].median()
    cadence = [0.0] + [float(med.get(k, np.nan)) for k in range(1, attempts)]
    cadence = [0.0 if not math.isfinite(x) else x for x in cadence]
    cadence = list(np.maximum.accumulate(np.round(cadence, 2)))
    fits.add(
        Parameter(
            "sales.cadence_hours",
            [float(x) for x in cadence],
            None,
            int(per_lead.size),
            "median hours from a lead's first attempt to its k-th",
        )
    )


def _reach_without_attempts(e: Export, fits: Fits, t: Touches) -> None:
    from .stages import rate_and_delay

    worked = np.where(e.accepted == 1.0, t.first_touch, np.nan)
    rate_and_delay(
        fits,
        "first touch -> reached",
        worked,
        t.reached_at,
        e.observed_until,
        ~(t.first_touch_timed & t.reached_timed),
        "sales.contact_rate",
        None,
        "sales.contact",
    )
    fits.add(
        Parameter(
            "sales.attempts",
            1,
            None,
            0,
            "no activities: one attempt, and contact_rate is the chance a worked lead is ever "
            "reached",
        )
    )


def _handling(e: Export, fits: Fits) -> None:
    acts = e.activities
    minutes = np.empty(0) if acts is None else acts.duration_minutes
    minutes = minutes[np.isfinite(minutes) & (minutes > 0)]
    if minutes.size < 30:
        fits.keep(
            "sales.handling_minutes",
            PRESET_HANDLING,
            f"only {minutes.size} attempts with a duration; the presets' value",
        )
        return
    try:
        fit = fit_delay(minutes, np.ones(minutes.size, bool), cure=False, what="handling time")
    except FitFailed as exc:
        fits.keep("sales.handling_minutes", PRESET_HANDLING, str(exc))
        return
    fits.record("handling time", fit)
    b = block_from_fit("sales.handling", fit, None, "sales.handling_minutes")
    fits.blocks.append(b)
    fits.add(*delay_parameters("sales.handling_minutes", fit, b, int(minutes.size), fit.method))


def _attempt_times(e: Export, t: Touches) -> tuple[np.ndarray, np.ndarray]:
    if e.activities is not None and e.activities.n:
        return e.activities.at, e.activities.has_time
    ok = ~np.isnan(t.first_touch)
    return t.first_touch[ok], t.first_touch_timed[ok]


def _calendar(e: Export, fits: Fits, t: Touches) -> None:
    at, timed = _attempt_times(e, t)
    if at.size < 50:
        fits.keep("sales.calendar", "24/7", f"only {at.size} attempt times")
        return
    stamp = e.origin + pd.to_timedelta(at, unit="h")
    weekday = np.asarray(stamp.weekday)
    share = np.bincount(weekday, minlength=7) / at.size
    days = [d for d, s in zip(DAYS, share, strict=True) if s >= 0.25 / 7]
    n = int(at.size)
    if timed.mean() >= 0.8:
        hour = np.asarray(stamp[timed].hour + stamp[timed].minute / 60.0, float)
        lo, hi = np.percentile(hour, [1, 99])
        start, end = float(math.floor(lo)), float(min(24, math.ceil(hi)))
        if end <= start:
            start, end = 0.0, 24.0
        hours_note = "hours holding the central 98% of attempt start times"
    else:
        start, end = 9.0, 17.0
        hours_note = "attempt times are dates only: the default 9-17 hours are kept"
        fits.notes.append(f"sales.work_hours: {hours_note}")
    if len(days) == 7 and (start == 0 and end == 24 or timed.mean() < 0.8):
        fits.add(
            Parameter(
                "sales.calendar",
                "24/7",
                None,
                n,
                "attempts happen on every day (and, where times are known, at every hour)",
            )
        )
        return
    fits.add(
        Parameter(
            "sales.calendar",
            "business",
            None,
            n,
            "attempts cluster in working hours and days",
        ),
        Parameter("sales.workdays", days, None, n, "weekdays with >= 1/4 of an even share"),
        Parameter(
            "sales.work_hours",
            [start, end],
            None,
            int(timed.sum()),
            hours_note,
            fitted=timed.mean() >= 0.8,
        ),
        Parameter(
            "sales.sla_clock",
            "business",
            None,
            0,
            "the SLA is a policy, not a fit; on a business calendar its clock counts working "
            "hours, so nights and weekends are not breaches by construction",
            fitted=False,
        ),
    )


def _reps(e: Export, fits: Fits) -> None:
    acts = e.activities
    window = e.as_of_h - 24.0 * RECENT_DAYS
    if acts is not None and acts.n and (acts.owner.codes >= 0).any():
        recent = (acts.at >= window) & (acts.owner.codes >= 0)
        codes = acts.owner.codes[recent] if recent.any() else acts.owner.codes
        how = "distinct owners of attempts in the last 90 days of the export"
    elif (e.owner.codes >= 0).any():
        mql = e.times["mql_at"]
        recent = (mql >= window) & (e.owner.codes >= 0)
        codes = e.owner.codes[recent] if recent.any() else e.owner.codes
        how = "distinct owners of leads handed off in the last 90 days of the export"
    else:
        fits.notes.append("sales.reps: no owners in the export; reps are sized from the volume")
        return
    codes = codes[codes >= 0]
    reps = max(1, int(np.unique(codes).size))
    fits.add(Parameter("sales.reps", reps, None, int(codes.size), how))


def workload_reps(fits: Fits, mqls_per_week: float) -> int:
    """Reps enough that capacity never binds (about 50% busy on a 24/7 calendar): the
    stand-in when an export names no owners."""

    def num(key: str, default: float) -> float:
        p = fits.parameters.get(key)
        if p is None:
            return default
        v = p.value
        if isinstance(v, dict):
            m = fits.parameters.get(f"{key}.mean")
            return float(m.value) if m is not None else default
        return float(v)

    attempts = num("sales.attempts", 1)
    minutes = num("sales.handling_minutes", 18.0)
    load = mqls_per_week / 168.0 * attempts * minutes / 60.0
    return max(1, math.ceil(load / 0.5))


__all__ = ["fit_team", "touches", "workload_reps", "rounded"]
