"""WeekCalendar: when a rep may start work, and the business clock (open hours between instants).

Hours count from day 0 at 00:00; with offset 0, day 0 is a Monday, so Monday 09:00 is t = 9 and
Friday 17:00 is t = 4 * 24 + 17 = 113.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import funnelsim as fs
from funnelsim.calendar import WEEK, WeekCalendar
from funnelsim.scenario.checks import company_calendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BUSINESS = WeekCalendar.business((9.0, 17.0), WEEKDAYS)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (0.0, 9.0),  # Monday midnight -> Monday 09:00
        (8.999, 9.0),
        (9.0, 9.0),  # opening instant is open
        (12.25, 12.25),
        (16.999, 16.999),
        (17.0, 33.0),  # closing instant is closed -> Tuesday 09:00
        (23.5, 33.0),
        (4 * 24 + 17.0, WEEK + 9.0),  # Friday 17:00 -> next Monday 09:00
        (5 * 24 + 12.0, WEEK + 9.0),  # Saturday
        (6 * 24 + 23.99, WEEK + 9.0),  # Sunday night
        (WEEK + 10.0, WEEK + 10.0),  # periodic
        (52 * WEEK + 4 * 24 + 18.0, 53 * WEEK + 9.0),  # a year on
    ],
)
def test_business_next_open(t, expected):
    assert BUSINESS.next_open(t) == pytest.approx(expected, abs=1e-9)


def test_offset_puts_day_zero_on_its_weekday():
    """offset = week-hour of day 0: with day 0 a Saturday, t = 0 is Saturday 00:00."""
    sat = WeekCalendar.business((9.0, 17.0), WEEKDAYS, offset=5 * 24.0)
    assert sat.next_open(0.0) == pytest.approx(2 * 24 + 9.0)
    assert sat.open_hours_between(np.array(0.0), np.array(2 * 24 + 10.0)) == pytest.approx(1.0)


def test_company_calendar_uses_start_date(minimal_scenario_dict):
    minimal_scenario_dict["sales"]["calendar"] = "business"
    minimal_scenario_dict["sales"]["sla_clock"] = "business"
    minimal_scenario_dict["run"]["start_date"] = "2029-01-04"  # a Thursday
    cal = company_calendar(fs.from_dict(minimal_scenario_dict))
    assert cal.offset == 3 * 24.0
    assert cal.next_open(17.0) == pytest.approx(24 + 9.0)  # Thursday 17:00 -> Friday 09:00
    assert cal.next_open(24 + 17.0) == pytest.approx(4 * 24 + 9.0)  # Friday -> Monday


@pytest.mark.parametrize(
    ("t0", "t1", "hours"),
    [
        (9.0, 17.0, 8.0),
        (0.0, WEEK, 40.0),
        (4 * 24 + 16.5, WEEK + 9.0, 0.5),  # Friday 16:30 -> Monday 09:00: half an hour
        (4 * 24 + 16.5, WEEK + 9.5, 1.0),
        (17.0, 33.0, 0.0),  # overnight: no business time passes
        (10.0, 10.0, 0.0),
        (12.0, 3 * WEEK + 12.0, 120.0),
        (5 * 24.0, 6 * 24.0, 0.0),  # Saturday
    ],
)
def test_business_clock(t0, t1, hours):
    assert BUSINESS.open_hours_between(np.array(t0), np.array(t1)) == pytest.approx(hours)


def test_business_clock_is_vectorised():
    t0 = np.array([9.0, 4 * 24 + 16.5, 17.0])
    t1 = np.array([17.0, WEEK + 9.0, 33.0])
    assert BUSINESS.open_hours_between(t0, t1) == pytest.approx([8.0, 0.5, 0.0])
    assert BUSINESS.open_hours_until(np.array([9.0, 17.0, WEEK])) == pytest.approx([0, 8, 40])


def test_always_open():
    cal = WeekCalendar.always(offset=48.0)
    assert cal.always_open
    assert cal.next_open(123.456) == 123.456
    assert cal.open_hours_between(np.array(3.0), np.array(500.0)) == pytest.approx(497.0)
    assert cal.longest_closed_gap() == 0.0 and cal.open_fraction() == 1.0


def test_every_hour_of_every_day_is_always_open():
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert WeekCalendar.business((0.0, 24.0), days).always_open


def test_longest_closed_gap_and_fraction():
    assert BUSINESS.longest_closed_gap() == pytest.approx(64.0)  # Friday 17:00 -> Monday 09:00
    assert BUSINESS.open_hours_per_week() == pytest.approx(40.0)
    assert BUSINESS.open_fraction() == pytest.approx(40 / 168)
    mon_wed = WeekCalendar.business((9.0, 17.0), ("mon", "wed"))
    assert mon_wed.longest_closed_gap() == pytest.approx(168 - 48 + 8 - 16)  # Wed 17 -> Mon 9


def test_focus_blocks_keep_the_availability_share():
    half = BUSINESS.with_focus_blocks(0.5, 1.0, 0.0)
    assert half.open_hours_per_week() == pytest.approx(20.0)
    assert half.starts[:2] == pytest.approx((9.0, 10.0))
    assert half.ends[:2] == pytest.approx((9.5, 10.5))
    assert half.next_open(9.6) == pytest.approx(10.0)
    assert half.next_open(9.4) == pytest.approx(9.4)
    # Phase 0.75: cycles start at 08:45, 09:45, ...; the day opens in the tail [09:00, 09:15).
    shifted = BUSINESS.with_focus_blocks(0.5, 1.0, 0.75)
    assert shifted.open_hours_per_week() == pytest.approx(20.0)
    assert shifted.next_open(9.0) == pytest.approx(9.0)
    assert shifted.next_open(9.3) == pytest.approx(9.75)
    assert shifted.next_open(16.9) == pytest.approx(16.9)  # [16:45, 17:00) is cut at closing
    assert BUSINESS.with_focus_blocks(1.0, 1.0, 0.3) is BUSINESS
    # 41% of 60-minute blocks on a 24/7 calendar.
    assert WeekCalendar.always().with_focus_blocks(0.41, 1.0, 0.0).open_fraction() == (
        pytest.approx(0.41)
    )


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    a=st.floats(0, 3 * WEEK),
    b=st.floats(0, 3 * WEEK),
    c=st.floats(0, 3 * WEEK),
    offset=st.sampled_from([0.0, 48.0, 120.0]),
    availability=st.sampled_from([1.0, 0.5, 0.41]),
)
def test_business_clock_properties(a, b, c, offset, availability):
    """The clock is additive, never runs faster than the wall clock, and next_open lands on an
    open instant with no open time skipped."""
    cal = WeekCalendar.business((9.0, 17.0), WEEKDAYS, offset).with_focus_blocks(
        availability, 1.0, 0.3
    )
    a, b, c = sorted((a, b, c))
    ab, bc, ac = (
        cal.open_hours_between(np.array(x), np.array(y)) for x, y in ((a, b), (b, c), (a, c))
    )
    assert ab + bc == pytest.approx(ac, abs=1e-9)
    assert -1e-9 <= ab <= b - a + 1e-9
    n = cal.next_open(a)
    assert n >= a
    assert cal.open_hours_between(np.array(a), np.array(n)) == pytest.approx(0.0, abs=1e-9)
    # Open right after n: a thousandth of an hour later, all of it was open time.
    assert cal.open_hours_between(np.array(n), np.array(n + 1e-3)) == pytest.approx(1e-3, abs=1e-9)
