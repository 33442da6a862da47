"""What the LP bound's under-coverage is made of: the least under-coverage over a span of days alone, over the rest
of the period alone, and over both at once. Prints a Markdown table.

Run: .venv/bin/python bench/roster_bound_split.py [--only large] [--spans 17-23,19-21,14-27] (seconds: each row is
two GLOP solves of stage 1's LP relaxation, the model the bound is reported from).

The least under-coverage over a set of intervals is a linear programme over the same model with only those
intervals in the objective. Counting a span's intervals alone lets every hour of the staff's contract bands go
to the span; counting the rest alone lets them all go to the rest. When the two least values add up to less than
the bound over the whole period, the difference is what the two parts compete for: the staff's hours (their
contract bands) and the days and rest that link the span to its neighbours. A bound (or a search) over a part of
the period alone cannot see that difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ortools.linear_solver import pywraplp

from bench.roster import DATA, INSTANCES, build_body, load_calls
from scheduling.rostering import parse_request
from scheduling.rostering.grid import compile_request
from scheduling.rostering.model import LpBackend, build_design_model, workable_options


def least_under(solver: pywraplp.Solver, under: dict[int, object], intervals: list[int]) -> float:
    """The LP's least plain under-coverage (agent-intervals) counted over ``intervals`` only."""
    solver.Minimize(solver.Sum([under[t] for t in intervals if t in under]))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise RuntimeError("the LP was not solved to optimality")
    return solver.Objective().Value()


def main() -> None:
    """Solve the split LPs of each chosen instance and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="large", help="comma-separated bench instance names")
    ap.add_argument("--spans", default="17-23,19-21,14-27", help="comma-separated day spans FIRST-LAST (0-based)")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the bench needs the shared Montco data")
    calls = load_calls()
    print("| instance | days counted | least under, those days alone agent-h | least under, the other days alone"
          " agent-h | sum agent-h | least under, all days (the bound) agent-h | what the parts compete for agent-h |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for inst in (i for i in INSTANCES if i.name in args.only.split(",")):
        comp = compile_request(parse_request(build_body(inst, calls)[0]))
        hours = comp.request.interval_minutes / 60
        solver = pywraplp.Solver.CreateSolver("GLOP")
        design = build_design_model(LpBackend(solver), comp, [workable_options(comp, p) for p in comp.staff])
        every = list(range(comp.n_intervals))
        whole = least_under(solver, design.under, every) * hours
        for span in args.spans.split(","):
            first, last = (int(d) for d in span.split("-"))
            if not 0 <= first <= last < comp.days:
                sys.exit(f"--spans: {span} is not inside days 0-{comp.days - 1}")
            lo, hi = comp.day_first[first], comp.day_first[last + 1]
            inside = least_under(solver, design.under, every[lo:hi]) * hours
            outside = least_under(solver, design.under, every[:lo] + every[hi:]) * hours
            print(f"| {inst.name} | {first}-{last} | {inside:.2f} | {outside:.2f} | {inside + outside:.2f} |"
                  f" {whole:.2f} | {whole - inside - outside:.2f} |", flush=True)


if __name__ == "__main__":
    main()
