"""Errors a user can act on.

`ScenarioError` carries where the bad input came from (file or ``--set``), the dotted key, what was
given and what is allowed, so the CLI can print one clear line and exit with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong: ``key`` is the dotted path, ``message`` says what is allowed."""

    key: str
    message: str
    given: object = None

    def render(self, source: str | None) -> str:
        where = f"{source}: " if source else ""
        given = "" if self.given is None else f" (given: {self.given!r})"
        return f"{where}{self.key or '(top)'}: {self.message}{given}"


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
