"""Lower bounds by LP relaxation (GLOP) of the shift-design model.

CP-SAT's own bound is weak on covering problems, so the gap is reported against the LP relaxation of stage 1
over every shift option: every constraint of stage 1 is a valid aggregation of the per-person rules, so its
LP optimum is a lower bound on the coverage cost of any roster that keeps the hard rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ortools.linear_solver import pywraplp

from scheduling.rostering.grid import Compiled
from scheduling.rostering.model import (
    LpBackend,
    add_break_counts,
    add_coverage,
    add_workforce_limits,
    build_design_model,
    coverage_objective,
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
    kind: str = "aggregate"  # "aggregate" (stage 1's LP) or "per person" (the whole model's LP)


def lp_bounds(comp: Compiled, workable: list[list[list[int]]], hint_band_share: float = 1.0) -> LpBound:
    """Solve the LP relaxation for the weighted coverage cost, then (same model, new objective) for plain
    under-coverage alone; with ``hint_band_share`` < 1 also stage 1's LP with its hours cap, whose optimum
    becomes stage 1's hint."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with ortools
        return LpBound(0.0, 0.0, "UNAVAILABLE", 0.0)
    design = build_design_model(LpBackend(solver), comp, workable)
    cost, status = _minimise(solver, design.objective)
    x = {k: v.solution_value() for k, v in design.x.items()} if cost is not None else {}
    y = {k: v.solution_value() for k, v in design.y.items()} if cost is not None else {}
    under, status_under = _minimise(solver, solver.Sum(list(design.under.values())))
    seconds = solver.wall_time() / 1000
    if hint_band_share < 1.0:
        hint_solver = pywraplp.Solver.CreateSolver("GLOP")
        hint = build_design_model(LpBackend(hint_solver), comp, workable, hint_band_share)
        if _minimise(hint_solver, hint.objective)[0] is not None:
            x = {k: v.solution_value() for k, v in hint.x.items()}
            y = {k: v.solution_value() for k, v in hint.y.items()}
        seconds += hint_solver.wall_time() / 1000
    return LpBound(cost or 0.0, under or 0.0, _worst(status, status_under), seconds, x, y)


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


def staff_groups(comp: Compiled, workable: list[list[list[int]]]) -> list[tuple[list[int], list[list[int]]]]:
    """People with identical options per day and contract band, as (people, options per day): in an LP they
    are interchangeable, so one variable per group and option (bounded by the group's size) loses nothing."""
    groups: dict[tuple, list[int]] = {}
    for p, per_day in enumerate(workable):
        person = comp.staff[p]
        key = (tuple(tuple(day) for day in per_day), person.contract_lo, person.contract_hi)
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
    if time_limit is not None:
        solver.SetTimeLimit(max(1, int(time_limit * 500)))
    short, status_under = _minimise(solver, solver.Sum(list(under.values())))
    return LpBound(cost or 0.0, short or 0.0, _worst(status, status_under), solver.wall_time() / 1000)


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
    )
