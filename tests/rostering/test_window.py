"""Window moves (window.py): every movable person's days in a window re-rostered by one MIP (HiGHS). The model
prices the roster exactly as the polish does (its first solution costs what the roster costs there), a solved
window's objective is the cost of the roster it leaves, a sweep of windows keeps every hard rule (the audit agrees,
the previous period included) with its state equal to a recount, two windows solved at once keep every contract
band, and a solve stops when told."""

from __future__ import annotations

import time

import numpy as np
import pytest

from scheduling.rostering import audit_roster, polish, roster_coverage
from scheduling.rostering.grid import Compiled
from scheduling.rostering.model import coverage_cost, workable_options
from scheduling.rostering.polish import OFF, Polisher
from scheduling.rostering.solver import _assignments
from scheduling.rostering.types import RosterRequest
from scheduling.rostering.window import WindowModel, build_window, every_option, lp_options
from tests.rostering.test_polish import polisher_from_precheck, tight_body
from tests.rostering.test_skills import skilled_body


def _window_cost(pol: Polisher, wm: WindowModel) -> int:
    """What the window's MIP prices: coverage of its intervals and the preferences of its people's window days."""
    prefs = sum(pol._pref(p, pol.days[p][d]) for p in wm.saved for d in range(wm.first, wm.last + 1)
                if pol.days[p][d] != OFF)
    return pol._cost_span(wm.lo, wm.hi) + prefs


def _audited(request: RosterRequest, comp: Compiled, pol: Polisher) -> None:
    """The roster keeps every hard rule and the polish's phones and cost equal a recount from the datetimes."""
    chosen, breaks = pol.roster(), pol.breaks()
    assignments = _assignments(comp, chosen, breaks)
    assert audit_roster(request, assignments) == []
    coverage = roster_coverage(request, assignments)
    ours = [c.scheduled - c.carried_in for c in coverage]  # this roster's people (the requirement is net of the rest)
    assert list(pol.on[: comp.n_intervals]) == ours
    if not comp.skill_names:
        recount = coverage_cost(comp.required, ours)
        assert pol._cost_span(0, pol.n) == recount
    workable = [workable_options(comp, p) for p in comp.staff]
    assert Polisher(comp, workable, chosen, breaks).cost() == pol.cost()


@pytest.mark.parametrize("body", [tight_body(), skilled_body(12, 5)], ids=["pool", "skill rows"])
def test_the_window_model_prices_the_roster_and_its_optimum_is_the_roster_it_leaves(body: dict) -> None:
    request, comp, pol = polisher_from_precheck(body)
    for first in range(comp.days - 1):  # from the roster's first days (tight_body: a previous-period night)
        wm = build_window(pol, first, first + 1)
        assert wm is not None
        assert wm.start_cost == _window_cost(pol, wm)  # the roster, as the model's first solution, costs the same
        values, objective = wm.rows.solve(20.0, 1, lambda: False)
        assert values is not None and objective <= wm.start_cost
        if objective < wm.start_cost:
            break
    else:
        pytest.fail("no window improves on the pre-check's roster")
    before = pol.cost()
    change = pol.keep_window(wm, values, objective, lambda c: True)
    assert change is not None and pol.rejected == 0
    assert _window_cost(pol, wm) == round(objective)  # coverage with the breaks as counted, skill rows included
    assert pol.cost() - before == change
    _audited(request, comp, pol)


@pytest.mark.parametrize("lp", [True, False], ids=["with the LP's options", "plain"])
def test_a_sweep_of_windows_in_two_threads_keeps_every_rule_and_every_contract_band(lp: bool) -> None:
    request, comp, pol = polisher_from_precheck(tight_body())
    start = pol.cost()
    stop = time.monotonic() + 4.0
    stats = pol.windows(lambda: stop - time.monotonic(), threads=2, lp=lp)  # 14 days: pairs a week apart together
    assert stats.window_moves_kept > 0 and stats.rejected == 0  # a band broken by two windows would be rejected
    assert stats.cost_end == pol.cost() < start
    for p, info in enumerate(comp.staff):
        assert info.contract_lo <= pol.minutes[p] <= info.contract_hi
    _audited(request, comp, pol)


def test_windows_in_flight_share_every_contract_band_and_keep_to_their_share() -> None:
    _, comp, pol = polisher_from_precheck(tight_body())
    alone = pol.band_share([], share=False)
    first = pol.band_share([], share=True)
    second = pol.band_share([first], share=True)  # built while the first is in flight
    assert alone and set(alone) == set(first) == set(second)
    for p, (down, up) in alone.items():
        info = comp.staff[p]
        assert (down, up) == (pol.minutes[p] - info.contract_lo, info.contract_hi - pol.minutes[p])
        assert first[p][0] + second[p][0] <= down and first[p][1] + second[p][1] <= up
        assert second[p] == (down - first[p][0], up - first[p][1])  # the other half
    assert any(d > 0 or u > 0 for d, u in first.values())
    minutes = list(pol.minutes)
    for first_day in range(comp.days - 1):  # a window told it may move nobody's total keeps every total
        wm = build_window(pol, first_day, first_day + 1, slack={p: (0, 0) for p in alone})
        values, objective = wm.rows.solve(10.0, 1, lambda: False)
        pol.keep_window(wm, values, objective, lambda c: c < 0)
    assert list(pol.minutes) == minutes and pol.rejected == 0


def test_a_window_is_kept_only_if_the_full_objective_takes_it() -> None:
    _, _, pol = polisher_from_precheck(tight_body())
    wm = build_window(pol, 3, 4)
    values, objective = wm.rows.solve(20.0, 1, lambda: False)
    snapshot = (pol.cost(), [list(r) for r in pol.days], pol.on.copy())
    assert pol.keep_window(wm, values, objective, lambda c: False) is None
    assert (pol.cost(), pol.days, list(pol.on)) == (snapshot[0], snapshot[1], list(snapshot[2]))
    assert pol.keep_window(wm, None, float("inf"), lambda c: True) is None  # nothing found: nothing changes
    assert pol.cost() == snapshot[0]


def test_rins_rescues_a_window_whose_mip_found_nothing_in_its_time() -> None:
    """A window MIP stopped before it beats the roster (10 ms: HiGHS is still at its root) hands over to RINS, which
    finds a better roster that keeps every rule; with no rescue time the roster comes back as it was."""
    request, comp, pol = polisher_from_precheck(tight_body())
    for first in range(comp.days - 1):
        wm = build_window(pol, first, first + 1)
        _, objective = wm.rows.solve(0.01, 1, lambda: False)
        if objective >= wm.start_cost - 0.5 and not wm.rows.proved:
            break
    else:
        pytest.fail("every window's MIP beat the roster within 10 ms")
    _, objective = wm.rows.solve_rescued(0.01, 0.0, 1, lambda: False)
    assert objective == pytest.approx(wm.start_cost) and not wm.rows.rescued
    values, objective = wm.rows.solve_rescued(0.01, 20.0, 1, lambda: False)
    assert wm.rows.rescued and objective < wm.start_cost - 0.5
    before = pol.cost()
    change = pol.keep_window(wm, values, objective, lambda c: True)
    assert change is not None and change < 0 and pol.cost() == before + change and pol.rejected == 0
    _audited(request, comp, pol)


def test_a_window_solve_stops_when_told() -> None:
    _, _, pol = polisher_from_precheck(tight_body())
    wm = build_window(pol, 5, 6)
    started = time.monotonic()
    values, objective = wm.rows.solve(60.0, 1, lambda: True)
    assert time.monotonic() - started < 5.0
    assert values is None or objective <= wm.start_cost  # at worst the roster it was given


def test_windows_leave_people_on_a_pattern_alone() -> None:
    body = tight_body()
    body["patterns"] = [{"name": "2on2off", "cycle": ["D", "D", "-", "-"], "letters": {"D": ["early8"]}}]
    for k, s in enumerate(body["staff"][10:12]):
        s.update(contract_minutes_per_week=1680, pattern="2on2off", pattern_offset=k)
    _, comp, pol = polisher_from_precheck(body)
    on_pattern = [p for p in range(len(comp.staff)) if not pol.movable[p]]
    assert on_pattern
    before = {p: list(pol.days[p]) for p in on_pattern}
    stop = time.monotonic() + 2.0
    pol.windows(lambda: stop - time.monotonic(), threads=1)
    assert {p: list(pol.days[p]) for p in on_pattern} == before
    assert np.all(pol.on >= 0)


def test_a_windows_lp_over_every_option_bounds_its_mip_and_its_options_join_the_mip() -> None:
    """The LP relaxation over every option is below any whole-number window (so it can screen windows out), and
    the options it uses become columns of the MIP next to the usual cheap ones."""
    _, _, pol = polisher_from_precheck(tight_body())
    for first in range(pol.comp.days - 1):
        every = build_window(pol, first, first + 1, every=True)
        plain = build_window(pol, first, first + 1)
        assert every is not None and plain is not None
        assert set(plain.x) <= set(every.x) and len(every.x) > len(plain.x)
        values, bound = every.rows.solve(20.0, 0, lambda: False, relax=True)
        assert values is not None
        _, objective = plain.rows.solve(20.0, 0, lambda: False)
        # the models price the intervals their options reach (more with every option): compare what they gain
        assert 0 <= plain.start_cost - objective <= every.start_cost - bound + 1e-6
        used = lp_options(pol, every, values)
        assert used and all(oi in every_option(pol, p, d) for (p, d), options in used.items() for oi in options)
        offered = pol._lp_offered(every, values, bound)
        if bound >= every.start_cost - 0.5:
            assert offered is None  # screened: no MIP for it
            continue
        joined = build_window(pol, first, first + 1, offered=offered)
        assert joined is not None and {(p, oi) for (p, _), options in used.items() for oi in options} <= set(joined.x)
        assert set(plain.x) <= set(joined.x)  # next to the usual cheap ones
        return
    pytest.fail("no window's LP is below the pre-check's roster")


@pytest.mark.parametrize("body", [tight_body(), skilled_body(12, 5)], ids=["pool", "skill rows"])
def test_the_windows_lp_by_column_generation_is_the_lp_over_every_option(body: dict) -> None:
    """Column generation from the MIP's own options (``_Rows.solve_columns``) reaches the optimum of the LP over
    every option: the same objective, a solution that keeps every row, and it starts from fewer columns."""
    _, comp, pol = polisher_from_precheck(body)
    grew = 0
    for first in range(comp.days - 1):
        every = build_window(pol, first, first + 1, every=True)
        plain = build_window(pol, first, first + 1)
        assert every is not None and plain is not None and every.start_columns is not None
        assert every.start_columns.sum() < len(every.rows.lb)
        assert {key for key, j in every.x.items() if every.start_columns[j]} == set(plain.x)  # the MIP's options
        values, bound = every.rows.solve(20.0, 0, lambda: False, relax=True)
        generated, objective = every.rows.solve_columns(20.0, lambda: False, every.start_columns)
        assert values is not None and generated is not None
        assert objective == pytest.approx(bound, rel=1e-9, abs=1e-6)
        rows = every.rows
        lhs = np.array([sum(v * generated[j] for j, v in zip(rows.index[a:b], rows.value[a:b], strict=True))
                        for a, b in zip(rows.row_start, rows.row_start[1:], strict=False)])
        assert np.all(lhs >= np.array(rows.row_lo) - 1e-6) and np.all(lhs <= np.array(rows.row_hi) + 1e-6)
        assert np.all(generated >= np.array(rows.lb) - 1e-9) and np.all(generated <= np.array(rows.ub) + 1e-9)
        assert float(np.dot(rows.cost, generated)) == pytest.approx(objective, abs=1e-6)
        grew += any(generated[j] > 1e-6 for j in np.flatnonzero(~every.start_columns))
    assert grew  # some window's optimum needs columns the MIP's options did not have


def test_column_generation_stops_when_told() -> None:
    _, _, pol = polisher_from_precheck(tight_body())
    every = build_window(pol, 3, 4, every=True)
    assert every is not None and every.start_columns is not None
    assert every.rows.solve_columns(20.0, lambda: True, every.start_columns) == (None, float("inf"))


@pytest.mark.parametrize("once", [True, False], ids=["LPs until every day has had one", "an LP every window"])
def test_window_lps_run_until_every_day_has_had_one_then_windows_go_straight_to_their_mip(
    monkeypatch: pytest.MonkeyPatch, once: bool
) -> None:
    """The first tiling's seven 2-day LPs cover the 14 days; from then on (WINDOW_LP_ONCE) windows solve their MIP
    alone, offered what the LPs used, and keep every rule; without it every window solves its LP first."""
    monkeypatch.setattr(polish, "WINDOW_LP_ONCE", once)
    monkeypatch.setattr(polish, "WINDOW_SECONDS", 0.5)  # many short windows in the test's time
    monkeypatch.setattr(polish, "WINDOW_RESCUE_SECONDS", 0.2)
    request, comp, pol = polisher_from_precheck(tight_body())
    stop = time.monotonic() + 12.0
    stats = pol.windows(lambda: stop - time.monotonic(), threads=1, trades=False)
    solved = stats.window_moves_tried + stats.window_moves_screened  # every window: its MIP ran, or its LP screened it
    assert solved > comp.days // 2
    if once:
        assert stats.window_lps == comp.days // 2
    else:  # every window's LP, plus at most the one in flight when the time ran out (its MIP never starts)
        assert solved <= stats.window_lps <= solved + 1
    assert pol.rejected == 0 and stats.cost_end <= stats.cost_start
    _audited(request, comp, pol)


def test_a_window_whose_lp_cannot_beat_the_roster_is_screened_and_costs_no_mip() -> None:
    """With the roster's own cover as the requirement no window can gain, and each window's LP over every option
    proves it: the window is skipped (screened), the roster stays as it is, and once every window start is
    screened a trade move is tried (it cannot gain either) and the windows stop before their time is up."""
    body = tight_body()
    body["weights"] = {"preferences": 0}  # nothing for a window to gain in preferences either
    _, _, pol = polisher_from_precheck(body)
    pol.req[:] = pol.on[: pol.n]
    assert pol._cost_span(0, pol.n) == 0
    for first in (3, 10):
        wm = build_window(pol, first, first + 1, every=True)
        values, bound = wm.rows.solve_columns(10.0, lambda: False, wm.start_columns)
        assert values is not None and pol._lp_offered(wm, values, bound) is None  # screened: no MIP for it
    before = (pol.cost(), [list(r) for r in pol.days])
    stop = time.monotonic() + 5.0
    swept = pol.windows(lambda: stop - time.monotonic(), threads=1)
    # each window start screened once by its LP (both tilings: an LP has screened, so WINDOW_LP_ONCE keeps them
    # running), then the sweeps end instead of screening them again
    assert swept.window_moves_screened == pol.comp.days - 1 and swept.window_moves_kept == 0
    assert swept.trade_moves_tried >= 1 and swept.trade_moves_kept == 0  # (windows that gain nothing: a trade is due)
    assert time.monotonic() < stop
    assert (pol.cost(), pol.days) == before
