"""How many replications? Add batches until every requested KPI's confidence interval is tight.

AnyLogic-style sequential rule with a relative precision ``eps`` and a ceiling: after each batch,
a KPI is precise enough when its 95% t half-width ``h = t(n-1) s / sqrt(n)`` is at most
``eps * |yardstick|``. Otherwise the replications it needs are estimated as
``n* = ceil((t(n-1) s / (eps |yardstick|))^2)`` (Law & Kelton; the estimate in Hoad, Robinson &
Davies 2010), and the next batch brings the count to the largest ``n*``, but adds at least a few
and never passes the ceiling. Replication ids are 0..n-1, so the answer equals a plain run of that
many replications.

The yardstick is the KPI's mean for a run, and for a comparison the mean paired difference
itself: the relative precision of the difference, which is what a comparison is asked for. A
difference known to within eps < 1 of itself has a CI that excludes zero; a difference near zero
cannot be known to a share of itself, so such a comparison runs to the ceiling and says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..results import KPI_NAMES
from .limits import MAX_REPLICATIONS, check_count
from .stats import t_quantile

DEFAULT_KPIS = ("revenue",)
# What a relative half-width is a share of: a run's mean, or a comparison's difference.
YARDSTICKS = {"mean": "its mean", "difference": "the difference itself"}
DEFAULT_INITIAL = 10
DEFAULT_MAX = 100
MIN_INITIAL = 3


@dataclass(frozen=True)
class PrecisionReport:
    """What the sequential rule reached: the count, and whether every KPI met the target."""

    target: float
    kpis: tuple[str, ...]
    max_replications: int
    replications_reached: int
    met: bool
    relative_half_width: dict[str, float]
    yardstick: str = "mean"

    def to_dict(self) -> dict:
        """The keys added to ``run --json`` and ``compare --json`` under ``--precision``."""
        return {
            "precision": self.target,
            "precision_kpis": list(self.kpis),
            "max_replications": self.max_replications,
            "replications_reached": self.replications_reached,
            "precision_met": self.met,
            "precision_yardstick": self.yardstick,
            "relative_half_width": {
                k: (None if not math.isfinite(v) else v)
                for k, v in self.relative_half_width.items()
            },
        }

    def describe(self) -> str:
        """One line for people: the count reached and whether the target was met."""
        of = "of the difference" if self.yardstick == "difference" else "of the mean"
        widths = ", ".join(
            f"{k} ±{v:.1%} {of}" if math.isfinite(v) else f"{k} (undefined)"
            for k, v in self.relative_half_width.items()
        )
        verdict = (
            "target met"
            if self.met
            else f"target NOT met at the ceiling of {self.max_replications}"
        )
        line = (
            f"precision ±{self.target:.1%}: {self.replications_reached} replications, "
            f"{verdict} ({widths})"
        )
        near_zero = [k for k, v in self.relative_half_width.items() if not v < 1]
        if self.yardstick == "difference" and not self.met and near_zero:
            line += (
                f"; the CI of {', '.join(near_zero)} still includes zero: a difference this "
                "close to zero cannot be known to a share of itself (read its CI instead)"
            )
        return line


@dataclass(frozen=True)
class PrecisionPlan:
    """Validated settings of the sequential rule."""

    target: float
    kpis: tuple[str, ...]
    initial: int
    max_replications: int
    yardstick: str = "mean"


def plan(
    precision: float | None,
    max_replications: int | None,
    replications: int | None,
    kpis: Iterable[str] | None,
    known_kpis: Iterable[str] = KPI_NAMES,
    yardstick: str = "mean",
) -> PrecisionPlan | None:
    """Check the precision options together; None when no precision was asked for.

    ``replications`` (the caller's explicit count, if any) is the first batch, else
    `DEFAULT_INITIAL`; ``max_replications`` defaults to `DEFAULT_MAX`. ``known_kpis``
    is what ``kpis`` may name. ``yardstick`` ("mean" or "difference", see `YARDSTICKS`) is what
    the half-width is a share of.
    """
    if precision is None:
        if max_replications is not None:
            raise UsageError("--max-replications only applies together with --precision")
        if kpis:
            raise UsageError("--precision-kpi only applies together with --precision")
        return None
    if not (0 < precision <= 1) or not math.isfinite(precision):
        raise UsageError(
            f"--precision is a relative CI half-width, a share of {YARDSTICKS[yardstick]} in "
            f"(0, 1], e.g. 0.05 for ±5% (given: {precision})"
        )
    if replications is not None and not isinstance(replications, int | np.integer):
        raise UsageError("with --precision, replications must be a count (the first batch)")
    initial = (
        DEFAULT_INITIAL
        if replications is None
        else check_count(replications, "--replications", MAX_REPLICATIONS)
    )
    if initial < MIN_INITIAL:
        raise UsageError(
            f"--precision needs a first batch of at least {MIN_INITIAL} replications to estimate "
            f"the spread (given --replications {initial})"
        )
    cap = (
        DEFAULT_MAX
        if max_replications is None
        else check_count(max_replications, "--max-replications", MAX_REPLICATIONS)
    )
    if cap < initial:
        raise UsageError(
            f"--max-replications ({cap}) must be at least the first batch of replications "
            f"({initial})"
        )
    names = tuple(dict.fromkeys(kpis or DEFAULT_KPIS))
    known = set(known_kpis)
    bad = [k for k in names if k not in known]
    if bad:
        raise UsageError(
            f"--precision-kpi: unknown KPI {', '.join(bad)} (known: {', '.join(sorted(known))})"
        )
    return PrecisionPlan(float(precision), names, initial, cap, yardstick)


def relative_half_width(values: np.ndarray, scale: float, level: float = 0.95) -> float:
    """The t half-width of the mean of ``values`` as a share of ``|scale|``.

    0 when every value is the same and the scale is 0; inf when it cannot be judged (fewer than
    2 finite values, or a zero scale with spread).
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2 or not math.isfinite(scale):
        return math.inf
    h = float(t_quantile(level, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    if h == 0:
        return 0.0
    return h / abs(scale) if scale else math.inf


def replications_needed(values: np.ndarray, scale: float, target: float, level: float) -> float:
    """``n* = ceil((t(n-1) s / (target |scale|))^2)``: the count the KPI seems to need."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2 or not scale or not math.isfinite(scale):
        return math.inf
    t = float(t_quantile(level, x.size - 1))
    return float(math.ceil((t * x.std(ddof=1) / (target * abs(scale))) ** 2))


def replicate_until_precise(
    run_batch: Callable[[list[int]], None],
    measure: Callable[[], Mapping[str, tuple[np.ndarray, float]]],
    settings: PrecisionPlan,
    level: float = 0.95,
) -> PrecisionReport:
    """Run replications 0..n-1 in batches until `measure` says every KPI is precise enough.

    ``run_batch(ids)`` runs those replication ids; ``measure()`` returns, for each KPI, the
    values over all replications so far and the scale the half-width is compared with (the
    plan's yardstick: the values' own mean, for a run and for a comparison's differences).
    """
    n = settings.initial
    run_batch(list(range(n)))
    while True:
        current = measure()
        widths = {k: relative_half_width(v, s, level) for k, (v, s) in current.items()}
        met = all(w <= settings.target for w in widths.values())
        if met or n >= settings.max_replications:
            return PrecisionReport(
                settings.target,
                settings.kpis,
                settings.max_replications,
                n,
                met,
                widths,
                settings.yardstick,
            )
        wanted = max(
            replications_needed(v, s, settings.target, level)
            for k, (v, s) in current.items()
            if widths[k] > settings.target
        )
        step = max(MIN_INITIAL, math.ceil(0.1 * n))
        nxt = int(min(settings.max_replications, max(n + step, wanted)))
        run_batch(list(range(n, nxt)))
        n = nxt
