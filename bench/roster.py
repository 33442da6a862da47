"""Rostering benchmark: three instances from real demand, solved by scheduling.rostering, plus a shift-design
comparison with pyworkforce's MinRequiredResources. Prints Markdown tables.

Run: .venv/bin/python bench/roster.py [--only small,medium,large] [--pyworkforce-venv /tmp/fcr-pwf-venv]
(about 7 minutes: 30 + 60 + 115 s of solving plus two 60-s design solves; the pyworkforce venv is created on
first use, outside the product's venv, and the comparison is skipped with a message when it cannot be).
With --seeds 3,12,32 each instance is solved once per solver seed (the request's ``seed``; the staff and demand
stay the instance's own): one row per run, then each instance's spread (least / median / most under-coverage);
the solving time is then that many times as long (three seeds: about 13 minutes in all).
Runs of the same request differ by several agent-hours (two CP-SAT workers and two polish threads are not
deterministic, and the search is bounded by its time), so one run is a poor estimate of what a request gets.
With --time-limits 115,300,600 it solves the chosen instances at each limit and prints what more time buys.
With --roster-lp SECONDS it solves nothing and prints instead, per instance, the roster LP bound by column
generation (scheduling.rostering.bound.roster_lp_bound) next to the per-person and aggregate LP bounds.

Demand: /work/shared/data/montco_pa_911_calls_15min.csv (call_type ALL; "Montgomery County, PA 911 calls,
montcoalert.org", ODbL/DbCL), day-for-day from a Monday of 2016 onto the roster's Europe/London local days at
the same local wall time (the 2016-01-23 blizzard falls in the 28-day January window; the large instance spans
the UK clocks going forward on 2027-03-28, a 92-quarter-hour day). The counts are smoothed by a centred
one-hour moving average (a stand-in for the forecast a roster is planned from), scaled by one factor per
instance, and turned into agents per interval with Erlang C (scheduling.queueing.required_agents: AHT 300 s,
90% answered within 10 s). The factor is chosen by bisection so the required agent-hours equal the staff's
contracted on-phone hours (contract x weeks, less leave and a 9% break allowance): a force resourced exactly
to its establishment on paper. Staff are synthetic (seeded): 75% full-time (37 h), 10% full-time without
nights, 15% part-time (22.2 h) on 6-8 h day templates; 12% take a week's leave, 5% a training day, 10%
prefer weekends off. Templates: scheduling.rostering.examples.control_room_templates (13, 6-12 h).
"of which no shift can cover": requirement above the number of people with some workable shift over the
interval (the roster's first hours, before any shift of the roster can start, mostly: the instances give no
previous period, whose nights would cover them as worked_before): every roster and the LP bound pay it, so it
is shown apart. "LP optimum's own under": the under-coverage at the LP optimum of the solver's
weighted objective (under-coverage 1,000 x w(t), w(t) from 1 at night to 4 at the peak, against 100 per surplus
agent-interval), which leaves quiet intervals short to cover peaks (with w(t) = 1 and surplus at 10 or less its under
equals the bound: research log, "Why the LP optimum leaves 263.3 h"); the "LP lower bound" minimises under-coverage
alone.
Timings are wall-clock on a shared 2-core machine: other work running at the same time makes them noisy.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduling.queueing import Targets, required_agents
from scheduling.rostering import parse_request, solve_roster
from scheduling.rostering.bound import lp_bounds, person_lp_bounds, roster_lp_bound, staff_groups
from scheduling.rostering.examples import control_room_templates, request_body, requirement_rows
from scheduling.rostering.grid import Compiled, compile_request
from scheduling.rostering.model import workable_options
from scheduling.rostering.solver import check_person, design_shifts

DATA = Path("/work/shared/data/montco_pa_911_calls_15min.csv")
AHT_SECONDS = 300.0
TARGETS = Targets(service_level=0.9, answer_within_seconds=10.0)
BREAK_ALLOWANCE = 0.09
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Instance:
    """One benchmark instance."""

    name: str
    staff: int
    days: int
    start: date
    source_start: date  # the Monday of the Montco series mapped onto day 0
    time_limit: float
    seed: int


INSTANCES = [
    Instance("small", 50, 14, date(2027, 1, 4), date(2016, 1, 4), 30.0, 1),
    Instance("medium", 120, 28, date(2027, 1, 4), date(2016, 1, 4), 60.0, 2),
    Instance("large", 295, 28, date(2027, 3, 15), date(2016, 3, 14), 115.0, 3),
]


def sized_instance(size: str, source: date, time_limit: float) -> Instance:
    """An instance "STAFFxDAYS" from the Montco Monday ``source`` (staff seed 1), starting on a 2027 Monday of the
    same season (January, or the March that spans the clocks going forward)."""
    staff, days = (int(v) for v in size.split("x"))
    start = date(2027, 1, 4) if source.month < 3 else date(2027, 3, 15)
    return Instance(size, staff, days, start, source, time_limit, 1)


def load_calls() -> dict[datetime, float]:
    """Montco ALL calls per local 15-minute wall time, smoothed by a centred 1-hour moving average."""
    df = pd.read_csv(DATA, parse_dates=["interval_start"])
    series = df[df["call_type"] == "ALL"].set_index("interval_start")["calls"].sort_index()
    smooth = series.rolling(4, center=True, min_periods=1).mean()
    return {ts.to_pydatetime(): float(v) for ts, v in smooth.items()}


def calls_function(inst: Instance, calls: dict[datetime, float]) -> Callable[[int, datetime], float]:
    """Calls in the interval at local wall time ``local`` of roster day ``day`` (Montco day-for-day)."""

    def f(day: int, local: datetime) -> float:
        src = datetime.combine(inst.source_start + timedelta(days=day), local.time())
        return calls.get(src, 0.0)

    return f


def synthetic_staff(inst: Instance) -> list[dict[str, Any]]:
    """Seeded synthetic PCROs: contracts, template restrictions, leave, training days and preferences."""
    rng = random.Random(inst.seed)
    day_templates = ["early10", "day10", "late10", "early8", "mid8", "late8", "day12"]
    part_time = ["early8", "mid8", "late8", "twilight8", "peak6"]
    everyone = [t["name"] for t in control_room_templates() if t["name"] != "peak6"]
    staff = []
    for i in range(inst.staff):
        r = rng.random()
        if r < 0.15:
            contract, allowed = 1332, part_time
        elif r < 0.25:
            contract, allowed = 2220, day_templates
        else:
            contract, allowed = 2220, everyone
        person: dict[str, Any] = {
            "id": f"PCRO-{i + 1:03d}",
            "contract_minutes_per_week": contract,
            "skills": ["999", "101"],
            "allowed_templates": allowed,
            "unavailable": [],
        }
        if rng.random() < 0.12:
            first = rng.randrange(0, inst.days - 6)
            person["unavailable"].append(_local_span(inst.start + timedelta(days=first), 7 * 24 * 60, 0))
        if rng.random() < 0.05:
            day = inst.start + timedelta(days=rng.randrange(inst.days))
            person["unavailable"].append(_local_span(day, 8 * 60, 9 * 60))
        if rng.random() < 0.10:
            person["prefers"] = {"days_off": ["saturday", "sunday"]}
        staff.append(person)
    return staff


def _local_span(day: date, minutes: int, start_minute: int) -> dict[str, str]:
    """An unavailability from a local wall time on ``day`` (Europe/London) lasting ``minutes`` of wall time."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/London")
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(minutes=start_minute)
    end = datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(minutes=start_minute + minutes)
    return {"start": start.isoformat(), "end": end.isoformat()}


def build_body(inst: Instance, calls: dict[datetime, float]) -> tuple[dict[str, Any], float]:
    """The request body of an instance, with the demand scale calibrated to the staff's on-phone hours."""
    staff = synthetic_staff(inst)
    f = calls_function(inst, calls)
    rows = requirement_rows(inst.start, inst.days, lambda d, t: 0)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/London")
    base = np.array(
        [
            f((datetime.fromisoformat(r["interval_start"]).astimezone(tz).date() - inst.start).days,
              datetime.fromisoformat(r["interval_start"]).astimezone(tz))
            for r in rows
        ]
    )
    weeks = inst.days / 7
    capacity = 0.0
    for s in staff:
        leave_days = sum(1 for u in s["unavailable"] if (datetime.fromisoformat(u["end"]) -
                                                         datetime.fromisoformat(u["start"])) >= timedelta(days=1)) * 7
        capacity += s["contract_minutes_per_week"] / 60 * weeks * (1 - leave_days / inst.days)
    capacity *= 1 - BREAK_ALLOWANCE

    def agents(scale: float) -> np.ndarray:
        return required_agents("erlang_c", base * scale, 15.0, AHT_SECONDS, TARGETS).agents

    lo, hi = 0.0, 200.0
    for _ in range(40):  # bisection on the scale: agent-hours grow monotonically with it
        mid = (lo + hi) / 2
        if agents(mid).sum() / 4 < capacity:
            lo = mid
        else:
            hi = mid
    need = agents(lo)
    for r, a in zip(rows, need, strict=True):
        r["required"] = int(a)
    body = request_body(inst.start, inst.days, control_room_templates(), staff, lambda d, t: 0,
                        time_limit_seconds=inst.time_limit, seed=inst.seed)
    body["requirements"] = rows
    return body, lo


def uncoverable_hours(comp: Compiled) -> float:
    """Agent-hours of requirement above the people with some workable shift over the interval: what no roster
    (and no bound) can cover, the first night's hours before any shift of the roster starts, mostly."""
    can = np.zeros(comp.n_intervals, dtype=np.int64)  # people with some option on the phones-grid per interval
    for person in comp.staff:
        mine = np.zeros(comp.n_intervals, dtype=bool)
        for day in workable_options(comp, person):
            for oi in day:
                o = comp.options[oi]
                mine[o.first:o.first + o.length] = True
        can += mine
    return float(np.clip(np.array(comp.required) - can, 0, None).sum()) * comp.request.interval_minutes / 60


def lp_kpi(kpis: dict[str, Any], name: str) -> float:
    """An LP-bound KPI as a float, NaN where the solver reports none (its LP stopped by the time limit), so the
    table prints nan rather than the bench failing on None."""
    value = kpis.get(name)
    return float("nan") if value is None else float(value)


def run_instance(inst: Instance, calls: dict[datetime, float], seed: int | None = None) -> dict[str, Any]:
    """Solve one instance and collect the table's figures; ``seed``: the solver's seed instead of the instance's
    (the staff and demand unchanged)."""
    body, scale = build_body(inst, calls)
    if seed is not None:
        body["seed"] = seed
    request = parse_request(body)
    t0 = time.perf_counter()
    res = solve_roster(request)
    wall = time.perf_counter() - t0
    k = res.kpis
    lb = lp_kpi(k, "under_coverage_lower_bound_agent_hours")
    uncoverable = uncoverable_hours(compile_request(request))
    return {
        "instance": inst,
        "seed": body["seed"],
        "scale": scale,
        "intervals": len(res.coverage),
        "status": res.status,
        "first": k.get("time_to_first_roster_seconds"),
        "final": wall,
        "required": k.get("required_agent_hours", 0.0),
        "under": k.get("under_coverage_agent_hours", 0.0),
        "lb": lb,
        "lp_under": lp_kpi(k, "lp_optimum_under_coverage_agent_hours"),
        "uncoverable": uncoverable,
        "over": k.get("over_coverage_agent_hours", 0.0),
        "gap": lp_kpi(k, "gap"),
        "violations": len(res.violations),
        "shifts": k.get("shifts"),
        "body": body,
        "kpis": k,
    }


def above_bound(r: dict[str, Any], under: float | None = None) -> float:
    """Under-coverage above the LP lower bound, as a share of the bound (NaN when the bound is 0); ``under``: these
    agent-hours instead of the run's (a spread's median)."""
    under = r["under"] if under is None else under
    return (under - r["lb"]) / r["lb"] if r["lb"] > 0 else float("nan")


def spread_table(results: list[dict[str, Any]]) -> None:
    """Print each instance's spread over its runs (one per solver seed): least, median and most under-coverage,
    each against the LP lower bound, the median cost gap and the most hard-rule violations of any run."""
    print("| instance | runs (solver seeds) | under agent-h least / median / most | above bound least / median /"
          " most | median cost gap vs LP | most hard-rule violations |")
    print("|---|---|---|---|---:|---:|")
    for name in dict.fromkeys(r["instance"].name for r in results):
        runs = [r for r in results if r["instance"].name == name]
        under = sorted(r["under"] for r in runs)
        picks = (under[0], float(np.median(under)), under[-1])
        above = " / ".join(f"{above_bound(runs[0], u):+.1%}" for u in picks)
        seeds = ", ".join(str(r["seed"]) for r in runs)
        print(f"| {name} | {len(runs)} ({seeds}) | {' / '.join(f'{u:.1f}' for u in picks)} | {above} |"
              f" {float(np.median([r['gap'] for r in runs])):.1%} | {max(r['violations'] for r in runs)} |")


def time_table(instances: list[Instance], calls: dict[datetime, float], limits: list[float]) -> None:
    """Print what more solver time buys: each instance solved at each time limit (same request and seed)."""
    print("| instance | time limit s | final roster s | under agent-h | LP lower bound agent-h | under above bound |"
          " LP optimum's own under agent-h | over agent-h | cost gap vs LP | window moves kept / tried |"
          " trade moves kept / tried | hard-rule violations |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for inst in instances:
        for limit in limits:
            r = run_instance(replace(inst, time_limit=limit), calls)
            k = r["kpis"]
            print(f"| {inst.name} | {limit:.0f} | {r['final']:.1f} | {r['under']:.1f} | {r['lb']:.1f} |"
                  f" {above_bound(r):+.1%} |"
                  f" {r['lp_under']:.1f} | {r['over']:.1f} | {r['gap']:.1%} |"
                  f" {k.get('polish_window_moves_kept', 0)} / {k.get('polish_window_moves_tried', 0)} |"
                  f" {k.get('polish_trade_moves_kept', 0)} / {k.get('polish_trade_moves_tried', 0)} |"
                  f" {r['violations']} |", flush=True)


def roster_lp_table(instances: list[Instance], calls: dict[datetime, float], seconds: float) -> None:
    """Print the three LP bounds on under-coverage per instance: aggregate (stage 1), per person, whole rosters."""
    print("| instance | aggregate LP agent-h | per-person LP agent-h | roster LP lower agent-h | roster LP master"
          " agent-h | converged | iterations | columns | seconds |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for inst in instances:
        body, _ = build_body(inst, calls)
        comp = compile_request(parse_request(body))
        hours = comp.request.interval_minutes / 60
        workable = [workable_options(comp, p) for p in comp.staff]
        first: list[list[int]] = [[] for _ in comp.staff]
        for people, _ in staff_groups(comp, workable, every_rule=True):
            found = check_person(comp, comp.staff[people[0]])
            if not isinstance(found, list):
                sys.exit(f"{inst.name}: {comp.staff[people[0]].staff.id} has no rule-abiding roster")
            first[people[0]] = found
        aggregate = lp_bounds(comp, workable).under_intervals * hours
        person = person_lp_bounds(comp, workable).under_intervals * hours
        rl = roster_lp_bound(comp, workable, first, seconds)
        print(f"| {inst.name} | {aggregate:.2f} | {person:.2f} | {rl.under_intervals * hours:.2f} |"
              f" {rl.master_under_intervals * hours:.2f} | {'yes' if rl.converged else 'no'} | {rl.iterations} |"
              f" {rl.columns} | {rl.seconds:.0f} |", flush=True)


def day_only_problem(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The instance restricted to templates that end by midnight, without breaks (pyworkforce has neither),
    and the requirement clipped to the hours those shifts can reach (local 06:00-24:00)."""
    day_tpls = []
    for t in body["shift_templates"]:
        h, m = map(int, t["start_latest"].split(":"))
        if h * 60 + m + t["length_minutes"] <= 24 * 60:
            day_tpls.append(t | {"breaks": []})
    earliest = min(int(t["start_earliest"][:2]) * 60 + int(t["start_earliest"][3:]) for t in day_tpls)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(body["timezone"])
    rows = []
    for r in body["requirements"]:
        local = datetime.fromisoformat(r["interval_start"]).astimezone(tz)
        keep = local.hour * 60 + local.minute >= earliest
        rows.append(r | {"required": r["required"] if keep else 0})
    clipped = body | {"shift_templates": day_tpls, "requirements": rows}
    # workforce limits that do not bind: shift design alone, as MinRequiredResources does it
    week_max = body["rules"]["max_minutes_per_week"]
    clipped["staff"] = [
        {"id": f"X-{i:04d}", "contract_minutes_per_week": week_max} for i in range(len(body["staff"]) * 2)
    ]
    clipped["rules"] = body["rules"] | {"contract_tolerance_minutes": week_max}  # any hours from 0 up
    return clipped, day_tpls


def pyworkforce_input(clipped: dict[str, Any], seconds: float) -> dict[str, Any]:
    """MinRequiredResources input: 96 local-time periods a day, one shift per template and start time."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(clipped["timezone"])
    start = date.fromisoformat(clipped["start_date"])
    days, periods = clipped["days"], 96
    required = [[0] * periods for _ in range(days)]
    for r in clipped["requirements"]:
        local = datetime.fromisoformat(r["interval_start"]).astimezone(tz)
        d = (local.date() - start).days
        p = (local.hour * 60 + local.minute) // 15
        required[d][p] = max(required[d][p], r["required"])
    coverage = {}
    for t in clipped["shift_templates"]:
        h0, m0 = map(int, t["start_earliest"].split(":"))
        h1, m1 = map(int, t["start_latest"].split(":"))
        for s in range(h0 * 60 + m0, h1 * 60 + m1 + 1, t["start_step_minutes"]):
            cover = [0] * periods
            for p in range(s // 15, min(periods, (s + t["length_minutes"]) // 15)):
                cover[p] = 1
            coverage[f"{t['name']}@{s // 60:02d}{s % 60:02d}"] = cover
    return {
        "num_days": days,
        "periods": periods,
        "shifts_coverage": coverage,
        "required_resources": required,
        "max_search_time": seconds,
        "num_search_workers": 2,
    }


def ensure_pyworkforce(venv: Path) -> Path | None:
    """The venv's python with pyworkforce importable, creating the venv on demand; None (with a message) if not."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import pyworkforce.scheduling"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating a throwaway venv for pyworkforce at {venv} ...", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pyworkforce"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"pyworkforce comparison skipped: could not install pyworkforce in {venv} ({exc})", file=sys.stderr)
        return None
    return python if subprocess.run(check, capture_output=True).returncode == 0 else None


def compare_pyworkforce(body: dict[str, Any], python: Path | None, seconds: float) -> list[str]:
    """Markdown rows: our stage 1 and pyworkforce on the same day-shift-only design problem."""
    clipped, day_tpls = day_only_problem(body)
    ours = design_shifts(parse_request(clipped), seconds)
    req_hours = sum(r["required"] for r in clipped["requirements"]) / 4
    rows = [
        f"| fcr-planner stage 1 (CP-SAT + LP hint) | {ours['status']} | {ours.get('shift_count', 0)} | "
        f"{ours.get('shift_agent_hours', 0):.0f} | {ours.get('under_coverage_agent_hours', 0):.1f} | "
        f"{ours.get('over_coverage_agent_hours', 0):.1f} | {ours['seconds']:.1f} |"
    ]
    if python is None:
        rows.append("| pyworkforce MinRequiredResources | skipped (no venv: pass --pyworkforce-venv PATH) | | | | | |")
        return rows
    problem = pyworkforce_input(clipped, seconds)
    proc = subprocess.run(
        [str(python), str(HERE / "roster_pyworkforce.py")], input=json.dumps(problem), capture_output=True, text=True
    )
    if proc.returncode != 0:
        rows.append(f"| pyworkforce MinRequiredResources | failed: {proc.stderr.strip().splitlines()[-1]} | | | | | |")
        return rows
    sol = json.loads(proc.stdout)
    lengths = {f"{t['name']}@": t["length_minutes"] for t in day_tpls}
    shifts = sum(r["resources"] for r in sol["resources_shifts"] if r["resources"] > 0)
    hours = sum(
        r["resources"] * next(v for k, v in lengths.items() if r["shift"].startswith(k)) / 60
        for r in sol["resources_shifts"]
        if r["resources"] > 0
    )
    over = _pyworkforce_over(problem, sol)
    rows.append(
        f"| pyworkforce MinRequiredResources 0.5.1 | {sol['status']} | {shifts} | {hours:.0f} | 0.0 (hard) | "
        f"{over:.1f} | {sol['seconds']:.1f} |"
    )
    rows.append(f"| (requirement clipped to 06:00-24:00 local: {req_hours:.0f} agent-h) | | | | | | |")
    return rows


def _pyworkforce_over(problem: dict[str, Any], sol: dict[str, Any]) -> float:
    """Over-coverage agent-hours of pyworkforce's answer."""
    days, periods = problem["num_days"], problem["periods"]
    on = np.zeros((days, periods))
    for r in sol["resources_shifts"]:
        if r["resources"] > 0:
            on[r["day"]] += r["resources"] * np.array(problem["shifts_coverage"][r["shift"]])
    return float(np.maximum(on - np.array(problem["required_resources"]), 0).sum() / 4)


def main() -> None:
    """Run the instances and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="small,medium,large", help="comma-separated instance names")
    parser.add_argument("--pyworkforce-venv", type=Path, default=None, help="venv for pyworkforce (made on demand)")
    parser.add_argument("--compare-seconds", type=float, default=60.0, help="time limit of each design solve")
    parser.add_argument("--roster-lp", type=float, default=None, metavar="SECONDS",
                        help="print the LP bounds (roster LP by column generation, this time limit) and stop")
    parser.add_argument("--time-limits", default=None, metavar="S1,S2,...",
                        help="solve each instance at each of these time limits, print what more time buys, and stop")
    parser.add_argument("--seeds", default=None, metavar="S1,S2,...",
                        help="solve each instance once per solver seed and print the runs' spread too")
    args = parser.parse_args()
    try:
        seeds: list[int | None] = [int(v) for v in args.seeds.split(",")] if args.seeds else [None]
    except ValueError:
        sys.exit(f"--seeds: expected comma-separated integers, got {args.seeds!r}")
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the bench needs the shared Montco data")
    calls = load_calls()
    wanted = set(args.only.split(","))
    if args.roster_lp is not None:
        roster_lp_table([inst for inst in INSTANCES if inst.name in wanted], calls, args.roster_lp)
        return
    if args.time_limits is not None:
        limits = [float(v) for v in args.time_limits.split(",")]
        time_table([inst for inst in INSTANCES if inst.name in wanted], calls, limits)
        return
    results = [run_instance(inst, calls, seed) for inst in INSTANCES if inst.name in wanted for seed in seeds]
    print("| instance | staff x days | intervals | required agent-h | first roster s | final roster s | status |"
          " under agent-h | LP lower bound agent-h | under above bound | LP optimum's own under agent-h |"
          " of which no shift can cover agent-h | over agent-h | cost gap vs LP | hard-rule violations |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        inst = r["instance"]
        above = above_bound(r)
        name = inst.name if args.seeds is None else f"{inst.name} (seed {r['seed']})"
        print(
            f"| {name} | {inst.staff} x {inst.days} | {r['intervals']} | {r['required']:.0f} | {r['first']:.1f} |"
            f" {r['final']:.1f} | {r['status']} | {r['under']:.1f} | {r['lb']:.1f} | {above:+.1%} |"
            f" {r['lp_under']:.1f} | {r['uncoverable']:.1f} | {r['over']:.1f} |"
            f" {r['gap']:.1%} | {r['violations']} |"
        )
    if args.seeds is not None:
        print()
        spread_table(results)
    large = next((r for r in results if r["instance"].name == "large"), None)
    if large is not None:
        print()
        print("Shift design only, large instance's day templates (ending by midnight: pyworkforce cannot cross it),"
              " no breaks, no staff rules:")
        print()
        print("| method | status | shifts | shift agent-h | under agent-h | over agent-h | time s |")
        print("|---|---|---|---|---|---|---|")
        python = ensure_pyworkforce(args.pyworkforce_venv) if args.pyworkforce_venv else None
        if args.pyworkforce_venv is None:
            print("pyworkforce comparison skipped: pass --pyworkforce-venv PATH", file=sys.stderr)
        for row in compare_pyworkforce(large["body"], python, args.compare_seconds):
            print(row)


if __name__ == "__main__":
    main()
