"""Shared fixtures: a minimal valid scenario, an M/M/c reduction of the model, TOML writing and a
CLI runner. Other test modules reuse these; keep them small and side-effect free.

Fixtures that return builders (``mmc_scenario``, ``write_scenario``, ``cli``) hand back plain
functions so a test can call them several times with different arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import funnelsim as fs

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
PRESETS = sorted(SCENARIOS.glob("*.toml"))


def minimal_dict() -> dict[str, Any]:
    """The smallest valid scenario: only required keys, every mechanism at its neutral value."""
    return {
        "name": "minimal",
        "run": {"horizon_days": 28, "replications": 2, "seed": 7},
        "arrivals": {"prospects_per_week": 200},
        "sales": {"reps": 3, "handling_minutes": 10},
        "deals": {"deal_size": 1000},
    }


def mmc_dict(
    c: int,
    lam_per_hour: float,
    mean_handling_hours: float,
    horizon_days: float,
    warmup_days: float,
    sla_hours: float = 1.0,
) -> dict[str, Any]:
    """Scenario data whose sales team is exactly an M/M/c queue (contract, "Time semantics").

    Every prospect becomes an MQL at once, is accepted and worked, and is reached by its single
    attempt, so hand-offs are Poisson(``lam_per_hour``) and service is Exp(1/mean_handling_hours)
    on ``c`` always-open reps, served first come first served. The neutral keys are written out
    explicitly so this stays an M/M/c queue even if a default changes.
    """
    return {
        "name": f"mmc_c{c}",
        "run": {
            "horizon_days": horizon_days,
            "warmup_days": warmup_days,
            "replications": 1,
            "seed": 2029,
        },
        "arrivals": {"prospects_per_week": lam_per_hour * 168.0},
        "marketing": {"mql_rate": 1.0, "time_to_mql_days": 0, "score_strength": 0.0},
        "handoff": {"acceptance_rate": 1.0},
        "sales": {
            "reps": c,
            "calendar": "24/7",
            "availability": 1.0,
            "sla_hours": sla_hours,
            "sla_clock": "calendar",
            "handling_minutes": {"dist": "exponential", "mean": 60.0 * mean_handling_hours},
            "attempts": 1,
            "contact_rate": 1.0,
            "coverage": 1.0,
            "queue": "fifo",
        },
        "qualification": {"sql_rate": 1.0, "decay_floor": 1.0},
        "deals": {"opportunity_rate": 1.0, "win_rate": 1.0, "deal_size": 1.0},
    }


def build_mmc_scenario(
    c: int,
    lam_per_hour: float,
    mean_handling_hours: float,
    horizon_days: float,
    warmup_days: float,
    overrides: Mapping[str, Any] | None = None,
    sla_hours: float = 1.0,
) -> fs.Scenario:
    """`mmc_dict` validated into a Scenario, with optional dotted ``overrides``."""
    data = mmc_dict(c, lam_per_hour, mean_handling_hours, horizon_days, warmup_days, sla_hours)
    return fs.from_dict(data, source="mmc fixture", overrides=dict(overrides or {}))


def toml_value(v: Any) -> str:
    """One value in TOML syntax (strings, numbers, booleans, dates, arrays, inline tables)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if v != v else ("inf" if v > 0 else "-inf")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """A scenario dict as TOML text: top-level scalars first, then one table per section.

    A section's dict values are written inline (distribution tables, rejection reasons)."""
    lines = [f"{k} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    for section, body in data.items():
        if isinstance(body, Mapping):
            lines.append(f"\n[{section}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def minimal_scenario_dict() -> dict[str, Any]:
    """A fresh minimal valid scenario dict (safe to mutate)."""
    return minimal_dict()


@pytest.fixture(scope="session")
def minimal_dict_factory() -> Callable[[], dict[str, Any]]:
    """``minimal_dict_factory() -> dict``: for module-scoped fixtures that need fresh dicts."""
    return minimal_dict


@pytest.fixture
def minimal_scenario() -> fs.Scenario:
    return fs.from_dict(minimal_dict(), source="minimal fixture")


@pytest.fixture(scope="session")
def mmc_scenario() -> Callable[..., fs.Scenario]:
    """The builder ``mmc_scenario(c, lam_per_hour, mean_handling_hours, horizon_days,
    warmup_days, overrides=None, sla_hours=1.0) -> Scenario`` (see `build_mmc_scenario`)."""
    return build_mmc_scenario


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """``write_scenario(data, name="scenario.toml") -> Path``: a dict written as a TOML file;
    a str is written verbatim (for malformed files)."""

    def write(data: Mapping[str, Any] | str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else to_toml(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli() -> Callable[..., Any]:
    """``cli(*args) -> click Result`` running ``funnelsim`` in-process, stdout and stderr apart
    (``result.stdout``, ``result.stderr``, ``result.exit_code``)."""
    from funnelsim.cli import app

    runner = CliRunner()

    def invoke(*args: Any) -> Any:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)

    return invoke
