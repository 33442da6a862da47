"""The local search on the true objective (polish.py): its moves keep every hard rule (the independent audit
agrees), its incremental state matches a recount, it never returns a worse roster, and it moves a shift to
where it is needed."""

from __future__ import annotations

import time
from datetime import date, datetime

import numpy as np
import pytest

from scheduling.rostering import audit_roster, parse_request, roster_coverage, solve_roster
from scheduling.rostering.bound import lp_bounds
from scheduling.rostering.examples import control_room_templates, request_body, staff_rows, template
from scheduling.rostering.grid import Compiled, compile_request
from scheduling.rostering.model import coverage_cost, workable_options
from scheduling.rostering.polish import LP_BLEND, Polisher
from scheduling.rostering.solver import _assignments, _Clock, place_breaks, precheck


def demand(day: int, local: datetime) -> int:
    """A day peak, a quieter night, and a busy Friday."""
    base = 6 if 8 <= local.hour < 20 else 3
    return base + (3 if day % 7 == 4 and 16 <= local.hour < 23 else 0)


def tight_body() -> dict:
    """25 staff for 14 days with binding rules: a previous night shift, leave, weekend preferences, part-timers."""
    start = date(2027, 1, 4)
    staff = staff_rows(20) + staff_rows(5, 1332, prefix="PT", allowed_templates=["early8", "mid8", "late8"])
    staff[0]["worked_before"] = [{"start": "2027-01-03T21:00:00+00:00", "end": "2027-01-04T07:00:00+00:00"}]
    staff[1]["unavailable"] = [{"start": "2027-01-11T00:00:00+00:00", "end": "2027-01-15T00:00:00+00:00"}]
    for s in staff[2:8]:
        s["prefers"] = {"days_off": ["saturday", "sunday"]}
    staff[8]["prefers"] = {"templates": ["early10", "early8"]}
    return request_body(start, 14, control_room_templates(), staff, demand, time_limit_seconds=8)


def polisher_from_precheck(body: dict) -> tuple:
    request = parse_request(body)
    comp = compile_request(request)
    _, schedules = precheck(comp, _Clock(60, None, None))
    roster = [s or [] for s in schedules]
    workable = [workable_options(comp, p) for p in comp.staff]
    return request, comp, Polisher(comp, workable, roster, place_breaks(comp, roster)[0], seed=3)


def polished(comp: Compiled, shifts: list[int], moves: str, seconds: float = 0.5) -> Polisher:
    """Half a second of polish with ``moves`` from a one-person roster of ``shifts``."""
    workable = [workable_options(comp, p) for p in comp.staff]
    pol = Polisher(comp, workable, [list(shifts)], place_breaks(comp, [list(shifts)])[0], seed=1)
    stop = time.monotonic() + seconds
    pol.run(lambda: stop - time.monotonic(), moves=moves)
    return pol


@pytest.mark.parametrize("moves", ["day", "person", "both"])
def test_polish_keeps_every_hard_rule_and_its_state_matches_a_recount(moves: str) -> None:
    request, comp, pol = polisher_from_precheck(tight_body())
    stop = time.monotonic() + 3.0
    stats = pol.run(lambda: stop - time.monotonic(), moves=moves, workers=2)
    assert stats.moves_kept > 0
    assert stats.rejected == 0
    if moves == "day":
        assert stats.person_moves_tried == 0
    elif moves == "person":
        assert stats.person_moves_tried == stats.moves_tried and stats.person_moves_kept > 0
    else:
        assert 0 < stats.person_moves_tried < stats.moves_tried
    assert stats.cost_end < stats.cost_start
    chosen, breaks = pol.roster(), pol.breaks()
    assignments = _assignments(comp, chosen, breaks)
    assert audit_roster(request, assignments) == []
    # The incremental phones count and cost equal a recount from the dated roster, and a fresh start from it
    # (this roster's people: staff[0]'s previous night is in the coverage as carried_in, the requirement net of it).
    coverage = roster_coverage(request, assignments)
    assert sum(c.carried_in for c in coverage) == 28
    ours = [c.scheduled - c.carried_in for c in coverage]
    assert list(pol.on[: comp.n_intervals]) == ours
    recount = coverage_cost(comp.required, ours)
    assert pol.cost() == recount + pol.soft_cost()
    workable = [workable_options(comp, p) for p in comp.staff]
    assert Polisher(comp, workable, chosen, breaks).cost() == stats.cost_end


def test_polish_moves_the_one_shift_to_the_day_that_needs_it() -> None:
    day = template("day", "08:00", "08:00", 600, breaks=((30, 180, 300),))
    night = template("night", "22:00", "22:00", 600)
    staff = [{"id": "A", "contract_minutes_per_week": 600}]  # exactly one 10-hour shift in the week
    rules = {"min_rest_minutes": 660, "max_consecutive_days": 6, "min_days_off_per_week": 2,
             "max_minutes_per_week": 2880, "contract_tolerance_minutes": 0}

    def wednesday(d: int, local: datetime) -> int:
        return 1 if d == 2 and 8 <= local.hour < 18 else 0

    request = parse_request(request_body(date(2027, 1, 4), 7, [day, night], staff, wednesday, rules=rules))
    comp = compile_request(request)
    monday_night = next(oi for oi in comp.by_day[0] if comp.options[oi].name == "night")
    workable = [workable_options(comp, p) for p in comp.staff]
    pol = Polisher(comp, workable, [[monday_night]], place_breaks(comp, [[monday_night]])[0])
    stop = time.monotonic() + 1.0
    stats = pol.run(lambda: stop - time.monotonic())
    (oi,) = pol.roster()[0]
    assert (comp.options[oi].name, comp.options[oi].day) == ("day", 2)
    # 10 h wanted, a 30-minute break must fall inside them: 9.5 h covered is the best any roster can do.
    under = sum(max(0, r - s) for r, s in zip(comp.required, pol.on, strict=False)) * 0.25
    assert under == pytest.approx(0.5)
    assert stats.cost_end < stats.cost_start


def test_people_on_a_pattern_move_only_within_it() -> None:
    """Day moves leave a person on a rotating pattern alone; a whole-person move keeps the pattern's days and
    moves the start times inside the template's window to where the calls are."""
    d = template("d", "06:00", "10:00", 480, step=60)
    staff = [{"id": "A", "contract_minutes_per_week": 1680, "pattern": "2on2off", "pattern_offset": 0}]
    patterns = [{"name": "2on2off", "cycle": ["D", "D", "-", "-"], "letters": {"D": ["d"]}}]
    rules = {"min_rest_minutes": 660, "max_consecutive_days": 6, "min_days_off_per_week": 2,
             "max_minutes_per_week": 2880, "contract_tolerance_minutes": 60}

    def late(day: int, local: datetime) -> int:
        return 1 if 10 <= local.hour < 18 else 0

    request = parse_request(request_body(date(2027, 1, 4), 8, [d], staff, late, rules=rules, patterns=patterns))
    comp = compile_request(request)
    early = [next(oi for oi in comp.by_day[x] if comp.options[oi].wall.hour == 6) for x in (0, 1, 4, 5)]
    assert polished(comp, early, "day").roster() == [early]
    pol = polished(comp, early, "person")
    assert [(comp.options[oi].day, comp.options[oi].wall.hour) for oi in pol.roster()[0]] == [
        (0, 10), (1, 10), (4, 10), (5, 10)]
    assignments = _assignments(comp, pol.roster(), pol.breaks())
    assert audit_roster(request, assignments, {"A": {"pattern": "2on2off", "offset": 0}}) == []


@pytest.mark.parametrize("cap", [1, 2])
def test_at_most_the_capped_guided_cycles_run_before_the_windows(monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    """With windows to follow, the guided cycles stop at GUIDE_CYCLES_BEFORE_WINDOWS and the windows take the rest
    of the guided share (here up to 2.8 s of guided phase: room for two cycles of 0.8 s after 0.8 s of plain
    descent, with time to spare on a loaded machine)."""
    from scheduling.rostering import polish

    monkeypatch.setattr(polish, "WINDOW_MIN_SECONDS", 0.0)  # windows even in this short search
    monkeypatch.setattr(polish, "GUIDE_CYCLES_BEFORE_WINDOWS", cap)
    request, comp, pol = polisher_from_precheck(tight_body())
    stop = time.monotonic() + 4.0
    stats = pol.search(lambda: stop - time.monotonic(), workers=2, window_share=0.3)
    assert stats.guided_cycles == cap
    assert stats.window_moves_tried >= 1
    assert stats.rejected == 0 and stats.cost_end <= stats.cost_start
    assert audit_roster(request, _assignments(comp, pol.roster(), pol.breaks())) == []


def test_the_solver_polishes_large_rosters_and_the_audit_passes() -> None:
    body = tight_body()
    body["time_limit_seconds"] = 15  # the LP bound alone takes a few seconds here: leave the polish some time
    reports: list = []
    result = solve_roster(parse_request(body), progress=reports.append)
    kpis = result.kpis
    polish = [r for r in reports if r.stage == "polish"]
    assert polish and all(r.best_objective is not None for r in polish)  # progress does not freeze meanwhile
    assert kpis["stage2_mode"] == "fill stage-1 shifts by block LNS"
    assert kpis["polish_moves_tried"] > 0 and kpis["polish_rejected"] == 0
    assert kpis["polish_cost_end"] <= kpis["polish_cost_start"]
    assert 0 <= kpis["polish_guided_cycles_kept"] <= kpis["polish_guided_cycles"] and kpis["polish_guided_cycles"] >= 1
    assert result.violations == []
    assert kpis["time_total_seconds"] <= 15 + 1.5


def test_polish_never_returns_a_worse_roster_with_late_acceptance() -> None:
    _, _, pol = polisher_from_precheck(tight_body())
    stop = time.monotonic() + 2.0
    stats = pol.run(lambda: stop - time.monotonic(), history=200)
    assert stats.cost_end <= stats.cost_start
    assert pol.cost() == stats.cost_end


@pytest.mark.parametrize("lp_guided", [False, True])
def test_guided_search_keeps_every_rule_restores_the_weights_and_never_ends_worse(lp_guided: bool) -> None:
    request, comp, pol = polisher_from_precheck(tight_body())
    if lp_guided:  # the solver's polish: guided halves also priced towards the LP bound's optimum
        workable = [workable_options(comp, p) for p in comp.staff]
        pol = Polisher(comp, workable, pol.roster(), pol.breaks(), seed=3, lp_values=lp_bounds(comp, workable).values)
        assert pol.lp_price is not None
    true_weights = pol.uw.copy()
    stop = time.monotonic() + 4.0
    stats = pol.search(lambda: stop - time.monotonic(), workers=2)
    assert stats.guided_cycles >= 2  # 0.8 s of plain descent, then cycles of 0.8 s
    assert 0 <= stats.guided_cycles_kept <= stats.guided_cycles
    assert (pol.uw == true_weights).all() and not pol.lp_guided
    assert stats.rejected == 0 and stats.cost_end <= stats.cost_start
    chosen, breaks = pol.roster(), pol.breaks()
    assignments = _assignments(comp, chosen, breaks)
    assert audit_roster(request, assignments) == []
    coverage = roster_coverage(request, assignments)
    recount = coverage_cost([c.required for c in coverage], [c.scheduled for c in coverage])
    assert pol.cost() == recount + pol.soft_cost() == stats.cost_end
    workable = [workable_options(comp, p) for p in comp.staff]
    assert Polisher(comp, workable, chosen, breaks).cost() == stats.cost_end


def test_lp_guided_prices_blend_the_roster_prices_with_the_lp_values() -> None:
    """While ``lp_guided``, one more agent's price per interval is LP_BLEND of minus the LP's value there and the
    rest of the roster's own price; otherwise (and with no LP values) the roster's price alone."""
    _, comp, pol = polisher_from_precheck(tight_body())
    workable = [workable_options(comp, p) for p in comp.staff]
    values = lp_bounds(comp, workable).values
    own = pol._gains(0, comp.n_intervals, 0)
    guided = Polisher(comp, workable, pol.roster(), pol.breaks(), seed=3, lp_values=values)
    assert (guided._gains(0, comp.n_intervals, 0) == own).all()
    guided.lp_guided = True
    expected = np.round((1 - LP_BLEND) * own - LP_BLEND * np.asarray(values))
    assert (guided._gains(0, comp.n_intervals, 0) == expected).all()
    assert (guided._gains(0, comp.n_intervals, 0) != own).any()
    pol.lp_guided = True  # no LP values: nothing to blend
    assert (pol._gains(0, comp.n_intervals, 0) == own).all()


def test_a_snapshot_restores_the_same_roster_every_time() -> None:
    """Guided cycles go back to the best roster more than once: restoring must not hand the snapshot's own lists
    to the search (which would then change the snapshot)."""
    _, _, pol = polisher_from_precheck(tight_body())
    snap, cost = pol._snapshot(), pol.cost()
    for _ in range(2):
        stop = time.monotonic() + 0.5
        pol.run(lambda stop=stop: stop - time.monotonic(), moves="day")
        assert pol.cost() != cost
        pol._restore(snap)
        assert pol.cost() == cost and pol.roster() == [sorted(o for o in r if o >= 0) for r in snap[0]]


def test_placing_breaks_again_never_raises_the_cost_and_keeps_them_in_their_windows() -> None:
    # Every break at the start of its window (no placement given): placing them again lowers the cost by exactly
    # what it reports, the state matches a recount, the audit finds the breaks in their windows, and a second sweep
    # finds nothing dearer to undo.
    request, comp, pol = polisher_from_precheck(tight_body())
    workable = [workable_options(comp, p) for p in comp.staff]
    roster = pol.roster()
    pol = Polisher(comp, workable, roster, {}, seed=3)
    before = pol.cost()
    change = pol.replace_breaks(range(len(comp.staff)))
    assert change < 0 and pol.cost() == before + change
    assert Polisher(comp, workable, roster, pol.breaks()).cost() == pol.cost()
    assert pol.roster() == roster
    assert audit_roster(request, _assignments(comp, roster, pol.breaks())) == []
    assert pol.replace_breaks(range(len(comp.staff))) <= 0


def test_a_whole_person_move_changes_three_days_where_no_day_move_keeps_the_contract() -> None:
    """A 40-hour week with no tolerance is five 8-hour shifts or two 12s and two 8s: getting from one to the other
    changes three days at once (two 8s become 12s, a fifth shift goes), so one- and two-day moves cannot."""
    d8 = template("d8", "08:00", "08:00", 480)
    d12 = template("d12", "08:00", "08:00", 720)
    staff = [{"id": "A", "contract_minutes_per_week": 2400}]
    rules = {"min_rest_minutes": 660, "max_consecutive_days": 6, "min_days_off_per_week": 2,
             "max_minutes_per_week": 2880, "contract_tolerance_minutes": 0}

    def need(d: int, local: datetime) -> int:  # 12 h on Monday and Tuesday, 8 h on Wednesday and Thursday
        end = {0: 20, 1: 20, 2: 16, 3: 16}.get(d, 8)
        return 1 if 8 <= local.hour < end else 0

    request = parse_request(request_body(date(2027, 1, 4), 7, [d8, d12], staff, need, rules=rules))
    comp = compile_request(request)
    eights = [next(oi for oi in comp.by_day[d] if comp.options[oi].name == "d8") for d in range(5)]  # Mon-Fri

    def short_hours(pol: Polisher) -> float:
        return sum(max(0, r - s) for r, s in zip(comp.required, pol.on, strict=False)) * 0.25

    # every one- or two-day move that adds a 12 breaks the contract (sideways ones remain)
    stuck = polished(comp, eights, "day")
    assert all(comp.options[oi].name == "d8" for oi in stuck.roster()[0])
    assert short_hours(stuck) == 8.0
    pol = polished(comp, eights, "person")
    assert [(comp.options[oi].name, comp.options[oi].day) for oi in pol.roster()[0]] == [
        ("d12", 0), ("d12", 1), ("d8", 2), ("d8", 3)]
    assert short_hours(pol) == 0.0
    assert audit_roster(request, _assignments(comp, pol.roster(), pol.breaks())) == []
