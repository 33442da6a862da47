"""Skill requirement rows: a requirement row may name a skill, and only people who list that skill count towards
it (on top of the pool's row, which anyone on the phones counts towards). Validation, coverage per skill, the
polish's incremental state against a recount, both stage-2 paths, and the shortfall's why restricted to the
people with the skill."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from scheduling.rostering import audit_roster, parse_request, roster_coverage, solve_roster, validate_request
from scheduling.rostering.examples import control_room_templates, request_body, requirement_rows, staff_rows
from scheduling.rostering.grid import compile_request
from scheduling.rostering.model import coverage_cost, skill_coverage_cost, workable_options
from scheduling.rostering.polish import Polisher
from scheduling.rostering.solver import _assignments, _Clock, _solve_breaks, phones_by_skill, place_breaks, precheck
from scheduling.rostering.types import Assignment, BreakAssignment, RosterRequest, RosterResult

START = date(2027, 1, 4)


def pool(n_staff: int) -> Callable[[int, datetime], int]:
    def demand(day: int, local: datetime) -> int:
        h = local.hour
        return 1 + (h >= 8) + (10 <= h < 20) + (12 <= h < 16) * (n_staff // 8)

    return demand


def need_999(n_staff: int) -> Callable[[int, datetime], int]:
    def need(day: int, local: datetime) -> int:
        """One 999-trained call handler at all times; two by day from 20 staff up."""
        return 1 + (n_staff >= 20 and 8 <= local.hour < 22)

    return need


def skilled_body(n_staff: int, n_skilled: int, days: int = 7, limit: float = 10.0) -> dict:
    """``n_staff`` PCROs of whom the first ``n_skilled`` take 999 calls (the rest are 101-only new starters),
    the pool's demand plus a 999 row."""
    staff = staff_rows(n_staff)
    for i, s in enumerate(staff):
        s["skills"] = ["999", "101"] if i < n_skilled else ["101"]
    body = request_body(START, days, control_room_templates(), staff, pool(n_staff), time_limit_seconds=limit,
                        seed=1)
    rows = requirement_rows(START, days, need_999(n_staff))
    body["requirements"] += [r | {"skill": "999"} for r in rows]
    return body


def skill_under(coverage: list, skill: str) -> int:
    return sum(max(0, c.skills[skill]["required"] - c.skills[skill]["scheduled"]) for c in coverage)


# -- validation and compilation --------------------------------------------------------------------------------
def test_a_skill_nobody_has_and_a_duplicate_skill_row_are_rejected_by_name() -> None:
    body = skilled_body(6, 2, days=1)
    first = body["requirements"][0]["interval_start"]
    body["requirements"].append({"interval_start": first, "required": 1, "skill": "dispatch"})
    body["requirements"].append({"interval_start": first, "required": 1, "skill": "999"})  # a second 999 row
    errors = dict(validate_request(body))
    n = len(body["requirements"])
    assert "no staff member lists skill 'dispatch'" in errors[f"requirements[{n - 2}].skill"]
    assert "duplicate of requirements[96] (skill '999')" in errors[f"requirements[{n - 1}].interval_start"]
    # the same instant once for the pool and once for a skill is not a duplicate
    assert not any(path.startswith("requirements[96]") for path in errors)


def test_a_skill_that_is_not_a_string_is_a_field_error() -> None:
    body = skilled_body(6, 2, days=1)
    body["requirements"][100]["skill"] = 999
    with pytest.raises(ValueError, match=r"requirements\[100\]\.skill: must be a string"):
        parse_request(body)


def test_skill_rows_compile_to_their_own_requirement_and_staff_classes() -> None:
    comp = compile_request(parse_request(skilled_body(6, 2, days=1)))
    assert comp.skill_names == ["999"]
    assert comp.required[40] == pool(6)(0, datetime(2027, 1, 4, 10)) == 3  # the pool's row, not the 999 row
    assert comp.skill_required["999"][40] == 1 and comp.skill_required["999"][0] == 1
    assert [s.skills for s in comp.staff] == [frozenset({"999"})] * 2 + [frozenset()] * 4  # "101" has no rows
    assert comp.classes[comp.staff[0].cls] == {"999"} and comp.classes[comp.staff[5].cls] == frozenset()
    plain = compile_request(parse_request(request_body(START, 1, control_room_templates(), staff_rows(3), pool(3))))
    assert plain.skill_required == {} and plain.classes == [frozenset()]  # no skill rows: one class, as before


# -- coverage per skill ----------------------------------------------------------------------------------------
def test_coverage_counts_only_the_people_with_the_skill_and_takes_their_breaks_off() -> None:
    request = parse_request(skilled_body(4, 1, days=1))
    t = datetime(2027, 1, 4, 8, tzinfo=UTC)
    brk = BreakAssignment(t + timedelta(hours=3), t + timedelta(hours=3, minutes=30))
    shifts = [Assignment("PCRO-001", "early8", t, t + timedelta(hours=8), (brk,)),
              Assignment("PCRO-002", "early8", t, t + timedelta(hours=8), ())]
    cov = {c.interval_start: c for c in roster_coverage(request, shifts)}
    assert cov[t].scheduled == 2 and cov[t].skills["999"] == {"required": 1, "scheduled": 1}
    assert cov[brk.start].scheduled == 1 and cov[brk.start].skills["999"]["scheduled"] == 0  # on break
    assert cov[t - timedelta(hours=1)].skills["999"] == {"required": 1, "scheduled": 0}
    plain = parse_request(request_body(START, 1, control_room_templates(), staff_rows(2), pool(2)))
    assert all(c.skills == {} for c in roster_coverage(plain, shifts))


# -- the polish ------------------------------------------------------------------------------------------------
def test_the_polish_state_and_cost_include_the_skill_rows_and_match_a_recount() -> None:
    request = parse_request(skilled_body(12, 4, days=14))
    comp = compile_request(request)
    _, schedules = precheck(comp, _Clock(60, None, None))
    roster = [s or [] for s in schedules]
    workable = [workable_options(comp, p) for p in comp.staff]
    pol = Polisher(comp, workable, roster, place_breaks(comp, roster)[0], seed=2)
    stop = time.monotonic() + 3.0
    stats = pol.search(lambda: stop - time.monotonic(), workers=2)
    assert stats.rejected == 0 and stats.cost_end < stats.cost_start
    chosen, breaks = pol.roster(), pol.breaks()
    assignments = _assignments(comp, chosen, breaks)
    assert audit_roster(request, assignments) == []
    coverage = roster_coverage(request, assignments)
    assert list(pol.son[0, : comp.n_intervals]) == [c.skills["999"]["scheduled"] for c in coverage]
    assert phones_by_skill(comp, chosen, breaks)["999"] == [c.skills["999"]["scheduled"] for c in coverage]
    recount = coverage_cost([c.required for c in coverage], [c.scheduled for c in coverage]) + skill_coverage_cost(
        comp, {"999": [c.skills["999"]["scheduled"] for c in coverage]})
    assert pol.cost() == recount + pol.soft_cost() == stats.cost_end
    assert Polisher(comp, workable, chosen, breaks).cost() == stats.cost_end
    # a skill row is priced only for the people who have it
    skilled, unskilled = 0, 11
    gap = np.flatnonzero(pol.sreq[0] > pol.son[0, : comp.n_intervals])
    if len(gap):
        t = int(gap[0])
        assert pol._gains(t, t + 1, skilled)[0] < pol._gains(t, t + 1, unskilled)[0]


def test_the_break_model_hands_each_class_the_breaks_it_was_solved_for() -> None:
    """Breaks per (option, class) are merged back into per-option lists in hand-out order: the skill coverage the
    break model optimised is the skill coverage of the dated roster."""
    request = parse_request(skilled_body(12, 4, days=7))
    comp = compile_request(request)
    _, schedules = precheck(comp, _Clock(60, None, None))
    roster = [s or [] for s in schedules]
    breaks = _solve_breaks(comp, roster, request, _Clock(10, None, None))
    coverage = roster_coverage(request, _assignments(comp, roster, breaks))
    assert phones_by_skill(comp, roster, breaks)["999"] == [c.skills["999"]["scheduled"] for c in coverage]
    assert all(len(starts) == sum(r.count(oi) for r in roster) for oi, per in breaks.items() for starts in per)


# -- whole solves ------------------------------------------------------------------------------------------------
def _check_result(request: RosterRequest, res: RosterResult) -> None:
    """Everything the result says of the skill row agrees with a recount from the dated roster."""
    assert res.violations == []
    coverage = roster_coverage(request, res.assignments)
    assert [c.skills for c in res.coverage] == [c.skills for c in coverage]
    k = res.kpis["skills"]["999"]
    assert k["under_coverage_agent_hours"] == skill_under(coverage, "999") * 0.25
    short = [e for e in res.shortfall if e["skill"] == "999"]
    assert k["intervals_short"] == len(short)
    skilled = sum("999" in s.skills for s in request.staff)
    for e in short:
        assert e["short"] == e["required"] - e["scheduled"] > 0
        assert e["why"]["on_shift"] <= e["why"]["able"] <= skilled  # only people with the skill are counted
    assert res.kpis["lp_bound_coverage_cost"] <= res.kpis["coverage_cost"]


@pytest.mark.parametrize(("n_staff", "n_skilled", "limit", "path", "aware_max"), [
    (10, 5, 8.0, "one coverage model", 72),
    (30, 10, 15.0, "fill stage-1 shifts by block LNS", 32),
])
def test_the_solver_meets_the_skill_row_a_skill_blind_roster_misses(
    n_staff: int, n_skilled: int, limit: float, path: str, aware_max: int
) -> None:
    """Measured over seeds 1-3 / 1-2 and seed 1 again with the other core busy (agent-intervals of the 999 row
    short; 24 of them are the first night's, 00:00-06:00 of day 0, which no shift of the roster reaches): 10 staff,
    5 with 999, 48-54 aware against 176-282 blind, the pool's own shortfall 18.25-20.75 h against 15.25-18.5 h (the
    999 row costs a little pool cover where both cannot be had); 30 staff, 10 with 999: 24 against 319-411, the
    pool's 6.0 h either way."""
    body = skilled_body(n_staff, n_skilled, limit=limit)
    request = parse_request(body)
    res = solve_roster(request)
    assert res.kpis["stage2_mode"] == path
    _check_result(request, res)
    # The same request without the 999 row (the solver blind to skills) leaves far more of it uncovered.
    blind = solve_roster(parse_request(body | {"requirements": [r for r in body["requirements"] if "skill" not in r]}))
    aware = skill_under(roster_coverage(request, res.assignments), "999")
    missed = skill_under(roster_coverage(request, blind.assignments), "999")
    assert aware <= aware_max
    assert missed >= aware + 60  # measured: 126-308 more
    # Where pool and 999 cover cannot both be had (10 staff), the 999 row may cost some pool cover, but on the
    # whole objective (pool and row) the skill-aware roster is the better one.
    comp = compile_request(request)
    blind_cov = roster_coverage(request, blind.assignments)
    blind_cost = coverage_cost([c.required for c in blind_cov], [c.scheduled for c in blind_cov]) + skill_coverage_cost(
        comp, {"999": [c.skills["999"]["scheduled"] for c in blind_cov]})
    assert res.kpis["coverage_cost"] < blind_cost
