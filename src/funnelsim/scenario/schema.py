"""The scenario schema: every knob, its unit, its neutral value and its allowed range.

A key a file leaves out takes its *neutral* value, which switches its mechanism off (rates of 1,
no delay, no decay, no score effect), so a small file describes exactly the plain model it names.
The presets in ``scenarios/`` carry the realistic, sourced values.

Every knob is bounded on both sides, so that whatever a file says, a run is finite in time and
memory and no count outgrows the integer type that stores it. The pattern, for a new key:
a number gets ``Field(ge=..., le=...)`` (or gt/lt), a list ``Field(max_length=...)`` and bounded
elements, a text ``max_length``, a distribution ``Annotated[Dist, MeanAtMost(...)]``.
`funnelsim.scenario.bounds` reads them back for the README's table, and a test fails for any
numeric key without an upper bound. Limits across keys (prospects per replication, memory) are
in `checks.hard_checks`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from ..caps import (  # noqa: F401  re-exported: the bounds live beside the schema
    MAX_ATTEMPTS,
    MAX_CHANNELS,
    MAX_COST,
    MAX_CYCLES,
    MAX_DAYS,
    MAX_DEAL,
    MAX_HOURS,
    MAX_MONTHS,
    MAX_MULTIPLIER,
    MAX_NAME,
    MAX_REASONS,
    MAX_REPLICATIONS,
    MAX_REPS,
    MAX_SEED,
    MAX_WEIGHT,
)
from ..distributions import Distribution, parse_distribution
from .parameters import Uncertainty

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DistributionKnob:
    """Marks a key that takes a distribution (for `bounds`, which then wants a `MeanAtMost`)."""


Dist = Annotated[
    Any,
    BeforeValidator(parse_distribution),
    PlainSerializer(lambda d: d.spec(), return_type=Any),
    DistributionKnob(),
]
OptionalDist = Annotated[
    Any,
    BeforeValidator(lambda v: None if v is None else parse_distribution(v)),
    PlainSerializer(lambda d: None if d is None else d.spec(), return_type=Any),
    DistributionKnob(),
]


@dataclass(frozen=True)
class MeanAtMost:
    """The upper bound of a distribution knob: its analytic mean (a constant's value) is at
    most ``limit``, in ``unit``. Put it beside the type: ``Annotated[Dist, MeanAtMost(480)]``."""

    limit: float
    unit: str = ""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, d: Distribution | None) -> Distribution | None:
        if d is not None and d.mean > self.limit:
            raise ValueError(f"its mean must be at most {self.limit:g} (given: mean {d.mean:g})")
        return d


def _not_bool(value: Any) -> Any:
    # TOML's true/false would otherwise pass as 1 and 0.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


Float = Annotated[float, BeforeValidator(_not_bool)]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Rate = Annotated[Float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Days = Annotated[Dist, MeanAtMost(MAX_DAYS, "days")]
OptionalDays = Annotated[OptionalDist, MeanAtMost(MAX_DAYS, "days")]
Multipliers = tuple[Annotated[Float, Field(ge=0.0, le=MAX_MULTIPLIER)], ...]


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=False, validate_default=True, allow_inf_nan=False
    )


class Run(_Section):
    horizon_days: Float = Field(
        gt=0, le=MAX_DAYS, description="prospects arrive during [0, horizon_days)"
    )
    warmup_days: Float = Field(
        0.0, ge=0, lt=MAX_DAYS, description="arrivals before this are not counted"
    )
    replications: Int = Field(20, ge=1, le=MAX_REPLICATIONS)
    seed: Int = Field(1, ge=0, le=MAX_SEED)
    start_date: dt.date = Field(
        dt.date(2029, 1, 1),
        ge=dt.date(1900, 1, 1),
        le=dt.date(2199, 12, 31),
        description="calendar date of day 0 (weekdays, months, reports)",
    )

    @model_validator(mode="after")
    def _warmup_inside_horizon(self) -> Run:
        if self.warmup_days >= self.horizon_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days:g}) must be less than horizon_days "
                f"({self.horizon_days:g}), or no prospect is counted"
            )
        return self


class Channel(_Section):
    """One lead source. Unset fields fall back to the scenario-wide value."""

    name: Name
    share: Float = Field(
        gt=0, le=MAX_WEIGHT, description="relative share of arrivals.prospects_per_week"
    )
    mql_rate: Rate | None = None
    time_to_mql_days: OptionalDays = None
    score_shift: Float = Field(
        0.0, ge=-3.0, le=3.0, description="mean lead score of this channel, in population SDs"
    )
    cost_per_prospect: Float | None = Field(None, ge=0, le=MAX_COST)


class Arrivals(_Section):
    prospects_per_week: Float = Field(gt=0, le=1e7)
    channels: tuple[Channel, ...] = Field(
        (),
        max_length=MAX_CHANNELS,
        description="lead sources sharing out prospects_per_week; none: one plain stream",
    )
    weekday_profile: Multipliers | None = Field(
        None,
        max_length=7,
        description="7 multipliers, Monday first; rescaled so the weekly mean is kept",
    )
    monthly_seasonality: Multipliers | None = Field(
        None,
        max_length=12,
        description="12 multipliers, January first; rescaled so the yearly mean is kept",
    )
    hourly_profile: Multipliers | None = Field(
        None,
        max_length=24,
        description="24 multipliers, midnight first (hour of day); rescaled so the daily mean "
        "is kept",
    )

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, v: tuple[Channel, ...]) -> tuple[Channel, ...]:
        names = [c.name for c in v]
        if len(set(names)) != len(names):
            raise ValueError(f"channel names must be unique (given: {', '.join(names)})")
        return v

    @field_validator("weekday_profile")
    @classmethod
    def _seven(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        return _profile(v, 7, "weekday_profile needs 7 numbers >= 0, Monday first")

    @field_validator("monthly_seasonality")
    @classmethod
    def _twelve(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        return _profile(v, 12, "monthly_seasonality needs 12 numbers >= 0, January first")

    @field_validator("hourly_profile")
    @classmethod
    def _twenty_four(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        return _profile(v, 24, "hourly_profile needs 24 numbers >= 0, the hour from midnight first")


def _profile(v: tuple[float, ...] | None, n: int, what: str) -> tuple[float, ...] | None:
    if v is None:
        return v
    if len(v) != n or any(x < 0 or not math.isfinite(x) for x in v) or sum(v) <= 0:
        raise ValueError(f"{what}, not all zero (given {len(v)} numbers)")
    return v


class Marketing(_Section):
    mql_rate: Rate = 1.0
    time_to_mql_days: Days = 0.0
    score_strength: Float = Field(
        0.0, ge=0.0, le=5.0, description="log-odds change per standard deviation of lead score"
    )
    mql_commitment_per_week: Float | None = Field(
        None, gt=0, le=1e7, description="two-way SLA: MQLs marketing promises sales each week"
    )


DEFAULT_REJECTION_REASONS = {
    # Reason codes from practice (domain-facts.md §3, rework.com playbook) [S-]; the mix is [A].
    "wrong_fit": 0.35,
    "not_ready": 0.25,
    "bad_contact_data": 0.15,
    "wrong_persona": 0.15,
    "existing_customer": 0.05,
    "competitor": 0.05,
}


class Handoff(_Section):
    acceptance_rate: Rate = 1.0
    context_shared: Rate = Field(
        0.0, description="how much of what marketing learned reaches the rep (0 none, 1 all)"
    )
    context_sql_uplift: Float = Field(
        0.0, ge=0, le=2, description="relative SQL-chance gain at full context"
    )
    context_win_uplift: Float = Field(
        0.0, ge=0, le=2, description="relative win-chance gain at full context"
    )
    rediscovery_days: Days = Field(
        0.0, description="extra sales-cycle days when no context is shared (scaled by 1 - level)"
    )
    rejection_reasons: dict[Name, Annotated[Float, Field(ge=0, le=MAX_WEIGHT)]] = Field(
        default_factory=lambda: dict(DEFAULT_REJECTION_REASONS),
        max_length=MAX_REASONS,
        description="relative weights of the reasons a rejected MQL is given",
    )

    @field_validator("rejection_reasons")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(w < 0 or not math.isfinite(w) for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("rejection_reasons needs at least one reason with a weight > 0")
        return v


class Sales(_Section):
    reps: Int = Field(ge=1, le=MAX_REPS)
    calendar: Literal["24/7", "business"] = "24/7"
    work_hours: tuple[
        Annotated[Float, Field(ge=0, le=24)], Annotated[Float, Field(ge=0, le=24)]
    ] = Field((9.0, 17.0), description="business calendar: start and end hour of the working day")
    workdays: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = Field(
        ("mon", "tue", "wed", "thu", "fri"), max_length=7
    )
    availability: Float = Field(
        1.0, ge=0.01, le=1.0, description="share of working time given to MQL follow-up"
    )
    focus_block_minutes: Float = Field(
        60.0,
        ge=10.0,
        le=10080.0,
        description="length of the cycle in which a rep gives `availability` to MQLs",
    )
    sla_hours: Float = Field(24.0, gt=0, le=MAX_HOURS)
    sla_clock: Literal["calendar", "business"] = "calendar"
    handling_minutes: Annotated[Dist, MeanAtMost(1440.0, "minutes")]
    attempts: Int = Field(1, ge=1, le=MAX_ATTEMPTS)
    cadence_hours: tuple[Annotated[Float, Field(ge=0, le=MAX_HOURS)], ...] = Field(
        (0.0, 1.0, 24.0, 72.0, 168.0, 336.0),
        max_length=MAX_ATTEMPTS,
        description="when attempt k is due, in hours after the first attempt started",
    )
    contact_rate: Rate = 1.0
    coverage: Rate = 1.0
    queue: Literal["fifo", "lifo", "priority"] = "fifo"
    routing: Literal["pool", "round_robin", "load_balanced"] = Field(
        "pool",
        description="who may work a lead: any rep (pool), its owner given in turn "
        "(round_robin) or its owner with the fewest open leads (load_balanced)",
    )
    reassign_after_hours: Float | None = Field(
        None,
        gt=0,
        le=MAX_HOURS,
        description="an owned lead not touched by then goes to the shared pool",
    )
    pull_times: tuple[Annotated[Float, Field(ge=0, lt=24)], ...] | None = Field(
        None,
        max_length=24,
        description="hours of the working day at which reps look for new leads (e.g. [9, 13]); "
        "none: they see each lead at once",
    )
    vacation_days_per_year: Float = Field(
        0.0, ge=0, le=200, description="working days each rep is away per year, drawn at random"
    )
    vacation_block_days: Annotated[Int, Field(ge=1, le=60)] = Field(
        1, description="vacations come in blocks of this many consecutive working days"
    )
    new_hires: Int = Field(
        0, ge=0, le=MAX_REPS, description="reps (of `reps`) who start ramping up at day 0"
    )
    ramp_days: Float = Field(
        90.0, gt=0, le=MAX_DAYS, description="days a new hire takes to reach full speed"
    )
    ramp_start_productivity: Float = Field(
        0.5, ge=0.01, le=1, description="a new hire's speed on day 0, as a share of full speed"
    )

    @model_validator(mode="after")
    def _hires_are_reps(self) -> Sales:
        if self.new_hires > self.reps:
            raise ValueError(f"new_hires ({self.new_hires}) cannot exceed reps ({self.reps})")
        return self

    @model_validator(mode="after")
    def _pulls_in_working_hours(self) -> Sales:
        if self.pull_times is None:
            return self
        start, end = (0.0, 24.0) if self.calendar == "24/7" else self.work_hours
        outside = [h for h in self.pull_times if not start <= h < end]
        if outside:
            raise ValueError(
                f"pull_times must be hours of the working day, in [{start:g}, {end:g}) "
                f"(given: {', '.join(f'{h:g}' for h in outside)} outside)"
            )
        return self

    @field_validator("pull_times")
    @classmethod
    def _pull_list(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is None:
            return v
        if not v or any(not math.isfinite(h) for h in v) or len(set(v)) != len(v):
            raise ValueError(
                "pull_times needs one or more distinct hours of the day, e.g. [9] or [9, 13]"
            )
        return tuple(sorted(v))

    @field_validator("work_hours")
    @classmethod
    def _hours(cls, v: tuple[float, float]) -> tuple[float, float]:
        start, end = v
        if not (0 <= start < end <= 24):
            raise ValueError(
                f"work_hours needs 0 <= start < end <= 24 (given [{start:g}, {end:g}]): "
                "a business calendar with no working hours can never follow up a lead"
            )
        return v

    @field_validator("workdays")
    @classmethod
    def _days(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError(
                "workdays is empty: a business calendar with no working days can never follow up"
            )
        if len(set(v)) != len(v):
            raise ValueError("workdays lists a day twice")
        return v

    @field_validator("cadence_hours")
    @classmethod
    def _cadence(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or v[0] != 0 or any(b < a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(
                "cadence_hours must start at 0 and never decrease, e.g. [0, 1, 24, 72, 168, 336]"
            )
        return v


class Qualification(_Section):
    sql_rate: Rate = 1.0
    decay_tau_hours: Float = Field(0.5, gt=0, le=MAX_HOURS)
    decay_floor: Rate = 1.0
    time_to_sql_days: Days = 0.0


class Deals(_Section):
    opportunity_rate: Rate = 1.0
    time_to_opportunity_days: Days = 0.0
    win_rate: Rate = 1.0
    sales_cycle_days: Days = 0.0
    deal_size: Annotated[Dist, MeanAtMost(MAX_DEAL, "currency")]
    revenue: Literal["one-time", "recurring"] = Field(
        "one-time",
        description='"recurring": deal_size is the annual contract value, billed monthly',
    )
    monthly_churn: Rate = Field(0.0, description="recurring: chance a customer leaves each month")


class Nurture(_Section):
    """Recycling: leads sales did not convert go back to marketing nurture and may return."""

    recycle: Bool = False
    outcomes: tuple[Literal["rejected", "unreached", "unqualified"], ...] = Field(
        ("rejected", "unreached", "unqualified"), max_length=3
    )
    remql_per_month: Float = Field(
        0.02, gt=0, le=1, description="monthly hazard that a nurtured lead becomes an MQL again"
    )
    max_nurture_months: Float = Field(
        24.0, gt=0, le=MAX_MONTHS, description="after this a nurtured lead is lost"
    )
    max_cycles: Int = Field(
        3, ge=1, le=MAX_CYCLES, description="MQL cycles per lead, the first included"
    )


class Feedback(_Section):
    """Closed loop: marketing reviews sales' rejection reasons and improves what it sends."""

    enabled: Bool = False
    review_days: Float = Field(
        30.0, ge=1, le=MAX_DAYS, description="days between marketing's reviews of rejections"
    )
    learning_rate: Float = Field(0.2, gt=0, le=1, description="share of the gap closed per review")
    acceptance_ceiling: Rate = Field(0.95, description="acceptance rate learning converges to")
    quality_ceiling: Float = Field(
        0.5, ge=0, le=3, description="lead-score gain (in SDs) learning converges to"
    )
    filter_ceiling: Rate = Field(
        0.5, description="share of the most-rejected kind of lead marketing learns to hold back"
    )


class Costs(_Section):
    cost_per_prospect: Float = Field(
        0.0, ge=0, le=MAX_COST, description="marketing cost of one prospect"
    )
    rep_cost_per_year: Float = Field(
        0.0, ge=0, le=MAX_COST, description="fully loaded cost of one rep"
    )


class Scenario(_Section):
    """A whole scenario. Frozen: use ``funnelsim.override`` to get a changed copy."""

    name: Name
    description: str = Field("", max_length=10_000)
    run: Run
    arrivals: Arrivals
    marketing: Marketing = Marketing()
    handoff: Handoff = Handoff()
    sales: Sales
    qualification: Qualification = Qualification()
    deals: Deals
    nurture: Nurture = Nurture()
    feedback: Feedback = Feedback()
    costs: Costs = Costs()
    uncertainty: Uncertainty | None = Field(
        None, description="sampling distribution of fitted parameters (written by calibrate)"
    )

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (distributions as their tables), ready for TOML or JSON."""
        return self.model_dump(mode="json")

    def get(self, dotted: str) -> Any:
        """The value at a dotted key, e.g. ``scenario.get("sales.reps")``."""
        node: Any = self
        for part in dotted.split("."):
            node = getattr(node, part)
        return node


def sections() -> dict[str, type[BaseModel]]:
    """Section name -> model class, for key suggestions and documentation."""
    out: dict[str, type[BaseModel]] = {}
    for name, info in Scenario.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out[name] = ann
    return out


def all_keys() -> list[str]:
    """Every valid dotted key, e.g. ``sales.reps``."""
    keys = [k for k, info in Scenario.model_fields.items() if k not in sections()]
    for sec, model in sections().items():
        keys += [f"{sec}.{k}" for k in model.model_fields]
    return keys


__all__ = ["Scenario", "Distribution", "WEEKDAYS", "all_keys", "sections"]
