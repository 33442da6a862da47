"""Planted instances: rosters whose optimum is known. Prints a Markdown table.

Run: .venv/bin/python bench/roster_planted.py [--only small,medium,large] [--plant solve|precheck]
[--requirement exact,min] [--seed 1] [--limit SECONDS] (about 10 minutes by default: each instance solved three
times at its bench time limit, once for the plant and once per requirement).

The LP bound says how far a roster *might* be from the best one; whether the best one is near that bound is
unknown at 120-295 staff (docs/rostering-research.md). A planted instance removes the doubt: take bench/roster.py's
instance, build a rule-abiding roster for it (the solver's own roster at the instance's limit, or with
``--plant precheck`` the pre-check's rosters, which ignore cover), and make its agents on the phones per
interval the requirement (``exact``), or lower the bench's requirement to it where the plant falls short (``min``:
the bench instance less what its plant leaves short, so nearly the bench's own demand). Either way the plant covers
the requirement, so the optimum has 0 agent-hours under, and every agent-hour the solver leaves short is the
search's, not integrality's (``exact`` also has 0 over: every interval is tight). The same staff, rules,
templates, leave and preferences as the bench instance; only the requirement changes.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.roster import DATA, INSTANCES, build_body, load_calls, lp_kpi
from scheduling.rostering import examples, parse_request, solve_roster
from scheduling.rostering.audit import audit_roster, roster_coverage
from scheduling.rostering.grid import compile_request
from scheduling.rostering.solver import _assignments, _Clock, precheck
from scheduling.rostering.types import Assignment, RosterRequest


def plant(request: RosterRequest, kind: str) -> list[Assignment]:
    """A rule-abiding roster for ``request``: the solver's, or the pre-check's (its per-person rosters, which
    ignore cover; the solver's private helpers, as the solve uses them)."""
    if kind == "solve":
        return solve_roster(request).assignments
    comp = compile_request(request)
    _, schedules = precheck(comp, _Clock(request.time_limit_seconds, None, None))
    return _assignments(comp, [s or [] for s in schedules], None)


def main() -> None:
    """Plant each instance, solve the planted request and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="small,medium,large", help="comma-separated bench instance names")
    ap.add_argument("--plant", choices=("solve", "precheck"), default="solve",
                    help="where the planted roster comes from")
    ap.add_argument("--requirement", default="exact,min", help="comma-separated: exact, min (see above)")
    ap.add_argument("--seed", type=int, default=1, help="the solver's seed on the planted request")
    ap.add_argument("--limit", type=float, default=None, help="time limit of the planted solve (default: the bench's)")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the bench needs the shared Montco data")
    calls = load_calls()
    wanted = set(args.only.split(","))
    modes = args.requirement.split(",")
    if unknown := [m for m in modes if m not in ("exact", "min")]:
        sys.exit(f"--requirement: unknown {unknown} (exact or min)")  # before any solve, not after the first plant
    print("| instance | staff x days | plant | requirement | required agent-h | plant under / over agent-h | limit s |"
          " wall s | LP bound agent-h | under agent-h | over agent-h | under / required | violations |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for inst in INSTANCES:
        if inst.name not in wanted:
            continue
        body, _ = build_body(inst, calls)
        request = parse_request(body)
        planted_roster = plant(request, args.plant)
        if audit_roster(request, planted_roster):
            sys.exit(f"{inst.name}: the planted roster breaks a hard rule")
        for mode in modes:
            planted = replace(examples.planted(request, planted_roster, mode), seed=args.seed,
                              time_limit_seconds=args.limit or inst.time_limit)
            # The plant meets the planted requirement (0 under; 0 over too when exact): recounted, not assumed.
            check = roster_coverage(planted, planted_roster)
            plant_under = sum(max(0, c.required - c.scheduled) for c in check) * planted.interval_minutes / 60
            plant_over = sum(max(0, c.scheduled - c.required) for c in check) * planted.interval_minutes / 60
            t0 = time.perf_counter()
            res = solve_roster(planted)
            wall = time.perf_counter() - t0
            k = res.kpis
            req_h, under = k["required_agent_hours"], k["under_coverage_agent_hours"]
            print(f"| {inst.name} | {inst.staff} x {inst.days} | {args.plant} | {mode} | {req_h:.0f} |"
                  f" {plant_under:.2f} / {plant_over:.2f} | {planted.time_limit_seconds:.0f} | {wall:.0f} |"
                  f" {lp_kpi(k, 'under_coverage_lower_bound_agent_hours'):.2f} | {under:.2f} |"
                  f" {k['over_coverage_agent_hours']:.2f} | {under / req_h:.2%} | {len(res.violations)} |", flush=True)


if __name__ == "__main__":
    main()
