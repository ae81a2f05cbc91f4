"""One public call shows one progress bar, however many engine runs it makes: its total grows
as work is added and it ends finished (n == total). Before, a quota search left one bar per
candidate volume (26 in one notebook cell)."""

from __future__ import annotations

import pytest

import funnelsim as fs
from funnelsim.experiment import progress


class FakeBar:
    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.closed = total, desc, 0, False

    def update(self, n: int = 1) -> None:
        self.n += n

    def refresh(self) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def bars(monkeypatch):
    made: list[FakeBar] = []

    def new_bar(total, desc):
        made.append(FakeBar(total, desc))
        return made[-1]

    monkeypatch.setattr(progress, "_new_bar", new_bar)
    return made


@pytest.fixture
def scenario(minimal_dict_factory):
    return fs.from_dict(minimal_dict_factory(), source="minimal")


def test_a_run_adding_replications_until_precise_shows_one_bar(bars, scenario):
    result = fs.run(scenario, 3, precision=1e-9, max_replications=9, progress=True)
    assert result.replications == 9  # three batches at least
    (bar,) = bars
    assert bar.closed and bar.n == bar.total == 9
    assert bar.desc == "run minimal"


def test_a_staffing_search_shows_one_bar_for_all_its_rep_counts(bars, scenario):
    res = fs.staffing(scenario, sla_target=0.5, replications=4, progress=True)
    assert len(res.frame) >= 2  # several rep counts were simulated
    (bar,) = bars
    assert bar.closed and bar.n == bar.total == res.frame["replications"].sum()


def test_a_nested_call_adds_to_the_outer_bar(bars, scenario):
    with progress.shared_bar("outer", True):
        fs.run(scenario, 2, progress=True)
        fs.compare(scenario, fs.override(scenario, {"sales.reps": 4}), 2, progress=True)
    (bar,) = bars
    assert bar.desc == "outer" and bar.closed and bar.n == bar.total == 6


def test_quiet_calls_show_no_bar(bars, scenario):
    fs.run(scenario, 2, progress=False)
    fs.staffing(scenario, sla_target=0.5, replications=2, progress=False)
    assert bars == []
