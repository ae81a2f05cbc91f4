"""Charts of a calibration: the backtest's two funnels, Kaplan-Meier curves of observed against
simulated time to stage, and the profile likelihood of the decay's tau. Each returns a
matplotlib Figure (no pyplot state)."""

from __future__ import annotations

import numpy as np

_OBSERVED, _SIMULATED = "#1f4e79", "#d9822b"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def funnel_figure(bt):
    """Stage counts of the holdout: simulated mean with its 95% prediction interval, and the
    observed count."""
    t = bt.frame[bt.frame["group"] == "stage counts"].drop(index="revenue", errors="ignore")
    fig = _figure(8, 4.5)
    ax = fig.add_subplot()
    y = np.arange(len(t))[::-1]
    ax.barh(y, t["simulated"], color=_SIMULATED, alpha=0.35, label="simulated (mean)")
    err = np.vstack([t["simulated"] - t["pi_low"], t["pi_high"] - t["simulated"]])
    ax.errorbar(
        t["simulated"],
        y,
        xerr=err,
        fmt="none",
        ecolor=_SIMULATED,
        capsize=4,
        label="95% prediction interval",
    )
    ax.scatter(t["observed"], y, color=_OBSERVED, zorder=3, label="observed")
    ax.set_yticks(y, t.index)
    ax.set_xscale("log")
    ax.set_xlabel("leads (log scale)")
    ax.set_title(
        f"Holdout from {bt.holdout_from:%Y-%m-%d}: observed vs simulated funnel "
        f"({bt.replications} replications)"
    )
    ax.legend(loc="lower right", fontsize=8)
    return fig


def km_figure(bt):
    """Kaplan-Meier curves (lifelines) of the time to each stage, observed against simulated,
    both censored at the snapshot."""
    from lifelines import KaplanMeierFitter

    labels = list(bt.durations)
    fig = _figure(4 * max(1, len(labels)), 3.6)
    for i, label in enumerate(labels):
        ax = fig.add_subplot(1, len(labels), i + 1)
        for side, color in (("observed", _OBSERVED), ("simulated", _SIMULATED)):
            d, e = bt.durations[label][side]
            if d.size == 0:
                continue
            km = KaplanMeierFitter().fit(d, e, label=side)
            sf = km.survival_function_
            ax.step(sf.index, 1.0 - sf.iloc[:, 0], where="post", color=color, label=side)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("days")
        if i == 0:
            ax.set_ylabel("share reached (1 - KM)")
        ax.legend(fontsize=8)
    return fig


def decay_figure(calibration):
    """The profile log-likelihood of ``decay_tau_hours`` and its 95% interval."""
    prof = calibration.decay_profile
    fig = _figure(6, 3.6)
    ax = fig.add_subplot()
    if prof is None:
        ax.text(0.5, 0.5, "decay not fitted", ha="center", va="center", transform=ax.transAxes)
        return fig
    ax.plot(prof["tau_hours"], -prof["deviance"] / 2.0, color=_OBSERVED, marker=".")
    ax.axhline(-3.841458820694124 / 2.0, color="grey", linestyle="--", label="95% cut")
    ax.set_xscale("log")
    ax.set_xlabel("decay_tau_hours")
    ax.set_ylabel("profile log-likelihood (max = 0)")
    ax.set_ylim(-10, 0.5)
    ax.legend(fontsize=8)
    ax.set_title("Response-time decay: profile likelihood of tau")
    return fig
