"""Trade moves: every movable person may change one thing in their period at once, chosen together by one MIP.

Window moves re-roster everyone over two days; whole-person moves re-roster one person over the whole period.
Neither reaches a chain of small changes across the month: one person moves a shift from a quiet day to the
storm, a second takes over the quiet day's gap by moving a shift from another day, a third drops a surplus shift
there (each alone a loss, together a gain). A trade move offers every movable person their cheapest single
changes (drop a shift, add one, move one to another day or option, each keeping every hard rule and the contract
band with the rest of their roster as it is) and one MIP picks at most one per person on the exact coverage cost:
the people's changes add up on the phones, so the MIP prices any combination exactly. Preferences and stable starts
are per person and exact too; the fairness spreads are not in the model, so the move is re-priced in full before
it is kept (``Polisher.keep_trade``).

Solved by HiGHS like the windows (window.py): its LP relaxation first (interior point: 1.4 s against 5.9 s for the
dual simplex on the bench's large instance, 32,000 columns), then the MIP over the changes that LP uses, with
"no change" as its first solution. Bench large, from a roster where 300 s of the product's search had levelled off
(272.0 agent-h under, 3.638 M units), rounds of 4-5 s: 268.25 h and 3.602 M after four rounds
(docs/rostering-research.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scheduling.rostering.model import OVER_UNIT
from scheduling.rostering.window import _Rows

if TYPE_CHECKING:
    from collections.abc import Callable

    from scheduling.rostering.polish import Polisher

#: Per person the TRADE_CANDIDATES cheapest changes (each priced alone at the roster as it is), and per (day a shift
#: leaves, day it goes to) the TRADE_OPTIONS cheapest options. Bench large, from the roster after 100 s of windows
#: (283.75 h under): 40 candidates gave an LP worth 4,600 units, 80 gave 47,700 (the MIP found 46,400 of it), 150
#: and 300 LPs worth 69,000 and 76,000 whose MIPs found nothing in 30-40 s.
TRADE_CANDIDATES, TRADE_OPTIONS = 80, 3
#: Seconds for the LP relaxation and for the MIP over the changes it uses.
TRADE_LP_SECONDS, TRADE_SECONDS = 6.0, 4.0
_OFF = -1
#: A shift on the roster or a change's: (day, option, break starts).
Shift = tuple[int, int, tuple[int, ...]]


@dataclass(frozen=True)
class Change:
    """One person's single change: the shift taken off (None: none) and the one put on (None: none), and the
    change of their own soft cost (preferences, stable starts)."""

    p: int
    off: Shift | None
    on: Shift | None
    soft: int

    def options(self) -> list[tuple[int, int]]:
        """(old option, new option) per day touched, OFF for none (as ``Polisher._commit_fair`` takes them)."""
        out = []
        if self.off is not None:
            out.append((self.off[1], _OFF))
        if self.on is not None:
            out.append((_OFF, self.on[1]))
        return out


@dataclass
class TradeModel:
    """A trade move's MIP: one binary per change (``changes[i]`` is column ``z[i]``)."""

    rows: _Rows
    changes: list[Change]
    z: list[int]

    @property
    def start_cost(self) -> float:
        """The model's objective with no change made (its first solution)."""
        return self.rows.start_cost


def person_changes(pol: Polisher, p: int, k: int = TRADE_CANDIDATES, per_pair: int = TRADE_OPTIONS) -> list[Change]:
    """Person p's k cheapest single changes at the roster as it is, each checked against every hard rule and the
    contract band (the roster is left as it was)."""
    info = pol.comp.staff[p]
    lo, hi = info.contract_lo, info.contract_hi
    row, opts = pol.days[p], pol.comp.options
    soft0 = pol._person_soft(p)
    work = [d for d, oi in enumerate(row) if oi != _OFF]
    free = [d for d, oi in enumerate(row) if oi == _OFF and pol.workable[p][d]]
    priced: list[tuple[int, Shift | None, tuple[int, int] | None]] = []  # (change alone, off, (day, option) on)
    for d in free:
        priced.extend((delta, None, (d, oi)) for oi, delta in pol._ranked(p, d, 0, lo, hi, per_pair))
    for x in work:
        off: Shift = (x, row[x], pol.brk[p][x])
        o = opts[off[1]]
        before = pol._cost_span(o.first, o.first + o.length) + soft0
        pol._unset(p, x)
        base = pol._cost_span(o.first, o.first + o.length) + pol._person_soft(p) - before
        if pol.minutes[p] >= lo:
            priced.append((base, off, None))
        for d in [*free, x]:
            priced.extend((delta, off, (d, oi)) for oi, delta in pol._ranked(p, d, base, lo, hi, per_pair))
        pol._set(p, *off)
    priced.sort(key=lambda c: c[0])
    out = []
    for _, off, put in priced[:k]:  # exactly, for the kept ones: the breaks where they cost least, the soft cost
        if off is not None:
            pol._unset(p, off[0])
        on: Shift | None = None
        if put is not None:
            on = (put[0], put[1], pol._breaks_for(put[1], p))
            pol._set(p, *on)
        touched = [s[0] for s in (off, on) if s is not None]
        legal = pol.feasible(p, touched) and lo <= pol.minutes[p] <= hi
        soft = pol._person_soft(p) - soft0
        if on is not None:
            pol._unset(p, on[0])
        if off is not None:
            pol._set(p, *off)
        if legal:
            out.append(Change(p, off, on, soft))
    return out


def build_trade(pol: Polisher, changes: list[Change]) -> TradeModel | None:
    """The MIP choosing at most one of each person's ``changes``: per change a binary (its soft cost), per shift
    taken off or put on (with its break starts and the person's skill class) a count, and per interval the phones
    as they are plus the counts' agents, with the true coverage cost (weighted under-coverage, over-coverage, each
    skill row's under-coverage). None when there is no change to choose from."""
    if not changes:
        return None
    comp, opts = pol.comp, pol.comp.options
    m = _Rows()
    z = [m.var(0, 1, float(c.soft), True, 0.0) for c in changes]
    per_person: dict[int, list[int]] = {}
    members: dict[tuple[int, int, tuple[int, ...], int], list[int]] = {}  # (sign, option, breaks, class) -> z
    for c, j in zip(changes, z, strict=True):
        per_person.setdefault(c.p, []).append(j)
        cls = comp.staff[c.p].cls
        for sign, shift in ((-1, c.off), (1, c.on)):
            if shift is not None:
                members.setdefault((sign, shift[1], shift[2], cls), []).append(j)
    for js in per_person.values():
        m.row([(j, 1.0) for j in js], 0, 1)
    # class -> interval -> count -> agents on the phones per shift counted (a break inside its shift: 0)
    terms: dict[int, dict[int, dict[int, int]]] = {}
    for (sign, oi, starts, cls), js in members.items():
        n = m.var(0, len(js), 0.0, False, 0.0)
        m.row([(j, 1.0) for j in js] + [(n, -1.0)], 0, 0)
        o, by_t = opts[oi], terms.setdefault(cls, {})
        for t in range(o.first, min(o.first + o.length, pol.n)):
            by_t.setdefault(t, {})[n] = sign
        for k, length in zip(starts, o.break_lengths, strict=True):
            for t in range(k, min(k + length, pol.n)):
                by_t[t][n] -= sign
    touched = sorted({t for by_t in terms.values() for t in by_t})
    for t in touched:
        short = int(pol.req[t] - pol.on[t])  # agents short now (negative: surplus)
        under = m.var(0, np.inf, float(pol.uw[t]), False, float(max(0, short)))
        over = m.var(0, np.inf, float(OVER_UNIT), False, float(max(0, -short)))
        agents = [(n, float(a)) for by_t in terms.values() for n, a in by_t.get(t, {}).items() if a]
        m.row([*agents, (under, 1.0), (over, -1.0)], short, short)  # changes + under - over = short
    for s, name in enumerate(comp.skill_names):
        classes = [ci for ci, skills in enumerate(comp.classes) if name in skills and ci in terms]
        for t in touched:
            need = int(pol.sreq[s, t])
            if need <= 0:
                continue
            agents = [(n, float(a)) for ci in classes for n, a in terms[ci].get(t, {}).items() if a]
            if not agents:
                continue
            short = need - int(pol.son[s, t])
            under = m.var(0, np.inf, float(pol.suw[s, t]), False, float(max(0, short)))
            m.row([*agents, (under, 1.0)], short, np.inf)  # under >= short - changes
    return TradeModel(m, changes, z)


def solve_trade(
    tm: TradeModel, lp_seconds: float, seconds: float, seed: int, stop: Callable[[], bool]
) -> tuple[np.ndarray | None, float]:
    """The trade MIP over the changes its LP relaxation uses (all of them if the LP is not solved in its time):
    the best solution's column values (None if none) and objective. ``stop()`` ends either solve early."""
    rows = tm.rows
    values, bound = rows.solve(lp_seconds, seed, stop, relax=True, ipm=True)
    if values is not None:
        if bound >= tm.start_cost - 0.5:  # no combination of changes beats the roster
            return None, float("inf")
        saved = list(rows.ub)
        for j in tm.z:
            if values[j] <= 1e-6:
                rows.ub[j] = 0.0
        try:
            return rows.solve(seconds, seed, stop)
        finally:
            rows.ub = saved
    return rows.solve(seconds, seed, stop)


def apply_trade(pol: Polisher, tm: TradeModel, values: np.ndarray) -> list[Change]:
    """Put the chosen changes on the roster (shifts off first, then on). Returns them."""
    chosen = [c for c, j in zip(tm.changes, tm.z, strict=True) if values[j] > 0.5]
    for c in chosen:
        if c.off is not None:
            pol._unset(c.p, c.off[0])
    for c in chosen:
        if c.on is not None:
            pol._set(c.p, *c.on)
    return chosen
