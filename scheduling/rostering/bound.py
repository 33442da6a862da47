"""Lower bounds by LP relaxation (GLOP) of the shift-design model.

CP-SAT's own bound is weak on covering problems, so the gap is reported against the LP relaxation of stage 1
over every shift option: every constraint of stage 1 is a valid aggregation of the per-person rules, so its
LP optimum is a lower bound on the coverage cost of any roster that keeps the hard rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ortools.linear_solver import pywraplp

from scheduling.rostering.grid import Compiled
from scheduling.rostering.model import LpBackend, build_design_model


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
    """Solve the LP relaxation twice: for the weighted coverage cost, and for plain under-coverage alone; with
    ``hint_band_share`` < 1 a third time with stage 1's hours cap, whose optimum becomes stage 1's hint."""
    values: list[float] = []
    status = "OPTIMAL"
    seconds = 0.0
    x: dict[int, float] = {}
    y: dict[tuple, float] = {}
    runs = ["coverage", "under"] + (["hint"] if hint_band_share < 1.0 else [])
    for objective in runs:
        solver = pywraplp.Solver.CreateSolver("GLOP")
        if solver is None:  # pragma: no cover - GLOP ships with ortools
            return LpBound(0.0, 0.0, "UNAVAILABLE", 0.0)
        share = hint_band_share if objective == "hint" else 1.0
        design = build_design_model(LpBackend(solver), comp, workable, share)
        if objective != "under":
            solver.Minimize(design.objective)
        else:
            solver.Minimize(solver.Sum(list(design.under.values())))
        code = solver.Solve()
        seconds += solver.wall_time() / 1000
        if objective == "hint":
            if code == pywraplp.Solver.OPTIMAL:
                x = {k: v.solution_value() for k, v in design.x.items()}
                y = {k: v.solution_value() for k, v in design.y.items()}
            continue
        if code != pywraplp.Solver.OPTIMAL:
            status = {pywraplp.Solver.INFEASIBLE: "INFEASIBLE"}.get(code, "NOT_SOLVED")
            values.append(0.0)
        else:
            values.append(solver.Objective().Value())
            if objective == "coverage":
                x = {k: v.solution_value() for k, v in design.x.items()}
                y = {k: v.solution_value() for k, v in design.y.items()}
    return LpBound(values[0], values[1], status, seconds, x, y)


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
    contracts pooled into one group, which is exact for an LP): every hard rule of every person as a linear
    constraint, breaks as counts. Tighter than ``lp_bounds`` (whose stage-1 limits sum the rules over all
    staff, so that part-timers' hours could stand in for night workers'); patterns are left out (a valid
    relaxation: they only remove rosters). ``time_limit`` (seconds) bounds its two solves together (then NOT_SOLVED)."""
    from scheduling.rostering.model import (
        _rest_horizon_days,
        add_break_counts,
        add_coverage,
        coverage_objective,
        rest_conflicts,
    )

    rules = comp.request.rules
    values: list[float] = []
    status = "OPTIMAL"
    seconds = 0.0
    groups = staff_groups(comp, workable)
    for objective in ("coverage", "under"):
        solver = pywraplp.Solver.CreateSolver("GLOP")
        if solver is None:  # pragma: no cover - GLOP ships with ortools
            return LpBound(0.0, 0.0, "UNAVAILABLE", 0.0)
        b = LpBackend(solver)
        users: dict[int, list] = {}
        span = _rest_horizon_days(comp, rules.min_rest_minutes)
        for gi, (people, per_day) in enumerate(groups):
            size = len(people)
            x = {oi: b.var(0, size, f"x_{gi}_{oi}") for day in per_day for oi in day}
            for oi, v in x.items():
                users.setdefault(oi, []).append(v)
            work = [b.total([x[oi] for oi in day]) if day else None for day in per_day]
            for d, day in enumerate(per_day):
                if len(day) > 1:
                    b.add(work[d] <= size)
                for d2 in range(d + 1, min(comp.days, d + span + 1)):
                    for early, late in rest_conflicts(comp, day, per_day[d2], rules.min_rest_minutes):
                        b.add(b.total([x[oi] for oi in early + late]) <= size)
            for length, cap in ((rules.max_consecutive_days + 1, rules.max_consecutive_days),
                                (7, 7 - rules.min_days_off_per_week)):
                for w0 in range(comp.days - length + 1):
                    terms = [work[d] for d in range(w0, w0 + length) if work[d] is not None]
                    if terms:
                        b.add(b.total(terms) <= cap * size)
            for w0 in range(comp.days - 6):
                ids = [oi for d in range(w0, w0 + 7) for oi in per_day[d]]
                if ids:
                    b.add(b.total([x[oi] for oi in ids], [comp.options[oi].minutes for oi in ids])
                          <= rules.max_minutes_per_week * size)
            ids = list(x)
            person = comp.staff[people[0]]
            total = b.total([x[oi] for oi in ids], [comp.options[oi].minutes for oi in ids]) if ids else 0
            b.add(total >= person.contract_lo * size)
            b.add(total <= person.contract_hi * size)
        count = {}
        for oi, vs in sorted(users.items()):
            count[oi] = b.var(0, len(vs) * len(comp.staff), f"n_{oi}")
            b.add(count[oi] == b.total(vs))
        y = add_break_counts(b, comp, count, {oi: len(comp.staff) for oi in count})
        under, over, _ = add_coverage(b, comp, count, y, len(comp.staff))
        if time_limit is not None:
            solver.SetTimeLimit(max(1, int(time_limit * 500)))  # half each, in milliseconds
        if objective == "coverage":
            solver.Minimize(coverage_objective(b, comp, under, over))
        else:
            solver.Minimize(solver.Sum(list(under.values())))
        code = solver.Solve()
        seconds += solver.wall_time() / 1000
        if code != pywraplp.Solver.OPTIMAL:
            status = {pywraplp.Solver.INFEASIBLE: "INFEASIBLE"}.get(code, "NOT_SOLVED")
            values.append(0.0)
        else:
            values.append(solver.Objective().Value())
    return LpBound(values[0], values[1], status, seconds)


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
