"""The funnel's stages fitted from a checked export, each (rate, delay) pair jointly.

Stage by stage (a stage is skipped, its keys kept neutral with the reason, when the export lacks
its columns or has too few leads):

- prospect -> MQL: ``marketing.mql_rate`` and ``time_to_mql_days``, a mixture cure model over
  every lead, censored at the snapshot;
- hand-off: ``handoff.acceptance_rate`` (binomial) and the rejection-reason mix;
- coverage: the share of accepted MQLs ever worked, a cure model on the wait to first touch;
- reach: ``sales.contact_rate`` (from activities: see `team`; else a cure model on the wait from
  first touch to reach, with one attempt);
- qualification: ``time_to_sql_days`` (cure model from the last known event before the SQL)
  and, where reached leads carry times of day, the response-time decay (`decay`);
- ``deals.opportunity_rate`` and ``time_to_opportunity_days`` (cure model);
- close: where lost deals are dated, the simulator's own structure (every opportunity closes
  after ``sales_cycle_days``, won with ``win_rate``, independently) makes the likelihood
  factor: the cycle is a survival fit over all opportunities (open ones censored) and the win
  rate is won / closed (open deals carry no information about the outcome); where only wins
  are dated (HubSpot), a cure model on the time to a win;
- ``deals.deal_size`` from won amounts (AIC over the families).

A delay of (almost always) zero, e.g. a CRM whose leads are MQLs from the start, is a constant 0
and its rate a plain binomial share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .decay import DecayFit, fit_decay
from .estimates import (
    Block,
    Parameter,
    block_from_fit,
    delay_parameters,
    kept,
    rounded,
    scalar,
)
from .export import Export
from .survival import DelayFit, FitFailed, fit_delay

MIN_LEADS = 30
_MINUTE_D = 1.0 / 1440.0


@dataclass
class Fits:
    """What the fits found so far: parameters by key, covariance blocks, notes and AIC rows."""

    parameters: dict[str, Parameter] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    aic: list[dict] = field(default_factory=list)
    decay: DecayFit | None = None
    delays: dict[str, DelayFit] = field(default_factory=dict)
    sql_base: str = "reached"  # what the SQL step is measured from: reached, touched or mql

    def add(self, *params: Parameter) -> None:
        for p in params:
            self.parameters[p.key] = p

    def keep(self, key: str, value, why: str) -> None:
        self.add(kept(key, value, why))
        self.notes.append(f"{key}: kept at {value!r}: {why}")

    def record(self, what: str, fit: DelayFit) -> None:
        self.delays[what] = fit
        for family, aic in fit.aic.items():
            self.aic.append(
                {"delay": what, "family": family, "aic": aic, "chosen": family == fit.family}
            )


def days(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    return (later - earlier) / 24.0


def _floor(d: np.ndarray, dated: np.ndarray) -> np.ndarray:
    """Durations > 0 for the fits: a zero becomes half a day between dates alone (the events
    fell on the same day), a minute between times."""
    return np.where(d > 0, d, np.where(dated, 0.5, _MINUTE_D))


def rate_and_delay(
    fits: Fits,
    what: str,
    start: np.ndarray,
    end: np.ndarray,
    until: np.ndarray,
    dated: np.ndarray,
    rate_key: str | None,
    delay_key: str | None,
    block: str,
    families: tuple[str, ...] | None = None,
) -> DelayFit | None:
    """Fit one (rate, delay) pair over the leads in ``start`` (hours; NaN: not at risk):
    ``end`` the next stage's time (NaN: not yet), ``until`` the snapshot per lead. Records the
    parameters and block; returns the fit (None when immediate or not fitted)."""
    risk = ~np.isnan(start)
    n = int(risk.sum())
    event = risk & ~np.isnan(end)
    k = int(event.sum())
    naive = k / n if n else math.nan
    if n < MIN_LEADS or k < 5:
        why = f"{what}: {k} events among {n} leads at risk; at least {MIN_LEADS} leads and 5 events"
        if rate_key:
            fits.keep(rate_key, 1.0, why)
        if delay_key:
            fits.keep(delay_key, 0.0, why)
        return None
    d = days(np.where(event, end, until), start)[risk]
    obs = event[risk]
    observed = d[obs]
    if np.median(observed) <= 1.0 / 24.0 and np.mean(observed <= 1.0 / 24.0) >= 0.9:
        _immediate(fits, what, k, n, rate_key, delay_key, block)
        return None
    d = _floor(d, dated[risk])
    fam = families or ("exponential", "lognormal", "gamma")
    try:
        fit = fit_delay(d, obs, cure=rate_key is not None, families=fam, what=what)
    except FitFailed as exc:
        if rate_key:
            fits.keep(rate_key, 1.0, str(exc))
        if delay_key:
            fits.keep(delay_key, 0.0, str(exc))
        return None
    fits.record(what, fit)
    b = block_from_fit(block, fit, rate_key, delay_key)
    fits.blocks.append(b)
    if rate_key:
        fits.add(scalar(rate_key, b, n, fit.method, naive))
    if delay_key:
        fits.add(*delay_parameters(delay_key, fit, b, k, fit.method))
    return fit


def _immediate(fits, what, k, n, rate_key, delay_key, block) -> None:
    method = f"{what}: binomial share; the delay is (almost always) under an hour, so a constant 0"
    if rate_key:
        binomial(fits, rate_key, k, n, method, block)
    if delay_key:
        fits.add(Parameter(delay_key, 0.0, None, k, method))


def binomial(fits: Fits, key: str, k: int, n: int, method: str, block: str) -> None:
    """A plain share k/n with its (logit-scale Wald) interval; 0 or 1 exactly has no block."""
    p = k / n
    if k in (0, n):
        fits.add(Parameter(key, float(p), None, n, f"{method}; all {n} alike, so no interval"))
        return
    theta = math.log(p / (1 - p))
    b = Block(block, (key,), ("logit",), np.array([theta]), np.array([[1.0 / (n * p * (1 - p))]]))
    fits.blocks.append(b)
    fits.add(scalar(key, b, n, method, p))


@dataclass(frozen=True)
class Touches:
    """Per lead: first attempt and first reaching attempt (hours; NaN unknown), and whether
    each carries a time of day. From the export's columns, or else from its activities."""

    first_touch: np.ndarray
    first_touch_timed: np.ndarray
    reached_at: np.ndarray
    reached_timed: np.ndarray


def fit_stages(e: Export, fits: Fits, touches: Touches) -> None:
    """Every stage from MQL to close."""
    first_touch = touches.first_touch
    t, ht, until = e.times, e.has_time, e.observed_until
    created, mql = t["created_at"], t["mql_at"]
    dated = ~(ht["created_at"] & ht["mql_at"])
    rate_and_delay(
        fits,
        "prospect -> MQL",
        created,
        mql,
        until,
        dated,
        "marketing.mql_rate",
        "marketing.time_to_mql_days",
        "marketing.mql",
    )
    _acceptance(e, fits)
    accepted = np.where(e.accepted == 1.0, mql, np.nan)
    fits.sql_base = sql_base(e, touches)
    has_touch = not np.all(np.isnan(first_touch)) and fits.sql_base != "mql"
    if fits.sql_base == "mql" and not np.all(np.isnan(first_touch)):
        fits.keep(
            "sales.coverage",
            1.0,
            "most SQLs have no recorded touch before them, so the SQL rate is measured from "
            "the accepted MQL and takes in coverage and contact",
        )
    elif has_touch:
        dated_touch = ~(ht["mql_at"] & touches.first_touch_timed)
        rate_and_delay(
            fits,
            "accepted MQL -> first touch",
            accepted,
            first_touch,
            until,
            dated_touch,
            "sales.coverage",
            None,
            "sales.coverage",
        )
    elif fits.sql_base != "mql" or np.all(np.isnan(first_touch)):
        fits.keep("sales.coverage", 1.0, "no first-touch times (first_touch_at or activities)")
    _qualification(e, fits, accepted, touches)
    sql = t.get("sql_at", np.full(e.n, np.nan))
    opp = t.get("opportunity_at", np.full(e.n, np.nan))
    rate_and_delay(
        fits,
        "SQL -> opportunity",
        sql,
        opp,
        until,
        ~(ht.get("sql_at", np.zeros(e.n, bool))),
        "deals.opportunity_rate",
        "deals.time_to_opportunity_days",
        "deals.opportunity",
    )
    _close(e, fits, opp)
    _deal_size(e, fits)


def _acceptance(e: Export, fits: Fits) -> None:
    known = ~np.isnan(e.accepted)
    n = int(known.sum())
    if n < MIN_LEADS:
        fits.keep("handoff.acceptance_rate", 1.0, f"only {n} MQLs with an acceptance outcome")
        return
    k = int((e.accepted[known] == 1.0).sum())
    has_col = e.has("accepted") or e.has("rejection_reason")
    if not has_col:
        fits.keep(
            "handoff.acceptance_rate", 1.0, "no accepted or rejection_reason column: all accepted"
        )
        return
    binomial(fits, "handoff.acceptance_rate", k, n, "binomial share of MQLs accepted", "handoff")
    codes = e.reason.codes[(e.accepted == 0.0) & (e.reason.codes >= 0)]
    if codes.size >= 10:
        counts = np.bincount(codes, minlength=len(e.reason.names))
        weights = {
            name: rounded(c / codes.size)
            for name, c in zip(e.reason.names, counts, strict=True)
            if c > 0
        }
        fits.add(
            Parameter(
                "handoff.rejection_reasons",
                weights,
                None,
                int(codes.size),
                "shares of the reasons given for rejected MQLs",
            )
        )
    else:
        fits.notes.append(
            f"handoff.rejection_reasons: only {codes.size} rejections carry a reason; the "
            "default mix is kept"
        )


def _qualification(e: Export, fits: Fits, accepted: np.ndarray, touches: Touches) -> None:
    """Time to SQL from the last known event before it, and the decay when waits have hours."""
    t, ht, until = e.times, e.has_time, e.observed_until
    sql = t.get("sql_at", np.full(e.n, np.nan))
    if fits.sql_base == "reached":
        start, what = touches.reached_at, "reached -> SQL"
    elif fits.sql_base == "touched":
        start, what = touches.first_touch, "first touch -> SQL"
    else:
        start, what = accepted, "accepted MQL -> SQL"
    start = np.where(np.isnan(accepted), np.nan, start)
    dated = ~ht.get("sql_at", np.zeros(e.n, bool))
    fit = rate_and_delay(
        fits,
        what,
        start,
        sql,
        until,
        dated,
        "qualification.sql_rate",
        "qualification.time_to_sql_days",
        "qualification.sql",
    )
    if what != "reached -> SQL":
        for key, value in (
            ("qualification.decay_floor", 1.0),
            ("qualification.decay_tau_hours", 0.5),
        ):
            fits.keep(key, value, f"no reached times, so no waits to fit the decay on ({what})")
        return
    _decay(e, fits, touches, sql, fit)


def sql_base(e: Export, touches: Touches, share: float = 0.95) -> str:
    """The last event before the SQL that (nearly) every SQL has: the reaching attempt, the
    first touch, or else the hand-off. The funnel's stages multiply, so the SQL rate must be
    measured from an event every SQL went through, or the stages before it are counted twice."""
    sql = e.times.get("sql_at", np.full(e.n, np.nan))
    is_sql = ~np.isnan(sql)
    if not is_sql.any():
        return "mql"
    for name, at in (("reached", touches.reached_at), ("touched", touches.first_touch)):
        if np.mean(~np.isnan(at[is_sql]) & (at[is_sql] <= sql[is_sql] + 24.0)) >= share:
            return name
    return "mql"


def _decay(e: Export, fits: Fits, touches: Touches, sql, time_fit: DelayFit | None) -> None:
    t, ht = e.times, e.has_time
    reached_at = touches.reached_at
    reached = ~np.isnan(reached_at) & (e.accepted == 1.0)
    timed = reached & ht["mql_at"] & touches.reached_timed
    keep_keys = (("qualification.decay_floor", 1.0), ("qualification.decay_tau_hours", 0.5))
    if reached.sum() == 0 or timed.sum() < 0.8 * reached.sum():
        why = (
            "the hand-off and reach times are dates without a time of day, so waits of minutes "
            "to hours cannot be measured"
        )
        for key, value in keep_keys:
            fits.keep(key, value, why)
        return
    wait = (reached_at - t["mql_at"])[timed]
    since = days(e.observed_until, reached_at)[timed]
    shown = np.ones(since.size) if time_fit is None else time_fit.cdf(np.maximum(since, 0.0))
    y = ~np.isnan(sql[timed])
    try:
        dfit = fit_decay(np.maximum(wait, 0.0), shown, y)
    except FitFailed as exc:
        for key, value in keep_keys:
            fits.keep(key, value, str(exc))
        return
    fits.decay = dfit
    keys = ("qualification.sql_rate", "qualification.decay_tau_hours", "qualification.decay_floor")
    b = Block("qualification.decay", keys, ("logit", "log", "logit"), dfit.theta, dfit.cov)
    fits.blocks = [x for x in fits.blocks if "qualification.sql_rate" not in x.keys] + [b]
    method = (
        f"maximum likelihood over {dfit.n:,} reached leads' waits (Bernoulli in q(wait) x "
        "F(time since reached), F the fitted time to SQL); profile of tau in the calibration "
        "report"
    )
    naive = float(y.mean())
    fits.add(scalar("qualification.sql_rate", b, dfit.n, method, naive))
    fits.add(scalar("qualification.decay_floor", b, dfit.n, method))
    lo, hi = dfit.tau_interval
    fits.add(
        Parameter(
            "qualification.decay_tau_hours",
            rounded(dfit.tau_hours),
            (lo, hi),
            dfit.n,
            method + "; the interval is the profile-likelihood one",
        )
    )
    if time_fit is not None:
        # The time-to-SQL block keeps only its delay fields; the rate now comes from the decay.
        fits.blocks = [
            x
            if x.name != "qualification.sql"
            else x.sub(tuple(k for k in x.keys if k != "qualification.sql_rate"))
            for x in fits.blocks
        ]


def _close(e: Export, fits: Fits, opp: np.ndarray) -> None:
    t, until = e.times, e.observed_until
    closed = t.get("closed_at", np.full(e.n, np.nan))
    risk = ~np.isnan(opp)
    n = int(risk.sum())
    won = risk & (e.won == 1.0)
    lost = risk & (e.won == 0.0)
    dated = ~e.has_time.get("closed_at", np.zeros(e.n, bool))
    if lost.any():
        is_closed = won | lost
        k, m = int(won.sum()), int(is_closed.sum())
        if m >= MIN_LEADS:
            binomial(
                fits,
                "deals.win_rate",
                k,
                m,
                "won / closed opportunities (an open deal says nothing about its outcome)",
                "deals.win",
            )
            fits.parameters["deals.win_rate"] = _with_naive(
                fits.parameters["deals.win_rate"], k / n if n else math.nan
            )
        else:
            fits.keep("deals.win_rate", 1.0, f"only {m} closed opportunities")
        end = np.where(is_closed, closed, np.nan)
        rate_and_delay(
            fits,
            "opportunity -> close",
            np.where(risk, opp, np.nan),
            end,
            until,
            dated,
            None,
            "deals.sales_cycle_days",
            "deals.cycle",
        )
    else:
        rate_and_delay(
            fits,
            "opportunity -> won",
            np.where(risk, opp, np.nan),
            np.where(won, closed, np.nan),
            until,
            dated,
            "deals.win_rate",
            "deals.sales_cycle_days",
            "deals.win",
        )


def _with_naive(p: Parameter, naive: float) -> Parameter:
    return Parameter(p.key, p.value, p.ci95, p.n, p.method, p.fitted, naive)


def _deal_size(e: Export, fits: Fits) -> None:
    amount = e.amount[(e.won == 1.0) & (e.amount > 0)]
    if amount.size < 10:
        fits.keep(
            "deals.deal_size",
            {"dist": "gamma", "mean": 55000.0, "cv": 0.8},
            f"only {amount.size} won deals with an amount; the presets' value is kept",
        )
        return
    try:
        fit = fit_delay(amount, np.ones(amount.size, bool), cure=False, what="deal size")
    except FitFailed as exc:
        fits.keep("deals.deal_size", {"dist": "gamma", "mean": 55000.0, "cv": 0.8}, str(exc))
        return
    fits.record("deal size", fit)
    b = block_from_fit("deals.deal_size", fit, None, "deals.deal_size")
    fits.blocks.append(b)
    fits.add(*delay_parameters("deals.deal_size", fit, b, int(amount.size), fit.method))
    fits.parameters["deals.deal_size.mean"] = _with_naive(
        fits.parameters["deals.deal_size.mean"], float(amount.mean())
    )


def naive_table(fits: Fits) -> pd.DataFrame:
    rows = [
        {"key": p.key, "fitted": p.value, "naive": p.naive}
        for p in fits.parameters.values()
        if p.naive is not None
    ]
    return pd.DataFrame(rows)
