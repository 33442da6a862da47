"""LP bounds: the per-person LP relaxation is valid (never above a roster the solver finds) and tighter than
the aggregated stage-1 LP where aggregation lets one person's hours stand in for another's."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from scheduling.rostering import parse_request, solve_roster
from scheduling.rostering.bound import lp_bounds, person_lp_bounds, roster_lp_bound, staff_groups
from scheduling.rostering.examples import request_body, template
from scheduling.rostering.grid import compile_request
from scheduling.rostering.model import workable_options
from scheduling.rostering.solver import check_person

NIGHT = template("night", "22:00", "22:00", 600)
DAY = template("day", "08:00", "08:00", 600)


def night_demand(day: int, local: datetime) -> int:
    return 1 if local.hour >= 22 or local.hour < 8 else 0


def body() -> dict:
    """Nights only (10 h a night, 7 nights); the night worker is contracted for one 10-hour shift, the day worker
    (who may not work nights) for five."""
    staff = [
        {"id": "N1", "contract_minutes_per_week": 600, "allowed_templates": ["night"]},
        {"id": "D1", "contract_minutes_per_week": 3000, "allowed_templates": ["day"]},
    ]
    rules = {"contract_tolerance_minutes": 0, "min_days_off_per_week": 2, "max_consecutive_days": 6,
             "min_rest_minutes": 660, "max_minutes_per_week": 2880 + 120}
    return request_body(date(2027, 1, 4), 7, [NIGHT, DAY], staff, night_demand, rules=rules, time_limit_seconds=10)


def test_person_lp_is_tighter_than_the_aggregate_and_still_a_bound() -> None:
    request = parse_request(body())
    comp = compile_request(request)
    workable = [workable_options(comp, p) for p in comp.staff]
    assert len(staff_groups(comp, workable)) == 2
    aggregate = lp_bounds(comp, workable)
    person = person_lp_bounds(comp, workable)
    assert person.status == aggregate.status == "OPTIMAL"
    hours = request.interval_minutes / 60
    # 70 night hours wanted. Summed over staff, the day worker's 50 contracted hours may pay for nights, so the
    # aggregate LP covers 6 nights (all 3,600 contracted minutes); person by person only the one night is paid.
    assert aggregate.under_intervals * hours == pytest.approx(70 - 60, abs=1e-6)
    assert person.under_intervals * hours == pytest.approx(70 - 10, abs=1e-6)
    roster = solve_roster(request)
    assert roster.violations == []
    assert roster.kpis["under_coverage_agent_hours"] == pytest.approx(person.under_intervals * hours, abs=1e-6)
    assert person.coverage_cost <= roster.kpis["coverage_cost"] + 1e-6
    # The solver reports the tighter bound on an instance this small: the roster is shown optimal (gap 0).
    assert roster.kpis["lp_bound_kind"] == "per person"
    assert roster.kpis["under_coverage_lower_bound_agent_hours"] == pytest.approx(60.0, abs=1e-6)
    assert roster.kpis["gap"] == pytest.approx(0.0, abs=1e-9)


def test_roster_lp_is_tighter_than_the_person_lp_where_shift_lengths_do_not_add_up() -> None:
    """A 20-hour contract (no tolerance) met only by one 12-hour night and one 8-hour day: the per-person LP
    covers 1.67 nights (20 h of nights), the roster LP exactly one, which is what the best roster achieves."""
    night12 = template("night12", "20:00", "20:00", 720)
    day8 = template("day8", "08:00", "08:00", 480)
    staff = [{"id": "P1", "contract_minutes_per_week": 1200}]
    rules = {"contract_tolerance_minutes": 0, "min_days_off_per_week": 2, "max_consecutive_days": 6,
             "min_rest_minutes": 660, "max_minutes_per_week": 2880}

    def nights(day: int, local: datetime) -> int:
        return 1 if local.hour >= 20 or (local.hour < 8 and day > 0) else 0

    request = parse_request(request_body(date(2027, 1, 4), 7, [night12, day8], staff, nights, rules=rules,
                                         time_limit_seconds=10))
    comp = compile_request(request)
    workable = [workable_options(comp, p) for p in comp.staff]
    required_hours = sum(comp.required) * 0.25
    assert required_hours == 6 * 12 + 4  # six whole nights and the last evening
    person = person_lp_bounds(comp, workable)
    assert person.under_intervals * 0.25 == pytest.approx(required_hours - 20, abs=1e-6)
    first = [check_person(comp, p) for p in comp.staff]
    rosters = roster_lp_bound(comp, workable, first, time_limit=60)
    assert rosters.converged
    assert rosters.under_intervals * 0.25 == pytest.approx(required_hours - 12, abs=1e-3)
    assert rosters.master_under_intervals == pytest.approx(rosters.under_intervals, abs=1e-3)
    roster = solve_roster(request)
    assert roster.violations == []
    assert roster.kpis["under_coverage_agent_hours"] == pytest.approx(required_hours - 12, abs=1e-6)


def test_roster_lp_bound_sits_between_the_person_lp_and_the_roster_found() -> None:
    """On the nights instance above: never below the per-person LP, never above the solver's roster, and its
    Lagrangian bound never above the master's value, also when stopped after one pricing round."""
    request = parse_request(body())
    comp = compile_request(request)
    workable = [workable_options(comp, p) for p in comp.staff]
    first = [check_person(comp, p) for p in comp.staff]
    person = person_lp_bounds(comp, workable)
    full = roster_lp_bound(comp, workable, first, time_limit=60)
    assert full.converged
    assert full.under_intervals >= person.under_intervals - 1e-3  # less the rounding of prices to integers
    roster = solve_roster(request)
    assert full.under_intervals * 0.25 <= roster.kpis["under_coverage_agent_hours"] + 1e-6
    early = roster_lp_bound(comp, workable, first, time_limit=1e-9)
    assert early.iterations == 0 and early.under_intervals == 0.0


def test_lp_values_are_the_coverage_rows_duals() -> None:
    """``LpBound.values`` (what guides the polish) obey complementary slackness against the LP's own shifts: one
    more agent is worth the interval's full under-coverage weight where the LP is short, and saves nothing (costs
    OVER_UNIT) where it is over; in between elsewhere."""
    from scheduling.rostering.examples import control_room_templates, staff_rows
    from scheduling.rostering.model import OVER_UNIT, UNDER_UNIT, interval_weights

    def demand(day: int, local: datetime) -> int:
        return 9 if day == 3 and 17 <= local.hour < 23 else (2 if 8 <= local.hour < 20 else 1)

    request = parse_request(request_body(date(2027, 1, 4), 7, control_room_templates(), staff_rows(6), demand))
    comp = compile_request(request)
    workable = [workable_options(comp, p) for p in comp.staff]
    bound = lp_bounds(comp, workable)
    assert bound.status == "OPTIMAL" and len(bound.values) == comp.n_intervals
    on = [0.0] * comp.n_intervals
    for oi, v in bound.x.items():
        o = comp.options[oi]
        for t in range(max(0, o.first), min(comp.n_intervals, o.first + o.length)):
            on[t] += v
    for (oi, bi, k), v in bound.y.items():
        for t in range(max(0, k), min(comp.n_intervals, k + comp.options[oi].break_lengths[bi])):
            on[t] -= v
    w = interval_weights(comp.required)
    short = over = 0
    for t, value in enumerate(bound.values):
        assert -OVER_UNIT - 1e-6 <= value <= UNDER_UNIT * w[t] + 1e-6
        if comp.required[t] - on[t] > 1e-6:
            short += 1
            assert value == pytest.approx(UNDER_UNIT * w[t], abs=1e-6)
        elif on[t] - comp.required[t] > 1e-6:
            over += 1
            assert value == pytest.approx(-OVER_UNIT, abs=1e-6)
    assert short > 0 and over > 0  # both cases were tested


def test_the_lp_optimum_of_the_objective_may_leave_more_short_than_the_under_coverage_bound() -> None:
    """One agent wanted for a quarter-hour: a 12-hour shift would cover it with 47 quarter-hours of surplus (4,700
    units) where leaving it short costs 4,000, so the objective's optimum leaves it short. The plain
    under-coverage bound is 0; the LP optimum of the objective (``lp_optimum_under_coverage_agent_hours``) shows
    the 0.25 h the objective chooses, and the solver's roster matches it."""
    long_day = template("long", "08:00", "08:00", 720)
    staff = [{"id": "A1", "contract_minutes_per_week": 720}]
    rules = {"contract_tolerance_minutes": 720}  # 0 to 24 hours in the week

    def demand(day: int, local: datetime) -> int:
        return 1 if day == 0 and local.hour == 8 and local.minute == 0 else 0

    request = parse_request(request_body(date(2027, 1, 4), 7, [long_day], staff, demand, rules=rules,
                                         time_limit_seconds=10))
    comp = compile_request(request)
    bound = lp_bounds(comp, [workable_options(comp, p) for p in comp.staff])
    assert bound.under_intervals == pytest.approx(0.0, abs=1e-9)
    assert bound.under_at_cost_intervals == pytest.approx(1.0, abs=1e-9)
    roster = solve_roster(request)
    assert roster.violations == [] and roster.assignments == []
    assert roster.kpis["under_coverage_lower_bound_agent_hours"] == pytest.approx(0.0, abs=1e-9)
    assert roster.kpis["lp_optimum_under_coverage_agent_hours"] == pytest.approx(0.25, abs=1e-9)
    assert roster.kpis["under_coverage_agent_hours"] == pytest.approx(0.25, abs=1e-9)


def test_reachable_band_keeps_exactly_the_totals_whole_shifts_reach() -> None:
    """Brute force over small cases: the narrowed band holds every reachable total the band held and ends on
    reachable totals, so no roster is lost and none is added; a band nothing reaches stays as it was."""
    import itertools
    import random

    from scheduling.rostering.grid import reachable_band

    rng = random.Random(7)
    for _ in range(300):
        lengths = frozenset(rng.sample([240, 360, 420, 480, 600, 720, 750], rng.randint(1, 3)))
        shifts = rng.randint(0, 5)
        lo = rng.randrange(0, 3000, 30)
        hi = lo + rng.randrange(0, 1500, 30)
        sums = {sum(c) for k in range(shifts + 1) for c in itertools.combinations_with_replacement(lengths, k)}
        inside = sorted(v for v in sums if lo <= v <= hi)
        new_lo, new_hi = reachable_band(lo, hi, lengths, shifts)
        if inside:
            assert (new_lo, new_hi) == (inside[0], inside[-1])
        else:
            assert (new_lo, new_hi) == (lo, hi)


def test_contract_band_narrows_to_whole_shifts_and_the_bound_with_it() -> None:
    """One night worker, 10-h nights, contracted 21 h +/- 2 h: only 20 h can be worked. Before the band was
    narrowed the LP paid 23 h of nights (fractions of a shift) and bounded under-coverage at 47 h where every
    roster leaves 50 h."""
    staff = [{"id": "N1", "contract_minutes_per_week": 1260, "allowed_templates": ["night"]}]
    rules = {"contract_tolerance_minutes": 120, "min_days_off_per_week": 2, "max_consecutive_days": 6,
             "min_rest_minutes": 660, "max_minutes_per_week": 2880}
    request = parse_request(
        request_body(date(2027, 1, 4), 7, [NIGHT], staff, night_demand, rules=rules, time_limit_seconds=10)
    )
    comp = compile_request(request)
    assert (comp.staff[0].contract_lo, comp.staff[0].contract_hi) == (1200, 1200)
    workable = [workable_options(comp, p) for p in comp.staff]
    hours = request.interval_minutes / 60
    assert lp_bounds(comp, workable).under_intervals * hours == pytest.approx(70 - 20, abs=1e-6)
    roster = solve_roster(request)
    assert roster.violations == []
    assert roster.kpis["under_coverage_agent_hours"] == pytest.approx(50.0, abs=1e-6)
    assert roster.kpis["gap"] == pytest.approx(0.0, abs=1e-9)


def test_checks_that_relax_a_family_use_the_band_before_narrowing() -> None:
    """Narrowed by its own 10-h nights, a 21 h +/- 2 h band is 20 h (two nights); the two nights free are in a row,
    14 h apart against 15 h of rest, so the person cannot be rostered. Relaxing the allowed templates offers 7-h
    days, and 3 of them (21 h) are inside the band itself, though not inside the narrowed one: the diagnosis must
    name allowed_templates."""
    day7 = template("day7", "09:00", "09:00", 420)
    blocked = [{"start": f"2027-01-{4 + d:02d}T21:00:00+00:00", "end": f"2027-01-{5 + d:02d}T07:00:00+00:00"}
               for d in range(5)]
    staff = [{"id": "N1", "contract_minutes_per_week": 1260, "allowed_templates": ["night"], "unavailable": blocked}]
    rules = {"contract_tolerance_minutes": 120, "min_days_off_per_week": 2, "max_consecutive_days": 6,
             "min_rest_minutes": 900, "max_minutes_per_week": 2880}
    request = parse_request(
        request_body(date(2027, 1, 4), 7, [NIGHT, day7], staff, night_demand, rules=rules, time_limit_seconds=10)
    )
    comp = compile_request(request)
    info = comp.staff[0]
    assert (info.contract_lo, info.contract_hi, info.band) == (1200, 1200, (1140, 1380))
    assert check_person(comp, info) is None
    res = solve_roster(request)
    assert res.status == "CONFLICT"
    (conflict,) = res.conflicts
    assert "allowed_templates" in conflict.families and "rest" in conflict.families
