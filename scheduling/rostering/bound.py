"""Lower bounds by LP relaxation (GLOP) of the shift-design model.

CP-SAT's own bound is weak on covering problems, so the gap is reported against the LP relaxation of stage 1
over every shift option: every constraint of stage 1 is a valid aggregation of the per-person rules, so its
LP optimum is a lower bound on the coverage cost of any roster that keeps the hard rules.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from scheduling.rostering.grid import Compiled
from scheduling.rostering.model import (
    OVER_UNIT,
    UNDER_UNIT,
    LpBackend,
    add_break_counts,
    add_coverage,
    add_person,
    add_workforce_limits,
    build_design_model,
    coverage_objective,
    interval_weights,
)


@dataclass(frozen=True)
class LpBound:
    """Coverage-cost lower bound (objective units) and under-coverage lower bound (agent-intervals)."""

    coverage_cost: float
    under_intervals: float
    status: str
    seconds: float
    x: dict[int, float] = field(default_factory=dict, repr=False)  # LP shift counts (coverage objective)
    y: dict[tuple, float] = field(default_factory=dict, repr=False)  # LP break counts
    #: Per grid interval, what one more agent on the phones is worth at the LP's optimum (the coverage row's dual,
    #: objective units: up to the interval's under-coverage weight where the LP is short, -OVER_UNIT where over).
    values: list[float] = field(default_factory=list, repr=False)
    skill_x: dict[tuple[str, int], float] = field(default_factory=dict, repr=False)  # LP counts of skilled shifts
    kind: str = "aggregate"  # "aggregate" (stage 1's LP) or "per person" (the whole model's LP)
    #: Plain under-coverage (agent-intervals) at the optimum of the coverage cost: what a roster minimising the
    #: weighted objective aims at, which may trade a little under-coverage for much less surplus (None: not
    #: solved; where the LP has several optima, the one GLOP returns).
    under_at_cost_intervals: float | None = None


def lp_bounds(
    comp: Compiled, workable: list[list[list[int]]], hint_band_share: float = 1.0, time_limit: float | None = None
) -> LpBound:
    """Solve the LP relaxation for the weighted coverage cost, then (same model, new objective) for plain
    under-coverage alone; with ``hint_band_share`` < 1 also stage 1's LP with its hours cap, whose optimum
    becomes stage 1's hint. ``time_limit`` (seconds) bounds the solves together; an LP stopped by it is
    NOT_SOLVED (no bound, no hint)."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with ortools
        return LpBound(0.0, 0.0, "UNAVAILABLE", 0.0)
    started = time.monotonic()

    def budget(s: pywraplp.Solver, share: float) -> None:
        if time_limit is not None:
            left = time_limit - (time.monotonic() - started)
            s.SetTimeLimit(max(1, int(1000 * share * left)))

    design = build_design_model(LpBackend(solver), comp, workable)
    budget(solver, 0.6)
    cost, status = _minimise(solver, design.objective)
    x = {k: v.solution_value() for k, v in design.x.items()} if cost is not None else {}
    y = {k: v.solution_value() for k, v in design.y.items()} if cost is not None else {}
    xs = {k: v.solution_value() for k, v in design.skill_x.items()} if cost is not None else {}
    values = _agent_values(comp, design.over) if cost is not None else []
    under_at_cost = sum(v.solution_value() for v in design.under.values()) if cost is not None else None
    budget(solver, 1.0 if hint_band_share >= 1.0 else 0.5)
    under, status_under = _minimise(solver, solver.Sum(list(design.under.values())))
    seconds = solver.wall_time() / 1000
    if hint_band_share < 1.0:
        hint_solver = pywraplp.Solver.CreateSolver("GLOP")
        hint = build_design_model(LpBackend(hint_solver), comp, workable, hint_band_share)
        budget(hint_solver, 1.0)
        if _minimise(hint_solver, hint.objective)[0] is not None:
            x = {k: v.solution_value() for k, v in hint.x.items()}
            y = {k: v.solution_value() for k, v in hint.y.items()}
            xs = {k: v.solution_value() for k, v in hint.skill_x.items()}
        seconds += hint_solver.wall_time() / 1000
    return LpBound(cost or 0.0, under or 0.0, _worst(status, status_under), seconds, x, y, values, xs,
                   under_at_cost_intervals=under_at_cost)


def _agent_values(comp: Compiled, over: dict[int, Any]) -> list[float]:
    """The coverage rows' duals, read off the over-coverage variables' reduced costs (each row has one, with
    coefficient -1 and cost OVER_UNIT, so dual = reduced cost - OVER_UNIT; GLOP's row duals would need the rows'
    handles, which the backend does not keep), clipped to what one agent can change there: at most the interval's
    under-coverage weight (an interval nobody can cover has its under-coverage at its upper bound, where the dual
    is not unique), at least -OVER_UNIT."""
    w = interval_weights(comp.required)
    values = [0.0] * comp.n_intervals
    for t, v in over.items():
        values[t] = min(UNDER_UNIT * w[t], max(-OVER_UNIT, v.reduced_cost() - OVER_UNIT))
    return values


def _minimise(solver: pywraplp.Solver, objective: Any) -> tuple[float | None, str]:
    """Minimise ``objective`` on the model built so far: (optimum or None, "OPTIMAL"/"INFEASIBLE"/"NOT_SOLVED")."""
    solver.Minimize(objective)
    code = solver.Solve()
    if code == pywraplp.Solver.OPTIMAL:
        return solver.Objective().Value(), "OPTIMAL"
    return None, {pywraplp.Solver.INFEASIBLE: "INFEASIBLE"}.get(code, "NOT_SOLVED")


def _worst(*statuses: str) -> str:
    """The last status that is not OPTIMAL, else OPTIMAL."""
    return next((st for st in reversed(statuses) if st != "OPTIMAL"), "OPTIMAL")


def staff_groups(
    comp: Compiled, workable: list[list[list[int]]], every_rule: bool = False
) -> list[tuple[list[int], list[list[int]]]]:
    """People with identical options per day and contract band, as (people, options per day): in an LP they
    are interchangeable, so one variable per group and option (bounded by the group's size) loses nothing.
    ``every_rule`` also separates different patterns and previous periods (``worked_before``), which the
    per-person LP leaves out but whole rosters must keep."""
    groups: dict[tuple, list[int]] = {}
    for p, per_day in enumerate(workable):
        person = comp.staff[p]
        key: tuple = (tuple(tuple(day) for day in per_day), person.contract_lo, person.contract_hi)
        if every_rule:
            key += (tuple(person.pattern_choices), tuple(sorted(person.prior_minutes.items())))
        groups.setdefault(key, []).append(p)
    return [(people, [list(day) for day in key[0]]) for key, people in groups.items()]


def person_lp_bounds(
    comp: Compiled, workable: list[list[list[int]]], time_limit: float | None = None
) -> LpBound:
    """The LP relaxation of the whole roster model, person by person (people with identical options and
    contracts pooled into one group, which is exact for an LP): stage 1's workforce limits applied to each
    group instead of to the whole staff, breaks as counts. Tighter than ``lp_bounds`` where pooling everyone
    lets part-timers' hours stand in for night workers'; patterns are left out (a valid relaxation: they only
    remove rosters). ``time_limit`` (seconds) bounds its two solves together (then NOT_SOLVED)."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with ortools
        return LpBound(0.0, 0.0, "UNAVAILABLE", 0.0)
    b = LpBackend(solver)
    users: dict[int, list] = {}
    for gi, (people, per_day) in enumerate(staff_groups(comp, workable)):
        x = {oi: b.var(0, len(people), f"x_{gi}_{oi}") for day in per_day for oi in day}
        for oi, v in x.items():
            users.setdefault(oi, []).append(v)
        add_workforce_limits(b, comp, x, [per_day] * len(people), people=[comp.staff[p] for p in people])
    count = {}
    for oi, vs in sorted(users.items()):
        count[oi] = b.var(0, len(comp.staff), f"n_{oi}")
        b.add(count[oi] == b.total(vs))
    y = add_break_counts(b, comp, count, {oi: len(comp.staff) for oi in count})
    under, over, _ = add_coverage(b, comp, count, y, len(comp.staff))
    if time_limit is not None:
        solver.SetTimeLimit(max(1, int(time_limit * 500)))  # half each, in milliseconds
    cost, status = _minimise(solver, coverage_objective(b, comp, under, over))
    under_at_cost = sum(v.solution_value() for v in under.values()) if cost is not None else None
    if time_limit is not None:
        solver.SetTimeLimit(max(1, int(time_limit * 500)))
    short, status_under = _minimise(solver, solver.Sum(list(under.values())))
    return LpBound(cost or 0.0, short or 0.0, _worst(status, status_under), solver.wall_time() / 1000,
                   under_at_cost_intervals=under_at_cost)


def person_lp_size(comp: Compiled, workable: list[list[list[int]]]) -> int:
    """Variables of ``person_lp_bounds``' LP: group x option (its solve time grows about linearly with them)."""
    return sum(sum(len(day) for day in per_day) for _, per_day in staff_groups(comp, workable))


def tightest_bound(
    comp: Compiled, workable: list[list[list[int]]], aggregate: LpBound, limit: int, seconds: float
) -> LpBound:
    """``aggregate``, raised to the per-person LP bound when that LP has at most ``limit`` variables and is solved
    within ``seconds`` (about 3 s per 1,000 variables here, break counts included); the aggregate's LP design is
    kept for hints."""
    if person_lp_size(comp, workable) > limit:
        return aggregate
    person = person_lp_bounds(comp, workable, seconds)
    if person.status != "OPTIMAL":
        return replace(aggregate, seconds=aggregate.seconds + person.seconds)
    return replace(
        aggregate,
        coverage_cost=max(aggregate.coverage_cost, person.coverage_cost),
        under_intervals=max(aggregate.under_intervals, person.under_intervals),
        seconds=aggregate.seconds + person.seconds,
        kind="per person",
        under_at_cost_intervals=person.under_at_cost_intervals,
    )


# ---------------------------------------------------------------------------------------------------------
# The roster LP (Dantzig-Wolfe): column generation over whole per-person rosters.
@dataclass(frozen=True)
class RosterLpBound:
    """The LP over the convex hull of each person's rule-abiding rosters, by column generation: ``under_intervals``
    is the best Lagrangian lower bound (valid wherever it stopped), ``master_under_intervals`` the restricted
    master's value; the roster LP's optimum lies between them (equal when ``converged``)."""

    under_intervals: float
    master_under_intervals: float
    iterations: int
    columns: int
    seconds: float
    converged: bool


def roster_lp_bound(
    comp: Compiled,
    workable: list[list[list[int]]],
    first_rosters: Sequence[Sequence[int]],
    time_limit: float,
    pricing_seconds: float = 10.0,
    smoothing: float = 0.7,
    workers: int = 2,
) -> RosterLpBound:
    """Lower bound on under-coverage (agent-intervals) of any roster that keeps the hard rules, from the LP whose
    columns are whole rosters of one person: at least as tight as ``person_lp_bounds`` (whose fractional person
    may, for instance, work 1.67 twelve-hour shifts to meet a 20-hour contract that only an 8 + 12 can meet).

    Master LP (GLOP): rosters chosen per group with weights summing to the group's size, break counts and
    coverage as in stage 1. Pricing: each group's cheapest roster at the master's option prices, one CP-SAT model
    of the person's hard rules (``add_person``) per group, solved in ``workers`` threads. Duals are smoothed
    (Wentges, ``smoothing``) because plain column generation tails off for hundreds of iterations on covering
    problems; every pricing round at duals pi gives the Lagrangian bound L(pi) = min over the coverage LP of
    (objective - pi.n) + sum of group size x cheapest roster price, valid even when the search is stopped early.
    ``first_rosters`` (one rule-abiding roster per person, e.g. the pre-check's) seed the master. Used by the
    bench, not by ``solve_roster``: it converges in about 5 minutes on 50 staff x 14 days, far beyond a solve."""
    started = time.monotonic()
    groups = staff_groups(comp, workable, every_rule=True)
    options = sorted({oi for per_day in workable for day in per_day for oi in day})
    master, link, convexity = _roster_master(comp, options, [len(people) for people, _ in groups])
    pricing = [_Pricing(comp, people[0], per_day) for people, per_day in groups]
    lagrange_lp, lagrange_n, lagrange_objective = _coverage_lp(comp, options)
    seen: set[tuple[int, frozenset[int]]] = set()

    def add_column(gi: int, roster: Sequence[int]) -> bool:
        key = (gi, frozenset(roster))
        if key in seen:
            return False
        seen.add(key)
        v = master.NumVar(0, len(groups[gi][0]), f"roster_{len(seen)}")
        convexity[gi].SetCoefficient(v, 1)
        for oi in roster:
            link[oi].SetCoefficient(v, -1)
        return True

    for gi, (people, _) in enumerate(groups):
        add_column(gi, first_rosters[people[0]])
    center: dict[int, float] | None = None
    best, value, iterations, converged = -math.inf, math.inf, 0, False
    with ThreadPoolExecutor(max(1, workers)) as pool:
        while time.monotonic() - started < time_limit:
            iterations += 1
            if master.Solve() != pywraplp.Solver.OPTIMAL:
                break
            value = master.Objective().Value()
            duals = {oi: link[oi].dual_value() for oi in options}
            mu = [c.dual_value() for c in convexity]
            prices = duals if center is None else {
                oi: smoothing * center[oi] + (1 - smoothing) * duals[oi] for oi in options
            }
            seconds = min(pricing_seconds, max(0.1, time_limit - (time.monotonic() - started)))
            found = list(pool.map(lambda pr, pi=prices, t=seconds: pr.cheapest(pi, t), pricing))
            lagrange_lp.Minimize(lagrange_objective - lagrange_lp.Sum([prices[oi] * lagrange_n[oi] for oi in options]))
            if lagrange_lp.Solve() == pywraplp.Solver.OPTIMAL:
                priced = sum(len(people) * lb for (people, _), (_, lb) in zip(groups, found, strict=True))
                bound = lagrange_lp.Objective().Value() + priced
                if bound > best:
                    best, center = bound, prices
            added = 0
            for gi, (rosters, _) in enumerate(found):
                for roster in rosters:
                    if sum(duals[oi] for oi in roster) - mu[gi] < -1e-6:
                        added += add_column(gi, roster)
            if added == 0:
                if prices is duals:
                    converged = True
                    break
                center = None  # smoothed duals priced nothing new: price at the master's own duals next
            if value - best <= 1e-6 * max(1.0, abs(value)):
                converged = True
                break
    return RosterLpBound(max(0.0, best), value, iterations, len(seen), time.monotonic() - started, converged)


def _roster_master(
    comp: Compiled, options: list[int], sizes: list[int]
) -> tuple[pywraplp.Solver, dict[int, Any], list[Any]]:
    """The master LP without columns: option counts n linked to the rosters (n_o - sum of rosters with o = 0; n
    is not returned, only these rows touch it) and one convexity row per group (its weights sum to its size)."""
    master, n, objective = _coverage_lp(comp, options)
    master.Minimize(objective)
    link = {}
    for oi in options:
        row = master.Constraint(0, 0)
        row.SetCoefficient(n[oi], 1)
        link[oi] = row
    return master, link, [master.Constraint(size, size) for size in sizes]


def _coverage_lp(comp: Compiled, options: list[int]) -> tuple[pywraplp.Solver, dict[int, Any], Any]:
    """Option counts, break counts and coverage (stage 1's functions) with plain under-coverage as objective."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    b = LpBackend(solver)
    staff = len(comp.staff)
    n = {oi: solver.NumVar(0, staff, f"n_{oi}") for oi in options}
    y = add_break_counts(b, comp, n, dict.fromkeys(options, staff))
    under, _, _ = add_coverage(b, comp, n, y, staff)
    return solver, n, solver.Sum(list(under.values()))


class _Pricing:
    """One group's pricing problem: the person model (every hard rule) is built once; each round only sets the
    objective (``minimize`` replaces the previous one)."""

    def __init__(self, comp: Compiled, p: int, per_day: list[list[int]]) -> None:
        self.model = cp_model.CpModel()
        self.pv = add_person(self.model, comp, comp.staff[p], per_day)

    def cheapest(self, prices: dict[int, float], seconds: float) -> tuple[list[list[int]], float]:
        """The person's rule-abiding rosters at least price (sum of their options' prices), best last, and a
        lower bound on that price (CP-SAT's bound, less the rounding of prices to integers)."""
        a = self.pv.a
        scale = 1e6 / max(1e-9, max((abs(prices[oi]) for oi in a), default=1.0))
        self.model.minimize(cp_model.LinearExpr.weighted_sum(list(a.values()), [round(scale * prices[oi]) for oi in a]))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = seconds
        solver.parameters.num_workers = 1
        # One person's model: presolve costs more than it saves and the fuller LP pays (as for the polish's
        # person moves): medium bench instance 30 rounds in 154 s against 5 in 106 s with the defaults.
        solver.parameters.cp_model_presolve = False
        solver.parameters.linearization_level = 2
        rosters: list[list[int]] = []

        class Collect(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                rosters.append([oi for oi, v in a.items() if self.boolean_value(v)])

        status = solver.solve(self.model, Collect())
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return [], -math.inf
        return rosters[-3:], solver.best_objective_bound / scale - 0.5 / scale * len(a)
