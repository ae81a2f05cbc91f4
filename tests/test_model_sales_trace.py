"""Deterministic traces of the sales team: constant times, exact event times (SimPy style).

`simulate_sales` is the SimPy core; feeding it arrays pins hand-off times exactly. Simulation
time is hours from day 0 = Monday 00:00 (calendar offset 0): Monday 09:00 is t = 9, Friday 18:00
is t = 4 * 24 + 18 = 114, the next Monday 09:00 is t = 177. Times are compared to 1e-9 h: the
calendar arithmetic may land an ulp away from a boundary.
"""

from __future__ import annotations

import numpy as np
import pytest

import funnelsim as fs
from funnelsim.calendar import WeekCalendar
from funnelsim.model.sales import attempt_matrix, cadence_offsets, simulate_sales
from funnelsim.scenario.checks import company_calendar

MON, TUE, FRI = 0.0, 24.0, 96.0
NEXT_MON = 168.0
BUSINESS = WeekCalendar.business((9.0, 17.0), ("mon", "tue", "wed", "thu", "fri"))
ALWAYS = WeekCalendar.always()

# The short SLA on a business calendar is deliberate here; its sense-check warning is not news.
pytestmark = pytest.mark.filterwarnings("ignore::funnelsim.errors.ScenarioWarning")


def run(
    handoff,
    handling_h,
    *,
    calendars=(BUSINESS,),
    attempts=1,
    reaching=None,
    cadence=(0.0,),
    queue="fifo",
    score=None,
):
    """Starts ``[attempt, lead]`` and reps for leads handed off at ``handoff`` (sorted), each
    attempt taking ``handling_h`` hours; by default every lead is reached by its first attempt."""
    handoff = np.asarray(handoff, dtype=float)
    m = handoff.size
    reach = np.ones(m, np.int64) if reaching is None else np.asarray(reaching, np.int64)
    handling = np.full((attempts, m), float(handling_h))
    out = simulate_sales(
        handoff,
        np.zeros(m) if score is None else np.asarray(score, float),
        reach,
        handling,
        cadence_offsets(tuple(cadence), attempts),
        list(calendars),
        queue,
    )
    start, rep, _ = attempt_matrix(out, attempts)
    return start, rep


def test_friday_evening_lead_is_touched_monday_at_nine():
    start, _ = run([FRI + 18.0], 0.25)
    assert start[0, 0] == pytest.approx(NEXT_MON + 9.0, abs=1e-9)


def test_lead_at_exactly_closing_waits_for_next_morning():
    """Working hours are [09:00, 17:00): at 17:00 sharp the rep may no longer start."""
    start, _ = run([MON + 17.0], 0.25)
    assert start[0, 0] == pytest.approx(TUE + 9.0, abs=1e-9)


def test_lead_at_exactly_opening_is_touched_at_once():
    start, _ = run([TUE + 9.0], 0.25)
    assert start[0, 0] == pytest.approx(TUE + 9.0, abs=1e-9)


def test_attempt_in_progress_runs_past_closing():
    """An attempt started at 16:30 runs its full hour; the next lead, queued at 16:45, is not
    started after the rep frees up at 17:30 but at 09:00 the next working day."""
    start, _ = run([MON + 16.5, MON + 16.75], 1.0)
    assert start[0, 0] == pytest.approx(MON + 16.5, abs=1e-9)
    assert start[0, 1] == pytest.approx(TUE + 9.0, abs=1e-9)


def test_weekend_backlog_is_served_in_order_from_monday():
    """One rep, constant 30 min: three leads from the weekend go at 09:00, 09:30, 10:00."""
    start, rep = run([FRI + 20.0, 5 * 24 + 10.0, 6 * 24 + 23.0], 0.5)
    assert start[0] == pytest.approx(NEXT_MON + np.array([9.0, 9.5, 10.0]), abs=1e-9)
    assert np.all(rep[0] == 0)


def test_reattempts_follow_the_cadence():
    """Attempt k is due cadence[k] hours after the first attempt started; an unreached lead gets
    every attempt."""
    start, _ = run([MON + 10.0], 0.25, attempts=3, reaching=[4], cadence=(0.0, 1.0, 24.0))
    assert start[:, 0] == pytest.approx(MON + np.array([10.0, 11.0, 34.0]), abs=1e-9)


def test_reattempt_due_after_hours_waits_for_opening():
    """First attempt 16:30; the 1-hour re-attempt falls due at 17:30 (closed) and is made at
    09:00 next day; the third is due 24 h after the first, Tuesday 16:30."""
    start, _ = run([MON + 16.5], 0.25, attempts=3, reaching=[4], cadence=(0.0, 1.0, 24.0))
    assert start[:, 0] == pytest.approx([MON + 16.5, TUE + 9.0, TUE + 16.5], abs=1e-9)


def test_reached_lead_gets_no_further_attempts():
    start, _ = run([MON + 10.0], 0.25, attempts=4, reaching=[2], cadence=(0.0, 1.0, 24.0))
    assert start[:2, 0] == pytest.approx([MON + 10.0, MON + 11.0], abs=1e-9)
    assert np.isnan(start[2:, 0]).all()


def test_cadence_past_the_list_repeats_the_last_gap():
    assert cadence_offsets((0.0, 1.0, 24.0), 5) == [0.0, 1.0, 24.0, 47.0, 70.0]
    assert cadence_offsets((0.0,), 3) == [0.0, 24.0, 48.0]
    assert cadence_offsets((0.0, 1.0, 24.0, 72.0), 2) == [0.0, 1.0]


def test_reattempt_that_is_overdue_joins_the_queue_at_once():
    """With 24/7 reps and a 2 h attempt, the 1 h re-attempt is already due when the first ends."""
    start, _ = run([0.0], 2.0, calendars=(ALWAYS,), attempts=2, reaching=[3], cadence=(0.0, 1.0))
    assert start[:, 0] == pytest.approx([0.0, 2.0], abs=1e-9)


def test_focus_blocks_with_half_availability():
    """availability 0.5 in 60-minute blocks: the rep starts MQL work only in [hh:00, hh:30)."""
    cal = BUSINESS.with_focus_blocks(0.5, 1.0, 0.0)
    start, _ = run([MON + 9.0 + 40 / 60], 0.25, calendars=(cal,))
    assert start[0, 0] == pytest.approx(MON + 10.0, abs=1e-9)
    # An attempt started at 09:10 runs its 30 minutes past the end of the block.
    start, _ = run([MON + 9.0 + 10 / 60, MON + 9.0 + 15 / 60], 0.5, calendars=(cal,))
    assert start[0] == pytest.approx([MON + 9 + 10 / 60, MON + 10.0], abs=1e-9)


def test_staggered_focus_blocks_cover_each_other(minimal_scenario_dict):
    """Two reps at availability 0.5 get alternating half hours, so a lead at 09:40 is started at
    once by the rep whose block runs [09:30, 10:00)."""
    from funnelsim.model.reps import rep_calendars

    data = minimal_scenario_dict
    data["sales"].update(reps=2, calendar="business", availability=0.5, focus_block_minutes=60)
    cals = rep_calendars(fs.from_dict(data))
    assert cals[0].week.starts[:3] == pytest.approx([9.0, 10.0, 11.0])
    assert cals[1].week.starts[:3] == pytest.approx([9.5, 10.5, 11.5])
    start, rep = run([MON + 9.0 + 40 / 60], 0.25, calendars=cals)
    assert start[0, 0] == pytest.approx(MON + 9.0 + 40 / 60, abs=1e-9)
    assert rep[0, 0] == 1


@pytest.mark.parametrize(
    ("queue", "order"),
    [("fifo", [0, 1, 2, 3]), ("lifo", [0, 3, 2, 1]), ("priority", [0, 2, 3, 1])],
)
def test_queue_discipline(queue, order):
    """One 24/7 rep, 1-hour attempts; lead 0 is served at once, the others queue meanwhile and are
    served oldest first, newest first, or highest score first."""
    start, _ = run(
        [0.0, 0.1, 0.2, 0.3], 1.0, calendars=(ALWAYS,), queue=queue, score=[0.0, -1.0, 2.0, 1.0]
    )
    served = np.argsort(start[0])
    assert served.tolist() == order
    assert np.sort(start[0]) == pytest.approx([0.0, 1.0, 2.0, 3.0], abs=1e-9)


def test_deterministic_queue_below_capacity_never_waits():
    """D/D/c with rho < 1: leads every 10 minutes, 25-minute attempts, 3 reps: no waits."""
    handoff = np.arange(200) / 6.0
    start, rep = run(handoff, 25 / 60, calendars=(ALWAYS,) * 3)
    assert start[0] == pytest.approx(handoff, abs=1e-9)
    assert set(rep[0].tolist()) == {0, 1, 2}


def test_two_reps_share_a_burst():
    """Two always-open reps, four simultaneous leads of 1 hour: two start at 0, two at 1."""
    start, rep = run([5.0] * 4, 1.0, calendars=(ALWAYS, ALWAYS))
    assert np.sort(start[0]) == pytest.approx([5.0, 5.0, 6.0, 6.0], abs=1e-9)
    assert sorted(rep[0].tolist()) == [0, 0, 1, 1]


# --- whole-scenario traces ---------------------------------------------------------------------


def _business(minimal: dict, **sales) -> fs.Scenario:
    """Few leads, many reps, 1-minute attempts: nobody ever waits for a busy rep, only for the
    calendar. MQLs come exactly 2 days after arrival."""
    minimal["run"] = {"horizon_days": 35, "seed": 4}
    minimal["arrivals"] = {"prospects_per_week": 40}
    minimal["marketing"] = {"time_to_mql_days": 2}
    minimal["sales"] = {
        "reps": 30,
        "calendar": "business",
        "handling_minutes": 1,
        "sla_hours": 1,
        **sales,
    }
    return fs.from_dict(minimal)


def test_scenario_first_touch_is_next_opening(minimal_scenario_dict):
    """Every hand-off is 48 h after arrival and is touched at the calendar's next opening."""
    s = _business(minimal_scenario_dict)
    rec = fs.simulate(s, 4, 0)
    assert rec.mql_at == pytest.approx(rec.arrival[rec.mql_id] + 48.0)
    cal = company_calendar(s)
    expected = np.array([cal.next_open(t) for t in rec.mql_at])
    assert rec.first_touch_at == pytest.approx(expected, abs=1e-9)
    closed = expected > rec.mql_at + 1e-9
    assert closed.any() and (~closed).any()


@pytest.mark.parametrize("clock", ["calendar", "business"])
def test_scenario_sla_clock(minimal_scenario_dict, clock):
    """Business clock: touched at the next opening means 0 business hours, always within a 1-hour
    SLA. Calendar clock: a breach exactly when the wall-clock wait to opening exceeds 1 hour."""
    s = _business(minimal_scenario_dict, sla_clock=clock)
    rec = fs.simulate(s, 4, 0)
    wall = rec.first_touch_at - rec.mql_at
    expected = np.ones_like(wall, bool) if clock == "business" else wall <= 1.0
    assert np.array_equal(rec.sla_met, expected)
    assert clock == "business" or (~expected).any()
    k = fs.run(s, [0], 4, progress=False).kpis.loc[0]
    assert k["sla_breaches"] == (~expected[rec.cohort_mqls()]).sum()


def test_scenario_start_date_shifts_the_week(minimal_scenario_dict):
    """Day 0 on a Saturday: a lead handed off at t = 1 h (Saturday 01:00) waits to Monday 09:00,
    t = 2 * 24 + 9 = 57 h."""
    minimal_scenario_dict["run"]["start_date"] = "2029-01-06"  # a Saturday
    minimal_scenario_dict["sales"]["calendar"] = "business"
    cal = company_calendar(fs.from_dict(minimal_scenario_dict))
    assert cal.next_open(1.0) == pytest.approx(57.0)
    start, _ = run([1.0], 0.25, calendars=(cal,))
    assert start[0, 0] == pytest.approx(57.0, abs=1e-9)
