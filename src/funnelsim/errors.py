"""Errors a user can act on.

`ScenarioError` carries where the bad input came from (file or ``--set``), the dotted key, what was
given and what is allowed, so the CLI can print one clear line and exit with status 2.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field

# A message stays one readable line: a given value is cut to this many characters, and an error
# lists at most this many problems.
MAX_SHOWN = 120
MAX_PROBLEMS = 20
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``), so a key or value read
    from a file cannot break a one-line message or drive the terminal."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def as_toml(value: object, limit: int = MAX_SHOWN) -> str:
    """A value as the user would type it in a scenario file: true, 7, "fifo", [0, 1]; cut to
    about ``limit`` characters (with "...") so that a huge or deeply nested value stays short."""
    text = _as_toml(value, limit, 0)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_toml(value: object, budget: int, depth: int) -> str:
    if depth > 8:
        return "..."
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value[:budget], ensure_ascii=False)
    if isinstance(value, int) and abs(value) > 10**30:
        return (
            f"(a {len(str(abs(value)))}-digit number)"
            if abs(value) < 10**4000
            else "(a huge number)"
        )
    if isinstance(value, (list, tuple, dict)):
        items = list(value.items()) if isinstance(value, dict) else list(value)
        parts, used = [], 0
        for item in items:
            if used > budget:
                parts.append("...")
                break
            if isinstance(value, dict):
                k, v = item
                key = str(k) if _BARE_KEY.fullmatch(str(k)) else json.dumps(str(k))
                part = f"{key} = {_as_toml(v, budget - used, depth + 1)}"
            else:
                part = _as_toml(item, budget - used, depth + 1)
            parts.append(part)
            used += len(part) + 2
        inner = ", ".join(parts)
        return "{ " + inner + " }" if isinstance(value, dict) else "[" + inner + "]"
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One thing wrong: ``key`` is the dotted path, ``message`` says what is allowed."""

    key: str
    message: str
    given: object = None

    def render(self, source: str | None) -> str:
        where = f"{source}: " if source else ""
        given = "" if self.given is None else f" (given: {as_toml(self.given)})"
        key = f"{self.key}: " if self.key else ""
        return printable(f"{where}{key}{self.message}{given}")


@dataclass
class ScenarioError(ValueError):
    """A scenario that cannot run. ``str()`` lists every problem, one per line."""

    problems: list[Problem]
    source: str | None = None
    hints: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [p.render(self.source) for p in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"... and {len(self.problems) - MAX_PROBLEMS} more problems")
        return "\n".join(lines + self.hints)


class UsageError(ValueError):
    """A bad command-line option or API argument (exit status 2)."""


class ScenarioWarning(UserWarning):
    """A scenario that runs but probably does not mean what its author thinks."""


def _own_format(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    # warnings.formatwarning's signature; replaced at import by `show_own_warnings_plainly`.
    if isinstance(category, type) and issubclass(category, ScenarioWarning):
        return f"{category.__name__}: {message}\n"
    return _own_format.previous(message, category, filename, lineno, line)  # type: ignore[attr-defined]


def show_own_warnings_plainly() -> None:
    """Show funnelsim's own warnings (`ScenarioWarning` and its kinds) as ``ScenarioWarning:
    message``: the message names the file and key already, and the usual prefix would be the
    path of the funnelsim line that raised it (``.../scenario/loading.py:94:``), which tells a
    reader nothing. Any other warning keeps Python's format. Applies wherever warnings are
    printed through `warnings.formatwarning` (scripts, notebooks, the test runner); the CLI
    prints its own ``warning:`` lines. Idempotent."""
    current = warnings.formatwarning
    if current is not _own_format:
        _own_format.previous = current  # type: ignore[attr-defined]
        warnings.formatwarning = _own_format
