"""Progress bars: on stderr in a terminal, a widget in Jupyter, nothing when asked for quiet."""

from __future__ import annotations

import sys
from contextlib import contextmanager


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


@contextmanager
def progress_bar(total: int, desc: str, show: bool | None):
    """A tqdm bar for ``total`` steps. ``show=None``: only on a terminal or in a notebook."""
    if show is None:
        show = sys.stderr.isatty() or _in_notebook()
    if not show:
        yield _Silent()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="run", file=sys.stderr, leave=False)
    try:
        yield bar
    finally:
        bar.close()
