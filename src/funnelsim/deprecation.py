"""Old spellings kept working for one release, each with a DeprecationWarning naming the new one."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd


def deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


class CallableTable(pd.DataFrame):
    """What ``result.table`` returns where ``table`` used to be a DataFrame attribute.

    Calling it (``result.table()``, the one spelling every result shares) returns the plain
    DataFrame, silently. Using it as the old attribute (``result.table.loc[...]``, printing it,
    ``result.table["col"]``) still works, as this object is that frame, and warns once that the
    attribute is deprecated.
    """

    _metadata = ["_funnelsim_old"]

    def __init__(self, frame: pd.DataFrame, old: str):
        super().__init__(frame)
        object.__setattr__(self, "_funnelsim_plain", frame)
        object.__setattr__(self, "_funnelsim_old", old)
        object.__setattr__(self, "_funnelsim_armed", True)

    @property
    def _constructor(self):
        # Anything derived from it (a slice, a copy) is a plain DataFrame.
        return pd.DataFrame

    def __call__(self) -> pd.DataFrame:
        return object.__getattribute__(self, "_funnelsim_plain")

    def _funnelsim_warn(self) -> None:
        state = object.__getattribute__(self, "__dict__")
        if state.get("_funnelsim_armed"):
            state["_funnelsim_armed"] = False
            old = state["_funnelsim_old"]
            deprecated(f"{old} as an attribute", f"{old}() (a method, as on every result)", 4)

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_"):
            object.__getattribute__(self, "_funnelsim_warn")()
        return super().__getattribute__(name)

    def __getitem__(self, key: Any) -> Any:
        self._funnelsim_warn()
        return super().__getitem__(key)

    def __iter__(self):
        self._funnelsim_warn()
        return super().__iter__()

    def __len__(self) -> int:
        self._funnelsim_warn()
        return super().__len__()

    def __repr__(self) -> str:
        self._funnelsim_warn()
        return super().__repr__()

    def _repr_html_(self) -> str | None:
        self._funnelsim_warn()
        return super()._repr_html_()
