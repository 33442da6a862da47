"""Lower bounds by LP relaxation (GLOP) of the shift-design model.

CP-SAT's own bound is weak on covering problems, so the gap is reported against the LP relaxation of stage 1
over every shift option: every constraint of stage 1 is a valid aggregation of the per-person rules, so its
LP optimum is a lower bound on the coverage cost of any roster that keeps the hard rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
