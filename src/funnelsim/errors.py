"""Errors a user can act on.

`ScenarioError` carries where the bad input came from (file or ``--set``), the dotted key, what was
given and what is allowed, so the CLI can print one clear line and exit with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def as_toml(value: object) -> str:
    """A value as the user would type it in a scenario file: true, 7, "fifo", [0, 1]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(as_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {as_toml(v)}" for k, v in value.items()) + " }"
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
        return f"{where}{key}{self.message}{given}"


@dataclass
class ScenarioError(ValueError):
    """A scenario that cannot run. ``str()`` lists every problem, one per line."""

    problems: list[Problem]
    source: str | None = None
    hints: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [p.render(self.source) for p in self.problems]
        return "\n".join(lines + self.hints)


class UsageError(ValueError):
    """A bad command-line option or API argument (exit status 2)."""


class ScenarioWarning(UserWarning):
    """A scenario that runs but probably does not mean what its author thinks."""
