"""The README documents what users can touch: every KPI, every scenario key, every preset."""

from __future__ import annotations

from pathlib import Path

import pytest

import funnelsim as fs
from funnelsim.results import KPIS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("kpi", [k.name for k in KPIS])
def test_every_kpi_is_explained(kpi):
    assert f"| `{kpi}` |" in README


@pytest.mark.parametrize("key", fs.all_keys())
def test_every_scenario_key_is_named(key):
    assert key.split(".")[-1] in README, f"{key} is not documented in README.md"


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
