"""Scenario schema, loading, overrides and validation."""

from .loading import from_dict, load, override, parse_overrides, parse_value
from .schema import Scenario, all_keys

__all__ = [
    "Scenario",
    "all_keys",
    "from_dict",
    "load",
    "override",
    "parse_overrides",
    "parse_value",
]
