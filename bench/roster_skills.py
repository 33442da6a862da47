"""Skill requirement rows: the bench's instances with some PCROs 101-only and a 999 row, solved with the row
(skill-aware) and without it (skill-blind: what the solver did before skill rows, the roster then measured against
the row). Prints a Markdown table.

Run: .venv/bin/python bench/roster_skills.py [--only medium,large] [--novices 0.3] [--share 0.5] (about 6 minutes:
each instance solved twice at its bench time limit, plus an LP per instance).

Instances: bench/roster.py's (same demand, staff, templates, rules and limits). A seeded ``--novices`` share of the
staff list only "101" (new starters in tutorship, not yet signed off for 999); everyone else lists both. The 999
row is the Erlang C requirement (AHT 300 s, 90% in 10 s, as the pool's) of ``--share`` of the instance's calls, the
999 part of the demand, taken on its own. The pool row is the bench's own. "LP bound" for the 999 row is the
least 999 under-coverage of the design LP with the row (skilled shifts under the skilled staff's own aggregated
limits): a lower bound for any roster that keeps the hard rules, whatever it does for the pool.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from ortools.linear_solver import pywraplp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.roster import AHT_SECONDS, DATA, INSTANCES, TARGETS, Instance, build_body, calls_function, load_calls
from scheduling.queueing import required_agents
from scheduling.rostering import parse_request, roster_coverage, solve_roster
from scheduling.rostering.grid import compile_request
from scheduling.rostering.model import LpBackend, build_design_model, workable_options


def skilled_body(inst: Instance, calls: dict[datetime, float], novices: float, share: float) -> dict[str, Any]:
    """The bench's body with ``novices`` of the staff 101-only and a 999 row for ``share`` of the calls."""
    body, scale = build_body(inst, calls)
    tz = ZoneInfo("Europe/London")
    f = calls_function(inst, calls)
    starts = [datetime.fromisoformat(r["interval_start"]).astimezone(tz) for r in body["requirements"]]
    base = np.array([f((t.date() - inst.start).days, t) for t in starts])
    need = required_agents("erlang_c", base * scale * share, 15.0, AHT_SECONDS, TARGETS).agents
    rng = random.Random(inst.seed + 100)
    for s in body["staff"]:
        if rng.random() < novices:
            s["skills"] = ["101"]
    body["requirements"] = body["requirements"] + [
        {"interval_start": r["interval_start"], "required": int(a), "skill": "999"}
        for r, a in zip(body["requirements"], need, strict=True)
    ]
    return body


def skill_lp_bound(body: dict[str, Any], skill: str) -> float:
    """Least agent-hours of ``skill``'s row short in the design LP (every roster's is at least this)."""
    comp = compile_request(parse_request(body))
    workable = [workable_options(comp, p) for p in comp.staff]
    solver = pywraplp.Solver.CreateSolver("GLOP")
    design = build_design_model(LpBackend(solver), comp, workable)
    solver.Minimize(solver.Sum([v for (s, _), v in design.skill_under.items() if s == skill]))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return float("nan")
    return solver.Objective().Value() * comp.request.interval_minutes / 60


def main() -> None:
    """Solve each instance skill-aware and skill-blind and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="medium,large", help="comma-separated bench instance names")
    ap.add_argument("--novices", type=float, default=0.3, help="share of staff who take 101 only")
    ap.add_argument("--share", type=float, default=0.5, help="999's share of the calls")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the bench needs the shared Montco data")
    calls = load_calls()
    wanted = set(args.only.split(","))
    print("| instance | staff x days | staff with 999 | pool required agent-h | 999 required agent-h | solve |"
          " pool under agent-h | pool LP bound agent-h | 999 under agent-h | 999 LP bound agent-h | violations |"
          " wall s |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for inst in INSTANCES:
        if inst.name not in wanted:
            continue
        body = skilled_body(inst, calls, args.novices, args.share)
        request = parse_request(body)
        skilled = sum("999" in s.skills for s in request.staff)
        pool_req = sum(r.required for r in request.requirements if r.skill is None) / 4
        row_req = sum(r.required for r in request.requirements if r.skill == "999") / 4
        bound = skill_lp_bound(body, "999")
        blind_body = body | {"requirements": [r for r in body["requirements"] if "skill" not in r]}
        for label, solve_body in (("skill-aware", body), ("skill-blind", blind_body)):
            t0 = time.monotonic()
            res = solve_roster(parse_request(solve_body))
            wall = time.monotonic() - t0
            coverage = roster_coverage(request, res.assignments)  # measured against the 999 row either way
            pool_under = sum(max(0, c.required - c.scheduled) for c in coverage) / 4
            row_under = sum(max(0, c.skills["999"]["required"] - c.skills["999"]["scheduled"]) for c in coverage) / 4
            lb = res.kpis.get("under_coverage_lower_bound_agent_hours")
            print(f"| {inst.name} | {inst.staff} x {inst.days} | {skilled} | {pool_req:.0f} | {row_req:.0f} | {label} |"
                  f" {pool_under:.2f} | {lb if lb is None else f'{lb:.2f}'} | {row_under:.2f} | {bound:.2f} |"
                  f" {len(res.violations)} | {wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()
