"""Local search on the true objective: re-roster people of a finished roster where they cover most.

Stage 2 fills stage 1's design; what the design got wrong (shifts nobody could fill, hours where nobody is short)
is left for this last step. Two kinds of move, each changing one person's roster:

- whole-person best responses (``try_person``; the default): with everyone else fixed, the person's cheapest
  roster under every hard rule, one small CP-SAT model over their cheapest options per day (exact prices: the
  cost of one more agent per interval is known once the others are fixed), solved in the solver's threads;
- one- and two-day moves (``try_days``): another start or template on a day, a shift moved to a day off, a shift
  added or dropped within the contract band, every option of the day priced at once with numpy.

The search (late-acceptance hill climbing, mostly aimed at the intervals short of cover) keeps the best roster it
sees; ``search`` follows it with guided cycles (what is short over-weighted for a while, then the true weights)
to leave the equilibrium where no one person can improve alone, and ends with window moves (``windows``,
window.py): everyone's days in a window of two days re-rostered at once by one MIP, which reaches the hour trades
among many people that no one-person move makes. Written by hand because no library does
rule-checked incremental moves on this objective; CP-SAT blocks of several people are far slower per move
(docs/rostering-research.md). People on a rotating pattern are moved only by whole-person moves, whose model keeps them
on it.
"""

from __future__ import annotations

import functools
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from scheduling.rostering.grid import Compiled, pattern_followed
from scheduling.rostering.model import (
    FAIRNESS_UNIT,
    KEEP_UNIT,
    OVER_UNIT,
    PREFERENCE_UNIT,
    STABLE_UNIT,
    UNDER_UNIT,
    add_fairness,
    add_person,
    add_stable_starts,
    interval_weights,
    preference_cost,
)
from scheduling.rostering.trade import (
    TRADE_LP_SECONDS,
    TRADE_SECONDS,
    Change,
    TradeModel,
    apply_trade,
    build_trade,
    person_changes,
    solve_trade,
)
from scheduling.rostering.window import (
    WINDOW_DAYS,
    WINDOW_LP_SECONDS,
    WINDOW_RESCUE_SECONDS,
    WINDOW_SECONDS,
    WindowModel,
    apply_window,
    build_window,
    lp_options,
)

OFF = -1
#: Late-acceptance history (moves); 1 is plain descent that also takes sideways moves. Longer histories (30, 300,
#: 1000) did worse on the bench's large instance in the time there is (468-720 h under against 427-450 h).
LATE_ACCEPTANCE = 1
#: Rounds of break re-placement over everyone after adopting the published roster (Polisher.adopt_published).
ADOPT_BREAK_ROUNDS = 2
#: Share of moves aimed at an interval short of cover (the rest pick a person and a day at random).
AIMED_SHARE = 0.7
#: A two-day move trades with a day at most this far away 60% of the time (it leaves fewer 7-day windows changed).
NEAR_DAYS = 3
#: Which moves the search makes: "person" (whole-person best responses, ``try_person``, one per solver thread),
#: "day" (one- and two-day moves), or "both" (day moves while the threads solve). On the bench's large instance
#: "person" ends lowest (355-368 h under over three seeds, against 363-375 h for an even time share of the two
#: kinds, and 399-415 h for day moves alone).
MOVES = "person"
_INF = np.iinfo(np.int64).max // 4
#: Whole-person moves: per day and shift length, this many of a person's cheapest options (plus their current
#: one) enter the CP-SAT model; each solve is limited to PERSON_SECONDS.
PERSON_OPTIONS, PERSON_SECONDS = 3, 0.5
#: Guided descent (``Polisher.search``): after GUIDE_AFTER of the time in plain descent, cycles of GUIDE_SECONDS
#: (at most a fifth of the time): for the first half of a cycle every interval short of cover at its start weighs
#: 1 + GUIDE_WEIGHT times its true under-coverage weight, for the second half the true weights repair; a cycle
#: that ends above the best roster so far is undone. Bench large, 50 s of polish from the same roster: 4.05-4.07 M
#: cost units (325-327 h under) against 4.29-4.34 M (355-363 h) for plain descent; guiding from 40% of the time
#: 4.07-4.09 M, weight 4 4.16-4.22 M, weights that keep growing on what stays short (guided local search) 4.11-4.17 M.
GUIDE_AFTER, GUIDE_SECONDS, GUIDE_WEIGHT = 0.2, 10.0, 2.0
#: In the guided half of a cycle, moves are also priced towards the LP bound's optimum: one more agent's price per
#: interval is (1 - LP_BLEND) x its guided price + LP_BLEND x minus the LP's dual there (``lp_values``), which
#: values the intervals the LP keeps short or just covered (the storm week's nights on the bench's large
#: instance) where the roster's own prices only see what is short now. Bench large, 60 s from the same polished
#: roster (4.061 M), 5-s halves, seeds 1-2: 3.966-3.976 M units (312.5-315.75 h under) against 3.998-4.032 M
#: (322.75-324.25 h) for the guided weights alone and 4.005-4.014 M for the dual blend alone; 0.3 and 0.7 within
#: 3.977-3.985 M.
LP_BLEND = 0.5
#: Share of ``search``'s time, at its end, for window moves (window.py: everyone's days in a window re-rostered
#: by one MIP), which reach what the best responses' equilibrium leaves. Bench large, from the fill's roster:
#: guided cycles alone level off (314.5 h under after 23 s, 312.25 after 46 s); guided cycles then windows
#: 296.75 h after 60 s; windows alone after 12 s of plain descent 315.25 h after 60 s (best responses gain faster
#: at first). With GUIDE_CYCLES_BEFORE_WINDOWS the windows usually start earlier than this share asks (after the plain
#: descent and one cycle), so it is the least they get and what decides whether they run (WINDOW_MIN_SECONDS).
WINDOW_SHARE = 0.6
#: Where windows run, at most this many guided cycles before them: the rest of the guided share goes to the windows.
#: One cycle is what the medium bench instance's polish (about 45 s) has at WINDOW_SHARE 0.6 and what the large
#: one's (about 88 s) has at 0.7, the shares that measured best for each (research log, twenty-first and
#: twenty-second sessions): large 281.4 h mean under over seven seeds against 285.8 for two cycles, lower cost at
#: six; medium worse at five of five seeds with the cycle given up.
GUIDE_CYCLES_BEFORE_WINDOWS = 1
#: A window's LP over every option (``build_window(every=True)``) runs only until every day of the period has been in
#: one, unless an LP has screened its window (proved it cannot gain: there the LPs save MIPs); from then on windows go
#: straight to their MIP, offered on each person-day what the latest LP there used too. The LP takes 1-4 s a window on
#: the bench's large instance, about as long as its MIP, and screens none there: without it the windows after the
#: first sweep land about twice as fast (large, 115 s, six seeds: 294.4 h under on the mean against 303.3 h, lower
#: cost at all six; medium and small within the noise: docs/rostering-research.md, twenty-fourth session).
WINDOW_LP_ONCE = True
#: Window moves only when their share is at least this long (two windows' time): on a 30-staff planted instance
#: with a 15-s limit the polish's 2-3 s of windows (one window) left 1.25-4.75 h under where 0 is possible,
#: against 0.25-2.0 h without them.
WINDOW_MIN_SECONDS = 2 * WINDOW_SECONDS
#: Trade moves (trade.py) pay where the windows have levelled off, not before. Bench large, 40 s: from the roster
#: the product's windows start from (3.982 M units) windows alone reach 3.729-3.739 M, with a trade after every
#: third round 3.795-3.832 M; from a roster where 300 s of search had levelled off (3.638 M) windows alone
#: 3.629-3.634 M, a trade before every round 3.602-3.609 M. So the windows run while they gain faster (units a
#: second over their last PACE_ROUNDS rounds, a round being one or two windows at once) than the last trade did; the
#: first trade is tried once they gain under TRADE_TRY_SHARE of their first rounds' pace, and so again after a trade
#: that gains nothing (``_Pace.traded``).
PACE_ROUNDS, TRADE_TRY_SHARE = 2, 0.25


@dataclass
class PolishStats:
    """What the local search did."""

    moves_tried: int = 0
    moves_kept: int = 0
    person_moves_tried: int = 0
    person_moves_kept: int = 0
    rejected: int = 0
    cost_start: int = 0
    cost_end: int = 0
    guided_cycles: int = 0
    guided_cycles_kept: int = 0
    window_moves_tried: int = 0
    window_moves_kept: int = 0
    window_moves_screened: int = 0  # windows whose LP over every option proved no gain: no MIP solved
    window_moves_rescued: int = 0  # windows whose result came from RINS after the MIP found nothing in its time
    window_lps: int = 0  # window LPs over every option run, solved or stopped by their time (WINDOW_LP_ONCE)
    trade_moves_tried: int = 0
    trade_moves_kept: int = 0

    def tried(self, kind: str, kept: bool) -> None:
        """One move of ``kind`` ("window" or "trade") tried, and whether it was kept."""
        self.moves_tried += 1
        self.moves_kept += kept
        setattr(self, f"{kind}_moves_tried", getattr(self, f"{kind}_moves_tried") + 1)
        setattr(self, f"{kind}_moves_kept", getattr(self, f"{kind}_moves_kept") + kept)

    def add(self, other: PolishStats) -> None:
        """Count another run's moves in these (costs are set by the caller)."""
        self.moves_tried += other.moves_tried
        self.moves_kept += other.moves_kept
        self.person_moves_tried += other.person_moves_tried
        self.person_moves_kept += other.person_moves_kept
        self.window_moves_tried += other.window_moves_tried
        self.window_moves_kept += other.window_moves_kept
        self.window_moves_screened += other.window_moves_screened
        self.window_moves_rescued += other.window_moves_rescued
        self.window_lps += other.window_lps
        self.trade_moves_tried += other.trade_moves_tried
        self.trade_moves_kept += other.trade_moves_kept


class _Pace:
    """How fast window moves and trade moves lower the objective now (units a second): the windows' over their last
    PACE_ROUNDS rounds, a trade's at its last try; ``trade_due`` says when a trade should run instead of windows."""

    def __init__(self) -> None:
        self.rounds: deque[tuple[int, float]] = deque(maxlen=PACE_ROUNDS)  # (gain, seconds) per round of windows
        self.first: float | None = None  # the windows' pace over their first rounds
        self.trade: float | None = None  # the last trade's pace (None: no trade yet)

    def windows(self, gain: int, seconds: float) -> None:
        """A round of windows gained ``gain`` in ``seconds``."""
        self.rounds.append((gain, seconds))
        if self.first is None and len(self.rounds) == PACE_ROUNDS:
            self.first = self.window_pace()

    def traded(self, gain: int, seconds: float) -> None:
        """A trade gained ``gain`` in ``seconds``. One that gained nothing starts the pacing over: the next trade is
        tried once the windows have slowed to TRADE_TRY_SHARE of their pace over the rounds after it (a pace of 0
        kept as the trades' own would never be beaten while any window gains, and no trade would run again)."""
        if gain > 0:
            self.trade = gain / max(seconds, 1e-9)
        else:
            self.trade, self.first = None, None
            self.rounds.clear()

    def window_pace(self) -> float:
        """The windows' gain a second over their last rounds."""
        return sum(g for g, _ in self.rounds) / max(sum(s for _, s in self.rounds), 1e-9)

    def trade_due(self) -> bool:
        """Whether a trade should come next: the last one gained faster than the windows do now, or (none yet, or
        the last gained nothing) the windows have slowed to TRADE_TRY_SHARE of their first pace since."""
        if self.first is None:
            return False
        if self.trade is None:
            return self.window_pace() <= TRADE_TRY_SHARE * self.first
        return self.trade > self.window_pace()


@dataclass
class PersonMove:
    """A built best-response model of one person (``Polisher.person_model``); ``solve`` is safe to run in another
    thread (it touches nothing but the model, and CP-SAT releases the GIL while it searches)."""

    model: cp_model.CpModel
    a: dict[int, Any]

    def solve(self, seconds: float, seed: int) -> list[int] | None:
        """The options of the best roster found in ``seconds`` (None if none)."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = seconds
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        # A model of a few hundred booleans: presolve costs more than it saves, the fuller LP pays (bench large:
        # 55 moves/s against 20 with the defaults, and a better roster in the same time).
        solver.parameters.cp_model_presolve = False
        solver.parameters.linearization_level = 2
        if solver.solve(self.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return [oi for oi, v in self.a.items() if solver.boolean_value(v)]


class _Day:
    """One local day's options as arrays over a span of grid intervals [lo, hi) that holds all of them."""

    def __init__(self, comp: Compiled, d: int) -> None:
        opts = [comp.options[oi] for oi in comp.by_day[d]]
        self.ids = np.array([o.idx for o in opts], dtype=np.int64)
        self.pos = {o.idx: i for i, o in enumerate(opts)}
        self.lo = min((o.first for o in opts), default=0)
        self.hi = max((o.first + o.length for o in opts), default=self.lo)
        self.s = np.array([o.first - self.lo for o in opts], dtype=np.int64)
        self.e = self.s + np.array([o.length for o in opts], dtype=np.int64)
        self.minutes = np.array([o.minutes for o in opts], dtype=np.int64)
        self.t_start = np.array([o.start.timestamp() for o in opts])
        self.t_end = np.array([o.end.timestamp() for o in opts])
        # breaks grouped by (length, window width): each option's possible break starts, relative to lo
        self.breaks: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        groups: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        for i, o in enumerate(opts):
            for window, length in zip(o.breaks, o.break_lengths, strict=True):
                rows, starts = groups.setdefault((length, len(window)), ([], []))
                rows.append(i)
                starts.append(window[0] - self.lo)
        for (length, width), (rows, starts) in groups.items():
            window = np.array(starts, dtype=np.int64)[:, None] + np.arange(width, dtype=np.int64)[None, :]
            self.breaks[(length, width)] = (np.array(rows, dtype=np.int64), window)


@dataclass
class _Flight:
    """A window whose solve is in a worker thread: its first day, model (its LP over every option when ``lp``,
    else its MIP), share of the contract bands (``Polisher.band_share``) and the roster's version it was built at."""

    first: int
    model: WindowModel
    slack: dict[int, tuple[int, int]]
    version: int
    lp: bool


class Polisher:
    """The roster as per-person day maps, the agents on the phones per interval, and exact move prices."""

    def __init__(
        self,
        comp: Compiled,
        workable: list[list[list[int]]],
        roster: list[list[int]],
        breaks: dict[int, list[list[int]]],
        seed: int = 0,
        lp_values: Sequence[float] | None = None,
    ) -> None:
        self.comp = comp
        self.n = comp.n_intervals
        self.req = np.array(comp.required, dtype=np.int64)
        self.uw = UNDER_UNIT * np.array(interval_weights(comp.required), dtype=np.int64)
        self.workable = workable
        self.rng = random.Random(seed)
        # minus the LP's value of one more agent per interval (a price, as _gains'), used while ``lp_guided``;
        # none (None or empty) when the LP was not solved
        self.lp_price = -np.asarray(lp_values, dtype=float) if lp_values else None
        self.lp_guided = False
        rules = comp.request.rules
        self.rest = rules.min_rest_minutes * 60
        self.max_run = rules.max_consecutive_days
        self.cap_days = 7 - rules.min_days_off_per_week
        self.max_week = rules.max_minutes_per_week
        weights = comp.request.weights
        iv = comp.request.interval_minutes
        self.slot = [o.start_minute // iv for o in comp.options]
        self.pref_unit = round(PREFERENCE_UNIT * weights.preferences)
        self.keep_unit = round(KEEP_UNIT * weights.keep_published)
        self.stable_unit = round(STABLE_UNIT * weights.stable_starts)
        self.fair: list[tuple[int, list[bool], list[bool]]] = []  # (unit, option test, person eligible)
        for unit, test in (
            (round(FAIRNESS_UNIT * weights.night_fairness), [o.night for o in comp.options]),
            (round(FAIRNESS_UNIT * weights.weekend_fairness), [o.weekend for o in comp.options]),
        ):
            eligible = [any(test[oi] for day in per_day for oi in day) for per_day in workable]
            if unit > 0 and sum(eligible) >= 2:
                self.fair.append((unit, test, eligible))
        self.fair_slack = 2 * sum(unit for unit, _, _ in self.fair)  # most a move can lower the spreads by
        self.day_tables = [_Day(comp, d) for d in range(comp.days)]
        self._cand: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.movable = [not s.pattern_choices for s in comp.staff]  # by day moves (they do not check patterns)
        self.rejected = 0  # moves the array checks allowed and the plain check refused (a bug if ever > 0)
        self.people_by_day = [
            [p for p in range(len(comp.staff)) if self.movable[p] and workable[p][d]] for d in range(comp.days)
        ]
        self.anyone_by_day = [[p for p in range(len(comp.staff)) if workable[p][d]] for d in range(comp.days)]
        # Skill rows (comp.skill_required): per skill, the requirement, its under-coverage weights and, in the state,
        # the people with the skill on the phones; ``skill_rows[p]`` the rows person p counts in (none: pool only).
        names = comp.skill_names
        self.sreq = np.array([comp.skill_required[s] for s in names], dtype=np.int64).reshape(len(names), self.n)
        self.suw = UNDER_UNIT * np.array(
            [interval_weights(comp.skill_required[s]) for s in names], dtype=np.int64).reshape(len(names), self.n)
        self.skill_rows = [np.array([i for i, s in enumerate(names) if s in info.skills], dtype=np.int64)
                           for info in comp.staff]
        # The state.
        self.on = np.zeros(max(self.n, max((t.hi for t in self.day_tables), default=0)), dtype=np.int64)
        self.son = np.zeros((len(names), len(self.on)), dtype=np.int64)
        self.days: list[list[int]] = [[OFF] * comp.days for _ in comp.staff]
        self.brk: list[dict[int, tuple[int, ...]]] = [{} for _ in comp.staff]
        self.minutes = [0] * len(comp.staff)
        handed: dict[tuple[int, int], int] = {}
        for p, options in enumerate(roster):
            for oi in sorted(options):
                o = comp.options[oi]
                starts = []
                for bi, window in enumerate(o.breaks):
                    placed = breaks.get(oi, [[] for _ in o.breaks])[bi]
                    k = handed.get((oi, bi), 0)
                    handed[(oi, bi)] = k + 1
                    starts.append(placed[min(k, len(placed) - 1)] if placed else window[0])
                self._set(p, o.day, oi, tuple(starts))
        self.fair_counts = [
            [sum(1 for oi in self.days[p] if oi != OFF and test[oi]) if eligible[p] else None
             for p in range(len(comp.staff))]
            for _, test, eligible in self.fair
        ]

    # -- coverage ------------------------------------------------------------------------------------------
    def _apply(self, oi: int, starts: tuple[int, ...], sign: int, p: int) -> None:
        """Add (sign +1) or remove (-1) person p's shift with its breaks from the agents on the phones, and from
        each skill row p counts in (the arrays run past the roster's end so that shifts crossing it need no
        clipping; those intervals cost nothing)."""
        o = self.comp.options[oi]
        self.on[o.first:o.first + o.length] += sign
        for k, length in zip(starts, o.break_lengths, strict=True):
            self.on[k:k + length] -= sign
        rows = self.skill_rows[p]
        if len(rows):
            self.son[rows, o.first:o.first + o.length] += sign
            for k, length in zip(starts, o.break_lengths, strict=True):
                self.son[rows, k:k + length] -= sign

    def _cost_span(self, lo: int, hi: int) -> int:
        """Coverage cost of intervals [lo, hi) (clipped to the roster)."""
        hi = min(hi, self.n)
        if hi <= lo:
            return 0
        short = self.req[lo:hi] - self.on[lo:hi]
        total = int(np.where(short > 0, self.uw[lo:hi] * short, -OVER_UNIT * short).sum())
        if len(self.sreq):
            total += int((self.suw[:, lo:hi] * np.clip(self.sreq[:, lo:hi] - self.son[:, lo:hi], 0, None)).sum())
        return total

    def cost(self) -> int:
        """Coverage cost plus soft cost of the current roster (the assignment model's objective)."""
        return self._cost_span(0, self.n) + self.soft_cost()

    def soft_cost(self) -> int:
        """Preferences, stable starts and fairness spreads of the current roster."""
        total = sum(self._person_soft(p) for p in range(len(self.days)))
        for (unit, _, _), counts in zip(self.fair, self.fair_counts, strict=True):
            vals = [c for c in counts if c is not None]
            total += unit * (max(vals) - min(vals))
        return total

    def _pref(self, p: int, oi: int) -> int:
        """``model.preference_cost`` of person p on option oi (0 off)."""
        if oi == OFF or not (self.pref_unit or self.keep_unit):
            return 0
        return preference_cost(self.comp.staff[p], self.comp.options[oi], self.pref_unit, self.keep_unit)

    def _candidates(self, p: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Person p's options on day d as positions in the day table, and their preference costs."""
        key = (p, d)
        if key not in self._cand:
            table = self.day_tables[d]
            pos = np.array([table.pos[oi] for oi in self.workable[p][d]], dtype=np.int64)
            pref = np.array([self._pref(p, oi) for oi in self.workable[p][d]], dtype=np.int64)
            self._cand[key] = (pos, pref)
        return self._cand[key]

    def _gains(self, lo: int, hi: int, p: int) -> np.ndarray:
        """Cost change of one more agent (person p) on the phones in each interval of [lo, hi) (0 past the
        roster's end): the pool's, plus each skill row of p's that is short there."""
        g = np.zeros(hi - lo, dtype=np.int64)
        end = min(hi, self.n)
        if end > lo:
            g[: end - lo] = np.where(self.req[lo:end] > self.on[lo:end], -self.uw[lo:end], OVER_UNIT)
            if self.lp_guided and self.lp_price is not None:
                g[: end - lo] = np.round((1 - LP_BLEND) * g[: end - lo] + LP_BLEND * self.lp_price[lo:end])
            rows = self.skill_rows[p]
            if len(rows):
                short = self.sreq[rows, lo:end] > self.son[rows, lo:end]
                g[: end - lo] -= (self.suw[rows, lo:end] * short).sum(axis=0)
        return g

    def _price_day(self, d: int, p: int) -> np.ndarray:
        """Cost change of adding each option of day d, worked by person p, to the current phones, its breaks
        where they cost least."""
        table = self.day_tables[d]
        pre = np.concatenate(([0], np.cumsum(self._gains(table.lo, table.hi, p))))
        price = pre[table.e] - pre[table.s]
        for (length, _), (rows, window) in table.breaks.items():
            sums = pre[length:] - pre[:-length]  # cost of one agent over [k, k + length)
            price[rows] -= sums[window].max(axis=1)
        return price

    def _breaks_for(self, oi: int, p: int) -> tuple[int, ...]:
        """Break starts for option oi (about to be added for person p) where one agent fewer costs least now (the
        same choice as _price_day's)."""
        o = self.comp.options[oi]
        out = []
        for window, length in zip(o.breaks, o.break_lengths, strict=True):
            a, width = window[0], len(window)
            pre = np.concatenate(([0], np.cumsum(self._gains(a, a + width - 1 + length, p))))
            out.append(a + int(np.argmax(pre[length:length + width] - pre[:width])))
        return tuple(out)

    # -- soft rules ----------------------------------------------------------------------------------------
    def _stable_vector(self, p: int, d: int, slots: np.ndarray) -> np.ndarray | int:
        """Stable-start cost of the links from day d, worked at each of ``slots``, to its worked neighbours."""
        if not self.stable_unit:
            return 0
        row = self.days[p]
        total: np.ndarray | int = 0
        if d > 0 and row[d - 1] != OFF:
            total = total + np.abs(slots - self.slot[row[d - 1]])
        if d + 1 < len(row) and row[d + 1] != OFF:
            total = total + np.abs(slots - self.slot[row[d + 1]])
        return self.stable_unit * total

    def _fair_delta(self, p: int, changes: list[tuple[int, int]]) -> int:
        """Change of the fairness spreads when person p's options change (old -> new, OFF allowed)."""
        total = 0
        for (unit, test, eligible), counts in zip(self.fair, self.fair_counts, strict=True):
            if not eligible[p]:
                continue
            step = sum((new != OFF and test[new]) - (old != OFF and test[old]) for old, new in changes)
            if not step:
                continue
            vals = [c for c in counts if c is not None]
            before = max(vals) - min(vals)
            old_c = counts[p]
            counts[p] = old_c + step
            vals = [c for c in counts if c is not None]
            counts[p] = old_c
            total += unit * (max(vals) - min(vals) - before)
        return total

    def _commit_fair(self, p: int, changes: list[tuple[int, int]]) -> None:
        for (_, test, eligible), counts in zip(self.fair, self.fair_counts, strict=True):
            if eligible[p]:
                counts[p] += sum((new != OFF and test[new]) - (old != OFF and test[old]) for old, new in changes)

    # -- hard rules ----------------------------------------------------------------------------------------
    def feasible(self, p: int, changed: list[int]) -> bool:
        """Whether person p's day map keeps every hard rule that the ``changed`` days touch (the contract band is
        checked by the caller; one shift a day holds by construction)."""
        row = self.days[p]
        opts = self.comp.options
        for d in changed:
            if row[d] != OFF:
                o = opts[row[d]]
                prev, nxt = self._neighbours(p, d)
                if prev is not None and (o.start - opts[row[prev]].end).total_seconds() < self.rest:
                    return False
                if nxt is not None and (opts[row[nxt]].start - o.end).total_seconds() < self.rest:
                    return False
                if self._run_through(p, d) > self.max_run:
                    return False
            for days_in, minutes_in, day_cap, minute_cap in self._windows_through(p, d):
                if days_in > day_cap or minutes_in > minute_cap:
                    return False
        return True

    # -- moves ---------------------------------------------------------------------------------------------
    def _person_soft(self, p: int) -> int:
        """Person p's preference and stable-start cost (fairness is across people: see _fair_delta)."""
        total = 0
        prev = OFF
        for oi in self.days[p]:
            if oi != OFF:
                total += self._pref(p, oi)
                if prev != OFF and self.stable_unit:
                    total += self.stable_unit * abs(self.slot[oi] - self.slot[prev])
            prev = oi
        return total

    def _ranked(self, p: int, d: int, base: int, lo: int, hi: int, k: int) -> list[tuple[int, int]]:
        """Up to k cheapest options for person p's free day d that keep every hard rule with the person's total
        minutes in [lo, hi]: (option, base + cost change incl. preference and stable starts, fairness excluded)."""
        pos, pref = self._candidates(p, d)
        if not len(pos):
            return []
        can_work, room = self._room(p, d)
        if not can_work:
            return []
        table = self.day_tables[d]
        row = self.days[p]
        mins = table.minutes[pos]
        total = self.minutes[p] + mins
        ok = (total >= lo) & (total <= hi) & (mins <= room)
        prev, nxt = self._neighbours(p, d)
        if prev is not None:  # daily rest after the previous shift and before the next
            ok &= table.t_start[pos] >= self.comp.options[row[prev]].end.timestamp() + self.rest
        if nxt is not None:
            ok &= table.t_end[pos] + self.rest <= self.comp.options[row[nxt]].start.timestamp()
        valid = np.flatnonzero(ok)
        if not len(valid):
            return []
        ids = table.ids[pos[valid]]
        slots = np.array([self.slot[oi] for oi in ids], dtype=np.int64)
        delta = base + self._price_day(d, p)[pos[valid]] + pref[valid] + self._stable_vector(p, d, slots)
        top = np.argsort(delta, kind="stable")[:k]
        return [(int(ids[i]), int(delta[i])) for i in top]

    def _choose(
        self, p: int, d: int, base: int, old_changes: list[tuple[int, int]], changed: list[int], with_off: bool
    ) -> tuple[int, int] | None:
        """The cheapest option (or OFF if ``with_off``) for person p's free day d that keeps every hard rule,
        given the rest of the move (``base`` cost already counted, ``old_changes`` for fairness): (option, change).
        Fairness moves a candidate by at most ``fair_slack``, so only the few cheapest are compared in full."""
        info = self.comp.staff[p]
        prices = self._ranked(p, d, base, info.contract_lo, info.contract_hi, 8)
        if with_off and info.contract_lo <= self.minutes[p] <= info.contract_hi:
            prices.append((OFF, base))
            prices.sort(key=lambda x: x[1])
        best: tuple[int, int] | None = None
        for oi, partial in prices:
            if best is not None and partial >= best[1] + self.fair_slack:
                break
            full = partial + self._fair_delta(p, [*old_changes, (OFF, oi)])
            if best is None or full < best[1]:
                best = (oi, full)
        if best is not None:  # the rules were checked on arrays; check the winner the plain way too
            row = self.days[p]
            row[d] = best[0]
            extra = self.comp.options[best[0]].minutes if best[0] != OFF else 0
            ok = self.feasible(p, changed) and info.contract_lo <= self.minutes[p] + extra <= info.contract_hi
            row[d] = OFF
            if not ok:  # never seen; counted (tests assert 0) rather than trusted
                self.rejected += 1
                return None
        return best

    def try_days(self, p: int, d1: int, d2: int | None, accept: Callable[[int], bool]) -> int | None:
        """Re-roster person p's day d1 (and d2, jointly, if given): each day gets another option, a shift, or
        none, within every hard rule; the cheapest combination is applied if ``accept(change)``. One day covers
        changing a start or template; two cover moving a shift to a day off, or trading hours between days.
        Returns the change applied (None if none)."""
        row = self.days[p]
        days = [d1] if d2 is None or d2 == d1 else [d1, d2]
        olds = [(d, row[d], self.brk[p].get(d, ())) for d in days]
        spans = [(self.comp.options[oi].first, self.comp.options[oi].first + self.comp.options[oi].length)
                 for _, oi, _ in olds if oi != OFF]
        lo = min((a for a, _ in spans), default=0)
        hi = max((b for _, b in spans), default=0)
        before = self._cost_span(lo, hi) + self._person_soft(p)
        for d, oi, _ in olds:
            if oi != OFF:
                self._unset(p, d)
        base = self._cost_span(lo, hi) + self._person_soft(p) - before
        gone = [(oi, OFF) for _, oi, _ in olds if oi != OFF]
        info = self.comp.staff[p]
        # plan: per day (day, option, its breaks or None = place them when applying, after the days before it)
        plan: list[tuple[int, int, tuple[int, ...] | None]] | None = None
        change = 0
        if len(days) == 1:
            best = self._choose(p, d1, base, gone, days, with_off=olds[0][1] != OFF)
            if best is not None:
                plan, change = [(d1, best[0], None)], best[1]
        else:
            firsts = self._ranked(p, d1, base, 0, info.contract_hi, 6)
            if olds[0][1] != OFF:
                firsts.append((OFF, base))
            for o1, partial in firsts:
                brk1 = self._breaks_for(o1, p) if o1 != OFF else ()
                self._set(p, d1, o1, brk1)
                best = self._choose(p, d2, partial, [*gone, (OFF, o1)], days, with_off=True)
                if o1 != OFF:
                    self._unset(p, d1)
                if best is not None and (plan is None or best[1] < change):
                    plan, change = [(d1, o1, brk1), (d2, best[0], None)], best[1]
        if plan is None or not accept(change):
            for d, oi, brk in olds:
                if oi != OFF:
                    self._set(p, d, oi, brk)
            return None
        for d, oi, brk in plan:
            if oi != OFF:
                self._set(p, d, oi, brk if brk is not None else self._breaks_for(oi, p))
        self._commit_fair(p, [*gone, *((OFF, oi) for _, oi, _ in plan)])
        return change

    def try_person(self, p: int, accept: Callable[[int], bool], seconds: float = PERSON_SECONDS) -> int | None:
        """Re-roster person p's whole period at once, everyone else fixed: the best response (``person_model``,
        solved here, then ``apply_person``). Reaches changes no one- or two-day move can (hours moved off several
        days to make room for one). Returns the change applied, None if none."""
        job = self.person_model(p)
        return self.apply_person(p, job.solve(seconds, self.rng.randrange(1 << 30)), accept)

    def person_model(self, p: int) -> PersonMove:
        """Person p's best-response model at the current roster (the roster itself is left as it is). With the
        others' agents on the phones fixed, one more agent's cost per interval is known, so a shift's price is a
        sum (breaks where they cost least) and the person's best roster is one CP-SAT model of their hard rules
        (``add_person``) over their cheapest options per day and shift length plus their current roster (its
        hint, so it never does worse), with stable starts and the fairness spreads exact."""
        comp = self.comp
        old = list(self.days[p])
        old_brk = dict(self.brk[p])
        self._clear(p)
        options: list[list[int]] = []
        price: dict[int, int] = {}
        for d in range(comp.days):
            pos, pref = self._candidates(p, d)
            if not len(pos):
                options.append([])
                continue
            cost = self._price_day(d, p)[pos] + pref
            ids = [self.workable[p][d][i] for i in range(len(pos))]
            price.update((oi, int(c)) for oi, c in zip(ids, cost, strict=True))
            keep = {old[d]} if old[d] != OFF else set()
            by_length: dict[int, list[int]] = {}
            for oi in ids:
                by_length.setdefault(comp.options[oi].minutes, []).append(oi)
            for same in by_length.values():
                keep.update(sorted(same, key=price.__getitem__)[:PERSON_OPTIONS])
            options.append(sorted(keep))
        self._put_back(p, old, old_brk)
        model = cp_model.CpModel()
        pv = add_person(model, comp, comp.staff[p], options)
        objective = cp_model.LinearExpr.weighted_sum(list(pv.a.values()), [price[oi] for oi in pv.a])
        stable = add_stable_starts(model, comp, [pv], self.stable_unit)
        if stable is not None:
            objective += stable
        for k, ((unit, test, eligible), counts) in enumerate(zip(self.fair, self.fair_counts, strict=True)):
            others = [c for q, c in enumerate(counts) if c is not None and q != p]
            if eligible[p] and others:
                spread = add_fairness(model, comp, [pv], lambda o, test=test: test[o.idx], unit, f"fair{k}", {},
                                      fixed_range=(max(others), min(others)))
                if spread is not None:
                    objective += spread
        model.minimize(objective)
        for oi, v in pv.a.items():
            model.add_hint(v, oi in old)
        return PersonMove(model, pv.a)

    def apply_person(self, p: int, new: list[int] | None, accept: Callable[[int], bool]) -> int | None:
        """Give person p the roster ``new`` (a solved ``person_model``, None = nothing found) if every hard rule
        holds and ``accept`` takes its change of the objective at the roster as it is *now* (another move may
        have been applied since the model was built); otherwise leave p's roster as it was."""
        comp = self.comp
        row = self.days[p]
        old = list(row)
        if new is None or sorted(new) == sorted(oi for oi in old if oi != OFF):
            return None
        old_brk = dict(self.brk[p])
        before = self._cost_span(0, self.n) + self._person_soft(p)
        self._clear(p)
        for oi in sorted(new, key=lambda o: comp.options[o].day):
            self._set(p, comp.options[oi].day, oi, self._breaks_for(oi, p))
        info = comp.staff[p]
        ok = self.feasible(p, list(range(comp.days))) and info.contract_lo <= self.minutes[p] <= info.contract_hi
        if ok and info.pattern_choices:
            ok = pattern_followed(comp, info, {d: comp.options[oi].template for d, oi in enumerate(row)
                                               if oi != OFF}) is not None
        if ok:
            changes = [(o, n) for o, n in zip(old, row, strict=True) if o != n]
            change = self._cost_span(0, self.n) + self._person_soft(p) - before + self._fair_delta(p, changes)
            if accept(change):
                self._commit_fair(p, changes)
                return change
        else:  # never seen; counted (tests assert 0) rather than trusted
            self.rejected += 1
        self._clear(p)
        self._put_back(p, old, old_brk)
        return None

    def adopt_published(self) -> int:
        """Re-rostering: give each person with published shifts (``StaffInfo.published``) their published roster,
        less the days whose shift is no longer workable (leave, rest, allowed templates), wherever that keeps every
        hard rule (``apply_person``); kept only if the objective, the cost of each change included, is then lower.
        The decomposition before the polish knows nothing of the published roster, and one-person moves back to
        it from a roster built without it rarely pay alone. Returns how many people were given theirs."""
        before, snap, adopted = self.cost(), self._snapshot(), 0
        for p, info in enumerate(self.comp.staff):
            if info.published:
                row = [oi for d, oi in sorted(info.published.items()) if oi in self.workable[p][d]]
                adopted += self.apply_person(p, row, lambda _change: True) is not None
        if adopted:  # each person's breaks were placed against a roster then half replaced: place them again
            for _ in range(ADOPT_BREAK_ROUNDS):
                self.replace_breaks(range(len(self.days)))
        if adopted and self.cost() >= before:
            self._restore(snap)
            return 0
        return adopted

    def replace_breaks(self, people: Iterable[int]) -> int:
        """Move each break of these people's shifts, one shift at a time, to where one agent fewer costs least with
        everyone else's where they are (never to a dearer place); returns the change of the objective (<= 0)."""
        total = 0
        for p in people:
            for d, oi in enumerate(self.days[p]):
                if oi == OFF or not self.comp.options[oi].breaks:
                    continue
                o, old = self.comp.options[oi], self.brk[p][d]
                lo, hi = o.first, o.first + o.length
                before = self._cost_span(lo, hi)
                self._unset(p, d)
                self._set(p, d, oi, self._breaks_for(oi, p))
                change = self._cost_span(lo, hi) - before
                if change > 0:
                    self._unset(p, d)
                    self._set(p, d, oi, old)
                else:
                    total += change
        return total

    def keep_window(
        self, wm: WindowModel, values: np.ndarray | None, objective: float, accept: Callable[[int], bool]
    ) -> int | None:
        """Put a solved window on the roster if it improved on the roster it was built from: re-checked the plain
        way, re-priced on the full objective (fairness and stable starts are not in the MIP) and kept if
        ``accept`` takes the change. The window's days must be as they were when it was built (another window
        may have changed days far enough away: no rule links them, and its share of the contract band is its
        own, ``build_window``'s ``slack``). Returns the change applied, None if none."""
        if values is None or objective >= wm.start_cost - 0.5:
            return None

        def put() -> list[tuple[int, list[int], list[tuple[int, int]]]]:
            changed = apply_window(self, wm, values)
            days = list(range(wm.first, wm.last + 1))
            old = {p: {d: oi for d, (oi, _) in wm.saved[p].items()} for p in changed}
            return [(p, days, [(old[p].get(d, OFF), self.days[p][d]) for d in days]) for p in changed]

        return self._keep(put, accept)

    def keep_trade(
        self, tm: TradeModel, values: np.ndarray | None, objective: float, accept: Callable[[int], bool]
    ) -> int | None:
        """Put a solved trade move on the roster if it improved on the roster it was built from: re-checked the
        plain way, re-priced on the full objective (fairness is not in the MIP) and kept if ``accept`` takes the
        change. Returns the change applied, None if none."""
        if values is None or objective >= tm.start_cost - 0.5:
            return None
        return self._keep(lambda: [(c.p, [s[0] for s in (c.off, c.on) if s is not None], c.options())
                                   for c in apply_trade(self, tm, values)], accept)

    def _keep(
        self, put: Callable[[], list[tuple[int, list[int], list[tuple[int, int]]]]], accept: Callable[[int], bool]
    ) -> int | None:
        """Put a many-person move on the roster (``put`` applies it and returns, per person changed, the days it
        touched and its (old, new) options there), re-check each person the plain way (hard rules on those days,
        contract band), re-price on the full objective and keep it if ``accept`` takes the change; else the roster
        is as it was. Returns the change applied, None if none."""
        before, snap = self.cost(), self._snapshot()
        for p, days, options in put():
            info = self.comp.staff[p]
            if not (self.feasible(p, days) and info.contract_lo <= self.minutes[p] <= info.contract_hi):
                self.rejected += 1  # never seen; counted (tests assert 0) rather than trusted
                self._restore(snap)
                return None
            self._commit_fair(p, options)
        change = self.cost() - before
        if accept(change):
            return change
        self._restore(snap)
        return None

    def _paced_trade(self, pace: _Pace, time_left: Callable[[], float], stats: PolishStats) -> int | None:
        """``trade``, its pace recorded."""
        started, cost = time.monotonic(), self.cost()
        change = self.trade(time_left, stats)
        pace.traded(cost - self.cost(), time.monotonic() - started)
        return change

    def trade(self, time_left: Callable[[], float], stats: PolishStats) -> int | None:
        """One trade move (trade.py: every movable person's cheapest single changes, at most one each, chosen by
        one MIP), kept if it lowers the objective. Returns the change applied, None if none."""
        changes: list[Change] = []
        for p in range(len(self.days)):  # about 2 s of Python for 295 people x 28 days: stop with the time
            if time_left() <= 0:
                return None
            if self.movable[p]:
                changes.extend(person_changes(self, p))
        tm = build_trade(self, changes)
        if tm is None or time_left() <= 0:
            return None
        values, objective = solve_trade(tm, min(TRADE_LP_SECONDS, time_left()), min(TRADE_SECONDS, time_left()),
                                        self.rng.randrange(1 << 30), lambda: time_left() <= 0)
        change = self.keep_trade(tm, values, objective, lambda c: c < 0)
        stats.tried("trade", change is not None)
        return change

    def windows(
        self,
        time_left: Callable[[], float],
        report: Callable[[int], None] | None = None,
        threads: int = 1,
        width: int = WINDOW_DAYS,
        lp: bool = True,
        trades: bool = True,
    ) -> PolishStats:
        """Window moves (window.py: everyone's days in a window re-rostered by one MIP, ``keep_window``) until
        ``time_left`` is 0, kept when they lower the objective: the windows of ``width`` days tile the period,
        costliest span first, and each later sweep shifts the tiling by a day so that every hour trade across a
        window's edge is reached in turn. With ``lp`` each window first solves its LP over every option of its
        people: a window whose LP cannot beat the roster is skipped (screened), else the options the LP uses join
        the MIP's (``_lp_offered``). Once every day has been in a solved LP and no LP has screened its window
        (``WINDOW_LP_ONCE``), windows skip their LP and their MIP is offered what the latest LPs used on its days;
        a MIP proving the roster optimal screens its window start. A window start screened since the roster last
        changed is not solved again.
        With two or more threads two windows at least a week apart are in flight at once, each solve (LP or MIP)
        in a worker thread while the main thread builds the next model and keeps the last result (HiGHS releases
        the GIL; no rule links days a week apart, and each window holds its own share of every person's contract
        band, ``band_share``): a worker that ends starts the next window at once instead of waiting for the
        other's solve (the next sweep's, when no start of this one is far enough from the window in flight). With
        ``trades``, a trade move (``trade``) runs, once the windows in flight have landed,
        whenever the last trade gained faster than the windows do now (``_Pace``), and once every window start has
        been screened; when that trade gains nothing either, the windows end before their time."""
        stats = PolishStats(cost_start=self.cost())
        days = self.comp.days
        width = max(1, min(width, days))
        gap = width + 6  # starts this far apart share no 7-day window (nor a run of max_consecutive_days + 1)
        starts = days - width + 1
        pool = ThreadPoolExecutor(2) if threads >= 2 else None
        slots = 1 if pool is None else 2
        flights: dict[Future, _Flight] = {}
        todo: list[int] = []
        early: set[int] = set()  # starts of the next sweep solved before it began
        shift = version = 0  # version: how many moves have changed the roster
        screened: set[int] = set()  # window starts proved unable to gain since the roster last changed
        pace = _Pace()
        rounds = [0, 0, time.monotonic()]  # the round of windows landing now: windows, gain, when it began
        lp_used: dict[tuple[int, int], set[int]] = {}
        lp_days: set[int] = set()

        def stop() -> bool:
            return time_left() <= 0

        def submit(solve: Callable[[], tuple[np.ndarray | None, float]]) -> Future:
            if pool is not None:
                return pool.submit(solve)
            solved: Future = Future()
            solved.set_result(solve())
            return solved

        def sweep(k: int) -> list[int]:
            """The window starts of sweep k's tiling, costliest first, less those screened or taken early."""
            tiling = range(k % width, starts, width) or range(1)
            return sorted((a for a in tiling if a not in screened and a not in early),
                          key=lambda a: -self._window_cost(a, a + width - 1))

        def next_start() -> int | None:
            """The costliest window start of this sweep that is far enough from the windows in flight, else of the
            next sweep (taken early rather than leave a worker idle), else None (wait for a window in flight); a
            new sweep, shifted by a day, once this one is done."""
            nonlocal todo, shift
            for _ in range(width + 1):
                busy = [f.first for f in flights.values()]
                pick = next((a for a in todo if all(abs(a - b) >= gap for b in busy)), None)
                if pick is not None:
                    todo.remove(pick)
                    return pick
                if todo:
                    pick = next((a for a in sweep(shift) if all(abs(a - b) >= gap for b in busy)), None)
                    if pick is not None:
                        early.add(pick)
                    return pick
                todo = sweep(shift)
                early.clear()
                shift += 1
            return None

        def fly(first: int, slack: dict[int, tuple[int, int]], offered: dict[tuple[int, int], set[int]] | None,
                every: bool) -> bool:
            """Build the window's LP (``every``; its MIP instead once WINDOW_LP_ONCE says the LPs are done) or
            MIP and hand its solve to a worker; False if nobody can work in the window."""
            if (every and WINDOW_LP_ONCE and not stats.window_moves_screened
                    and all(d in lp_days for d in range(first, first + width))):
                every = False  # every day has had an LP, and none has screened its window: the MIP alone
            wm = build_window(self, first, first + width - 1, slack=slack, every=every, offered=offered,
                              extra=None if every or offered is not None else lp_used)
            if wm is None:
                return False
            if every:
                solve = functools.partial(wm.rows.solve_columns, min(WINDOW_LP_SECONDS, time_left()), stop,
                                          wm.start_columns)
            else:
                solve = functools.partial(wm.rows.solve_rescued, min(WINDOW_SECONDS, time_left()),
                                          WINDOW_RESCUE_SECONDS, self.rng.randrange(1 << 30), stop)
            flights[submit(solve)] = _Flight(first, wm, slack, version, every)
            return True

        def count(gain: int) -> None:
            """A window has ended (kept, not kept or screened): its gain counts in the round of windows landing now,
            as many as are solved at once, _Pace's unit."""
            rounds[0] += 1
            rounds[1] += gain
            if rounds[0] == slots:
                now = time.monotonic()
                pace.windows(rounds[1], now - rounds[2])
                rounds[:] = [0, 0, now]

        def land(future: Future) -> None:
            """A solve has ended: an LP's window goes on to its MIP (or is screened), a MIP's result is kept if it
            gains."""
            nonlocal version
            flight = flights.pop(future)
            values, objective = future.result()
            if flight.lp:
                stats.window_lps += 1
                used = None
                if values is not None:  # what it used is offered to the MIPs of windows over these days from now on
                    used = lp_options(self, flight.model, values)
                    for key in flight.model.offered:
                        lp_used[key] = used.get(key, set())
                    lp_days.update(range(flight.first, flight.first + width))
                offered = self._lp_offered(flight.model, values, objective, used)
                if offered is None:
                    stats.window_moves_screened += 1
                    if flight.version == version:  # else the roster has changed since: it may gain now
                        screened.add(flight.first)
                    count(0)
                elif time_left() > 0:
                    fly(flight.first, flight.slack, offered, False)
                return
            cost = self.cost()
            stats.window_moves_rescued += flight.model.rows.rescued
            change = self.keep_window(flight.model, values, objective, lambda c: c < 0)
            stats.tried("window", change is not None)
            if change is not None:
                version += 1
                screened.clear()
            elif flight.model.rows.proved and flight.version == version:  # its MIP proved the roster optimal there
                screened.add(flight.first)
            count(cost - self.cost())
            if report is not None:
                report(self.cost())

        try:
            while time_left() > 0:
                if len(screened) >= starts or (trades and pace.trade_due()):
                    if flights:  # a trade moves days anywhere: the windows in flight land first
                        for future in list(flights):
                            land(future)
                        continue
                    if not trades:
                        break
                    if self._paced_trade(pace, time_left, stats) is not None:
                        version += 1
                        screened.clear()
                    elif len(screened) >= starts:
                        break
                    rounds[:] = [0, 0, time.monotonic()]
                    continue
                while len(flights) < slots and time_left() > 0 and (first := next_start()) is not None:
                    slack = self.band_share([f.slack for f in flights.values()], share=pool is not None)
                    if not fly(first, slack, None, lp):
                        screened.add(first)  # nobody can work there: nothing to gain until a trade
                if flights:
                    ended, _ = wait(flights, timeout=max(0.0, time_left()), return_when=FIRST_COMPLETED)
                    for future in ended:
                        land(future)
            for future in list(flights):  # stopped by the time: a MIP returns its best roster so far
                land(future)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        stats.cost_end = self.cost()
        stats.rejected = self.rejected
        return stats

    def band_share(self, held: list[dict[int, tuple[int, int]]], share: bool) -> dict[int, tuple[int, int]]:
        """Per movable person the minutes a window may move their total down and up: what their contract band
        leaves at the roster as it is, less what the windows in flight hold of it (``held``), and with ``share``
        at most half of what the band leaves (rounded up), so that a window solved next to it gets the other half.
        Windows in flight can then never break a band together: each keeps within its share, and a landed window
        moves the total by at most what it held."""
        out: dict[int, tuple[int, int]] = {}
        for p, info in enumerate(self.comp.staff):
            if not self.movable[p]:
                continue
            down, up = self.minutes[p] - info.contract_lo, info.contract_hi - self.minutes[p]
            free_down = down - sum(h[p][0] for h in held if p in h)
            free_up = up - sum(h[p][1] for h in held if p in h)
            if share:
                free_down, free_up = min(free_down, (down + 1) // 2), min(free_up, (up + 1) // 2)
            out[p] = (max(0, free_down), max(0, free_up))
        return out

    def _lp_offered(
        self, wm: WindowModel, values: np.ndarray | None, bound: float,
        used: dict[tuple[int, int], set[int]] | None = None,
    ) -> dict[tuple[int, int], set[int]] | None:
        """What a window's LP over every option of its people (``build_window(every=True)``, solved to ``values``
        and ``bound``) leaves for its MIP, per (person, day): the usual cheap options, priced once for the LP's
        model, and those the LP uses (``used``, ``lp_options``' when the caller has them already); just the usual
        ones when the LP was not solved in its time; None when it proves the window cannot beat the roster (no MIP
        for it)."""
        if values is None:
            return wm.offered
        if bound >= wm.start_cost - 0.5:  # no whole roster of the window can beat its LP
            return None
        used = lp_options(self, wm, values) if used is None else used
        return {key: ops | used.get(key, set()) for key, ops in wm.offered.items()}

    def _window_cost(self, first: int, last: int) -> int:
        """Coverage cost of the intervals of days first..last (by the day tables' spans)."""
        return self._cost_span(self.day_tables[first].lo, self.day_tables[last].hi)

    def _clear(self, p: int) -> None:
        """Take all of person p's shifts off the roster and the phones."""
        for d, oi in enumerate(self.days[p]):
            if oi != OFF:
                self._unset(p, d)

    def _put_back(self, p: int, row: list[int], brk: dict[int, tuple[int, ...]]) -> None:
        """Give person p (cleared) the day map ``row`` with its break starts ``brk`` again."""
        for d, oi in enumerate(row):
            if oi != OFF:
                self._set(p, d, oi, brk[d])

    def _room(self, p: int, d: int) -> tuple[bool, int]:
        """For person p's free day d: whether a shift may start on it (runs of working days, days off per 7-day
        window) and the most minutes it may last (weekly maximum per 7-day window)."""
        if self._run_through(p, d) + 1 > self.max_run:
            return False, 0
        room = self.max_week
        for days_in, minutes_in, day_cap, minute_cap in self._windows_through(p, d):
            if days_in + 1 > day_cap:
                return False, 0
            room = min(room, minute_cap - minutes_in)
        return True, room

    def _neighbours(self, p: int, d: int) -> tuple[int | None, int | None]:
        """Person p's nearest worked days before and after day d (None where there is none)."""
        row = self.days[p]
        prev = next((x for x in range(d - 1, -1, -1) if row[x] != OFF), None)
        nxt = next((x for x in range(d + 1, len(row)) if row[x] != OFF), None)
        return prev, nxt

    def _run_through(self, p: int, d: int) -> int:
        """Length of person p's run of working days through day d, counting d itself only if worked (days worked
        before the roster count)."""
        row = self.days[p]
        prior = self.comp.staff[p].prior_minutes
        lo = d
        while (lo - 1 >= 0 and row[lo - 1] != OFF) or (lo - 1 < 0 and lo - 1 in prior):
            lo -= 1
        hi = d
        while hi + 1 < len(row) and row[hi + 1] != OFF:
            hi += 1
        return hi - lo + 1 - (row[d] == OFF)

    def _windows_through(self, p: int, d: int) -> Iterator[tuple[int, int, int, int]]:
        """Each 7-day window through day d, as the model's (model._windows): days and minutes person p works in
        it, and the most the rules leave for them after the days worked before the roster."""
        row = self.days[p]
        prior = self.comp.staff[p].prior_minutes
        opts = self.comp.options
        first = -6 if prior else 0
        for w0 in range(max(first, d - 6), min(d, len(row) - 7) + 1):
            days_in = minutes_in = before_days = before_minutes = 0
            for x in range(w0, w0 + 7):
                if x < 0:
                    if x in prior:
                        before_days += 1
                        before_minutes += prior[x]
                elif row[x] != OFF:
                    days_in += 1
                    minutes_in += opts[row[x]].minutes
            yield days_in, minutes_in, max(0, self.cap_days - before_days), max(0, self.max_week - before_minutes)

    def _set(self, p: int, d: int, oi: int, starts: tuple[int, ...]) -> None:
        """Put option ``oi`` (or OFF) on person p's free day d."""
        if oi == OFF:
            return
        self.days[p][d] = oi
        self.brk[p][d] = starts
        self.minutes[p] += self.comp.options[oi].minutes
        self._apply(oi, starts, +1, p)

    def _unset(self, p: int, d: int) -> None:
        """Take person p's shift on day d off the roster and the phones."""
        oi = self.days[p][d]
        self._apply(oi, self.brk[p].pop(d), -1, p)
        self.minutes[p] -= self.comp.options[oi].minutes
        self.days[p][d] = OFF

    # -- driver --------------------------------------------------------------------------------------------
    def _aimed(self, anyone: bool = False) -> tuple[int, int] | None:
        """A (person, day) that could cover an interval short of cover, drawn by how much its shortfall costs;
        ``anyone``: people on a pattern too (whole-person moves keep their pattern)."""
        short = np.clip(self.req - self.on[: self.n], 0, None) * self.uw
        row = -1  # the pool's shortfall, else the skill row drawn
        if len(self.sreq):
            rows = (np.clip(self.sreq - self.son[:, : self.n], 0, None) * self.suw).reshape(-1)
            short = np.concatenate((short, rows))
        total = int(short.sum())
        if total <= 0:
            return None
        t = int(np.searchsorted(np.cumsum(short), self.rng.random() * total, side="right"))
        t = min(t, len(short) - 1)
        if t >= self.n:
            row, t = divmod(t - self.n, self.n)
        days = [d for d in range(self.comp.days) if self.day_tables[d].lo <= t < self.day_tables[d].hi]
        if not days:
            return None
        d = self.rng.choice(days)
        people = (self.anyone_by_day if anyone else self.people_by_day)[d]
        if row >= 0:  # short of a skill: someone who has it
            people = [p for p in people if row in self.skill_rows[p]]
        return (self.rng.choice(people), d) if people else None

    def run(
        self,
        time_left: Callable[[], float],
        history: int = LATE_ACCEPTANCE,
        report: Callable[[int], None] | None = None,
        moves: str = MOVES,
        workers: int = 1,
    ) -> PolishStats:
        """Late-acceptance hill climbing (Burke and Bykov): a move is kept when it does not raise the objective or
        leaves it no higher than it was ``history`` moves ago; returns with the best roster seen. ``moves``: see
        MOVES; whole-person models are solved in ``workers`` threads, each result applied (or not) against the
        roster as it is when it comes back. ``report`` gets the best objective about once a second (a job's
        progress must not freeze during the search)."""
        if moves not in ("person", "day", "both"):
            raise ValueError(f"moves must be 'person', 'day' or 'both', not {moves!r}")
        stats = PolishStats(cost_start=self.cost())
        state = {"cur": stats.cost_start, "best": stats.cost_start, "i": 0}
        snapshot: list[tuple] = []
        hist = [stats.cost_start] * max(1, history)
        everyone = list(range(len(self.days)))
        people = [p for p in everyone if self.movable[p]]  # for day moves
        if moves == "both" and not people:
            moves = "person"

        def accept(delta: int) -> bool:
            limit = max(hist[state["i"] % len(hist)], state["cur"]) - state["cur"]
            return delta <= 0 or delta <= limit

        def record(delta: int | None) -> None:
            stats.moves_tried += 1
            if delta is not None:
                if delta > 0 and state["cur"] == state["best"]:
                    snapshot[:] = [self._snapshot()]  # leaving the best roster so far: keep it
                state["cur"] += delta
                stats.moves_kept += 1
                state["best"] = min(state["best"], state["cur"])
            hist[state["i"] % len(hist)] = state["cur"]
            state["i"] += 1

        pool = ThreadPoolExecutor(max(1, workers)) if moves != "day" and everyone else None
        inflight: dict[Future, int] = {}
        next_report = time.monotonic()
        try:
            while (everyone if pool is not None else people) and time_left() > 0:
                if report is not None and time.monotonic() >= next_report:
                    report(state["best"])
                    next_report = time.monotonic() + 1.0
                if pool is not None:
                    busy = set(inflight.values())
                    while len(inflight) < max(1, workers) and len(busy) < len(everyone):
                        p = self._pick(everyone, anyone=True)[0]
                        if p in busy:
                            continue
                        busy.add(p)
                        seconds = min(PERSON_SECONDS, max(0.05, time_left()))
                        inflight[pool.submit(self.person_model(p).solve, seconds, self.rng.randrange(1 << 30))] = p
                    done = [f for f in inflight if f.done()]
                    for f in done:
                        p = inflight.pop(f)
                        delta = self.apply_person(p, f.result(), accept)
                        stats.person_moves_tried += 1
                        stats.person_moves_kept += delta is not None
                        record(delta)
                    if done:
                        continue
                    if moves == "person":
                        wait(inflight, timeout=max(0.0, time_left()), return_when=FIRST_COMPLETED)
                        continue
                record(self._day_move(people, accept))
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if state["cur"] > state["best"] and snapshot:
            self._restore(snapshot[0])
        stats.cost_end = self.cost()
        stats.rejected = self.rejected
        return stats

    def search(
        self,
        time_left: Callable[[], float],
        report: Callable[[int], None] | None = None,
        moves: str = MOVES,
        workers: int = 1,
        guide: float = GUIDE_WEIGHT,
        window_share: float = WINDOW_SHARE,
    ) -> PolishStats:
        """``run`` (plain descent) for GUIDE_AFTER of the time, then guided cycles, then window and trade moves to the
        end (at least ``window_share`` of the time, after at most GUIDE_CYCLES_BEFORE_WINDOWS cycles): best
        responses stop at an equilibrium where no one person can gain with everyone else fixed, and the shortfall
        that is left would need several people to take a small loss at once; over-weighting what is short for a
        while (and, given ``lp_values``, pricing towards the LP's optimum: LP_BLEND) makes them, and the true
        weights then repair. ``guide`` 0: plain descent throughout. ``report``
        gets the best true objective about once a second."""
        total = max(0.0, time_left())
        if guide <= 0 or total <= 0:
            return self.run(time_left, report=report, moves=moves, workers=workers)
        if total * window_share < WINDOW_MIN_SECONDS or not any(self.movable):
            window_share = 0.0  # too short for windows to pay: the guided cycles make better use of it
        started = time.monotonic()

        def until(seconds: float) -> Callable[[], float]:
            end = time.monotonic() + seconds
            return lambda: min(time_left(), end - time.monotonic())

        stats = self.run(until(GUIDE_AFTER * total), report=report, moves=moves, workers=workers)
        best, snap = self.cost(), self._snapshot()
        cycle = min(GUIDE_SECONDS, max(0.5, total / 5))
        true_uw, true_suw = self.uw, self.suw
        quiet = None if report is None else (lambda _: report(best))
        try:
            while (
                time_left() > 0
                and time.monotonic() - started < total * (1 - window_share)
                and (window_share == 0 or stats.guided_cycles < GUIDE_CYCLES_BEFORE_WINDOWS)
            ):
                short = self.req > self.on[: self.n]
                self.uw = np.where(short, np.round(true_uw * (1 + guide)).astype(np.int64), true_uw)
                short_s = self.sreq > self.son[:, : self.n]
                self.suw = np.where(short_s, np.round(true_suw * (1 + guide)).astype(np.int64), true_suw)
                self.lp_guided = True
                stats.add(self.run(until(cycle / 2), report=quiet, moves=moves, workers=workers))
                self.uw, self.suw, self.lp_guided = true_uw, true_suw, False
                stats.add(self.run(until(cycle / 2), report=quiet, moves=moves, workers=workers))
                stats.guided_cycles += 1
                cost = self.cost()
                if cost < best:
                    best, snap = cost, self._snapshot()
                    stats.guided_cycles_kept += 1
                else:
                    self._restore(snap)
        finally:
            self.uw, self.suw, self.lp_guided = true_uw, true_suw, False
        if window_share > 0:
            stats.add(self.windows(time_left, report=report, threads=workers))
        stats.cost_end = self.cost()
        stats.rejected = self.rejected
        return stats

    def _pick(self, people: list[int], anyone: bool = False) -> tuple[int, int]:
        """A (person, day) to move: mostly aimed at an interval short of cover, else at random."""
        pick = self._aimed(anyone) if self.rng.random() < AIMED_SHARE else None
        return pick if pick else (self.rng.choice(people), self.rng.randrange(self.comp.days))

    def _day_move(self, people: list[int], accept: Callable[[int], bool]) -> int | None:
        """One one- or two-day move (``try_days``) of a person and day from ``_pick``."""
        p, d = self._pick(people)
        row = self.days[p]
        worked = [x for x in range(self.comp.days) if row[x] != OFF and x != d]
        if worked and (row[d] == OFF or self.rng.random() < 0.5):
            near = [x for x in worked if abs(x - d) <= NEAR_DAYS]  # trading with a nearby day keeps the 7-day
            other = self.rng.choice(near if near and self.rng.random() < 0.6 else worked)  # windows mostly as they are
            return self.try_days(p, d, other, accept)
        return self.try_days(p, d, None, accept)

    def _snapshot(self) -> tuple:
        return ([list(r) for r in self.days], [dict(b) for b in self.brk], list(self.minutes), self.on.copy(),
                [list(c) for c in self.fair_counts], self.son.copy())

    def _restore(self, snap: tuple) -> None:
        """Back to a ``_snapshot`` (copied again, so the snapshot can be restored more than once)."""
        days, brk, minutes, on, fair_counts, son = snap
        self.days, self.brk, self.minutes = [list(r) for r in days], [dict(b) for b in brk], list(minutes)
        self.on, self.fair_counts, self.son = on.copy(), [list(c) for c in fair_counts], son.copy()

    def roster(self) -> list[list[int]]:
        """Per person, the chosen options."""
        return [sorted(oi for oi in row if oi != OFF) for row in self.days]

    def breaks(self) -> dict[int, list[list[int]]]:
        """Break starts per option and break rule, one per shift (the solver's format)."""
        out: dict[int, list[list[int]]] = {}
        for p, row in enumerate(self.days):
            for d, oi in enumerate(row):
                if oi != OFF:
                    per = out.setdefault(oi, [[] for _ in self.comp.options[oi].breaks])
                    for bi, k in enumerate(self.brk[p][d]):
                        per[bi].append(k)
        return out
