"""Window moves: every movable person's shifts over a few consecutive days re-chosen at once, by a MIP.

The polish's best responses change one person at a time and stop where no one person can gain with everyone else
fixed; what is left short then needs many people to trade hours at once (docs/rostering-research.md). A window move
frees *everyone's* days in a window of WINDOW_DAYS days, keeps every other day as it is, and re-rosters the window
as one mixed-integer program: per person and day one of a few cheap options (their current one included) or none,
every hard rule of the person with the fixed days around the window as constants, break starts as integer counts per
option (and skill class), and the true coverage cost (weighted under-coverage, over-coverage, each skill row's
under-coverage) plus the preference cost as the objective. The roster as it is is handed to the solver as its first
solution, so a window never ends worse than it began; stable starts and the fairness spreads are not in the model,
so the move is re-priced on the full objective before it is kept.

Solved by HiGHS (``highspy``), not CP-SAT: on these covering models HiGHS's LP-based branch and bound improves the
warm-started roster within seconds, where CP-SAT found nothing in 60 s on the same model (bench large, a 4-day
window: HiGHS proved the optimum, 8.8% below the window's cost, in 34 s). A MIP that stops at its limit with nothing
better than the roster hands over to RINS for a few seconds (``_Rows.solve_rescued``). Written by hand because the
model is the roster's own (its rules on arrays of the polish's state); the matrix goes to HiGHS row by row.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import highspy
import numpy as np
from scipy.sparse import csr_matrix

from scheduling.rostering.model import OVER_UNIT, _windows

if TYPE_CHECKING:
    from scheduling.rostering.polish import Polisher

#: Days per window, and the solver's time per window (the roster is its first solution, so a window stopped at
#: its limit is no worse than it began). Bench large, from a polished roster (310.5 h under): 3-day windows with
#: 8 s each gained 11.25 h in four windows (33 s); 20 s each with twice the options per day gained about as much
#: per window and proved fewer of them optimal (figures in docs/rostering-research.md). Measured again with windows in
#: flight, LPs once and the RINS rescue (large, 115 s, run in turn): 3 s worse at 4 of 4 seeds, 5 s the same mean cost.
WINDOW_DAYS, WINDOW_SECONDS = 2, 4.0
#: Most seconds for RINS (``_Rows.solve_rescued``) after a window's MIP has stopped at WINDOW_SECONDS with nothing
#: better than the roster: the storm's windows, the costliest, are where that happened (bench large, 4 of 23 windows
#: at seed 3, each worth 20,000-100,000 units where it succeeded at other seeds).
WINDOW_RESCUE_SECONDS = 3.0
#: Options per person and day in a window's model: their current one, the WINDOW_OPTIONS cheapest at the roster's
#: prices and at the LP-blended prices (``Polisher.lp_price``), and per shift length the WINDOW_PER_LENGTH cheapest.
WINDOW_OPTIONS, WINDOW_PER_LENGTH = 2, 1
#: Most seconds for a window's LP over *every* option of its people (``lp_options``), whose used options join the
#: MIP's: bench large, from a roster where the plain windows had levelled off (283.75 h under), 60 s of windows
#: with them 275.0 h against 281.25 without (the LP of a 2-day window: about 1 s, 4 s at the storm's peak).
WINDOW_LP_SECONDS = 6.0
#: A column enters the window LP's column generation when its reduced cost is below minus this (objective units:
#: one surplus agent for one interval is 100).
REDUCED_COST_TOLERANCE = 1e-6
_OFF = -1


def _without_banner() -> None:
    """HiGHS prints its banner on stdout at the first ``Highs()`` of a process, whatever its options: make that
    one at import, with stdout pointed at /dev/null, so that it lands in no table or log."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no file descriptor 1 to redirect
        highspy.Highs()
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_without_banner()


@dataclass
class _Rows:
    """A MIP as columns (bounds, cost, integrality, first solution) and rows (sparse, with bounds)."""

    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)
    row_start: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    #: Whether the last MIP solve proved its solution optimal; whether ``solve_rescued``'s RINS gave the result.
    proved: bool = False
    rescued: bool = False

    @property
    def start_cost(self) -> float:
        """The objective at the first solution (the roster as it is)."""
        return float(np.dot(self.cost, self.start))

    def var(self, lb: float, ub: float, cost: float, integer: bool, start: float) -> int:
        """A new column; returns its index."""
        self.lb.append(lb)
        self.ub.append(ub)
        self.cost.append(cost)
        self.integer.append(integer)
        self.start.append(start)
        return len(self.lb) - 1

    def row(self, terms: list[tuple[int, float]], lo: float, hi: float) -> None:
        """lo <= sum(coef x col) <= hi (nothing for an empty sum)."""
        if not terms:
            return
        for j, c in terms:
            self.index.append(j)
            self.value.append(c)
        self.row_start.append(len(self.index))
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def solve(
        self, seconds: float, seed: int, stop: Callable[[], bool], relax: bool = False, ipm: bool = False
    ) -> tuple[np.ndarray | None, float]:
        """HiGHS from the first solution, for at most ``seconds`` (and until ``stop()``): the best solution's
        column values (None if it has none) and objective. ``relax``: the LP relaxation instead (every column
        continuous; its optimum's values, None unless solved to optimality), by interior point and crossover if
        ``ipm`` (a basic solution either way). One thread (``_highs``)."""
        self.proved = False
        h = _highs(seconds, seed, stop)
        if relax and ipm:
            h.setOptionValue("solver", "ipm")
        lp = highspy.HighsLp()
        lp.num_col_ = len(self.lb)
        lp.num_row_ = len(self.row_lo)
        lp.col_cost_ = np.array(self.cost, dtype=float)
        lp.col_lower_ = np.array(self.lb, dtype=float)
        lp.col_upper_ = np.array(self.ub, dtype=float)
        lp.row_lower_ = np.array(self.row_lo, dtype=float)
        lp.row_upper_ = np.array(self.row_hi, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(self.row_start, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(self.index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(self.value, dtype=float)
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        if not relax:
            lp.integrality_ = [kinds[i] for i in self.integer]
        h.passModel(lp)
        if not relax:
            start = highspy.HighsSolution()
            start.col_value = self.start
            start.value_valid = True
            h.setSolution(start)
        h.run()
        info = h.getInfo()
        if relax and h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, float("inf")
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            return None, float("inf")
        self.proved = not relax and h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        return np.asarray(h.getSolution().col_value), float(info.objective_function_value)

    def solve_rescued(
        self, seconds: float, rescue: float, seed: int, stop: Callable[[], bool]
    ) -> tuple[np.ndarray | None, float]:
        """``solve`` for ``seconds``; when that stops at its limit with nothing better than the first solution, the
        neighbourhood search RINS (``solve_near``) for at most ``rescue`` more seconds. HiGHS spends its first
        seconds on a window in root cut rounds and finds its improvement only after them, which on the costliest
        windows (the storm's, the largest models) the limit can cut off; RINS finds one within about a second."""
        self.rescued = False
        values, objective = self.solve(seconds, seed, stop)
        if rescue <= 0 or stop() or self.proved or (values is not None and objective < self.start_cost - 0.5):
            return values, objective
        near, found = self.solve_near(rescue, seed, stop)
        if near is not None and (values is None or found < objective):
            self.rescued = True
            return near, found
        return values, objective

    def solve_near(self, seconds: float, seed: int, stop: Callable[[], bool]) -> tuple[np.ndarray | None, float]:
        """RINS (relaxation induced neighbourhood search, Danna, Rothberg and Le Pape 2005): the LP relaxation,
        then the MIP with every integer column on which the LP's optimum and the first solution agree fixed at
        that value (about a fifth of a window's integer columns stay free), for what is left of ``seconds``."""
        ends = time.monotonic() + seconds
        values, _ = self.solve(seconds, seed, stop, relax=True)
        if values is None or time.monotonic() >= ends:
            return None, float("inf")
        start = np.asarray(self.start, dtype=float)
        agree = np.asarray(self.integer) & (np.abs(values - start) < 1e-6)
        saved = self.lb, self.ub
        lb, ub = np.array(self.lb, dtype=float), np.array(self.ub, dtype=float)
        lb[agree] = ub[agree] = start[agree]
        self.lb, self.ub = lb.tolist(), ub.tolist()
        try:
            return self.solve(ends - time.monotonic(), seed, stop)
        finally:
            self.lb, self.ub = saved

    def solve_columns(
        self, seconds: float, stop: Callable[[], bool], first: np.ndarray
    ) -> tuple[np.ndarray | None, float]:
        """The LP relaxation by column generation: first over the columns ``first`` (a mask), then, until none is
        left, with every column whose reduced cost at the optimum's duals is negative added and the LP re-solved
        from its basis. The same optimum as ``solve(relax=True)`` (its values, None unless solved to optimality
        within ``seconds``) at a fraction of the time where the first columns hold most of the optimum's (bench
        large, six 2-day windows over every option from the MIP's options: 3.4 s against 8.0 s, same optima)."""
        ends = time.monotonic() + seconds
        a = csr_matrix(
            (np.array(self.value, dtype=float), np.array(self.index, dtype=np.int32),
             np.array(self.row_start, dtype=np.int64)),
            shape=(len(self.row_lo), len(self.lb)),
        ).tocsc()
        cost, lb, ub = (np.array(v, dtype=float) for v in (self.cost, self.lb, self.ub))
        taken = first.copy()
        order = np.flatnonzero(taken)
        h = _highs(seconds, 0, stop)
        lp = highspy.HighsLp()
        lp.num_col_ = len(order)
        lp.num_row_ = len(self.row_lo)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost[order], lb[order], ub[order]
        lp.row_lower_ = np.array(self.row_lo, dtype=float)
        lp.row_upper_ = np.array(self.row_hi, dtype=float)
        sub = a[:, order]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
        lp.a_matrix_.index_ = sub.indices.astype(np.int32)
        lp.a_matrix_.value_ = sub.data.astype(float)
        h.passModel(lp)
        while True:
            if stop() or time.monotonic() >= ends:
                return None, float("inf")
            h.setOptionValue("time_limit", max(0.01, ends - time.monotonic()))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None, float("inf")
            solution = h.getSolution()
            reduced = cost - a.T @ np.asarray(solution.row_dual)
            new = np.flatnonzero(~taken & (reduced < -REDUCED_COST_TOLERANCE))
            if not len(new):
                values = np.zeros(len(self.lb))
                values[order] = np.asarray(solution.col_value)
                return values, float(h.getInfo().objective_function_value)
            cols = a[:, new]
            h.addCols(len(new), cost[new], lb[new], ub[new], cols.nnz, cols.indptr[:-1].astype(np.int32),
                      cols.indices.astype(np.int32), cols.data.astype(float))
            taken[new] = True
            order = np.concatenate([order, new])


def _highs(seconds: float, seed: int, stop: Callable[[], bool]) -> highspy.Highs:
    """A quiet one-thread HiGHS with a time limit, a seed, no presolve and ``stop()`` polled as it goes. Always
    one thread: HiGHS keeps one thread scheduler per process, and a solve asking for another thread count than
    the first one's fails (parallelism comes from two windows solved at once instead)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.01, float(seconds)))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", seed)
    h.setOptionValue("presolve", "off")  # presolve's probing took 5-10 s on these models before any search

    def interrupt(event: highspy.cb.HighsCallbackEvent) -> None:  # cancel: polled by HiGHS as it goes
        if stop():
            event.interrupt()

    h.cbMipInterrupt += interrupt
    h.cbSimplexInterrupt += interrupt
    return h


@dataclass
class WindowModel:
    """One window's MIP at the roster as it was built: its columns per (person, option) and per (option, class,
    break rule, start), the grid intervals [lo, hi) whose coverage it prices, and the roster's own days in the
    window (``saved``) to compare and restore."""

    first: int
    last: int
    lo: int
    hi: int
    rows: _Rows
    x: dict[tuple[int, int], int]
    y: dict[tuple[int, int, int, int], int]
    saved: dict[int, dict[int, tuple[int, tuple[int, ...]]]]
    #: With every option (``build_window(every=True)``): the columns of the MIP's own options and every column but
    #: the person x option ones, where the LP's column generation starts (``_Rows.solve_columns``).
    start_columns: np.ndarray | None = None
    #: Per (person, day) the MIP's options (``window_options``' or ``offered``'s) at the roster it was built from.
    offered: dict[tuple[int, int], set[int]] = field(default_factory=dict)

    @property
    def start_cost(self) -> float:
        """The model's objective at the roster as it is (its first solution)."""
        return self.rows.start_cost


def window_options(pol: Polisher, p: int, d: int) -> set[int]:
    """Person p's options in a window's model on day d: the current one plus the cheapest at the roster's prices
    (p's own shift off the phones) and, if the LP was solved, at the LP-blended prices, overall and per length."""
    cur = pol.days[p][d]
    out = {cur} if cur != _OFF else set()
    pos, pref = pol._candidates(p, d)
    if not len(pos):
        return out
    brk = pol.brk[p].get(d, ())
    if cur != _OFF:
        pol._unset(p, d)
    table = pol.day_tables[d]
    ids, mins = table.ids[pos], table.minutes[pos]
    try:
        for guided in (False, True) if pol.lp_price is not None else (False,):
            pol.lp_guided = guided
            order = np.argsort(pol._price_day(d, p)[pos] + pref, kind="stable")
            out.update(int(ids[i]) for i in order[:WINDOW_OPTIONS])
            for m in np.unique(mins):
                out.update(int(ids[i]) for i in order[mins[order] == m][:WINDOW_PER_LENGTH])
    finally:
        pol.lp_guided = False
        if cur != _OFF:
            pol._set(p, d, cur, brk)
    return out


def every_option(pol: Polisher, p: int, d: int) -> set[int]:
    """Every option person p may take on day d, and their current one."""
    pos, _ = pol._candidates(p, d)
    out = {int(oi) for oi in pol.day_tables[d].ids[pos]}
    if pol.days[p][d] != _OFF:
        out.add(pol.days[p][d])
    return out


def lp_options(pol: Polisher, wm: WindowModel, values: np.ndarray) -> dict[tuple[int, int], set[int]]:
    """The options a solved LP relaxation of a window uses, per (person, day): where a whole-number roster near the
    LP's optimum is likely to be, which the prices of the roster as it is do not show."""
    out: dict[tuple[int, int], set[int]] = {}
    for (p, oi), j in wm.x.items():
        if values[j] > 1e-6:
            out.setdefault((p, pol.comp.options[oi].day), set()).add(oi)
    return out


def build_window(
    pol: Polisher,
    first: int,
    last: int,
    slack: Mapping[int, tuple[int, int]] | None = None,
    every: bool = False,
    offered: dict[tuple[int, int], set[int]] | None = None,
    extra: Mapping[tuple[int, int], set[int]] | None = None,
) -> WindowModel | None:
    """The MIP that re-rosters every movable person's days first..last at once, everyone's other days fixed
    (None when nobody can work in the window). The roster as it is becomes the model's first solution. ``slack``:
    per person the minutes the window may move their total down and up (``Polisher.band_share``: windows solved
    at the same time share what the contract band leaves); for anyone not in it, all that the band leaves. Per
    person and day the options are ``offered``'s where it has the key (``Polisher._lp_offered``: those an LP model
    built at this same roster priced, with the options its LP uses), else ``window_options``'; with ``every``, all
    of them too (for the LP). ``extra``: per (person, day) options offered on top (``Polisher.windows``: those the
    latest LP over that day used, for windows that skip their own LP)."""
    comp, opts = pol.comp, pol.comp.options
    days = range(first, last + 1)
    people = [p for p in range(len(comp.staff)) if pol.movable[p] and any(pol.workable[p][d] for d in days)]
    offered = offered or {}
    extra = extra or {}
    usual = {(p, d): (offered[(p, d)] if (p, d) in offered else window_options(pol, p, d)) | extra.get((p, d), set())
             for p in people for d in days}
    choices = {key: sorted((every_option(pol, *key) | ops) if every else ops) for key, ops in usual.items()}
    saved = {p: {d: (pol.days[p][d], pol.brk[p][d]) for d in days if pol.days[p][d] != _OFF} for p in people}
    on_before, son_before = pol.on.copy(), pol.son.copy()
    for p in people:
        for d in saved[p]:
            pol._unset(p, d)
    fixed_on, fixed_son = pol.on.copy(), pol.son.copy()
    for p in people:  # back as they were: the model is built from copies of the phones
        for d, (oi, starts) in saved[p].items():
            pol._set(p, d, oi, starts)
    m = _Rows()
    x: dict[tuple[int, int], int] = {}
    users: dict[tuple[int, int], list[int]] = {}  # (option, class) -> its x columns
    for p in people:
        _add_person(pol, m, p, first, last, choices, saved[p], x, users, None if slack is None else slack.get(p))
    if not users:
        return None
    lo = min(opts[oi].first for oi, _ in users)
    hi = min(max(opts[oi].first + opts[oi].length for oi, _ in users), pol.n)
    worked, y = _add_counts(pol, m, users, saved)
    _add_coverage(pol, m, worked, y, lo, hi, (fixed_on, fixed_son), (on_before, son_before))
    start = None
    if every:  # where the LP's column generation starts: every column but the options outside the MIP's
        start = np.ones(len(m.lb), dtype=bool)
        start[[j for (p, oi), j in x.items() if oi not in usual[(p, opts[oi].day)]]] = False
    return WindowModel(first, last, lo, hi, m, x, y, saved, start, usual)


def _add_person(
    pol: Polisher,
    m: _Rows,
    p: int,
    first: int,
    last: int,
    choices: dict[tuple[int, int], list[int]],
    saved: dict[int, tuple[int, tuple[int, ...]]],
    x: dict[tuple[int, int], int],
    users: dict[tuple[int, int], list[int]],
    slack: tuple[int, int] | None = None,
) -> None:
    """Person p's columns (one per option they may take in the window) and hard rules: one shift a day, daily rest
    within the window and with the fixed shifts either side, working days in a row, days off and minutes per
    7-day window (``model._windows``: the same windows as the CP-SAT models, the previous period included), and
    the contract band over the whole period (``slack``: the minutes the window may move p's total down and up;
    None: all the band leaves)."""
    comp, opts = pol.comp, pol.comp.options
    info = comp.staff[p]
    row = pol.days[p]
    before = next((row[d] for d in range(first - 1, -1, -1) if row[d] != _OFF), _OFF)
    after = next((row[d] for d in range(last + 1, comp.days) if row[d] != _OFF), _OFF)
    current = {oi for oi, _ in saved.values()}
    by_day: dict[int, list[int]] = {}
    for d in range(first, last + 1):
        keep = []
        for oi in choices[(p, d)]:
            o = opts[oi]
            if before != _OFF and (o.start - opts[before].end).total_seconds() < pol.rest:
                continue
            if after != _OFF and (opts[after].start - o.end).total_seconds() < pol.rest:
                continue
            x[(p, oi)] = j = m.var(0, 1, pol._pref(p, oi), True, float(oi in current))
            users.setdefault((oi, info.cls), []).append(j)
            keep.append(oi)
        by_day[d] = keep
        m.row([(x[(p, oi)], 1) for oi in keep], -np.inf, 1)
    for d, keep in by_day.items():
        for oi in keep:  # rest: a shift and the next days' shifts that start too soon after it
            clash = [oj for d2 in (d + 1, d + 2) for oj in by_day.get(d2, ())
                     if (opts[oj].start - opts[oi].end).total_seconds() < pol.rest]
            if clash:
                m.row([(x[(p, oi)], 1)] + [(x[(p, oj)], 1) for oj in clash], -np.inf, 1)

    def count(span: range, minutes: bool) -> tuple[list[tuple[int, float]], int]:
        terms: list[tuple[int, float]] = []
        fixed = 0
        for d in span:
            if d in by_day:
                terms += [(x[(p, oi)], opts[oi].minutes if minutes else 1) for oi in by_day[d]]
            elif d < 0:
                fixed += info.prior_minutes.get(d, 0) if minutes else d in info.prior_minutes
            elif row[d] != _OFF:
                fixed += opts[row[d]].minutes if minutes else 1
        return terms, fixed

    for length, cap in ((pol.max_run + 1, pol.max_run), (7, pol.cap_days)):
        for span in _windows(comp, length, info):
            if span.start <= last and span.stop > first:
                terms, fixed = count(span, False)
                m.row(terms, -np.inf, cap - fixed)
    for span in _windows(comp, 7, info):
        if span.start <= last and span.stop > first:
            terms, fixed = count(span, True)
            m.row(terms, -np.inf, pol.max_week - fixed)
    terms, _ = count(range(first, last + 1), True)
    now = sum(opts[oi].minutes for oi, _ in saved.values())
    down, up = slack if slack is not None else (pol.minutes[p] - info.contract_lo, info.contract_hi - pol.minutes[p])
    m.row(terms, now - down, now + up)


def _add_counts(
    pol: Polisher,
    m: _Rows,
    users: dict[tuple[int, int], list[int]],
    saved: dict[int, dict[int, tuple[int, tuple[int, ...]]]],
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int, int, int], int]]:
    """Per (option, class) the shifts worked (a column equal to the sum of its x) and per break rule and start the
    breaks taken there (integers summing to the shifts): any split of the counts can be handed out to the people
    on the option, so breaks need no per-person columns. Returns the shift-count and break-count columns."""
    comp, opts = pol.comp, pol.comp.options
    now: dict[tuple[int, int, int, int], int] = {}
    for p, days in saved.items():
        for oi, starts in days.values():
            for bi, k in enumerate(starts):
                key = (oi, comp.staff[p].cls, bi, k)
                now[key] = now.get(key, 0) + 1
    worked: dict[tuple[int, int], int] = {}
    y: dict[tuple[int, int, int, int], int] = {}
    for (oi, cls), cols in users.items():
        worked[(oi, cls)] = n = m.var(0, len(cols), 0.0, False, float(sum(m.start[c] for c in cols)))
        m.row([(n, 1.0)] + [(c, -1.0) for c in cols], 0, 0)
        for bi, window in enumerate(opts[oi].breaks):
            ys = []
            for k in window:
                y[(oi, cls, bi, k)] = j = m.var(0, len(cols), 0.0, True, float(now.get((oi, cls, bi, k), 0)))
                ys.append((j, 1.0))
            m.row([*ys, (n, -1.0)], 0, 0)
    return worked, y


def _add_coverage(
    pol: Polisher,
    m: _Rows,
    worked: dict[tuple[int, int], int],
    y: dict[tuple[int, int, int, int], int],
    lo: int,
    hi: int,
    fixed: tuple[np.ndarray, np.ndarray],
    now: tuple[np.ndarray, np.ndarray],
) -> None:
    """Coverage of the intervals [lo, hi) the window's options reach: agents on the phones = the fixed people's
    plus each option's shifts less its breaks; under-coverage at the interval's weight, over-coverage at
    OVER_UNIT, and per skill row the skilled agents' under-coverage at its own weights."""
    comp, opts = pol.comp, pol.comp.options
    fixed_on, fixed_son = fixed
    on_now, son_now = now
    by_class: dict[int, dict[int, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for (oi, cls), n in worked.items():  # each class's agents on the phones, as terms per interval
        o, on = opts[oi], by_class[cls]
        for t in range(max(o.first, lo), min(o.first + o.length, hi)):
            on[t].append((n, 1.0))
        for bi, window in enumerate(o.breaks):
            for k in window:
                for t in range(max(k, lo), min(k + o.break_lengths[bi], hi)):
                    on[t].append((y[(oi, cls, bi, k)], -1.0))
    for t in range(lo, hi):
        need, have, was = int(pol.req[t]), int(fixed_on[t]), int(on_now[t])
        agents = m.var(-np.inf, np.inf, 0.0, False, float(was - have))  # the window's agents on the phones
        m.row([(agents, -1.0)] + [term for on in by_class.values() for term in on.get(t, ())], 0, 0)
        under = m.var(0, np.inf, float(pol.uw[t]), False, float(max(0, need - was)))
        over = m.var(0, np.inf, float(OVER_UNIT), False, float(max(0, was - need)))
        m.row([(under, 1.0), (agents, 1.0)], need - have, np.inf)  # under >= need - phones
        m.row([(over, 1.0), (agents, -1.0)], have - need, np.inf)  # over >= phones - need
    for s, name in enumerate(comp.skill_names):
        classes = [ci for ci, skills in enumerate(comp.classes) if name in skills]
        for t in range(lo, hi):
            need = int(pol.sreq[s, t])
            if need <= 0:
                continue
            terms = [term for ci in classes for term in by_class[ci].get(t, ())]
            under = m.var(0, np.inf, float(pol.suw[s, t]), False, float(max(0, need - int(son_now[s, t]))))
            m.row([(under, 1.0), *terms], need - int(fixed_son[s, t]), np.inf)


def apply_window(pol: Polisher, wm: WindowModel, values: np.ndarray) -> list[int]:
    """Put a solved window on the roster: every person's window days from the x columns, break starts handed out
    from the break counts (to everyone in the window, so the phones are the model's). Returns the people whose
    shifts changed."""
    comp, opts = pol.comp, pol.comp.options
    left = {key: round(float(values[j])) for key, j in wm.y.items()}
    chosen: dict[int, dict[int, int]] = {}
    for (p, oi), j in wm.x.items():
        if values[j] > 0.5:
            chosen.setdefault(p, {})[opts[oi].day] = oi
    changed = [p for p in wm.saved if chosen.get(p, {}) != {d: oi for d, (oi, _) in wm.saved[p].items()}]
    for p, days in wm.saved.items():  # everyone in the window: the break counts may move unchanged shifts' breaks
        for d in days:
            pol._unset(p, d)
    for p in wm.saved:
        cls = comp.staff[p].cls
        for d, oi in sorted(chosen.get(p, {}).items()):
            starts = []
            for bi, window in enumerate(opts[oi].breaks):
                k = next((k for k in window if left.get((oi, cls, bi, k), 0) > 0), window[0])
                if left.get((oi, cls, bi, k), 0) > 0:
                    left[(oi, cls, bi, k)] -= 1
                starts.append(k)
            pol._set(p, d, oi, tuple(starts))
    return changed
