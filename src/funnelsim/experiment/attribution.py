"""Which lever is worth the most? Split a KPI gap between two scenarios into lever contributions.

The levers are the keys in which the scenarios differ, grouped where keys only make sense
together (attempts and their cadence, the decay curve's tau and floor, ...). A coalition of
levers is the baseline with the alternative's values for those keys. Each lever's contribution
is its Shapley value: its marginal effect averaged over every order in which the levers could
be switched on, so interactions are shared fairly and the contributions add up to the whole gap.

Shapley values are exact (all 2^k coalitions) when there are few groups, and estimated from
random orders (each with its reverse, antithetic) when there are many; either way each order's
marginal steps telescope to the gap, so the contributions sum to the total. Every coalition
runs on the same seed and replication ids (common random numbers), and the Shapley value is
linear in the per-replication KPI, so it is computed per replication and reported with a t CI.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError, ScenarioWarning, UsageError
from ..model import FunnelRecord
from ..results import KPI_NAMES
from ..scenario import Scenario, override
from .engine import Job, execute
from .limits import MAX_EXACT_GROUPS, MAX_PERMUTATIONS, check_runs
from .progress import one_bar
from .replications import replication_ids
from .stats import json_number, mean_ci

# The alignment levers as the README names them, in a sales leader's words, and other keys that
# only make sense together. "section.*" stands for every key of a section. A lever's name is
# used when two or more of its keys differ; a lone differing key keeps its own dotted name.
LEVER_GROUPS: dict[str, tuple[str, ...]] = {
    "shared definition": ("handoff.acceptance_rate", "handoff.rejection_reasons"),
    "two-way SLA": (
        "marketing.mql_commitment_per_week",
        "sales.sla_hours",
        "sales.sla_clock",
        "sales.attempts",
        "sales.cadence_hours",
        "sales.coverage",
    ),
    "context at hand-off": (
        "handoff.context_shared",
        "handoff.context_sql_uplift",
        "handoff.context_win_uplift",
        "handoff.rediscovery_days",
    ),
    "recycling to nurture": ("nurture.*",),
    "closed-loop feedback": ("feedback.*",),
    "revenue model": ("deals.revenue", "deals.monthly_churn"),
    "costs": ("costs.*",),
    "decay curve": ("qualification.decay_tau_hours", "qualification.decay_floor"),
    "sales calendar": ("sales.calendar", "sales.work_hours", "sales.workdays"),
    "rep availability": ("sales.availability", "sales.focus_block_minutes"),
    "new-hire ramp": ("sales.new_hires", "sales.ramp_days", "sales.ramp_start_productivity"),
    "run window": ("run.horizon_days", "run.warmup_days", "run.start_date"),
}
# Scenario section -> the theme a leader recognises: the default grouping of `attribute`, shared
# by the command line, the HTML report and the notebooks (a few bars, 2^themes coalitions).
THEMES = {
    "arrivals": "marketing",
    "marketing": "marketing",
    "handoff": "hand-off",
    "sales": "sales follow-up",
    "qualification": "qualification",
    "deals": "deals",
    "nurture": "nurture & feedback",
    "feedback": "nurture & feedback",
    "costs": "costs",
    "run": "run window",
}
BY = ("themes", "levers", "keys")
# Not levers: labels, and what the experiment itself sets.
NOT_LEVERS = ("name", "description", "run.seed", "run.replications")
EXACT_MAX_GROUPS = 8
DEFAULT_PERMUTATIONS = 32


@dataclass(frozen=True)
class Attribution:
    """A KPI gap (alternative - baseline) split into the Shapley contribution of each lever group.

    ``per_replication``: each group's contribution in each replication (index ``replication``);
    its row sums equal ``alternative_values - baseline_values``. ``groups``: group -> keys.
    ``method``: "exact" or "sampled" (``permutations`` random orders); ``coalitions``: how many
    distinct scenarios ran, each for every replication; ``inert``: the groups found not to
    move the KPI at all (left out of the expansion, contribution exactly zero).
    """

    baseline: Scenario
    alternative: Scenario
    kpi: str
    seed: int
    groups: dict[str, tuple[str, ...]]
    per_replication: pd.DataFrame
    baseline_values: pd.Series
    alternative_values: pd.Series
    method: str
    permutations: int | None = None
    coalitions: int = 0
    inert: tuple[str, ...] = ()  # groups found not to move the KPI: contribution exactly 0
    level: float = 0.95

    @property
    def replications(self) -> int:
        return len(self.per_replication)

    @property
    def total(self) -> float:
        """Mean KPI of the alternative minus that of the baseline."""
        return float(np.mean(self.alternative_values) - np.mean(self.baseline_values))

    @property
    def contributions(self) -> pd.Series:
        """Each group's mean contribution, in group order; they add up to `total`."""
        return self.per_replication.mean(axis=0).rename(self.kpi)

    def ci(self) -> pd.DataFrame:
        """Per group: contribution, ci_low, ci_high (t interval over replications)."""
        rows = {}
        for g in self.per_replication.columns:
            m, lo, hi, _ = mean_ci(self.per_replication[g].to_numpy(float), self.level)
            rows[g] = {"contribution": m, "ci_low": lo, "ci_high": hi}
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "group"
        return out

    def table(self) -> pd.DataFrame:
        """The waterfall: the baseline's mean, each group's step (largest first) with its CI,
        running ``cumulative`` level and ``share`` of the gap, then the alternative's mean; ``n``
        is the replications behind every row."""
        base = float(np.mean(self.baseline_values))
        alt = float(np.mean(self.alternative_values))
        gap_m, gap_lo, gap_hi, _ = mean_ci(
            self.alternative_values.to_numpy(float) - self.baseline_values.to_numpy(float),
            self.level,
        )
        ci = self.ci().sort_values("contribution", ascending=False, kind="stable")
        rows = [_step("baseline", base, np.nan, np.nan, base, np.nan, self.baseline.name)]
        level = base
        for g, r in ci.iterrows():
            level += r["contribution"]
            share = r["contribution"] / self.total if self.total else np.nan
            keys = ", ".join(self.groups[str(g)])
            rows.append(
                _step(str(g), r["contribution"], r["ci_low"], r["ci_high"], level, share, keys)
            )
        rows.append(
            _step("total gap", gap_m, gap_lo, gap_hi, alt, 1.0 if self.total else np.nan, "")
        )
        rows.append(_step("alternative", alt, np.nan, np.nan, alt, np.nan, self.alternative.name))
        out = pd.DataFrame(rows).set_index("step")
        out["n"] = self.replications  # every step is a mean over all the replications
        return out

    def _repr_html_(self) -> str:
        from ..formatting import html_table, unit_of

        unit = unit_of(self.kpi)
        return html_table(
            self.table(),
            f"{self.kpi}: {self.alternative.name} vs {self.baseline.name}, {self.method} "
            f"Shapley values over {self.replications} replications",
            column_units={"value": unit, "ci_low": unit, "ci_high": unit, "cumulative": unit},
        )

    def to_dict(self) -> dict:
        """The contract's ``attribute --json`` document, plus CIs and how it was computed."""
        ci = self.ci()
        _, lo, hi, _ = mean_ci(
            self.alternative_values.to_numpy(float) - self.baseline_values.to_numpy(float),
            self.level,
        )
        return {
            "baseline": self.baseline.name,
            "alternative": self.alternative.name,
            "kpi": self.kpi,
            "seed": self.seed,
            "replications": self.replications,
            "method": self.method,
            "permutations": self.permutations,
            "baseline_value": json_number(np.mean(self.baseline_values)),
            "alternative_value": json_number(np.mean(self.alternative_values)),
            "total": json_number(self.total),
            "total_ci95": [json_number(lo), json_number(hi)],
            "contributions": {g: json_number(v) for g, v in self.contributions.items()},
            "ci95": {
                g: [json_number(r["ci_low"]), json_number(r["ci_high"])] for g, r in ci.iterrows()
            },
            "groups": {g: list(keys) for g, keys in self.groups.items()},
            "inert": list(self.inert),
            "coalitions": self.coalitions,
        }


def _step(
    step: str, value: float, lo: float, hi: float, cumulative: float, share: float, keys: str
) -> dict[str, Any]:
    return {
        "step": step,
        "value": value,
        "ci_low": lo,
        "ci_high": hi,
        "cumulative": cumulative,
        "share": share,
        "keys": keys,
    }


def differing_keys(baseline: Scenario, alternative: Scenario) -> list[str]:
    """Dotted keys whose values differ between the scenarios (labels and run.seed/replications
    excluded), in schema order."""
    a, b = _flat(baseline.to_dict()), _flat(alternative.to_dict())
    keys = list(dict.fromkeys([*a, *b]))
    return [k for k in keys if k not in NOT_LEVERS and a.get(k) != b.get(k)]


def lever_groups(
    baseline: Scenario,
    alternative: Scenario,
    groups: Mapping[str, Sequence[str]] | None = None,
    by: str = "levers",
) -> dict[str, tuple[str, ...]]:
    """Group name -> the differing keys it switches.

    ``groups`` (name -> keys) come first, in their order; each key must differ between the
    scenarios (`UsageError` otherwise: it would be a lever that cannot move anything). With
    ``by="levers"`` every other differing key joins the
    known lever it belongs to (`LEVER_GROUPS`) when another key of that lever differs too, and
    is its own group otherwise; with ``by="keys"`` every other differing key is its own group.
    """
    if by not in BY:
        raise UsageError(f"--by must be one of {', '.join(BY)} (given: {by!r})")
    if by == "themes":
        return _themes(baseline, alternative, groups)
    valid = set(_flat(baseline.to_dict()))
    diff = differing_keys(baseline, alternative)
    out: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for name, keys in (groups or {}).items():
        if isinstance(keys, str):
            keys = [keys]
        for k in keys:
            if k not in valid or k in NOT_LEVERS:
                raise UsageError(f"--group {name}: {k!r} is not a lever key of the scenarios")
            if k in owner:
                raise UsageError(f"--group: {k} is in both {owner[k]} and {name}")
            if k not in diff:
                raise UsageError(
                    f"--group {name}: {k} is equal in both scenarios "
                    f"({baseline.name} and {alternative.name}), so there is nothing to switch; "
                    "list only keys whose values differ"
                )
            owner[k] = name
        out[str(name)] = []
    lever = {k: _lever_of(k) for k in diff if k not in owner} if by == "levers" else {}
    for k in diff:
        if k in owner:
            out[owner[k]].append(k)
            continue
        name = lever.get(k)
        if name is None or sum(1 for v in lever.values() if v == name) < 2:
            name = k
        out.setdefault(name, []).append(k)
    return {g: tuple(keys) for g, keys in out.items()}


def lever_themes(baseline: Scenario, alternative: Scenario) -> dict[str, list[str]]:
    """The differing lever keys grouped by theme (`THEMES`, by the key's scenario section), in
    the order the levers come: e.g. ``{"hand-off": ["handoff.acceptance_rate"], ...}``."""
    return {g: list(keys) for g, keys in _themes(baseline, alternative, None).items()}


def _themes(
    baseline: Scenario, alternative: Scenario, groups: Mapping[str, Sequence[str]] | None
) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for name, keys in lever_groups(baseline, alternative, groups, "levers").items():
        if groups and name in groups:
            out.setdefault(name, []).extend(keys)
            continue
        for key in keys:
            section = key.split(".", 1)[0]
            out.setdefault(THEMES.get(section, section), []).append(key)
    return {g: tuple(keys) for g, keys in out.items()}


def _lever_of(key: str) -> str | None:
    section = key.split(".", 1)[0]
    for name, members in LEVER_GROUPS.items():
        if key in members or f"{section}.*" in members:
            return name
    return None


@one_bar
def attribute(
    baseline: Scenario,
    alternative: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    kpi: str = "revenue",
    groups: Mapping[str, Sequence[str]] | None = None,
    by: str = "themes",
    exact_max_groups: int = EXACT_MAX_GROUPS,
    permutations: int | None = None,
    executor: Any = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
    extra_kpis: Callable[[FunnelRecord], Mapping[str, float]] | None = None,
    prune_inert: bool = True,
) -> Attribution:
    """Split the gap in ``kpi`` (alternative - baseline) into each lever group's Shapley value.

    ``groups``: explicit groups, name -> dotted keys; ``by``: "themes" (default: the other
    differing keys grouped by what they are about, `THEMES`), "levers" (the named alignment
    levers) or "keys" (each apart); see `lever_groups`.

    A group that cannot move ``kpi`` is found on common random numbers and left out of the 2^k
    expansion, with a contribution of exactly zero: one whose switch, alone from the baseline
    and alone back from the alternative, changes ``kpi`` in no replication (``inert``). That
    is exact for a lever the KPI does not depend on (churn and bookings); it would miss only a
    lever that mattered purely through interactions, neither alone. The steps still add up to
    the gap, since switching the inert groups back changes nothing. ``prune_inert=False``
    runs the whole expansion instead.
    Exact Shapley values when there are at most ``exact_max_groups`` groups (2^k coalitions),
    else ``permutations`` random orders (even, default 32, half of them the reverse of the
    other half), drawn from ``seed``. ``replications``/``seed`` default to the baseline's
    ``[run]`` values; every coalition runs replications 0..R-1 on that seed. ``executor``
    works as in `run`.
    """
    if extra_kpis is None and kpi not in KPI_NAMES:
        raise UsageError(f"--kpi: unknown KPI {kpi!r} (known: {', '.join(KPI_NAMES)})")
    if (
        isinstance(exact_max_groups, bool)
        or not isinstance(exact_max_groups, int)
        or not 1 <= exact_max_groups <= MAX_EXACT_GROUPS
    ):
        raise UsageError(
            f"--exact-max-groups must be a whole number from 1 to {MAX_EXACT_GROUPS}, the most "
            f"groups attributed exactly (2^k coalitions; default {EXACT_MAX_GROUPS}) "
            f"(given: {exact_max_groups!r})"
        )
    seed = baseline.run.seed if seed is None else int(seed)
    reps = tuple(replication_ids(baseline, replications))
    if len(reps) < 2 and replications is not None:
        raise UsageError(f"attribution needs at least 2 replications for its CIs (given: {reps})")
    groups_ = lever_groups(baseline, alternative, groups, by)
    active = [g for g, keys in groups_.items() if keys]
    if not active:
        raise UsageError(
            f"{baseline.name} and {alternative.name} differ in no lever key: there is no gap to "
            "attribute"
        )
    k = len(active)
    if k <= exact_max_groups and permutations is not None:
        raise UsageError(
            f"--permutations applies to sampled attribution, but {k} groups are computed "
            f"exactly (at most {exact_max_groups}); drop --permutations or set "
            f"--exact-max-groups below {k}"
        )
    m = DEFAULT_PERMUTATIONS if permutations is None else permutations
    if isinstance(m, bool) or not isinstance(m, int) or not 2 <= m <= MAX_PERMUTATIONS or m % 2:
        raise UsageError(
            f"--permutations must be an even number from 2 to {MAX_PERMUTATIONS:,} (given: {m!r})"
        )
    full = 2**k - 1
    check_runs((2**k if k <= exact_max_groups else m * (k + 1)) * len(reps), "the coalitions")
    alt_flat = _flat(alternative.to_dict())
    values: dict[int, np.ndarray] = {}

    def evaluate(masks: Sequence[int], what: str) -> None:
        todo = sorted({mask for mask in masks if mask not in values})
        if not todo:
            return
        jobs = [
            Job(
                mask, _coalition(baseline, alternative, alt_flat, groups_, active, mask, full), reps
            )
            for mask in todo
        ]
        outcomes = execute(
            jobs,
            seed,
            executor=executor,
            chunk_size=chunk_size,
            extra_kpis=extra_kpis,
            progress=progress,
            desc=f"attribute: {what}",
        )
        values.update(_values(outcomes, kpi))

    # Which groups cannot move the KPI: each alone from the baseline, and (for those that did
    # nothing there) alone back from the alternative, on common random numbers.
    evaluate([0, full, *(1 << i for i in range(k))], f"{k} groups, one at a time")
    still = [i for i in range(k) if prune_inert and np.array_equal(values[1 << i], values[0])]
    evaluate([full ^ (1 << i) for i in still], "checking the groups that moved nothing")
    inert = [i for i in still if np.array_equal(values[full ^ (1 << i)], values[full])]
    live = [i for i in range(k) if i not in inert]
    top = sum(1 << i for i in live)
    if inert:
        evaluate([top], "all but the inert groups")
        if not np.array_equal(values[top], values[full]):
            inert, live, top = [], list(range(k)), full  # they matter together: keep them all

    def lift(mask: int) -> int:
        """A coalition of the live groups as a coalition of all groups."""
        return sum(1 << live[j] for j in range(len(live)) if mask >> j & 1)

    kl = len(live)
    exact = kl <= exact_max_groups
    if exact:
        orders = None
        small = list(range(2**kl))
    else:
        orders = _antithetic_orders(kl, m, seed)
        small = sorted({_prefix(o, j) for o in orders for j in range(kl + 1)})
    evaluate([lift(mask) for mask in small], f"{kl} groups, {len(small)} coalitions")
    game = {mask: values[lift(mask)] for mask in small}
    phi = _exact(game, kl) if orders is None else _sampled(game, orders)
    zero = np.zeros(len(reps))
    per_group = {active[i]: phi[j] for j, i in enumerate(live)}
    per_rep = pd.DataFrame(
        {g: per_group.get(g, zero) for g in groups_},
        index=pd.Index(reps, name="replication"),
    )
    return Attribution(
        baseline,
        alternative,
        kpi,
        seed,
        groups_,
        per_rep,
        pd.Series(values[0], index=per_rep.index, name=baseline.name),
        pd.Series(values[full], index=per_rep.index, name=alternative.name),
        "exact" if exact else "sampled",
        None if exact else len(orders or ()),
        len(values),
        inert=tuple(active[i] for i in inert),
    )


def shapley_exact(value: Callable[[int], np.ndarray | float], k: int) -> np.ndarray:
    """Exact Shapley values of a k-player game given ``value(mask)`` for every coalition bitmask;
    row i is player i's value (vectorised over whatever ``value`` returns)."""
    return _exact({m: np.asarray(value(m), float) for m in range(2**k)}, k)


def shapley_sampled(
    value: Callable[[int], np.ndarray | float], k: int, permutations: int, seed: int
) -> np.ndarray:
    """Shapley values estimated from ``permutations`` antithetic random orders."""
    orders = _antithetic_orders(k, permutations, seed)
    masks = {_prefix(o, j) for o in orders for j in range(k + 1)}
    return _sampled({m: np.asarray(value(m), float) for m in masks}, orders)


def _exact(values: Mapping[int, np.ndarray], k: int) -> np.ndarray:
    fact = [math.factorial(i) for i in range(k + 1)]
    weight = [fact[s] * fact[k - s - 1] / fact[k] for s in range(k)]
    size = [bin(m).count("1") for m in range(2**k)]
    shape = np.shape(values[0])
    phi = np.zeros((k, *shape))
    for i in range(k):
        bit = 1 << i
        for m in range(2**k):
            if not m & bit:
                phi[i] += weight[size[m]] * (values[m | bit] - values[m])
    return phi


def _sampled(values: Mapping[int, np.ndarray], orders: Sequence[Sequence[int]]) -> np.ndarray:
    k = len(orders[0])
    phi = np.zeros((k, *np.shape(values[0])))
    for order in orders:
        mask = 0
        for player in order:
            nxt = mask | (1 << int(player))
            phi[player] += values[nxt] - values[mask]
            mask = nxt
    return phi / len(orders)


def _antithetic_orders(k: int, permutations: int, seed: int) -> list[tuple[int, ...]]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"shapley"),)))
    orders = []
    for _ in range(permutations // 2):
        o = tuple(int(x) for x in rng.permutation(k))
        orders += [o, o[::-1]]
    return orders


def _prefix(order: Sequence[int], j: int) -> int:
    mask = 0
    for player in order[:j]:
        mask |= 1 << int(player)
    return mask


def _coalition(
    baseline: Scenario,
    alternative: Scenario,
    alt_flat: Mapping[str, Any],
    groups: Mapping[str, Sequence[str]],
    active: Sequence[str],
    mask: int,
    full: int,
) -> Scenario:
    if mask == 0:
        return baseline
    if mask == full:
        return alternative
    names = [g for i, g in enumerate(active) if mask >> i & 1]
    changes = {key: alt_flat[key] for g in names for key in groups[g]}
    try:
        with warnings.catch_warnings():
            # The two scenarios were checked when loaded; their mixtures would only repeat that.
            warnings.simplefilter("ignore", ScenarioWarning)
            return override(baseline, changes)
    except ScenarioError as exc:
        raise UsageError(
            f"switching only {', '.join(names)} to {alternative.name}'s values makes an invalid "
            f"scenario ({exc}); put keys that must change together into one group, e.g. "
            f"--group NAME={','.join(changes)}"
        ) from None


def _values(outcomes: Sequence[Any], kpi: str) -> dict[int, np.ndarray]:
    out: dict[int, list[float]] = {}
    for o in outcomes:
        if kpi not in o.kpis:
            raise UsageError(f"--kpi: unknown KPI {kpi!r} (known: {', '.join(o.kpis)})")
        out.setdefault(o.key, []).append(float(o.kpis[kpi]))
    return {m: np.asarray(v, float) for m, v in out.items()}


def _flat(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for sub, v in value.items():
                out[f"{key}.{sub}"] = v
        else:
            out[key] = value
    return out
