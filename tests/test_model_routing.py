"""Lead ownership, routing and batch pulls: exact traces, and queueing theory where it exists.

Traces feed the SimPy core fixed hand-off and handling times (as in test_model_sales_trace):
time is hours from day 0 = Monday 00:00, compared to 1e-9 h.

Queueing check: round robin over c reps, 24/7, one attempt, exponential handling, splits a
Poisson stream into c streams of every c-th arrival, so each rep is an E_c/M/1 queue (Erlang-c
interarrivals): by GI/M/1 theory its wait is 0 with probability 1 - sigma and else Exp(mu (1 -
sigma)), where sigma = A*(mu (1 - sigma)) and A*(s) = (lam / (lam + s))^c. Tolerances: 4
standard errors of the across-replication mean (replications are independent).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import funnelsim as fs
from funnelsim import queueing
from funnelsim.calendar import WeekCalendar
from funnelsim.model.routing import LoadBalanced, PullSchedule, RoundRobin
from funnelsim.model.sales import attempt_matrix, simulate_sales

BUSINESS = WeekCalendar.business((9.0, 17.0), ("mon", "tue", "wed", "thu", "fri"))
ALWAYS = WeekCalendar.always()
FRI, NEXT_MON = 96.0, 168.0
WEEKDAYS = range(5)


def trace(handoff, handling, *, reps=2, calendars=None, attempts=1, cadence=(0.0,), **routing):
    """First-attempt starts and reps for leads handed off at ``handoff`` whose attempts take
    ``handling[j]`` hours (a number: the same for every lead)."""
    handoff = np.asarray(handoff, dtype=float)
    m = handoff.size
    hand = np.broadcast_to(np.asarray(handling, dtype=float), (m,))
    out = simulate_sales(
        handoff,
        np.zeros(m),
        np.full(m, attempts if attempts > 1 else 1, np.int64),
        np.tile(hand, (attempts, 1)),
        list(cadence),
        list(calendars or [ALWAYS] * reps),
        "fifo",
        **routing,
    )
    start, rep, _ = attempt_matrix(out, attempts)
    return start, rep


def test_round_robin_waits_for_its_owner_while_another_rep_is_free():
    """Owners in turn 0, 1, 0, 1: lead 3 belongs to rep 1, busy until 5.1, and waits for it
    although rep 0 is free from 2.0; the pool gives it to rep 0 at 2.0."""
    handoff, handling = [0.0, 0.1, 0.5, 0.6], [1.0, 5.0, 1.0, 1.0]
    start, rep = trace(handoff, handling, routing="round_robin")
    np.testing.assert_allclose(start[0], [0.0, 0.1, 1.0, 5.1], atol=1e-9)
    assert rep[0].tolist() == [0, 1, 0, 1]
    start, rep = trace(handoff, handling)
    np.testing.assert_allclose(start[0], [0.0, 0.1, 1.0, 2.0], atol=1e-9)
    assert rep[0].tolist() == [0, 1, 0, 0]


def test_round_robin_owner_off_shift_keeps_the_lead_waiting():
    """A Friday-evening lead owned by a business-hours rep waits for Monday 09:00 even though
    a 24/7 colleague is free; the pool lets the colleague take it at once."""
    cals = [BUSINESS, ALWAYS]
    start, rep = trace([FRI + 18.0], 0.25, calendars=cals, routing="round_robin")
    assert start[0, 0] == pytest.approx(NEXT_MON + 9.0, abs=1e-9) and rep[0, 0] == 0
    start, rep = trace([FRI + 18.0], 0.25, calendars=cals)
    assert start[0, 0] == pytest.approx(FRI + 18.0, abs=1e-9) and rep[0, 0] == 1


def test_reassignment_moves_an_untouched_lead_to_the_pool():
    """The round-robin trace above with reassign_after_h = 2: lead 3 (handed off at 0.6) is
    still untouched at 2.6, goes to the pool, and rep 0 (idle since 2.0) takes it then."""
    handoff, handling = [0.0, 0.1, 0.5, 0.6], [1.0, 5.0, 1.0, 1.0]
    start, rep = trace(handoff, handling, routing="round_robin", reassign_after_h=2.0)
    np.testing.assert_allclose(start[0], [0.0, 0.1, 1.0, 2.6], atol=1e-9)
    assert rep[0].tolist() == [0, 1, 0, 0]


def test_a_lead_touched_in_time_is_not_reassigned():
    start, rep = trace([0.0, 0.1], [1.0, 1.0], routing="round_robin", reassign_after_h=0.05)
    np.testing.assert_allclose(start[0], [0.0, 0.1], atol=1e-9)
    assert rep[0].tolist() == [0, 1]


def test_the_toucher_of_a_reassigned_lead_owns_its_later_attempts():
    """Lead 1 (owner rep 1, busy for 10 h) is reassigned at 1.1 and taken by rep 0; its second
    attempt, due an hour after its first started, goes to rep 0 as well."""
    handoff, handling = [0.0, 0.1], [[0.5, 10.0], [0.5, 0.5]]
    out = simulate_sales(
        np.asarray(handoff),
        np.zeros(2),
        np.array([3, 3]),  # reached by the 3rd attempt: both attempts are made
        np.asarray(handling, dtype=float).T.copy(),
        [0.0, 1.0],
        [ALWAYS, ALWAYS],
        "fifo",
        routing="round_robin",
        reassign_after_h=1.0,
    )
    start, rep, _ = attempt_matrix(out, 2)
    # Rep 1 is busy with lead 1's ... no: lead 1 is rep 1's own first attempt (10 h long).
    assert rep[0].tolist() == [0, 1]
    assert start[0, 1] == pytest.approx(0.1, abs=1e-9)
    # Lead 0's second attempt follows its owner, rep 0, one hour after its first.
    assert rep[1, 0] == 0 and start[1, 0] == pytest.approx(1.0, abs=1e-9)


def test_load_balanced_gives_the_lead_to_the_rep_with_fewest_open_leads():
    """Lead 2 (at 1.5) goes to rep 0, free again; lead 3 (at 1.6) finds both reps with one open
    lead and goes to the lowest-numbered, rep 0, starting at 2.5; round robin would have given
    it to rep 1, busy until 5.1."""
    handoff, handling = [0.0, 0.1, 1.5, 1.6], [1.0, 5.0, 1.0, 1.0]
    start, rep = trace(handoff, handling, routing="load_balanced")
    np.testing.assert_allclose(start[0], [0.0, 0.1, 1.5, 2.5], atol=1e-9)
    assert rep[0].tolist() == [0, 1, 0, 0]
    start, rep = trace(handoff, handling, routing="round_robin")
    np.testing.assert_allclose(start[0], [0.0, 0.1, 1.5, 5.1], atol=1e-9)


def test_routers_alone():
    rr = RoundRobin(3)
    assert [rr.assign() for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    lb = LoadBalanced(3)
    for rep in (0, 0, 1, 2, 2, 2):
        lb.opened(rep)
    assert lb.assign() == 1
    lb.closed(2)
    lb.closed(2)
    assert lb.assign() == 1 and lb.open_leads(2) == 1  # a tie goes to the lowest number
    lb.closed(2)
    assert lb.assign() == 2


def test_daily_pull_shows_a_lead_only_at_the_next_pull():
    """pull_times = [9]: a lead handed off Monday 10:00 is seen Tuesday 09:00; one handed off
    Monday 08:00 is seen at 09:00; with [9, 13], the 10:00 lead is seen at 13:00; a Friday
    14:00 lead waits for Monday 09:00."""
    daily = PullSchedule([9.0], WEEKDAYS, 0.0)
    start, _ = trace([8.0, 10.0], 0.25, calendars=[BUSINESS, BUSINESS], pulls=daily)
    np.testing.assert_allclose(start[0], [9.0, 24.0 + 9.0], atol=1e-9)
    twice = PullSchedule([9.0, 13.0], WEEKDAYS, 0.0)
    start, _ = trace([10.0, FRI + 14.0], 0.25, calendars=[BUSINESS, BUSINESS], pulls=twice)
    np.testing.assert_allclose(start[0], [13.0, NEXT_MON + 9.0], atol=1e-9)


def test_pulls_hold_new_leads_but_not_follow_ups():
    """A re-attempt is the rep's own follow-up: due an hour after the 09:00 first attempt, it
    starts at 10:00, not at the next pull."""
    daily = PullSchedule([9.0], WEEKDAYS, 0.0)
    start, _ = trace(
        [8.0], 0.25, reps=1, calendars=[BUSINESS], attempts=2, cadence=(0.0, 1.0), pulls=daily
    )
    np.testing.assert_allclose(start[:, 0], [9.0, 10.0], atol=1e-9)


def test_pull_schedule_follows_the_start_weekday():
    """Day 0 on a Saturday (offset 5 days): the first pull is Monday 09:00 = day 2."""
    s = PullSchedule([9.0], WEEKDAYS, 5 * 24.0)
    assert s.next_at(0.0) == pytest.approx(2 * 24.0 + 9.0)
    assert s.next_at(2 * 24.0 + 9.0) == pytest.approx(2 * 24.0 + 9.0)  # at a pull: that pull


# --- scenario keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "key", "says"),
    [
        ({"sales.routing": "territory"}, "sales.routing", "round_robin"),
        ({"sales.reassign_after_hours": 0}, "sales.reassign_after_hours", "greater than 0"),
        ({"sales.reassign_after_hours": -3}, "sales.reassign_after_hours", "greater than 0"),
        (
            {"sales.calendar": "business", "sales.pull_times": [8]},
            "sales.pull_times",
            "working day",
        ),
        ({"sales.calendar": "business", "sales.pull_times": [9, 17]}, "sales.pull_times", "17"),
        ({"sales.pull_times": []}, "sales.pull_times", "distinct hours"),
        ({"sales.pull_times": [9, 9]}, "sales.pull_times", "distinct hours"),
        ({"sales.pull_times": [25]}, "sales.pull_times", "less than 24"),
    ],
)
def test_bad_routing_keys_are_refused(
    minimal_scenario_dict, write_scenario, cli, changes, key, says
):
    sets = [a for k, v in changes.items() for a in ("--set", f"{k}={v!r}".replace("'", '"'))]
    res = cli("validate", write_scenario(minimal_scenario_dict), *sets)
    assert res.exit_code == 2, res.stdout
    assert key in res.stderr and says in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_reassignment_without_owners_is_flagged(minimal_scenario_dict):
    with pytest.warns(fs.ScenarioWarning, match="reassign_after_hours: has no effect"):
        fs.from_dict(minimal_scenario_dict, overrides={"sales.reassign_after_hours": 4})


# --- queueing theory -------------------------------------------------------------------------

C, MU, RHO = 3, 2.0, 0.8
LAM = RHO * C * MU


@pytest.fixture(scope="module")
def routed(mmc_scenario):
    """Per replication, the cohort's mean wait and share within one mean handling time, under
    each routing, on common random numbers."""
    out = {}
    for routing in ("pool", "load_balanced", "round_robin"):
        s = mmc_scenario(C, LAM, 1.0 / MU, 40.0, 4.0, overrides={"sales.routing": routing})
        rows = []
        for r in range(30):
            rec = fs.simulate(s, 77, r)
            cm = rec.cohort_mqls() & rec.worked
            wait = (rec.first_touch_at - rec.mql_at)[cm]
            rows.append((wait.mean(), np.mean(wait <= 1.0 / MU)))
        out[routing] = np.asarray(rows)
    return out


def _band(v) -> tuple[float, float]:
    return float(np.mean(v)), 4.0 * float(np.std(v, ddof=1)) / math.sqrt(len(v))


@pytest.mark.slow
def test_round_robin_is_c_independent_erlang_queues(routed):
    """Mean wait sigma / (mu (1 - sigma)) and P(W <= t) = 1 - sigma exp(-mu (1 - sigma) t) of
    E_c/M/1, and both far from the pool's Erlang C (so the check can tell them apart)."""
    waits = routed["round_robin"]
    theory = queueing.erlang_m1_mean_wait(C, LAM, MU)
    mean, tol = _band(waits[:, 0])
    assert tol < 0.15 * theory, "band too wide to catch a 15% error"
    assert abs(mean - theory) <= tol, (mean, theory, tol)
    assert queueing.mmc_mean_wait(LAM, MU, C) < theory - 3 * tol
    within = queueing.erlang_m1_wait_within(1.0 / MU, C, LAM, MU)
    mean, tol = _band(waits[:, 1])
    assert abs(mean - within) <= tol, (mean, within, tol)


@pytest.mark.slow
def test_load_balancing_lies_between_the_pool_and_round_robin(routed):
    """Paired on common random numbers: the shared pool waits least, pure turn-taking most,
    and owners chosen by their open leads in between."""
    pool, lb, rr = (routed[k][:, 0] for k in ("pool", "load_balanced", "round_robin"))
    for lower, higher in ((pool, lb), (lb, rr)):
        mean, tol = _band(higher - lower)
        assert mean - tol > 0, (mean, tol)
