"""Re-rostering a published roster: the bench's instances solved once and published, then two people put on leave
for a day they work and the roster solved again with the published shifts (``staff[].published``) at each keep
weight and solver seed. Prints a Markdown table.

Run: .venv/bin/python bench/roster_reroster.py [--only medium,large] [--weights 1,10] [--seeds 1,2]
[--time-limit SECONDS] (each instance: one solve to publish, then weights x seeds re-rosters, each at the instance's
bench time limit unless --time-limit is given; medium at 40 s with two weights and two seeds: about 4 minutes).

Instances: bench/roster.py's (same demand, staff, templates, rules). The change: from the sixth person on, the first
two with at least ten published shifts are on leave for the whole local day of their seventh and eighth published
shift. "days changed": person-days whose shift differs from the published one (moved to another start or template,
dropped, added on a day published off); "cost" the roster's coverage cost plus 1,000 x weight per changed day, the
objective the re-roster minimises (the soft rules apart), in millions of units.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.roster import INSTANCES, build_body, load_calls
from scheduling.rostering import parse_request, solve_roster
from scheduling.rostering.model import KEEP_UNIT


def published_body(body: dict[str, Any], assignments: list[Any], tz: ZoneInfo) -> dict[str, Any]:
    """The request again with everyone's shifts published and two people on leave for a day they work."""
    out = copy.deepcopy(body)
    mine: dict[str, list[dict[str, str]]] = {}
    for a in assignments:
        mine.setdefault(a.staff_id, []).append({"template": a.template, "start": a.start.isoformat()})
    for s in out["staff"]:
        s["published"] = sorted(mine.get(s["id"], []), key=lambda p: datetime.fromisoformat(p["start"]))
    on_leave = [s for s in out["staff"][5:] if len(s["published"]) >= 10][:2]
    for k, s in enumerate(on_leave):
        local = datetime.fromisoformat(s["published"][6 + k]["start"]).astimezone(tz)
        day = datetime.combine(local.date(), datetime.min.time(), tzinfo=tz)
        s["unavailable"] = [*s["unavailable"], {"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()}]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="medium", help="comma-separated instance names")
    ap.add_argument("--weights", default="1,10", help="weights.keep_published values")
    ap.add_argument("--seeds", default="1,2", help="solver seeds of the re-rosters")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per solve (default: the bench's)")
    args = ap.parse_args()
    calls = load_calls()
    tz = ZoneInfo("Europe/London")
    print("| instance | published under agent-h | weight | seed | under agent-h | days changed (moved / dropped / "
          "added) | people changed | cost M units | seconds | violations |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for inst in INSTANCES:
        if inst.name not in args.only.split(","):
            continue
        body, _ = build_body(inst, calls)
        if args.time_limit is not None:
            body["time_limit_seconds"] = args.time_limit
        first = solve_roster(parse_request(body))
        again = published_body(body, first.assignments, tz)
        for weight in [float(w) for w in args.weights.split(",")]:
            for seed in [int(s) for s in args.seeds.split(",")]:
                run = copy.deepcopy(again)
                run["seed"] = seed
                run.setdefault("weights", {})["keep_published"] = weight
                t0 = time.perf_counter()
                res = solve_roster(parse_request(run))
                seconds = time.perf_counter() - t0
                k = res.kpis
                c = k["published_changes"]
                changed = c["moved"] + c["dropped"] + c["added"]
                cost = (k["coverage_cost"] + KEEP_UNIT * weight * changed) / 1e6
                print(f"| {inst.name} | {first.kpis['under_coverage_agent_hours']:.2f} | {weight:g} | {seed} | "
                      f"{k['under_coverage_agent_hours']:.2f} | {changed} ({c['moved']} / {c['dropped']} / "
                      f"{c['added']}) | {c['people_changed']} | {cost:.3f} | {seconds:.1f} | {len(res.violations)} |",
                      flush=True)


if __name__ == "__main__":
    main()
