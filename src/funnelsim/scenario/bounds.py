"""Every scenario key's allowed range, read back from the schema (for the README and tests).

The schema is the one place bounds are written (`schema`, ``Field(ge=..., le=...)``,
``max_length``, `schema.MeanAtMost`); this module walks it and says what each key allows, so the
documentation cannot drift from what is enforced. ``python -m funnelsim.scenario.bounds
README.md`` rewrites the README's table between its markers.
"""

from __future__ import annotations

import datetime as dt
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .. import distributions
from ..files import MAX_SCENARIO_BYTES, MAX_TABLE_BYTES
from . import checks
from .schema import MAX_REPLICATIONS, DistributionKnob, MeanAtMost, Scenario

NUMERIC = ("number", "integer", "distribution", "date")
START, END = "<!-- bounds:start -->", "<!-- bounds:end -->"


@dataclass(frozen=True)
class Bound:
    """What one key allows. ``key`` is dotted; ``[]`` stands for any item of a list and
    ``.<name>`` for any entry of a table. ``kind``: number, integer, distribution, date, list,
    table, text, choice or flag. ``high`` is None when unbounded above; ``max_items`` caps a
    list, table or text."""

    key: str
    kind: str
    low: Any = None
    low_open: bool = False
    high: Any = None
    high_open: bool = False
    max_items: int | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()

    @property
    def bounded(self) -> bool:
        if self.kind in NUMERIC:
            return self.high is not None
        if self.kind in ("list", "table", "text"):
            return self.max_items is not None
        return True

    def allowed(self) -> str:
        """The range in words, as the README table shows it."""
        if self.kind == "choice":
            return "one of " + ", ".join(f'`"{c}"`' for c in self.choices)
        if self.kind == "flag":
            return "`true` or `false`"
        if self.kind == "list" and self.low == self.max_items:
            return f"list of {self.max_items} items"
        if self.kind in ("list", "table"):
            return f"{self.kind}, at most {self.max_items:,} items"
        if self.kind == "text":
            low = f"{self.low:,} to " if self.low else "up to "
            return f"text, {low}{self.max_items:,} characters"
        if self.kind == "distribution":
            return f"number or distribution, mean from 0 to {_num(self.high)}"
        what = {"number": "number", "integer": "whole number", "date": "date"}[self.kind]
        lo = "" if self.low is None else f"{'>' if self.low_open else '≥'} {_num(self.low)}"
        hi = "" if self.high is None else f"{'<' if self.high_open else '≤'} {_num(self.high)}"
        return f"{what}, {' and '.join(p for p in (lo, hi) if p) or 'any'}"


def _num(x: Any) -> str:
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, int) and x >= 2**62:
        return "2^63 - 1"
    if isinstance(x, float) and x >= 1e6:
        return f"{x:.0e}".replace("e+0", "e").replace("e+", "e")
    return f"{x:,g}" if isinstance(x, float) else f"{x:,}"


def scenario_bounds() -> list[Bound]:
    """One `Bound` per key of the scenario schema (and per item of its lists and tables)."""
    return model_bounds("", Scenario)


def unbounded() -> list[str]:
    """Keys that take a number, a distribution, a list or a text but have no upper bound."""
    return [b.key for b in scenario_bounds() if not b.bounded]


def model_bounds(prefix: str, model: type[BaseModel]) -> list[Bound]:
    """One `Bound` per key of ``model``, each key prefixed with ``prefix``."""
    out: list[Bound] = []
    for name, info in model.model_fields.items():
        out += _describe(f"{prefix}{name}", info.annotation, list(info.metadata))
    return out


def _flatten(meta: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for m in meta:
        flat += _flatten(list(m.metadata)) if isinstance(m, FieldInfo) else [m]
    return flat


def _describe(key: str, ann: Any, meta: list[Any]) -> list[Bound]:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _describe(key, args[0], meta + list(ann.__metadata__))
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        return _describe(key, rest[0], meta) if len(rest) == 1 else [Bound(key, "value")]
    meta = _flatten(meta)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return model_bounds(f"{key}.", ann)
    if origin is Literal:
        return [Bound(key, "choice", choices=tuple(str(a) for a in args))]
    if origin is tuple:
        fixed = not (len(args) == 2 and args[1] is Ellipsis)
        items = len(args) if fixed else _max_len(meta)
        out = [Bound(key, "list", low=items if fixed else None, max_items=items)]
        items_rows = [
            row
            for item in args[: 1 if not fixed else None]
            for row in _describe(f"{key}[]", item, [])
        ]
        return out + list({row.key: row for row in items_rows}.values())
    if origin is dict:
        out = [Bound(key, "table", max_items=_max_len(meta))]
        out += _describe(f"{key}.<name>", args[1], [])
        return out
    if ann is bool:
        return [Bound(key, "flag")]
    if ann is str:
        low = next((m.min_length for m in meta if isinstance(m, at.MinLen)), None)
        return [Bound(key, "text", low=low, max_items=_max_len(meta))]
    if any(isinstance(m, DistributionKnob) for m in meta):
        limit = next((m for m in meta if isinstance(m, MeanAtMost)), None)
        high = None if limit is None else limit.limit
        return [Bound(key, "distribution", low=0.0, high=high, unit=getattr(limit, "unit", ""))]
    kind = {int: "integer", float: "number", dt.date: "date"}.get(ann, "value")
    low, low_open, high, high_open = None, False, None, False
    for m in meta:
        if isinstance(m, at.Ge):
            low = m.ge
        elif isinstance(m, at.Gt):
            low, low_open = m.gt, True
        elif isinstance(m, at.Le):
            high = m.le
        elif isinstance(m, at.Lt):
            high, high_open = m.lt, True
    return [Bound(key, kind, low, low_open, high, high_open)]


def _max_len(meta: list[Any]) -> int | None:
    return next((m.max_length for m in meta if isinstance(m, at.MaxLen)), None)


def markdown() -> str:
    """The README's bounds section: the per-key table, then the limits across keys."""
    rows = ["| key | allowed |", "|---|---|"]
    rows += [f"| `{b.key}` | {b.allowed()} |" for b in scenario_bounds() if b.kind != "value"]
    sig, lcv, (g_lo, g_hi) = (
        distributions.MAX_SIGMA,
        distributions.MAX_LOGNORMAL_CV,
        distributions.GAMMA_CV,
    )
    budget_gb = checks.MAX_REPLICATION_BYTES / 1e9
    rows += [
        "",
        f"A distribution's shape is bounded too: lognormal `sigma` ≤ {sig:g} (or `cv` ≤ "
        f"{lcv:g}), gamma `cv` from {g_lo:g} to {g_hi:g}; and its mean, variance and the largest "
        "and smallest value a draw can reach must be finite (no overflow).",
        "",
        f"Across keys: one replication may hold at most {checks.MAX_PROSPECTS:,} prospects "
        "(`prospects_per_week` × `horizon_days` / 7), and its estimated peak memory (prospects, "
        "plus a handling time per MQL lead for each of `attempts` × `max_cycles`) at most "
        f"{budget_gb:g} GB. The arrivals simulated around the cohort count too (those "
        "before it whose leads hand off inside it, and those after it that keep its queue "
        "steady until its last lead is worked: up to the longest delay to MQL on each side): "
        f"their estimated memory is also held to {budget_gb:g} GB when the run starts. On the "
        "command line: `--replications` and `--max-replications` "
        f"at most {MAX_REPLICATIONS:,}; `--seed` from 0 to 2^63 - 1.",
        "",
        f"Files: a scenario is read only from a regular file of at most {MAX_SCENARIO_BYTES:,} "
        f"bytes, a `--points` table of at most {MAX_TABLE_BYTES:,}; a folder, device or pipe "
        "given as a file is refused.",
    ]
    return "\n".join(rows) + "\n"


def update_readme(path: str | Path) -> bool:
    """Rewrite the table between the README's markers; True when it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition(START)
    _, sep2, tail = rest.partition(END)
    if not (sep and sep2):
        raise ValueError(f"{path} has no {START} ... {END} markers")
    new = f"{head}{START}\n{markdown()}{END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    if len(sys.argv) > 1:
        changed = update_readme(sys.argv[1])
        print(f"{sys.argv[1]}: {'updated' if changed else 'already up to date'}")
    else:
        sys.stdout.write(markdown())
