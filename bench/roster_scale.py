"""Where the solver's distance from the LP bound starts: the bench's instances at one horizon and growing staff,
each solved at one or more time limits. Prints a Markdown table.

Run: .venv/bin/python bench/roster_scale.py [--instances "15x28@30,120,300;30x28@30,120;60x28@60;120x28@60,240;
200x28@115"] [--source 2016-03-14] [--seed 1] (the default takes about 20 minutes on 2 cores).

Instances are bench/roster.py's (Montco demand day for day from the --source Monday, calibrated to the staff's
on-phone hours, synthetic staff with staff seed 1, the 13 control-room templates); the default source is the
large instance's weeks (its March 2016 storm). "No shift can cover" is the requirement above the people able to
work over the interval (the first night, before any shift of the roster starts): every roster and the bound pay
it, so "avoidable" is the under-coverage above it, for the roster and for the LP bound. The solver minimises its
own weighted objective; the table shows plain under-coverage, as bench/roster.py does.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.roster import build_body, load_calls, lp_kpi, sized_instance, uncoverable_hours
from scheduling.rostering import parse_request, solve_roster
from scheduling.rostering.grid import compile_request

DEFAULT = "15x28@30,120,300;30x28@30,120;60x28@60;120x28@60,240;200x28@115"


def main() -> None:
    """Solve each instance at each of its time limits and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", default=DEFAULT, help="STAFFxDAYS@LIMIT[,LIMIT...] separated by ';'")
    ap.add_argument("--source", default="2016-03-14", help="the Monday of the Montco series mapped onto day 0")
    ap.add_argument("--seed", type=int, default=1, help="the solver's seed")
    args = ap.parse_args()
    calls = load_calls()
    src = date.fromisoformat(args.source)
    print("| staff x days | limit s | wall s | LP bound agent-h | of which no shift can cover | roster under agent-h |"
          " above bound | avoidable: roster / LP agent-h | violations |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spec in args.instances.split(";"):
        size, spec_limits = spec.split("@")
        limits = [float(v) for v in spec_limits.split(",")]
        inst = sized_instance(size, src, limits[0])  # each solve below sets its own limit
        body, _ = build_body(inst, calls)
        request = parse_request(body)
        stuck = uncoverable_hours(compile_request(request))
        for limit in limits:
            t0 = time.perf_counter()
            res = solve_roster(replace(request, seed=args.seed, time_limit_seconds=limit))
            wall = time.perf_counter() - t0
            k = res.kpis
            under, lb = k["under_coverage_agent_hours"], lp_kpi(k, "under_coverage_lower_bound_agent_hours")
            above = f"{(under - lb) / lb:+.1%}" if lb > 0 else "n/a"
            print(f"| {size} | {limit:.0f} | {wall:.0f} | {lb:.2f} | {stuck:.2f} | {under:.2f} | {above} |"
                  f" {under - stuck:.2f} / {lb - stuck:.2f} | {len(res.violations)} |", flush=True)


if __name__ == "__main__":
    main()
