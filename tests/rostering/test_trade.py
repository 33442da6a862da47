"""Trade moves (trade.py): every movable person's cheapest single changes, at most one each, chosen by one MIP. Each
change keeps every hard rule and the contract band alone; the model prices any combination exactly (its objective
is the roster's cost change but for the fairness spreads), so a kept trade lowers the true objective, keeps every
rule (the audit agrees) and leaves the polish's state equal to a recount."""

from __future__ import annotations

import time

import numpy as np
import pytest

from scheduling.rostering.polish import OFF, Polisher, PolishStats, _Pace
from scheduling.rostering.trade import build_trade, person_changes, solve_trade
from tests.rostering.test_polish import polisher_from_precheck, tight_body
from tests.rostering.test_skills import skilled_body
from tests.rostering.test_window import _audited


def _fairness(pol: Polisher) -> int:
    """The fairness spreads' part of the objective."""
    return pol.soft_cost() - sum(pol._person_soft(p) for p in range(len(pol.days)))


def test_every_change_alone_keeps_every_rule_and_the_band_and_leaves_the_roster_as_it_was() -> None:
    _, comp, pol = polisher_from_precheck(tight_body())
    before = ([list(r) for r in pol.days], pol.on.copy(), list(pol.minutes), pol.cost())
    kinds = set()
    for p in range(len(comp.staff)):
        for c in person_changes(pol, p):
            assert c.p == p and (c.off is not None or c.on is not None)
            kinds.add((c.off is not None, c.on is not None))
            if c.off is not None:
                assert pol.days[p][c.off[0]] == c.off[1]
                pol._unset(p, c.off[0])
            if c.on is not None:
                assert pol.days[p][c.on[0]] == OFF
                pol._set(p, *c.on)
            touched = [s[0] for s in (c.off, c.on) if s is not None]
            info = comp.staff[p]
            assert pol.feasible(p, touched) and info.contract_lo <= pol.minutes[p] <= info.contract_hi
            if c.on is not None:
                pol._unset(p, c.on[0])
            if c.off is not None:
                pol._set(p, *c.off)
    assert ([list(r) for r in pol.days], list(pol.minutes), pol.cost()) == (before[0], before[2], before[3])
    assert np.array_equal(pol.on, before[1])
    assert (True, True) in kinds  # shifts moved, not only dropped or added


@pytest.mark.parametrize("body", [tight_body(), skilled_body(12, 5)], ids=["pool", "skill rows"])
def test_the_trade_model_prices_its_choice_exactly_and_the_kept_trade_keeps_every_rule(body: dict) -> None:
    request, comp, pol = polisher_from_precheck(body)
    changes = [c for p in range(len(comp.staff)) for c in person_changes(pol, p)]
    tm = build_trade(pol, changes)
    assert tm is not None and len(tm.z) == len(changes)
    values, objective = solve_trade(tm, 20.0, 20.0, 1, lambda: False)
    assert values is not None and objective < tm.start_cost  # the pre-check's roster ignores cover: trades gain
    chosen = [c for c, j in zip(tm.changes, tm.z, strict=True) if values[j] > 0.5]
    assert len({c.p for c in chosen}) == len(chosen) > 1  # at most one change a person, several people at once
    before, fair = pol.cost(), _fairness(pol)
    change = pol.keep_trade(tm, values, objective, lambda c: True)
    assert change is not None and pol.rejected == 0
    # The model's objective is the roster's change in cost, skill rows included, fairness apart.
    assert change - (_fairness(pol) - fair) == round(objective - tm.start_cost)
    assert pol.cost() - before == change
    _audited(request, comp, pol)


def test_a_trade_is_kept_only_if_the_full_objective_takes_it() -> None:
    _, comp, pol = polisher_from_precheck(tight_body())
    tm = build_trade(pol, [c for p in range(len(comp.staff)) for c in person_changes(pol, p)])
    values, objective = solve_trade(tm, 20.0, 20.0, 1, lambda: False)
    snapshot = (pol.cost(), [list(r) for r in pol.days], pol.on.copy())
    assert pol.keep_trade(tm, values, objective, lambda c: False) is None
    assert (pol.cost(), pol.days) == (snapshot[0], snapshot[1]) and np.array_equal(pol.on, snapshot[2])
    assert pol.keep_trade(tm, None, float("inf"), lambda c: True) is None  # nothing found: nothing changes
    assert pol.cost() == snapshot[0]


def test_a_trade_solve_stops_when_told() -> None:
    _, comp, pol = polisher_from_precheck(tight_body())
    tm = build_trade(pol, [c for p in range(len(comp.staff)) for c in person_changes(pol, p)])
    started = time.monotonic()
    values, objective = solve_trade(tm, 60.0, 60.0, 1, lambda: True)
    assert time.monotonic() - started < 5.0
    assert values is None or objective <= tm.start_cost


def test_windows_with_trades_keep_every_rule_and_trades_run_and_gain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scheduling.rostering.polish.TRADE_TRY_SHARE", 1e9)  # a trade once a round is in (the
    monkeypatch.setattr("scheduling.rostering.polish.PACE_ROUNDS", 1)  # first two windows), time left to solve it
    request, comp, pol = polisher_from_precheck(tight_body())
    start = pol.cost()
    stop = time.monotonic() + 6.0
    stats = pol.windows(lambda: stop - time.monotonic(), threads=2, trades=True)
    assert stats.trade_moves_tried > 0 and stats.trade_moves_kept > 0 and stats.rejected == 0
    assert stats.cost_end == pol.cost() < start
    _audited(request, comp, pol)
    stop = time.monotonic() + 1.0
    off = pol.windows(lambda: stop - time.monotonic(), threads=2, trades=False)
    assert off.trade_moves_tried == 0


def test_the_pace_runs_a_first_trade_once_the_windows_slow_down_then_whichever_gains_faster() -> None:
    pace = _Pace()
    pace.windows(100, 1.0)
    assert not pace.trade_due()  # the windows' first pace is not known yet
    pace.windows(100, 1.0)
    assert pace.first == 100 and not pace.trade_due()
    pace.windows(20, 1.0)
    assert not pace.trade_due()  # (100 + 20) / 2 = 60 a second: above a quarter of the first pace
    pace.windows(20, 1.0)
    assert pace.trade_due()  # 20 a second: at most a quarter
    pace.traded(30, 2.0)  # 15 a second: slower than the windows now
    assert not pace.trade_due()
    pace.windows(0, 1.0)
    assert pace.trade_due()  # the windows' (20 + 0) / 2 = 10 a second is slower than the last trade's 15


def test_after_a_trade_that_gains_nothing_the_pace_starts_over_instead_of_never_trading_again() -> None:
    """A failed trade's pace of 0 would never beat the windows' while any window gains: instead the next trade is
    tried once the windows have slowed to a quarter of their pace over the rounds after it."""
    pace = _Pace()
    for gain in (100, 100, 20, 20):
        pace.windows(gain, 1.0)
    assert pace.trade_due()
    pace.traded(0, 3.0)
    assert not pace.trade_due()  # no window round since: their pace is not known
    pace.windows(40, 1.0)
    pace.windows(40, 1.0)
    assert pace.first == 40 and not pace.trade_due()
    pace.windows(5, 1.0)
    assert not pace.trade_due()  # (40 + 5) / 2 = 22.5 a second: above a quarter of 40
    pace.windows(5, 1.0)
    assert pace.trade_due()  # 5 a second: at most a quarter; the windows still gain, yet a trade is tried again
    pace.traded(30, 2.0)
    assert pace.trade == 15 and pace.trade_due()  # one that gains is paced as before: 15 a second beats the windows' 5


def test_a_trade_with_no_time_left_changes_nothing_and_counts_no_move() -> None:
    _, _, pol = polisher_from_precheck(tight_body())
    before = (pol.cost(), [list(r) for r in pol.days])
    stats = PolishStats()
    assert pol.trade(lambda: 0.0, stats) is None
    assert stats.trade_moves_tried == 0 and (pol.cost(), pol.days) == before
