"""Solve a roster: validate, pre-check each person (diagnosing conflicting rules), bound by LP, design shifts
(stage 1), assign people (stage 2), then audit the final roster independently.

``solve_roster`` is the one entry point; it honours a time limit, a seed, the worker count, a progress callback
and a cancel check, and always returns the best rule-abiding roster found so far (or a conflict diagnosis).
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from ortools.sat.python import cp_model

from scheduling.rostering.audit import audit_roster, roster_coverage
from scheduling.rostering.bound import LpBound, lp_bounds, tightest_bound
from scheduling.rostering.grid import Compiled, StaffInfo, compile_request, pattern_followed
from scheduling.rostering.model import (
    FAMILIES,
    CpBackend,
    add_person,
    build_assignment_model,
    build_break_model,
    build_design_model,
    class_key,
    coverage_cost,
    fill_cost,
    option_of,
    skill_coverage_cost,
    workable_options,
)
from scheduling.rostering.polish import Polisher
from scheduling.rostering.shortfall import explain_shortfall
from scheduling.rostering.types import (
    Assignment,
    BreakAssignment,
    CancelCheck,
    Conflict,
    Progress,
    ProgressCallback,
    RosterRequest,
    RosterResult,
    RosterValidationError,
)
from scheduling.rostering.validation import validate_request

#: Share of the time left after the pre-checks given to stage 1 (stage 2 gets the rest less a margin).
STAGE1_SHARE = 0.25
#: Share of stage 1's time spent first on the design next to the LP optimum (0 switches it off).
RINS_SHARE = 0.7
#: Up to this many person x option variables stage 2 is one CP-SAT model; above it, block LNS.
SINGLE_MODEL_LIMIT = 8_000
#: Share of the time left after stage 1 kept for placing breaks after the block LNS, at most BREAKS_MAX_SECONDS:
#: the break model on fixed shifts, hinted with the polish's placement, took under 1 s on the bench's large
#: instance, where 8% kept 7.8 s of a 115-s limit (88 s of 1,200) idle at the end.
BREAKS_SHARE = 0.08
BREAKS_MAX_SECONDS = 3.0
#: Above FULL_ASSIGNMENT_LIMIT workable person x options, the full design model is skipped once the design next to
#: the LP optimum is proved optimal there and within this share of stage 1's LP relaxation: the full model can gain
#: no more than that, and its seconds buy more in stage 2 (bench large: the box proved in 0.4 s at 0.39% above
#: the bound, then 8.2 s of the full model gained 0.06% at one seed and nothing at another; medium, small nothing).
STAGE1_ENOUGH = 0.01
#: Person x option variables per LNS block, and the time limit of one block's solve.
BLOCK_VARIABLES, BLOCK_SECONDS = 1_500, 0.5
#: Stage 1 plans total hours up to this share of the staff's contract bands (see build_design_model). 0.8 paid
#: before the polish existed (designs needing everyone at their maximum could not be filled); with the polish
#: the full band does as well or better (bench large 412-414 h under against 436-449 h at 0.8-0.9).
DESIGN_BAND_SHARE = 1.0
#: Up to this many group x option variables the bound is the whole model's LP relaxation person by person
#: (bound.person_lp_bounds, a few seconds); above it, stage 1's aggregated LP (equal on the bench instances).
PERSON_LP_VARIABLES = 3_000
#: At most this share of the time left goes to that LP (it falls back to the aggregated bound when it runs out).
PERSON_LP_SHARE = 0.1
#: At most this share of the time left after the pre-check goes to the LP bound (GLOP stops there: no bound).
LP_SHARE = 0.4
#: Where stage 2 is one CP-SAT model over everyone (small requests), the share of its time that model leaves to the
#: local search on the true objective (polish.py) when it has not proved optimality.
POLISH_SHARE = 0.7
#: Where stage 2 fills stage 1's shifts by block LNS (large requests), the share of its time after the greedy fill
#: given to the polish; the LNS gets the rest. 0.5 before the window moves, 0.7 with them (thirteenth session), 0.85
#: since the windows run in flight and the trades (twenty-first session, 115 s: bench large over eight seeds mean
#: 281.7 agent-h under against 287.75 at 0.7, 0.9% lower cost; medium 127.3 against 131.0 and small 40.2 against
#: 40.4 over four; docs/rostering-research.md).
LNS_POLISH_SHARE = 0.85
#: Seconds kept back at the end for extracting and auditing the roster.
MARGIN_SECONDS = 1.0
#: Below this many person x option variables, stage 2 considers every option, not only stage 1's starts.
FULL_ASSIGNMENT_LIMIT = 40_000
#: Time limit for one person's feasibility check.
PERSON_CHECK_SECONDS = 10.0


class _Clock:
    """Elapsed time, the deadline, progress reports and cancellation for one solve."""

    def __init__(
        self, limit: float, progress: ProgressCallback | None, should_cancel: CancelCheck | None
    ) -> None:
        self.t0 = time.monotonic()
        self.limit = limit
        self.progress = progress
        self.should_cancel = should_cancel
        self.cancelled = False
        self.first_roster: float | None = None

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def left(self) -> float:
        return max(0.0, self.limit - self.elapsed())

    def check_cancel(self) -> bool:
        if not self.cancelled and self.should_cancel is not None and self.should_cancel():
            self.cancelled = True
        return self.cancelled

    def report(self, stage: str, objective: float | None = None, bound: float | None = None) -> None:
        if self.progress is not None:
            e = self.elapsed()
            self.progress(Progress(stage, min(1.0, e / self.limit), e, objective, bound))


class _Watch(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution, and stops the search (StopSearch) when the caller cancels."""

    def __init__(self, clock: _Clock, stage: str) -> None:
        super().__init__()
        self.clock = clock
        self.stage = stage
        self.solutions = 0
        self.bound: float | None = None
        self.objective: float | None = None

    def on_solution_callback(self) -> None:
        self.solutions += 1
        self.objective = self.objective_value
        self.bound = self.best_objective_bound
        self.clock.report(self.stage, self.objective, self.bound)
        if self.clock.check_cancel():
            self.stop_search()


def _run(
    model: cp_model.CpModel, seconds: float, request: RosterRequest, clock: _Clock, stage: str, light: bool = False
) -> tuple:
    """Solve a CP-SAT model seeded, on the request's workers, within ``seconds``, polling the cancel check and
    reporting progress about every second even when no new solution comes."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = request.workers
    solver.parameters.random_seed = request.seed
    if light:  # big assignment models: probing in presolve costs more than it saves under a time limit
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
    if os.environ.get("FCR_ROSTER_LOG"):
        solver.parameters.log_search_progress = True
    watch = _Watch(clock, stage)
    clock.report(stage)
    solver.best_bound_callback = lambda b: setattr(watch, "bound", b)
    done = threading.Event()

    def poll() -> None:  # a thread, because solution callbacks only fire on new solutions
        while not done.wait(0.2):
            if clock.check_cancel():
                solver.stop_search()
                return
            if int(clock.elapsed() * 5) % 5 == 0:
                clock.report(stage, watch.objective, watch.bound)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        status = solver.solve(model, watch)
    finally:
        done.set()
        poller.join()
    return solver, status, watch


# ---------------------------------------------------------------------------------------------------------
def check_person(
    comp: Compiled, person: StaffInfo, relax: frozenset[str] = frozenset(), seconds: float = PERSON_CHECK_SECONDS
) -> list[int] | bool | None:
    """One person's roster under all hard rules but ``relax``, ignoring coverage: the chosen options, None if
    impossible, True if undecided in time. Persons only interact through coverage, which is soft, so the whole
    roster is feasible exactly when every person's is."""
    model = cp_model.CpModel()
    pv = add_person(model, comp, person, workable_options(comp, person, relax), relax)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return None
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    return [oi for oi, v in pv.a.items() if solver.boolean_value(v)]


def _relevant_families(person: StaffInfo) -> list[str]:
    """Families worth relaxing for this person (no point relaxing a pattern they do not have)."""
    out = []
    for f in FAMILIES:
        if f == "pattern" and not person.pattern_choices:
            continue
        if f == "unavailability" and not person.staff.unavailable:
            continue
        if f == "allowed_templates" and person.staff.allowed_templates is None:
            continue
        out.append(f)
    return out


def diagnose_person(comp: Compiled, person: StaffInfo) -> Conflict:
    """Which hard-rule families, relaxed alone (else in pairs), would let this person be rostered."""
    fams = _relevant_families(person)
    single = [f for f in fams if check_person(comp, person, frozenset({f})) is not None]
    sid = person.staff.id
    if single:
        return Conflict(sid, tuple(single), f"{sid}: no roster meets every hard rule; relaxing any one of "
                        f"{', '.join(single)} would allow one")
    pairs = [p for p in itertools.combinations(fams, 2) if check_person(comp, person, frozenset(p)) is not None]
    if pairs:
        names = sorted({f for p in pairs for f in p})
        return Conflict(sid, tuple(names), f"{sid}: no roster meets every hard rule; relaxing a pair among "
                        f"{', '.join('+'.join(p) for p in pairs)} would allow one")
    return Conflict(sid, (), f"{sid}: no roster meets the hard rules even with two families relaxed")


def precheck(comp: Compiled, clock: _Clock) -> tuple[list[Conflict], list[list[int] | None]]:
    """Feasibility of every person alone (cached by identical circumstances), with a diagnosis where it fails.

    People on a pattern whose offset is free get their pre-check roster at offsets spread evenly across each
    group of identical people, so the starting roster already staggers the rota."""
    def key_of(person: StaffInfo) -> tuple:
        return (
            person.allowed,
            person.blocked_options,
            tuple(person.pattern_choices),
            person.contract_lo,
            person.contract_hi,
            person.touched_days,
            person.rest_blocked,
            tuple(sorted(person.prior_minutes.items())),
        )

    group_size: dict[tuple, int] = {}
    for person in comp.staff:
        group_size[key_of(person)] = group_size.get(key_of(person), 0) + 1
    seen: dict[tuple, int] = {}
    cache: dict[Any, list[int] | bool | None] = {}
    conflicts: list[Conflict] = []
    schedules: list[list[int] | None] = []
    seconds = min(PERSON_CHECK_SECONDS, max(0.5, clock.left() / 4))
    for person in comp.staff:
        key = key_of(person)
        if key not in cache:
            cache[key] = check_person(comp, person, seconds=seconds)
        found = cache[key]
        if found is None:
            conflicts.append(diagnose_person(comp, person))
            schedules.append(None)
            continue
        choices = person.pattern_choices
        if len(choices) > 1:
            i = seen.get(key, 0)
            seen[key] = i + 1
            first = i * len(choices) // group_size[key]
            for c in choices[first:] + choices[:first]:
                if (key, c) not in cache:
                    cache[(key, c)] = check_person(comp, replace(person, pattern_choices=[c]), seconds=seconds)
                if isinstance(cache[(key, c)], list):
                    found = cache[(key, c)]
                    break
        schedules.append(found if isinstance(found, list) else None)
    clock.check_cancel()  # not inside the loop: a complete pre-check roster is the fallback a cancel returns
    return conflicts, schedules


# ---------------------------------------------------------------------------------------------------------
@dataclass
class _PersonState:
    """A person's partial roster while the greedy hint is built."""

    days: dict[int, int]
    minutes: int


def _can_add(comp: Compiled, person: StaffInfo, st: _PersonState, oi: int) -> bool:
    """Whether adding option ``oi`` keeps every hard rule except the contract's lower bound."""
    rules = comp.request.rules
    o = comp.options[oi]
    d = o.day
    if d in st.days or st.minutes + o.minutes > person.contract_hi:
        return False
    for d2, o2i in st.days.items():
        o2 = comp.options[o2i]
        first, second = (o2, o) if d2 < d else (o, o2)
        if (second.start - first.end) < timedelta(minutes=rules.min_rest_minutes):
            return False
    prior = person.prior_minutes
    run_lo = d
    while run_lo - 1 in st.days or run_lo - 1 in prior:
        run_lo -= 1
    run_hi = d
    while run_hi + 1 in st.days:
        run_hi += 1
    if run_hi - run_lo + 1 > rules.max_consecutive_days:
        return False
    for w0 in range(max(-6 if prior else 0, d - 6), min(d, comp.days - 7) + 1):
        inside = [x for x in st.days if w0 <= x < w0 + 7]
        before = [x for x in prior if w0 <= x < min(0, w0 + 7)]
        if len(inside) + len(before) + 1 > 7 - rules.min_days_off_per_week:
            return False
        minutes = sum(comp.options[st.days[x]].minutes for x in inside) + sum(prior[x] for x in before)
        if minutes + o.minutes > rules.max_minutes_per_week:
            return False
    return True


def greedy_hint(
    comp: Compiled, candidates: list[list[list[int]]], counts: dict[int, int], fallback: list[list[int] | None]
) -> list[list[int]]:
    """A rule-abiding starting roster: fill stage 1's shifts day by day, each with the eligible person furthest
    below their contract, top people up to their contract, and fall back to the pre-check roster of anyone the
    greedy cannot bring within contract (and of everyone on a pattern)."""
    states = [_PersonState({}, 0) for _ in comp.staff]
    eligible: dict[int, list[int]] = {}
    for p, per_day in enumerate(candidates):
        if comp.staff[p].pattern_choices:
            continue
        for day in per_day:
            for oi in day:
                eligible.setdefault(oi, []).append(p)
    for d in range(comp.days):
        for oi in sorted(comp.by_day[d], key=lambda i: comp.options[i].start):
            need = counts.get(oi, 0)
            if not need:
                continue
            def urgency(p: int, d: int = d) -> tuple[int, int]:
                recent = sum(1 for x in states[p].days if d - 6 <= x < d)  # days worked in the last six
                return (recent, states[p].minutes - comp.staff[p].contract_lo)

            people = sorted(eligible.get(oi, []), key=urgency)
            for p in people:
                if need == 0:
                    break
                if _can_add(comp, comp.staff[p], states[p], oi):
                    states[p].days[d] = oi
                    states[p].minutes += comp.options[oi].minutes
                    need -= 1
    out: list[list[int]] = []
    for p, st in enumerate(states):
        person = comp.staff[p]
        if not person.pattern_choices:
            for d in range(comp.days):
                if st.minutes >= person.contract_lo:
                    break
                for oi in candidates[p][d]:
                    if _can_add(comp, person, st, oi):
                        st.days[d] = oi
                        st.minutes += comp.options[oi].minutes
                        break
        if not person.pattern_choices and st.minutes >= person.contract_lo:
            out.append(sorted(st.days.values()))
        else:
            out.append(list(fallback[p] or []))
    return out


# ---------------------------------------------------------------------------------------------------------
def _assignments(
    comp: Compiled, chosen: list[list[int]], breaks: dict[int, list[list[int]]] | None
) -> list[Assignment]:
    """Turn chosen options into dated assignments; breaks come from the solver's break counts per option (handed
    out in order) or, without them, from the greedy break placement."""
    if breaks is None:
        breaks = place_breaks(comp, chosen)[0]
    out = []
    for p, oi, k in _handed(comp, chosen):
        o = comp.options[oi]
        brs = []
        for bi, window in enumerate(o.breaks):
            slot = _break_start(breaks, oi, bi, k, window)
            b_start = comp.instant(slot) if slot < comp.n_intervals else comp.t0 + slot * comp.step
            brs.append(BreakAssignment(b_start, b_start + o.break_lengths[bi] * comp.step))
        out.append(Assignment(comp.staff[p].staff.id, o.name, o.start, o.end, tuple(brs)))
    out.sort(key=lambda a: (a.start, a.staff_id))
    return out


def _patterns_chosen(comp: Compiled, chosen: list[list[int]], z: list[dict] | None) -> dict[str, dict[str, Any]]:
    """Per person on a pattern, the (pattern, offset) followed: from the model, else the first consistent one."""
    out: dict[str, dict[str, Any]] = {}
    for p, person in enumerate(comp.staff):
        if not person.pattern_choices:
            continue
        pick = None
        if z is not None and z[p]:
            pick = next((c for c, on in z[p].items() if on), None)
        if pick is None:
            pick = pattern_followed(comp, person, {comp.options[oi].day: comp.options[oi].template for oi in chosen[p]})
        if pick is not None:
            out[person.staff.id] = {"pattern": comp.request.patterns[pick[0]].name, "offset": pick[1]}
    return out


def _contract_room(comp: Compiled, chosen: list[list[int]], workable: list[list[list[int]]]) -> dict[str, Any]:
    """How much of the staff's contract bands the roster leaves: people who cannot take one more of their shifts
    without passing the top of their band, and the hours left below the tops. When nearly everyone is at the top,
    more cover anywhere costs cover elsewhere: more hours or people are what would add it outright."""
    at_top, left = 0, 0
    for p, info in enumerate(comp.staff):
        room = info.contract_hi - sum(comp.options[oi].minutes for oi in chosen[p])
        shortest = min((comp.options[oi].minutes for day in workable[p] for oi in day), default=None)
        at_top += shortest is None or room < shortest
        left += max(0, room)
    return {"staff_at_contract_maximum": at_top, "contract_hours_left": left / 60}


def _published_changes(comp: Compiled, chosen: list[list[int]]) -> dict[str, int]:
    """Against the published roster (people with ``published`` shifts; days not listed were published off): shifts
    kept as published, moved (another start or template that day), dropped and added, and the people with any
    change, so a planner sees how much a re-roster disturbs."""
    out = dict.fromkeys(("kept", "moved", "dropped", "added", "people_changed"), 0)
    for info, row in zip(comp.staff, chosen, strict=True):
        if not info.published:
            continue
        now = {comp.options[oi].day: oi for oi in row}
        changed = 0
        for d in range(comp.days):
            was, new = info.published.get(d), now.get(d)
            if was is None and new is None:
                continue
            if was is None:
                kind = "added"
            elif new is None:
                kind = "dropped"
            else:
                kind = "kept" if was == new else "moved"
            out[kind] += 1
            changed += kind != "kept"
        out["people_changed"] += changed > 0
    return out


def _result(
    comp: Compiled,
    status: str,
    chosen: list[list[int]],
    breaks: dict[int, list[list[int]]] | None,
    z: list[dict] | None,
    clock: _Clock,
    extra: dict[str, Any],
    bound: LpBound | None,
    workable: list[list[list[int]]] | None = None,
) -> RosterResult:
    """Assemble the result: assignments, coverage (recomputed from the datetimes), KPIs, shortfall (with why each
    interval is short: shortfall.py), audit."""
    req = comp.request
    assignments = _assignments(comp, chosen, breaks)
    patterns = _patterns_chosen(comp, chosen, z)
    coverage = roster_coverage(req, assignments)
    violations = audit_roster(req, assignments, patterns)
    hours = req.interval_minutes / 60
    under = [max(0, c.required - c.scheduled) for c in coverage]
    over = [max(0, c.scheduled - c.required) for c in coverage]
    # The objective's own figure, as the solver and the LP bound count it: the requirement net of the previous
    # period's people (``Compiled.carried``), against this roster's people alone.
    cost = coverage_cost(comp.required, [c.scheduled - c.carried_in for c in coverage])
    cost += skill_coverage_cost(comp, {
        s: [c.skills[s]["scheduled"] - k for c, k in zip(coverage, comp.skill_carried[s], strict=True)]
        for s in comp.skill_names
    })
    kpis: dict[str, Any] = {
        "required_agent_hours": sum(c.required for c in coverage) * hours,
        "scheduled_agent_hours": sum(c.scheduled for c in coverage) * hours,
        "on_break_agent_hours": sum(c.on_break for c in coverage) * hours,
        "carried_in_agent_hours": sum(c.carried_in for c in coverage) * hours,
        "under_coverage_agent_hours": sum(under) * hours,
        "over_coverage_agent_hours": sum(over) * hours,
        "intervals_short": sum(1 for u in under if u > 0),
        "shifts": len(assignments),
        "coverage_cost": cost,
    }
    if comp.skill_required:  # per skill with requirement rows: its own figures (the pool's are above)
        kpis["skills"] = {
            s: {
                "required_agent_hours": sum(c.skills[s]["required"] for c in coverage) * hours,
                "scheduled_agent_hours": sum(c.skills[s]["scheduled"] for c in coverage) * hours,
                "under_coverage_agent_hours": sum(
                    max(0, c.skills[s]["required"] - c.skills[s]["scheduled"]) for c in coverage) * hours,
                "intervals_short": sum(1 for c in coverage if c.skills[s]["scheduled"] < c.skills[s]["required"]),
            }
            for s in comp.skill_names
        }
    if bound is not None:
        solved = bound.status == "OPTIMAL"  # an LP stopped by the time limit bounds nothing: no figures then
        kpis["lp_bound_coverage_cost"] = bound.coverage_cost if solved else None
        kpis["gap"] = ((cost - bound.coverage_cost) / cost if cost > 0 else 0.0) if solved else None
        kpis["under_coverage_lower_bound_agent_hours"] = bound.under_intervals * hours if solved else None
        at_cost = bound.under_at_cost_intervals
        kpis["lp_optimum_under_coverage_agent_hours"] = at_cost * hours if solved and at_cost is not None else None
        kpis["lp_status"] = bound.status
        kpis["lp_bound_kind"] = bound.kind
        kpis["lp_seconds"] = round(bound.seconds, 3)
    kpis.update(extra)
    kpis["time_to_first_roster_seconds"] = clock.first_roster
    short = [k for k, u in enumerate(under) if u > 0]  # coverage is per grid interval, in order
    if workable is None:
        workable = [workable_options(comp, p) for p in comp.staff]
    why = explain_shortfall(comp, workable, chosen, short)
    shortfall = [
        {"interval_start": coverage[k].interval_start, "skill": None, "required": coverage[k].required,
         "scheduled": coverage[k].scheduled, "carried_in": coverage[k].carried_in, "short": under[k], "why": why[k]}
        for k in short
    ]
    for s in comp.skill_names:  # a skill's short intervals: who with the skill could cover them, and why not
        points = [c.skills[s] for c in coverage]
        short_s = [k for k, c in enumerate(points) if c["scheduled"] < c["required"]]
        why_s = explain_shortfall(comp, workable, chosen, short_s, [s in p.skills for p in comp.staff])
        shortfall += [
            {"interval_start": coverage[k].interval_start, "skill": s, "required": points[k]["required"],
             "scheduled": points[k]["scheduled"], "carried_in": comp.skill_carried[s][k],
             "short": points[k]["required"] - points[k]["scheduled"], "why": why_s[k]}
            for k in short_s
        ]
    shortfall.sort(key=lambda e: (e["interval_start"], e["skill"] or ""))
    # The part of the shortfall beyond everyone able to work then: more people (or templates) would cover it, where
    # the rest is people held off by their rules or hours (each entry's why says which).
    kpis["under_coverage_beyond_able_agent_hours"] = sum(
        min(under[k], max(0, comp.required[k] - why[k]["able"])) for k in short
    ) * hours
    kpis.update(_contract_room(comp, chosen, workable))
    if comp.republishing:
        kpis["published_changes"] = _published_changes(comp, chosen)
    kpis["time_total_seconds"] = round(clock.elapsed(), 3)  # last: the shortfall's why is part of the solve's time
    return RosterResult(status, assignments, coverage, kpis, violations, [], shortfall, patterns)


def solve_roster(
    request: RosterRequest,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> RosterResult:
    """Build the best roster within the hard rules in ``request.time_limit_seconds``; see the module docstring.

    Raises RosterValidationError for bad input. ``progress`` may be called from a solver thread;
    ``should_cancel`` is polled about five times a second and stops the search with the best roster so far."""
    errors = validate_request(request)
    if errors:
        raise RosterValidationError(errors)
    clock = _Clock(request.time_limit_seconds, progress, should_cancel)
    comp = compile_request(request)
    clock.report("precheck")
    conflicts, schedules = precheck(comp, clock)
    if conflicts:
        return RosterResult(
            "CONFLICT", [], roster_coverage(request, []), {"time_total_seconds": round(clock.elapsed(), 3)}, [],
            conflicts,
        )
    pre_roster = [s or [] for s in schedules]
    clock.first_roster = round(clock.elapsed(), 3)
    if clock.cancelled:
        return _result(comp, "CANCELLED", pre_roster, None, None, clock, {"solver_status": "CANCELLED"}, None)
    if clock.left() <= MARGIN_SECONDS:  # the pre-check alone used the time: its roster is the answer
        return _result(comp, "FEASIBLE", pre_roster, None, None, clock,
                       {"solver_status": "TIME_LIMIT", "stopped_after": "precheck"}, None)

    workable = [workable_options(comp, p) for p in comp.staff]
    clock.report("lp_bound")
    aggregate = lp_bounds(comp, workable, DESIGN_BAND_SHARE, LP_SHARE * (clock.left() - MARGIN_SECONDS))
    bound = tightest_bound(comp, workable, aggregate, PERSON_LP_VARIABLES, PERSON_LP_SHARE * clock.left())

    # Stage 1: shift design.
    hours = request.interval_minutes / 60
    model1 = cp_model.CpModel()
    design = build_design_model(CpBackend(model1), comp, workable, DESIGN_BAND_SHARE)
    model1.minimize(design.objective)
    if bound.x:
        for oi, v in design.x.items():  # the rounded LP optimum: a far better start than any greedy design
            model1.add_hint(v, round(bound.x.get(oi, 0.0)))
        for key, v in design.y.items():
            model1.add_hint(v, round(bound.y.get(key, 0.0)))
        for key, v in design.skill_x.items():  # skilled shifts: rounded down, so never above the rounded count
            model1.add_hint(v, min(math.floor(bound.skill_x.get(key, 0.0) + 1e-6), round(bound.x.get(key[1], 0.0))))
    else:
        _hint_counts(model1, comp, design.x, design.y, design.under, design.over, pre_roster)
    stage1_seconds = STAGE1_SHARE * (clock.left() - MARGIN_SECONDS)
    n_workable = sum(len(day) for per_day in workable for day in per_day)
    box: cp_model.CpSolver | None = None
    if bound.x and RINS_SHARE > 0:
        # First search only next to the LP optimum (each count between its LP value's floor and ceiling): a much
        # smaller problem, solved far better in the time; its design then hints the full model.
        near = model1.clone()
        lps = [(v, bound.x.get(oi, 0.0)) for oi, v in design.x.items()]
        lps += [(v, bound.y.get(key, 0.0)) for key, v in design.y.items()]
        lps += [(v, bound.skill_x.get(key, 0.0)) for key, v in design.skill_x.items()]
        for v, lp in lps:
            near.add_linear_constraint(
                near.get_int_var_from_proto_index(v.index), math.floor(lp + 1e-6), math.ceil(lp - 1e-6)
            )
        solver_n, status_n, _ = _run(near, RINS_SHARE * stage1_seconds, request, clock, "design")
        if status_n in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            model1.clear_hints()
            for v in [*design.x.values(), *design.y.values(), *design.under.values(), *design.over.values(),
                      *design.skill_x.values(), *design.skill_under.values()]:
                model1.add_hint(v, solver_n.value(v))
        stage1_seconds = max(0.5, stage1_seconds - RINS_SHARE * stage1_seconds)
        if status_n == cp_model.OPTIMAL and _box_is_enough(n_workable, solver_n.objective_value, aggregate):
            box = solver_n
    if box is not None:  # the full model could gain at most STAGE1_ENOUGH: stage 2 gets its time
        solver1, status1 = box, cp_model.FEASIBLE  # optimal next to the LP optimum only
        extra: dict[str, Any] = {"stage1_status": "FEASIBLE", "stage1_full_model": "skipped"}
    else:
        solver1, status1, _ = _run(model1, stage1_seconds, request, clock, "design")
        extra = {"stage1_status": solver1.status_name(status1)}
    if status1 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        counts = {oi: int(solver1.value(v)) for oi, v in design.x.items()}
        extra["stage1_coverage_cost"] = solver1.objective_value
        extra["stage1_under_agent_hours"] = sum(solver1.value(v) for v in design.under.values()) * hours
        extra["stage1_seconds"] = round(clock.elapsed(), 2)
    elif bound.x:  # no design found in time: the rounded LP design still says which shifts to fill
        counts = {oi: round(v) for oi, v in bound.x.items() if round(v) > 0}
        extra["stage1_fallback"] = "rounded LP"
    else:
        counts = {}
    if clock.cancelled:
        return _result(comp, "CANCELLED", pre_roster, None, None, clock, {**extra, "solver_status": "CANCELLED"}, bound)

    # Stage 2: assignment over the start times stage 1 used plus each person's known-feasible roster.
    used = {oi for oi, c in counts.items() if c > 0}
    full = n_workable <= FULL_ASSIGNMENT_LIMIT
    candidates = []
    for p in range(len(comp.staff)):
        own = set(pre_roster[p])
        candidates.append([[oi for oi in day if full or oi in used or oi in own] for day in workable[p]])
    extra["stage2_options"] = "all" if full else "stage-1 starts"
    hint = greedy_hint(comp, candidates, counts, schedules)
    hint_ok = not audit_roster(request, _assignments(comp, hint, None), _patterns_chosen(comp, hint, None))
    base = hint if hint_ok and _cost_of(comp, hint) <= _cost_of(comp, pre_roster) else pre_roster
    extra["hint"] = "greedy" if base is hint else "precheck"
    n_vars = sum(len(day) for per_day in candidates for day in per_day)
    extra["stage2_variables"] = n_vars
    z = None
    status2 = cp_model.UNKNOWN
    if not counts and n_vars > SINGLE_MODEL_LIMIT:
        # No design in the time (a big request on a short limit): too big for one model, nothing to fill; the
        # polish's whole-person moves improve the starting roster with every second there is.
        extra["stage2_mode"] = "polish only (no shift design in the time)"
        chosen, breaks = _polish_to_the_end(comp, workable, base, None, request, clock, extra, bound.values)
        extra["solver_status"] = "FEASIBLE"
    elif n_vars <= SINGLE_MODEL_LIMIT or not counts:
        # Small: one CP-SAT model over everyone with the true coverage objective (breaks included).
        extra["stage2_mode"] = "one coverage model"
        am = build_assignment_model(comp, candidates)
        for p, pv in enumerate(am.people):
            on = set(base[p])
            for oi, v in pv.a.items():
                am.model.add_hint(v, oi in on)
        _hint_counts(am.model, comp, am.count, am.y, am.under, am.over, base, am.skill_under)
        am.hint_soft(comp, base)
        solver2, status2, watch2 = _run(
            am.model, (1 - POLISH_SHARE) * (clock.left() - MARGIN_SECONDS), request, clock, "assignment", light=True
        )
        extra["solver_status"] = solver2.status_name(status2)
        extra["cp_sat_bound"] = watch2.bound
        if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = [[oi for oi, v in pv.a.items() if solver2.boolean_value(v)] for pv in am.people]
            z = [{c: solver2.boolean_value(v) for c, v in pv.z.items()} for pv in am.people]
            extra["objective"] = solver2.objective_value
            extra["soft_cost"] = solver2.value(am.soft_cost)
            breaks = _by_option(comp, chosen, {
                key: [
                    [k for k in starts for _ in range(int(solver2.value(am.y[(key, bi, k)])))]
                    for bi, starts in enumerate(comp.options[option_of(key)].breaks)
                ]
                for key in am.count
            })
        else:
            chosen, breaks = base, None
        # What CP-SAT left, the polish tries. Stage 1 designs without the published roster (re-rostering), so its
        # optimum is none of the whole objective's: the polish then runs too (and starts by adopting the published
        # roster) and no optimality is claimed.
        if (status2 != cp_model.OPTIMAL or comp.republishing) and not clock.cancelled:
            chosen, breaks = _polish_to_the_end(comp, workable, chosen, breaks, request, clock, extra, bound.values)
            z = None  # the polish may move people on patterns (within them): read the pattern off the roster
            status2 = cp_model.FEASIBLE if comp.republishing else status2
        elif breaks is None:
            breaks = _solve_breaks(comp, chosen, request, clock)
    else:
        # Large: fill stage 1's shifts by large-neighbourhood search over blocks of people (each block one
        # small CP-SAT model, the others fixed), then place the breaks of the shifts filled.
        reserve = max(1.0, _breaks_reserve(clock))
        extra["stage2_mode"] = "fill stage-1 shifts by block LNS"
        extra["stage2_options"] = "stage-1 starts, one step either side, own pre-check roster"
        near = _near_used(comp, used)
        pool = []
        for p, per_day in enumerate(workable):
            own = set(base[p]) | set(pre_roster[p])
            pool.append([[oi for oi in day if oi in near or oi in own] for day in per_day])
        polish_seconds = LNS_POLISH_SHARE * max(0.0, clock.left() - reserve)
        # The fill's pattern choices are not kept: the polish may move people on patterns (within them), so the
        # pattern each follows is read off the final roster.
        chosen, _, stats = lns_fill(comp, pool, counts, base, request, clock, reserve + polish_seconds)
        extra.update(stats)
        chosen, start_breaks = _polish(comp, workable, chosen, None, request, clock, reserve, extra, bound.values)
        breaks = _solve_breaks(comp, chosen, request, clock, start_breaks)
        extra["solver_status"] = "FEASIBLE"
    if clock.cancelled:
        status = "CANCELLED"
    elif status2 == cp_model.OPTIMAL and status1 == cp_model.OPTIMAL:  # optimal within the decomposition
        status = "OPTIMAL"
    else:
        status = "FEASIBLE"
    result = _result(comp, status, chosen, breaks, z, clock, extra, bound, workable)
    result.kpis["optimal_within_decomposition"] = status == "OPTIMAL"
    return result


def _breaks_reserve(clock: _Clock) -> float:
    """Seconds kept for placing the breaks at the end of stage 2: BREAKS_SHARE of the time left, at most
    BREAKS_MAX_SECONDS (both stage-2 paths that end with the break model use this rule)."""
    return min(BREAKS_MAX_SECONDS, BREAKS_SHARE * clock.left())


def _box_is_enough(n_workable: int, cost: float, bound: LpBound) -> bool:
    """Whether stage 1 may stop at the design proved optimal next to the LP optimum: a large request (over
    FULL_ASSIGNMENT_LIMIT workable person x options: the full model's seconds then matter in stage 2) and a design
    within STAGE1_ENOUGH of ``bound``, the LP relaxation of stage 1's own model (so of its optimum too)."""
    near = bound.coverage_cost > 0 and cost <= (1 + STAGE1_ENOUGH) * bound.coverage_cost
    return n_workable > FULL_ASSIGNMENT_LIMIT and near


def lns_fill(
    comp: Compiled,
    candidates: list[list[list[int]]],
    counts: dict[int, int],
    roster: list[list[int]],
    request: RosterRequest,
    clock: _Clock,
    reserve: float,
) -> tuple[list[list[int]], list[dict] | None, dict[str, Any]]:
    """Large-neighbourhood search on the fill objective: repeatedly free a block of people (most often people
    who could work a shift stage 1 wanted and nobody fills), fix everyone else, and re-roster the block with
    CP-SAT under every hard rule; keep the result when it is no worse. Returns the roster, pattern choices and
    statistics."""
    rng = random.Random(request.seed)
    current = [sorted(r) for r in roster]
    n = len(comp.staff)
    per_person = max(1, sum(len(day) for per_day in candidates for day in per_day) // max(1, n))
    block_size = max(2, min(n, BLOCK_VARIABLES // per_person))
    able: dict[int, list[int]] = defaultdict(list)
    for p, per_day in enumerate(candidates):
        for day in per_day:
            for oi in day:
                able[oi].append(p)
    z: list[dict] = [{} for _ in range(n)]
    cost = fill_cost(comp, counts, current)
    stats = {"lns_blocks": 0, "lns_improvements": 0, "fill_cost_start": cost}
    w = comp.request.weights
    while clock.left() > reserve + 0.2 and not clock.check_cancel():
        have: dict[int, int] = defaultdict(int)
        for options in current:
            for oi in options:
                have[oi] += 1
        short = [oi for oi, c in counts.items() if have[oi] < c and able.get(oi)]
        block: set[int] = set()
        if short and rng.random() < 0.8:
            target = rng.choice(short)
            day = comp.options[target].day
            pool = able[target]
            block.update(rng.sample(pool, min(len(pool), block_size // 2)))
            # people working near that day are the ones whose shifts may need to move
            near = [p for p in range(n) if any(abs(comp.options[oi].day - day) <= 1 for oi in current[p])]
            rng.shuffle(near)
            block.update(near[: block_size - len(block)])
        while len(block) < block_size:
            block.add(rng.randrange(n))
        persons = sorted(block)
        residual = dict(counts)
        for p in range(n):
            if p not in block:
                for oi in current[p]:
                    residual[oi] = residual.get(oi, 0) - 1
        fixed = {
            name: _fixed_range(comp, candidates, current, block, test)
            for name, test, weight in (("night", _night, w.night_fairness), ("weekend", _weekend, w.weekend_fairness))
            if weight > 0
        }
        am = build_assignment_model(comp, candidates, residual, persons, {k: v for k, v in fixed.items() if v})
        sub = [current[p] for p in persons]
        for pv, options in zip(am.people, sub, strict=True):
            on = set(options)
            for oi, v in pv.a.items():
                am.model.add_hint(v, oi in on)
        _hint_fill(am, residual, sub)
        am.hint_soft(comp, sub)
        solver, status, _ = _run(
            am.model, min(BLOCK_SECONDS, clock.left() - reserve), request, clock, "assignment", light=True
        )
        stats["lns_blocks"] += 1
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        new = [sorted(oi for oi, v in pv.a.items() if solver.boolean_value(v)) for pv in am.people]
        trial = list(current)
        for p, options in zip(persons, new, strict=True):
            trial[p] = options
        trial_cost = fill_cost(comp, counts, trial)
        if trial_cost <= cost:
            stats["lns_improvements"] += trial_cost < cost
            current, cost = trial, trial_cost
            for p, pv in zip(persons, am.people, strict=True):
                z[p] = {c: solver.boolean_value(v) for c, v in pv.z.items()}
        clock.report("assignment", float(cost), None)
    stats["fill_cost_end"] = cost
    return current, z, stats


def _near_used(comp: Compiled, used: set[int]) -> set[int]:
    """Options stage 1 used, and the same template on the same day one start step either side."""
    keys = {(comp.options[oi].template, comp.options[oi].day) for oi in used}
    out = set(used)
    for d, day in enumerate(comp.by_day):
        by_template: dict[int, list[int]] = defaultdict(list)
        for oi in day:
            by_template[comp.options[oi].template].append(oi)
        for ti, ois in by_template.items():
            if (ti, d) not in keys:
                continue
            for i, oi in enumerate(ois):
                if oi in used:
                    out.update(ois[max(0, i - 1): i + 2])
    return out


def _night(o: Any) -> bool:
    return o.night


def _weekend(o: Any) -> bool:
    return o.weekend


def _fixed_range(
    comp: Compiled, candidates: list[list[list[int]]], roster: list[list[int]], block: set[int], test: Any
) -> tuple[int, int] | None:
    """(max, min) count of night/weekend shifts among people outside the block who can work such shifts."""
    values = [
        sum(1 for oi in roster[p] if test(comp.options[oi]))
        for p in range(len(comp.staff))
        if p not in block and any(test(comp.options[oi]) for day in candidates[p] for oi in day)
    ]
    return (max(values), min(values)) if values else None


def place_breaks(comp: Compiled, roster: list[list[int]]) -> tuple[dict[int, list[list[int]]], list[int]]:
    """Greedy break placement for a fixed roster: each break, in turn, goes to the start in its window where
    the phones have the most agents to spare. Returns per option and break the chosen starts (one per shift)
    and the agents on the phones per interval. Used for hints and for rosters that skip stage 2."""
    n = comp.n_intervals
    on = [0] * n
    counts: dict[int, int] = {}
    for options in roster:
        for oi in options:
            counts[oi] = counts.get(oi, 0) + 1
    for oi, c in counts.items():
        o = comp.options[oi]
        for t in range(max(0, o.first), min(n, o.first + o.length)):
            on[t] += c
    placed: dict[int, list[list[int]]] = {}
    for oi in sorted(counts, key=lambda i: comp.options[i].start):
        o = comp.options[oi]
        placed[oi] = [[] for _ in o.breaks]
        for _ in range(counts[oi]):
            for bi, starts in enumerate(o.breaks):
                length = o.break_lengths[bi]

                def spare(k: int, length: int = length) -> int:
                    ts = range(max(0, k), min(n, k + length))
                    return min((on[t] - comp.required[t] for t in ts), default=10**9)

                k = max(starts, key=spare)
                placed[oi][bi].append(k)
                for t in range(max(0, k), min(n, k + length)):
                    on[t] -= 1
    return placed, on


def _hint_counts(
    model: cp_model.CpModel,
    comp: Compiled,
    count_vars: dict[Any, Any],
    y: dict[tuple, Any],
    under: dict[int, Any],
    over: dict[int, Any],
    roster: list[list[int]],
    skill_under: dict[tuple[str, int], Any] | None = None,
) -> None:
    """Hint shift counts, break counts (placed greedily) and coverage of a known rule-abiding roster, so CP-SAT
    starts from a complete feasible point instead of searching for one. Count keys are options, or (option,
    class) pairs when the model counts shifts per staff class (skill rows)."""
    placed, on = place_breaks(comp, roster)
    by_class = any(not isinstance(k, int) for k in count_vars)
    per_key = _by_key(comp, roster, placed) if by_class else placed
    have = _key_counts(comp, roster, by_class)
    for key, v in count_vars.items():
        chosen = per_key.get(key)
        model.add_hint(v, have.get(key, 0))
        for bi, starts in enumerate(comp.options[option_of(key)].breaks):
            mine = chosen[bi] if chosen else []
            for k in starts:
                model.add_hint(y[(key, bi, k)], mine.count(k))
    for t, v in over.items():
        model.add_hint(v, max(0, on[t] - comp.required[t]))
    for t, v in under.items():
        model.add_hint(v, max(0, comp.required[t] - on[t]))
    if skill_under:
        by_skill = phones_by_skill(comp, roster, placed)
        for (sk, t), v in skill_under.items():
            model.add_hint(v, max(0, comp.skill_required[sk][t] - by_skill[sk][t]))


def _handed(comp: Compiled, roster: list[list[int]]) -> Iterator[tuple[int, int, int]]:
    """(person, option, k): the k-th shift of each option in the order every break list is handed out in (people
    in index order, each person's options sorted; ``_assignments`` and the polish's ``breaks`` agree)."""
    seen: dict[int, int] = defaultdict(int)
    for p, options in enumerate(roster):
        for oi in sorted(options):
            yield p, oi, seen[oi]
            seen[oi] += 1


def _break_start(
    breaks: dict[int, list[list[int]]] | None, oi: int, bi: int, k: int, window: tuple[int, ...]
) -> int:
    """Where the k-th shift of option ``oi`` (in hand-out order) starts its break ``bi``: its entry of the break
    list (the last one if the list is short), else the window's first start."""
    starts = (breaks or {}).get(oi, [])
    mine = starts[bi] if len(starts) > bi else []
    return mine[min(k, len(mine) - 1)] if mine else window[0]


def _by_key(
    comp: Compiled, roster: list[list[int]], breaks: dict[int, list[list[int]]]
) -> dict[Any, list[list[int]]]:
    """Per-option break starts (handed out in order) split by count key (option, class) of whoever takes each."""
    out: dict[Any, list[list[int]]] = {}
    for p, oi, k in _handed(comp, roster):
        key = class_key(comp, oi, comp.staff[p])
        per = out.setdefault(key, [[] for _ in comp.options[oi].breaks])
        for bi, starts in enumerate(breaks.get(oi, [])):
            if starts:
                per[bi].append(starts[min(k, len(starts) - 1)])
    return out


def _by_option(
    comp: Compiled, roster: list[list[int]], per_key: dict[Any, list[list[int]]]
) -> dict[int, list[list[int]]]:
    """Break starts per count key merged into per-option lists in hand-out order, so that each person gets a start
    their class's count was solved for (the identity when counts are per option)."""
    if all(isinstance(key, int) for key in per_key):
        return per_key
    out: dict[int, list[list[int]]] = {}
    taken: dict[Any, int] = defaultdict(int)
    for p, oi, _ in _handed(comp, roster):
        key = class_key(comp, oi, comp.staff[p])
        per = out.setdefault(oi, [[] for _ in comp.options[oi].breaks])
        mine = per_key.get(key)
        for bi, window in enumerate(comp.options[oi].breaks):
            starts = mine[bi] if mine else []
            per[bi].append(starts[taken[key]] if taken[key] < len(starts) else window[0])
        taken[key] += 1
    return out


def phones_by_skill(
    comp: Compiled, roster: list[list[int]], breaks: dict[int, list[list[int]]] | None
) -> dict[str, list[int]]:
    """Per skill with requirement rows, the people with it on the phones per interval (their shifts minus their
    breaks as handed out)."""
    n = comp.n_intervals
    out = {s: [0] * (n + 1) for s in comp.skill_names}
    if not out:
        return {}
    for p, oi, k in _handed(comp, roster):
        skills = comp.staff[p].skills
        if not skills:
            continue
        o = comp.options[oi]
        spans = [(o.first, o.first + o.length, 1)]
        for bi, window in enumerate(o.breaks):
            at = _break_start(breaks, oi, bi, k, window)
            spans.append((at, at + o.break_lengths[bi], -1))
        for s in skills:
            diff = out[s]
            for a, b, sign in spans:
                a, b = max(0, a), min(n, b)
                if a < b:
                    diff[a] += sign
                    diff[b] -= sign
    return {s: list(itertools.accumulate(diff[:n])) for s, diff in out.items()}


def _hint_fill(am: Any, targets: dict[int, int], roster: list[list[int]]) -> None:
    """Hint the short/surplus variables of the fill model for a roster."""
    have: dict[int, int] = {}
    for options in roster:
        for oi in options:
            have[oi] = have.get(oi, 0) + 1
    for oi, v in am.count.items():
        n, want = have.get(oi, 0), max(0, targets.get(oi, 0))
        am.model.add_hint(v, n)
        am.model.add_hint(am.over[oi], max(0, n - want))
        if oi in am.under:
            am.model.add_hint(am.under[oi], max(0, want - n))


def _polish(
    comp: Compiled,
    workable: list[list[list[int]]],
    roster: list[list[int]],
    breaks: dict[int, list[list[int]]] | None,
    request: RosterRequest,
    clock: _Clock,
    reserve: float,
    extra: dict[str, Any],
    lp_values: list[float] | None = None,
) -> tuple[list[list[int]], dict[int, list[list[int]]]]:
    """Local search on the true objective (polish.py) until ``reserve`` seconds are left; returns the roster
    and its break starts. Every person's roster keeps every hard rule (the audit re-checks the result).
    ``lp_values``: the LP bound's value of one more agent per interval (``LpBound.values``; guides the search)."""
    if breaks is None:
        breaks = place_breaks(comp, roster)[0]
    t0 = clock.elapsed()
    pol = Polisher(comp, workable, roster, breaks, request.seed, lp_values)
    if comp.republishing:
        extra["published_adopted"] = pol.adopt_published()
    stats = pol.search(
        lambda: 0.0 if clock.check_cancel() else clock.left() - reserve,
        report=lambda best: clock.report("polish", float(best), None),
        workers=request.workers,
    )
    extra.update((f"polish_{name}", value) for name, value in asdict(stats).items())  # every PolishStats field
    extra["polish_seconds"] = round(clock.elapsed() - t0, 2)
    return pol.roster(), pol.breaks()


def _polish_to_the_end(
    comp: Compiled,
    workable: list[list[list[int]]],
    roster: list[list[int]],
    breaks: dict[int, list[list[int]]] | None,
    request: RosterRequest,
    clock: _Clock,
    extra: dict[str, Any],
    lp_values: list[float] | None = None,
) -> tuple[list[list[int]], dict[int, list[list[int]]]]:
    """The last step of a stage 2 with no fill after it: the polish until only the breaks' share of the time (and
    the margin) is left, then the breaks placed by CP-SAT from the polish's placement."""
    reserve = max(0.5, _breaks_reserve(clock)) + MARGIN_SECONDS
    chosen, placed = _polish(comp, workable, roster, breaks, request, clock, reserve, extra, lp_values)
    return chosen, _solve_breaks(comp, chosen, request, clock, placed)


def _solve_breaks(
    comp: Compiled,
    roster: list[list[int]],
    request: RosterRequest,
    clock: _Clock,
    start: dict[int, list[list[int]]] | None = None,
) -> dict[int, list[list[int]]]:
    """Place the breaks of a fixed roster by CP-SAT (``start``, else the greedy placement, as its hint and
    fallback)."""
    placed = start if start is not None else place_breaks(comp, roster)[0]
    per_key = _by_key(comp, roster, placed) if comp.skill_required else placed
    counts = dict(_key_counts(comp, roster, bool(comp.skill_required)))
    model, design = build_break_model(comp, counts)
    for (key, bi, k), var in design.y.items():
        mine = per_key.get(key)
        model.add_hint(var, mine[bi].count(k) if mine and len(mine) > bi else 0)
    solver, status, _ = _run(model, max(0.5, clock.left() - 0.5), request, clock, "breaks")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return placed
    return _by_option(comp, roster, {
        key: [
            [k for k in starts for _ in range(int(solver.value(design.y[(key, bi, k)])))]
            for bi, starts in enumerate(comp.options[option_of(key)].breaks)
        ]
        for key in counts
    })


def _key_counts(comp: Compiled, roster: list[list[int]], by_class: bool) -> dict[Any, int]:
    """Shifts per count key in the roster: per option, or (``by_class``) per option and staff class."""
    counts: dict[Any, int] = defaultdict(int)
    for p, options in enumerate(roster):
        for oi in options:
            counts[class_key(comp, oi, comp.staff[p]) if by_class else oi] += 1
    return counts


def _cost_of(comp: Compiled, chosen: list[list[int]]) -> float:
    """Coverage cost of a roster with greedily placed breaks (for choosing the better starting hint)."""
    placed, on = place_breaks(comp, chosen)
    return coverage_cost(comp.required, on) + skill_coverage_cost(comp, phones_by_skill(comp, chosen, placed))


def design_shifts(request: RosterRequest, seconds: float | None = None) -> dict[str, Any]:
    """Stage 1 alone (shift design: how many shifts of each template, start and day), for comparisons and a
    design-only answer: returns the shift counts and their coverage KPIs against the LP bound."""
    errors = validate_request(request)
    if errors:
        raise RosterValidationError(errors)
    clock = _Clock(seconds or request.time_limit_seconds, None, None)
    comp = compile_request(request)
    workable = [workable_options(comp, p) for p in comp.staff]
    bound = lp_bounds(comp, workable)
    model = cp_model.CpModel()
    design = build_design_model(CpBackend(model), comp, workable)
    model.minimize(design.objective)
    for oi, v in design.x.items():
        model.add_hint(v, round(bound.x.get(oi, 0.0)))
    for key, v in design.y.items():
        model.add_hint(v, round(bound.y.get(key, 0.0)))
    solver, status, _ = _run(model, clock.left(), request, clock, "design")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"status": solver.status_name(status), "shifts": [], "seconds": clock.elapsed()}
    hours = request.interval_minutes / 60
    under = sum(solver.value(v) for v in design.under.values()) * hours
    over = sum(solver.value(v) for v in design.over.values()) * hours
    shifts = [
        {"template": comp.options[oi].name, "day": comp.options[oi].day, "start": comp.options[oi].start,
         "count": int(solver.value(v))}
        for oi, v in design.x.items()
        if solver.value(v) > 0
    ]
    return {
        "status": solver.status_name(status),
        "shifts": shifts,
        "shift_count": sum(s["count"] for s in shifts),
        "shift_agent_hours": sum(s["count"] * comp.options[oi].minutes / 60 for s, oi in
                                 zip(shifts, [oi for oi, v in design.x.items() if solver.value(v) > 0], strict=True)),
        "under_coverage_agent_hours": under,
        "over_coverage_agent_hours": over,
        "under_coverage_lower_bound_agent_hours": bound.under_intervals * hours,
        "seconds": round(clock.elapsed(), 2),
    }
