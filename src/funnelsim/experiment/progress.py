"""Progress bars: on stderr in a terminal, a widget in Jupyter, nothing when asked for quiet.

One public call shows one bar. A call that runs the engine many times (a quota search, a
staffing search, an attribution's coalitions, a run adding replications until precise) is
wrapped in `one_bar`: every engine run inside it advances that call's single bar, whose total
grows as work is added, instead of leaving a stack of bars behind in a notebook.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def _wanted(show: bool | None) -> bool:
    return (sys.stderr.isatty() or _in_notebook()) if show is None else bool(show)


def _new_bar(total: int, desc: str):
    from tqdm.auto import tqdm

    # A notebook keeps the finished bar (one per call, as a record of the work); a terminal
    # clears it so the answer is what stays on screen.
    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, leave=_in_notebook())


class _Shared:
    """The one bar of a public call: created by the first engine run, grown by the next."""

    def __init__(self, desc: str, show: bool | None):
        self.desc = desc
        self.show = _wanted(show)
        self.bar: Any = None

    def add(self, total: int) -> Any:
        if not self.show:
            return _Silent()
        if self.bar is None:
            self.bar = _new_bar(total, self.desc)
            return self.bar
        self.bar.total = (self.bar.total or 0) + total
        container = getattr(self.bar, "container", None)  # the notebook widget keeps its own max
        if container is not None:
            container.children[1].max = self.bar.total
        self.bar.refresh()
        return self.bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


_SHARED: ContextVar[_Shared | None] = ContextVar("funnelsim_progress", default=None)


@contextmanager
def progress_bar(total: int, desc: str, show: bool | None) -> Iterator[Any]:
    """A tqdm bar for ``total`` steps. ``show=None``: only on a terminal or in a notebook. Inside
    `one_bar` the steps are added to that call's bar instead."""
    shared = _SHARED.get()
    if shared is not None:
        yield shared.add(total)
        return
    if not _wanted(show):
        yield _Silent()
        return
    bar = _new_bar(total, desc)
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def shared_bar(desc: str, show: bool | None) -> Iterator[None]:
    """Every `progress_bar` inside shares one bar (the outermost call's, when nested)."""
    if _SHARED.get() is not None:
        yield
        return
    shared = _Shared(desc, show)
    token = _SHARED.set(shared)
    try:
        yield
    finally:
        _SHARED.reset(token)
        shared.close()


def one_bar(fn: F) -> F:
    """Decorate a public call taking ``progress``: all its engine runs share one bar, labelled
    with the call's name and its first argument's ``name`` (a scenario's)."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _SHARED.get() is not None:
            return fn(*args, **kwargs)
        given = signature.bind_partial(*args, **kwargs).arguments
        first = next(iter(given.values()), None)
        desc = f"{fn.__name__} {getattr(first, 'name', '')}".strip()
        with shared_bar(desc, given.get("progress")):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
