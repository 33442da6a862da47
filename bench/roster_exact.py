"""How far the solver's rosters are from the true optimum, and the LP bound from it, where the optimum is known:
instances small enough for an exact MIP. Prints a Markdown table.

Run: .venv/bin/python bench/roster_exact.py [--instances 20x7:2016-01-04,40x7:2016-01-18] [--mip-seconds 300]
[--seeds 1,2,3] (each instance: the solver at its 20-s limit once per seed, the LP bound, then the MIP for at most
--mip-seconds; HiGHS finds no roster in 400 s for 30x14, 60x7 or 40x7 from 2016-03-14, so those are left out).

Instances are the bench's (bench/roster.py: Montco demand day for day, calibrated to the staff's on-phone hours,
synthetic staff, the 13 control-room templates), STAFFxDAYS from the given Monday of 2016 (2016-01-18 holds the
January blizzard). The MIP is the exact roster model, person by person: one binary per person and shift option,
each person's hard rules as the per-person limits of stage 1 (``add_workforce_limits`` on one person: one shift
a day, the daily-rest conflict groups, days and minutes per 7-day and per (max consecutive + 1)-day window, the
contract band; exact for one person, and these instances have no patterns or previous period), break counts per
option and break start, and plain under-coverage as the objective, solved by HiGHS (shipped with OR-Tools). Its
optimum is the least under-coverage any rule-abiding roster can have. The solver minimises its own weighted
objective (under-coverage weighted by the requirement, then over-coverage and soft rules), so its plain
under-coverage can stand above that optimum without being suboptimal for what it minimises.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ortools.linear_solver import pywraplp

from bench.roster import build_body, load_calls, sized_instance
from scheduling.rostering import parse_request, solve_roster
from scheduling.rostering.bound import lp_bounds
from scheduling.rostering.grid import Compiled, compile_request
from scheduling.rostering.model import LpBackend, add_break_counts, add_coverage, add_workforce_limits, workable_options


class _IntBackend(LpBackend):
    """Integer variables for the model helpers' counts (break counts here)."""

    def var(self, lb: float, ub: float, name: str) -> Any:
        """An integer variable."""
        return self.solver.IntVar(float(lb), float(ub), name)


def exact_under(comp: Compiled, workable: list[list[list[int]]], seconds: float) -> dict[str, Any]:
    """Least plain under-coverage (agent-intervals) of any roster keeping every hard rule, by HiGHS: the
    optimum if proved, else the best roster found and the dual bound."""
    solver = pywraplp.Solver.CreateSolver("HIGHS")
    backend = _IntBackend(solver)
    users: dict[int, list[Any]] = {}
    for p, per_day in enumerate(workable):
        a = {oi: solver.BoolVar(f"a_{p}_{oi}") for day in per_day for oi in day}
        for oi, v in a.items():
            users.setdefault(oi, []).append(v)
        add_workforce_limits(backend, comp, a, [per_day], people=[comp.staff[p]])
    count = {}
    for oi, vs in sorted(users.items()):
        count[oi] = solver.IntVar(0, len(vs), f"n_{oi}")
        solver.Add(count[oi] == solver.Sum(vs))
    y = add_break_counts(backend, comp, count, {oi: len(vs) for oi, vs in users.items()})
    under, _, _ = add_coverage(LpBackend(solver), comp, count, y, len(comp.staff))
    solver.Minimize(solver.Sum(list(under.values())))
    solver.SetTimeLimit(int(seconds * 1000))
    solver.SetSolverSpecificParametersAsString("threads=2\nmip_rel_gap=0\noutput_flag=false\n")
    started = time.perf_counter()
    code = solver.Solve()
    found = code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    return {
        "status": {pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "FEASIBLE"}.get(code, "NO ROSTER"),
        "best": solver.Objective().Value() if found else float("nan"),
        "bound": solver.Objective().BestBound() if found else float("nan"),
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    """Solve each instance three ways and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", default="20x7:2016-01-04,40x7:2016-01-18,20x14:2016-01-11")
    ap.add_argument("--mip-seconds", type=float, default=300.0)
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    calls = load_calls()
    print("| instance | from | intervals | required agent-h | LP bound agent-h | exact optimum agent-h | MIP status |"
          " MIP s | fcr-planner under agent-h (per seed, sorted) | above optimum | violations |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for spec in args.instances.split(","):
        size, source = spec.split(":")
        inst = sized_instance(size, date.fromisoformat(source), 20.0)
        body, _ = build_body(inst, calls)
        request = parse_request(body)
        comp = compile_request(request)
        hours = request.interval_minutes / 60
        workable = [workable_options(comp, p) for p in comp.staff]
        lp = lp_bounds(comp, workable)
        runs = [solve_roster(replace(request, seed=int(seed))) for seed in args.seeds.split(",")]
        mip = exact_under(comp, workable, args.mip_seconds)
        unders = sorted(r.kpis["under_coverage_agent_hours"] for r in runs)
        best = mip["best"] * hours
        bound = lp.under_intervals * hours
        if mip["status"] == "OPTIMAL":
            shown = f"{best:.2f}"
        elif unders[0] <= bound + 1e-9:  # a roster at the LP bound is optimal whatever the MIP managed
            best = bound
            shown = f"{best:.2f} (a solver roster meets the LP bound)"
        else:
            shown = f"{best:.2f} (bound {mip['bound'] * hours:.2f})"
        above = " / ".join(f"{(u - best) / best:+.1%}" if best > 0 else "n/a" for u in unders)
        print(f"| {size} | {source} | {len(runs[0].coverage)} | {runs[0].kpis['required_agent_hours']:.0f} |"
              f" {bound:.2f} | {shown} | {mip['status']} | {mip['seconds']:.0f} |"
              f" {' / '.join(f'{u:.2f}' for u in unders)} | {above} |"
              f" {sum(len(r.violations) for r in runs)} |", flush=True)


if __name__ == "__main__":
    main()
