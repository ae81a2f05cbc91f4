"""Load scenario files, apply dotted overrides, and turn validation failures into plain messages.

Every failure becomes a `ScenarioError` naming the file (or ``--set``), the dotted key, the value
given and what is allowed. Suspicious but runnable settings become `ScenarioWarning`s.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem, ScenarioError, ScenarioWarning, as_toml
from ..files import MAX_SCENARIO_BYTES, FileProblem, read_text
from .checks import hard_checks, sense_checks
from .schema import Scenario, sections

_ALLOWED_PREFIX = ("Input should be ", "Value error, ", "Assertion failed, ")


def load(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] = ()) -> Scenario:
    """Read a TOML scenario file, apply overrides, validate, and return a frozen `Scenario`.

    ``overrides`` is a mapping of dotted keys to values, or ``"key=value"`` strings as typed after
    ``--set``. Raises `ScenarioError` for anything that cannot run.
    """
    path = Path(path)
    source = str(path)
    try:
        text = read_text(path, MAX_SCENARIO_BYTES)
    except FileProblem as exc:
        hint = ": a scenario is a TOML text file" if "UTF-8" in str(exc) else ""
        raise ScenarioError([Problem("", f"{exc}{hint}")], source) from None
    try:
        data = parse_toml(text)
    except ValueError as exc:
        raise ScenarioError([Problem("", f"not valid TOML: {exc}")], source) from None
    return from_dict(data, source=source, overrides=overrides)


def parse_toml(text: str) -> dict[str, Any]:
    """TOML text as data; ValueError (with a plain reason) for anything the parser refuses,
    including what it cannot represent: arrays nested too deep, integers of thousands of
    digits."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ValueError("arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError:
        raise
    except ValueError as exc:
        if "digits" in str(exc):
            raise ValueError(
                "a number has thousands of digits; no key takes one so large"
            ) from None
        raise


def from_dict(
    data: Mapping[str, Any],
    source: str | None = None,
    overrides: Mapping[str, Any] | Iterable[str] = (),
) -> Scenario:
    """Validate plain data (as read from TOML) into a `Scenario`; see `load`."""
    pairs = parse_overrides(overrides)
    try:
        data = copy.deepcopy(dict(data))
    except RecursionError:
        raise ScenarioError(
            [Problem("", "values nested too deeply to be a scenario")], _with_sets(source, pairs)
        ) from None
    problems = []
    for key, value in pairs.items():
        try:
            _set_path(data, key, value)
        except _PathError as exc:
            problems.append(Problem(key, str(exc), value))
    if problems:
        raise ScenarioError(problems, _with_sets(source, pairs))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, data), _with_sets(source, pairs)) from None
    except RecursionError:
        raise ScenarioError(
            [Problem("", "values nested too deeply to be a scenario")], _with_sets(source, pairs)
        ) from None
    problems = hard_checks(scenario)
    if problems:
        raise ScenarioError(problems, _with_sets(source, pairs))
    for problem in sense_checks(scenario):
        warnings.warn(problem.render(source), ScenarioWarning, stacklevel=2)
    return scenario


def override(
    scenario: Scenario, changes: Mapping[str, Any] | Iterable[str] = (), **kw: Any
) -> Scenario:
    """A new frozen scenario with dotted keys changed: ``override(s, {"sales.reps": 7})``.

    Keyword form uses ``__`` for dots: ``override(s, sales__reps=7)``.
    """
    pairs = dict(parse_overrides(changes))
    pairs.update({k.replace("__", "."): v for k, v in kw.items()})
    # Only what was set, so the sense checks still see which keys the author chose.
    data = scenario.model_dump(mode="json", exclude_unset=True)
    return from_dict(data, source=f"scenario {scenario.name!r}", overrides=pairs)


def parse_overrides(overrides: Mapping[str, Any] | Iterable[str]) -> dict[str, Any]:
    """``["sales.reps=7", ...]`` or a mapping -> ``{"sales.reps": 7}``; values are read as TOML."""
    if isinstance(overrides, Mapping):
        return dict(overrides)
    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(
                [
                    Problem(
                        key or item, "an override must look like KEY=VALUE, e.g. sales.reps=7", item
                    )
                ],
                "--set",
            )
        out[key] = parse_value(raw.strip())
    return out


def parse_value(raw: str) -> Any:
    """Read a command-line value as TOML; text that is not TOML is taken as a string."""
    try:
        return parse_toml(f"v = {raw}")["v"]
    except ValueError:
        return raw


class _PathError(ValueError):
    pass


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise _PathError(f"{'.'.join(parts[: i + 1])} is a value, not a section")
        node = nxt
    node[parts[-1]] = value


def _with_sets(source: str | None, pairs: Mapping[str, Any]) -> str | None:
    if not pairs:
        return source
    sets = ", ".join(f"--set {k}={as_toml(v)}" for k, v in pairs.items())
    return f"{source} (with {sets})" if source else sets


def _problems(exc: ValidationError, data: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        key = _dotted(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            problems.append(Problem(key, _unknown_key_message(loc), err.get("input")))
        elif kind == "missing":
            problems.append(Problem(key, "is required but missing"))
        else:
            msg = err["msg"]
            for prefix in _ALLOWED_PREFIX:
                if msg.startswith(prefix):
                    msg = ("must be " if prefix == "Input should be " else "") + msg[len(prefix) :]
            # A check across a whole section names its values itself; so do our own messages.
            whole_section = len(loc) <= 1 and isinstance(_given(data, loc, None), dict)
            given = (
                None if whole_section or "(given" in msg else _given(data, loc, err.get("input"))
            )
            problems.append(Problem(key, msg, given))
    return problems


def _given(data: Mapping[str, Any], loc: list[Any], fallback: Any) -> Any:
    node: Any = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return fallback
    return node


def _dotted(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unknown_key_message(loc: list[Any]) -> str:
    name = str(loc[-1])
    model: type[BaseModel] = Scenario
    if len(loc) == 2 and loc[0] in sections():
        model = sections()[loc[0]]
    elif len(loc) != 1:
        return "unknown key"
    valid = list(model.model_fields)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    prefix = f"{loc[0]}." if len(loc) == 2 else ""
    hint = f"; did you mean {prefix}{close[0]}?" if close else ""
    return f"unknown key{hint} (valid here: {', '.join(valid)})"
