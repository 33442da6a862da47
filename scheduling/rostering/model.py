"""The rostering models, built in one place from small named functions, one per family of constraints.

Stage 1 (shift design) chooses how many shifts of each template, start time and day to run, with break counts,
under aggregated workforce limits (each a valid relaxation of the per-person rules), minimising weighted
under-coverage, then over-coverage. Its LP relaxation (GLOP) is the lower bound the gap is reported against.
Stage 2 (assignment) chooses who works which shift under every per-person hard rule, re-optimising coverage
over the start times stage 1 used (plus each person's known-feasible week), with the soft rules as penalties.
The per-person model alone (no coverage) is the feasibility pre-check and the conflict diagnosis.

Style follows OR-Tools' examples/python/shift_scheduling_sat.py: ``build_*`` assembles, ``add_*`` adds one family.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from scheduling.rostering.grid import Compiled, Option, StaffInfo
from scheduling.rostering.grid import workable_options as workable_options  # re-exported: its callers import it here

#: Objective units. Under-coverage of one agent for one interval costs UNDER_UNIT x w(t), w(t) = 1 + round(3 x
#: required(t) / peak requirement), so a short at the 999 peak costs 4x a short in a quiet night interval.
UNDER_UNIT = 1000
#: One surplus agent for one interval.
OVER_UNIT = 100
#: Soft rules, multiplied by the request's weights: per shift of spread (max - min) in nights / weekend shifts
#: across staff, per interval of change between consecutive days' start times, per unmet preference.
FAIRNESS_UNIT, STABLE_UNIT, PREFERENCE_UNIT = 40, 1, 20
#: Re-rostering a published roster (``Staff.published``), multiplied by ``weights.keep_published``: per day a
#: person's shift differs from the published one (moved, dropped or added), as much as one agent short for one
#: interval of the quietest weight: the roster changes someone's day only where it covers more than that.
KEEP_UNIT = 1000

#: Hard-rule families, as named in conflict diagnoses.
FAMILIES = (
    "contract",
    "rest",
    "consecutive_days",
    "days_off",
    "weekly_max",
    "unavailability",
    "allowed_templates",
    "pattern",
)


def interval_weights(required: Sequence[int]) -> list[int]:
    """Under-coverage weight per interval, growing with the requirement (1 in the quietest, 4 at the peak)."""
    peak = max(required, default=0) or 1
    return [1 + round(3 * r / peak) for r in required]


# ---------------------------------------------------------------------------------------------------------
# Backends: the design model is written once and built either for CP-SAT (integers) or for GLOP (its LP).
class Backend(Protocol):
    """The few operations the design model needs from a solver."""

    def var(self, lb: float, ub: float, name: str) -> Any: ...
    def add(self, constraint: Any) -> None: ...
    def total(self, terms: Sequence[Any], coefs: Sequence[float] | None = None) -> Any: ...


class CpBackend:
    """CP-SAT integer variables."""

    def __init__(self, model: cp_model.CpModel) -> None:
        self.model = model

    def var(self, lb: float, ub: float, name: str) -> Any:
        """An integer variable."""
        return self.model.new_int_var(int(lb), int(ub), name)

    def add(self, constraint: Any) -> None:
        """A linear constraint."""
        self.model.add(constraint)

    def total(self, terms: Sequence[Any], coefs: Sequence[float] | None = None) -> Any:
        """A (weighted) sum."""
        if coefs is None:
            return cp_model.LinearExpr.sum(list(terms))
        return cp_model.LinearExpr.weighted_sum(list(terms), [int(c) for c in coefs])


class LpBackend:
    """GLOP continuous variables (the LP relaxation)."""

    def __init__(self, solver: pywraplp.Solver) -> None:
        self.solver = solver

    def var(self, lb: float, ub: float, name: str) -> Any:
        """A continuous variable."""
        return self.solver.NumVar(float(lb), float(ub), name)

    def add(self, constraint: Any) -> None:
        """A linear constraint."""
        self.solver.Add(constraint)

    def total(self, terms: Sequence[Any], coefs: Sequence[float] | None = None) -> Any:
        """A (weighted) sum."""
        if coefs is None:
            return self.solver.Sum(list(terms))
        return self.solver.Sum([c * t for c, t in zip(coefs, terms, strict=True)])


# ---------------------------------------------------------------------------------------------------------
# Families shared by both stages: breaks and coverage.
#: A count key: a shift option's index, or (option, staff class) where skill requirements make who works it matter.
CountKey = int | tuple[int, int]


def option_of(key: CountKey) -> int:
    """The option index of a count key."""
    return key if isinstance(key, int) else key[0]


def class_key(comp: Compiled, oi: int, person: StaffInfo) -> CountKey:
    """The count key of ``person`` working option ``oi``: the option alone unless the request has skill rows."""
    return (oi, person.cls) if comp.skill_required else oi


def add_break_counts(
    b: Backend, comp: Compiled, count: dict[CountKey, Any], ub: dict[CountKey, int]
) -> dict[tuple, Any]:
    """For each shift option (or option and class) and each of its breaks, how many of its shifts start that break
    at each allowed interval; they add up to the shift count (breaks inside their windows by construction)."""
    y: dict[tuple, Any] = {}
    for key, cnt in count.items():
        o = comp.options[option_of(key)]
        for bi, starts in enumerate(o.breaks):
            vs = []
            for k in starts:
                v = b.var(0, ub[key], f"y_{key}_{bi}_{k}")
                y[(key, bi, k)] = v
                vs.append(v)
            b.add(b.total(vs) == cnt)
    return y


def add_coverage(
    b: Backend,
    comp: Compiled,
    count: dict[int, Any],
    y: dict[tuple, Any],
    max_agents: int,
) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    """Agents on the phones per interval (working minus on break) against the requirement: returns the under-
    and over-coverage variables and the on-phone expressions per interval."""
    n = comp.n_intervals
    on = _phone_terms(comp, count, y)
    under: dict[int, Any] = {}
    over: dict[int, Any] = {}
    phones: dict[int, Any] = {}
    for t in range(n):
        terms = on.get(t, [])
        expr = b.total([v for v, _ in terms], [c for _, c in terms]) if terms else 0
        phones[t] = expr
        req = comp.required[t]
        if req > 0:
            under[t] = b.var(0, req, f"under_{t}")
        over[t] = b.var(0, max_agents, f"over_{t}")
        if terms or req:
            b.add(expr + (under[t] if req > 0 else 0) - over[t] == req)
    return under, over, phones


def _phone_terms(
    comp: Compiled, count: dict[CountKey, Any], y: dict[tuple, Any], keep: Callable[[CountKey], bool] | None = None
) -> dict[int, list[tuple[Any, int]]]:
    """Per interval, (variable, +1 / -1) terms of the agents on the phones: shifts working minus breaks taken,
    over the count keys ``keep`` accepts (all by default)."""
    n = comp.n_intervals
    on: dict[int, list[tuple[Any, int]]] = defaultdict(list)
    for key, cnt in count.items():
        if keep is None or keep(key):
            o = comp.options[option_of(key)]
            for t in range(max(0, o.first), min(n, o.first + o.length)):
                on[t].append((cnt, 1))
    for (key, bi, k), v in y.items():
        if keep is None or keep(key):
            for t in range(max(0, k), min(n, k + comp.options[option_of(key)].break_lengths[bi])):
                on[t].append((v, -1))
    return on


def add_skill_coverage(
    b: Backend, comp: Compiled, count: dict[Any, Any], y: dict[tuple, Any]
) -> dict[tuple[str, int], Any]:
    """Per skill with requirement rows and interval, the agents short among those on the phones who have the
    skill (count keys are (option, class)); surplus costs nothing here (the pool's over-coverage counts it)."""
    under: dict[tuple[str, int], Any] = {}
    for s in comp.skill_names:
        under.update(_skill_rows(b, comp, s, _phone_terms(comp, count, y, lambda key, s=s: s in comp.classes[key[1]])))
    return under


def _skill_rows(
    b: Backend, comp: Compiled, skill: str, on: dict[int, list[tuple[Any, int]]]
) -> dict[tuple[str, int], Any]:
    """A skill's row per interval: the skilled agents on the phones (``on`` terms) plus its under-coverage variable
    reach the requirement; returns those variables per (skill, interval)."""
    under: dict[tuple[str, int], Any] = {}
    for t, req in enumerate(comp.skill_required[skill]):
        if req > 0:
            under[(skill, t)] = b.var(0, req, f"under_{skill}_{t}")
            terms = on.get(t, [])
            expr = b.total([v for v, _ in terms], [c for _, c in terms]) if terms else 0
            b.add(expr + under[(skill, t)] >= req)
    return under


def coverage_cost(required: Sequence[int], on_phones: Sequence[int]) -> int:
    """The coverage objective's value for agents on the phones per interval (the same weights and units)."""
    w = interval_weights(required)
    return sum(
        UNDER_UNIT * wi * max(0, r - s) + OVER_UNIT * max(0, s - r)
        for wi, r, s in zip(w, required, on_phones, strict=True)
    )


def skill_coverage_cost(comp: Compiled, on_by_skill: dict[str, Sequence[int]]) -> int:
    """The objective's value for the skill rows: per skill, weighted under-coverage of the people with it on the
    phones (weights from that skill's own requirement, as the pool's are from its)."""
    total = 0
    for s in comp.skill_names:
        req = comp.skill_required[s]
        w = interval_weights(req)
        total += sum(UNDER_UNIT * wi * max(0, r - x) for wi, r, x in zip(w, req, on_by_skill[s], strict=True))
    return total


def coverage_objective(
    b: Backend,
    comp: Compiled,
    under: dict[int, Any],
    over: dict[int, Any],
    skill_under: dict[tuple[str, int], Any] | None = None,
) -> Any:
    """Weighted under-coverage first (weight grows with the requirement), then over-coverage; skill rows'
    under-coverage weighted by their own requirement's profile."""
    w = interval_weights(comp.required)
    terms = list(under.values()) + list(over.values())
    coefs = [UNDER_UNIT * w[t] for t in under] + [OVER_UNIT] * len(over)
    if skill_under:
        sw = {s: interval_weights(comp.skill_required[s]) for s in comp.skill_names}
        terms += list(skill_under.values())
        coefs += [UNDER_UNIT * sw[s][t] for s, t in skill_under]
    return b.total(terms, coefs)


# ---------------------------------------------------------------------------------------------------------
# Stage 1: shift design with aggregated workforce limits.
@dataclass
class DesignModel:
    """Handles of a built design model."""

    x: dict[int, Any]
    y: dict[tuple, Any]
    under: dict[int, Any]
    over: dict[int, Any]
    objective: Any
    workable: list[list[list[int]]] = field(default_factory=list)
    skill_under: dict[tuple[str, int], Any] = field(default_factory=dict)
    skill_x: dict[tuple[str, int], Any] = field(default_factory=dict)  # (skill, option): shifts the skilled work


def build_design_model(
    b: Backend, comp: Compiled, workable: list[list[list[int]]], band_share: float = 1.0
) -> DesignModel:
    """Stage 1 (and, on LpBackend, its LP relaxation): shift counts per option under aggregated staff limits.

    ``band_share`` < 1 caps the total hours below the sum of the contract maxima (lo + share x (hi - lo) per
    person): a design that needs everyone at their maximum cannot be filled person by person. The LP bound
    keeps 1.0 so that it stays a valid relaxation."""
    can_work: dict[int, int] = defaultdict(int)
    for per_day in workable:
        for day in per_day:
            for oi in day:
                can_work[oi] += 1
    x = {oi: b.var(0, cnt, f"x_{oi}") for oi, cnt in sorted(can_work.items())}
    y = add_break_counts(b, comp, x, can_work)
    under, over, _ = add_coverage(b, comp, x, y, len(comp.staff))
    add_workforce_limits(b, comp, x, workable, band_share)
    skill_under: dict[tuple[str, int], Any] = {}
    skill_x: dict[tuple[str, int], Any] = {}
    for s in comp.skill_names:
        s_under, s_x = add_skill_design(b, comp, workable, x, s, band_share)
        skill_under.update(s_under)
        skill_x.update(((s, oi), v) for oi, v in s_x.items())
    return DesignModel(x=x, y=y, under=under, over=over, skill_under=skill_under, skill_x=skill_x,
                       objective=coverage_objective(b, comp, under, over, skill_under))


def add_skill_design(
    b: Backend,
    comp: Compiled,
    workable: list[list[list[int]]],
    x: dict[int, Any],
    skill: str,
    band_share: float = 1.0,
) -> tuple[dict[tuple[str, int], Any], dict[int, Any]]:
    """A skill's requirement rows in the design: of each option's shifts, how many people with the skill work
    them, within the shifts planned and within the aggregated limits of those people alone (each a valid
    relaxation of their per-person rules, as the pool's are of everyone's). Their breaks are left out: a valid
    relaxation too (it can only overstate their cover), which on the bench's medium instance with a 999 row
    gives the same LP optimum at a fifth of the time (4.8 s against 23.4 s with per-start break counts).
    Returns the skill's under-coverage variables per (skill, interval) and its shift counts per option."""
    members = [p for p, info in enumerate(comp.staff) if skill in info.skills]
    mine = [workable[p] for p in members]
    able: dict[int, int] = defaultdict(int)
    for per_day in mine:
        for day in per_day:
            for oi in day:
                able[oi] += 1
    xs = {oi: b.var(0, cnt, f"xs_{skill}_{oi}") for oi, cnt in sorted(able.items())}
    for oi, v in xs.items():
        b.add(v <= x[oi])
    add_workforce_limits(b, comp, xs, mine, band_share, [comp.staff[p] for p in members])
    return _skill_rows(b, comp, skill, _phone_terms(comp, xs, {})), xs


def add_workforce_limits(
    b: Backend,
    comp: Compiled,
    x: dict[int, Any],
    workable: list[list[list[int]]],
    band_share: float = 1.0,
    people: Sequence[StaffInfo] | None = None,
) -> None:
    """Every per-person hard rule summed over ``people`` (default: all staff; ``workable`` is theirs, one list
    of options per day each): shifts ``x`` of theirs stay within what they could work between them. Stage 1
    applies it to the whole staff, the per-person LP bound to each group of identical people."""
    add_daily_capacity(b, comp, x, workable)
    add_aggregate_rest(b, comp, x, workable)
    add_aggregate_windows(b, comp, x, workable)
    add_aggregate_contracts(b, comp, x, band_share, people)


def add_daily_capacity(b: Backend, comp: Compiled, x: dict[int, Any], workable: list[list[list[int]]]) -> None:
    """At most one shift per person per day: shifts on a day <= people able to work that day, and per template
    <= people able to work that template that day."""
    for d in range(comp.days):
        people = sum(1 for per_day in workable if per_day[d])
        b.add(b.total([x[oi] for oi in comp.by_day[d] if oi in x]) <= people)
        by_template: dict[int, set[int]] = defaultdict(set)
        for p, per_day in enumerate(workable):
            for oi in per_day[d]:
                by_template[comp.options[oi].template].add(p)
        for ti, ps in by_template.items():
            opts = [x[oi] for oi in comp.by_day[d] if oi in x and comp.options[oi].template == ti]
            b.add(b.total(opts) <= len(ps))


def rest_conflicts(
    comp: Compiled, day_a: Iterable[int], day_b: Iterable[int], rest_minutes: int
) -> list[tuple[list[int], list[int]]]:
    """Groups (earlier options, later options) of which one person can work at most one, covering every pair
    closer than ``rest_minutes`` (end to start): a later option conflicts with every earlier one that ends
    less than the rest before it starts (a suffix of the earlier options by end time); one group per distinct
    suffix, keeping the latest start with it (it dominates the earlier starts)."""
    earlier = sorted(day_a, key=lambda oi: comp.options[oi].end)
    ends = [comp.options[oi].end.timestamp() for oi in earlier]
    later = sorted(day_b, key=lambda oi: comp.options[oi].start)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for j, oj in enumerate(later):
        k = bisect.bisect_right(ends, comp.options[oj].start.timestamp() - rest_minutes * 60)
        if k < len(earlier):
            groups[k] = (earlier[k:], later[: j + 1])
    return list(groups.values())


def _rest_horizon_days(comp: Compiled, rest_minutes: int) -> int:
    """How many days ahead a shift can still be too close to (longest shift + rest)."""
    longest = max((t.length_minutes for t in comp.request.shift_templates), default=0)
    return 1 + (longest + rest_minutes) // 1440


def add_aggregate_rest(b: Backend, comp: Compiled, x: dict[int, Any], workable: list[list[list[int]]]) -> None:
    """Daily rest, aggregated: for each conflicting group, shifts in it <= people able to work either day."""
    rest = comp.request.rules.min_rest_minutes
    span = _rest_horizon_days(comp, rest)
    for d in range(comp.days):
        for d2 in range(d + 1, min(comp.days, d + span + 1)):
            people = sum(1 for per_day in workable if per_day[d] or per_day[d2])
            a = [oi for oi in comp.by_day[d] if oi in x]
            c = [oi for oi in comp.by_day[d2] if oi in x]
            for early, late in rest_conflicts(comp, a, c, rest):
                b.add(b.total([x[oi] for oi in early + late]) <= people)


def add_aggregate_windows(b: Backend, comp: Compiled, x: dict[int, Any], workable: list[list[list[int]]]) -> None:
    """Days off, weekly maximum and consecutive days, summed over staff for every rolling window."""
    rules = comp.request.rules
    for length, per_person_cap in ((7, 7 - rules.min_days_off_per_week), (rules.max_consecutive_days + 1, None)):
        cap_days = per_person_cap if per_person_cap is not None else rules.max_consecutive_days
        for w0 in range(comp.days - length + 1):
            days = range(w0, w0 + length)
            cap = sum(min(cap_days, sum(1 for d in days if per_day[d])) for per_day in workable)
            opts = [x[oi] for d in days for oi in comp.by_day[d] if oi in x]
            b.add(b.total(opts) <= cap)
            if length == 7:
                mins = [comp.options[oi].minutes for d in days for oi in comp.by_day[d] if oi in x]
                b.add(b.total(opts, mins) <= rules.max_minutes_per_week * len(workable))


def add_aggregate_contracts(
    b: Backend, comp: Compiled, x: dict[int, Any], band_share: float = 1.0, people: Sequence[StaffInfo] | None = None
) -> None:
    """Total minutes between the sums of ``people``'s (default: everyone's) contract bands (the upper end at
    ``band_share`` of it)."""
    staff = comp.staff if people is None else people
    ids = list(x)
    mins = [comp.options[oi].minutes for oi in ids]
    total = b.total([x[oi] for oi in ids], mins)
    b.add(total >= sum(p.contract_lo for p in staff))
    b.add(total <= int(sum(p.contract_lo + band_share * (p.contract_hi - p.contract_lo) for p in staff)))


# ---------------------------------------------------------------------------------------------------------
# Per-person hard rules (stage 2 and the pre-check / diagnosis).
@dataclass
class PersonVars:
    """One person's decision variables: a[option] booleans and, on a pattern, z[(pattern, offset)]."""

    a: dict[int, Any]
    by_day: list[list[int]]
    z: dict[tuple[int, int], Any] = field(default_factory=dict)
    stable: dict[int, Any] = field(default_factory=dict)  # day -> start-time change to the next day

    def work(self, d: int) -> Any:
        """1 if the person works on day d."""
        return cp_model.LinearExpr.sum([self.a[oi] for oi in self.by_day[d]])


def add_person(
    model: cp_model.CpModel,
    comp: Compiled,
    person: StaffInfo,
    options_by_day: list[list[int]],
    relax: frozenset[str] = frozenset(),
) -> PersonVars:
    """One person's variables and every hard rule on them except those in ``relax``."""
    sid = person.index
    a = {oi: model.new_bool_var(f"a_{sid}_{oi}") for day in options_by_day for oi in day}
    pv = PersonVars(a=a, by_day=[list(day) for day in options_by_day])
    add_one_shift_per_day(model, comp, pv)
    add_rest(model, comp, pv, 0 if "rest" in relax else comp.request.rules.min_rest_minutes)
    if "consecutive_days" not in relax:
        add_consecutive_days(model, comp, pv, person)
    if "days_off" not in relax:
        add_days_off(model, comp, pv, person)
    if "weekly_max" not in relax:
        add_weekly_max(model, comp, pv, person)
    if "contract" not in relax:
        add_contract(model, comp, pv, person, narrowed=not relax)
    if "pattern" not in relax and person.pattern_choices:
        add_pattern(model, comp, pv, person)
    return pv


def add_one_shift_per_day(model: cp_model.CpModel, comp: Compiled, pv: PersonVars) -> None:
    """At most one shift starts per person per local day."""
    for d in range(comp.days):
        if len(pv.by_day[d]) > 1:
            model.add_at_most_one(pv.a[oi] for oi in pv.by_day[d])


def add_rest(model: cp_model.CpModel, comp: Compiled, pv: PersonVars, rest_minutes: int) -> None:
    """Minimum rest between the end of one shift and the start of the next (0 still forbids overlap)."""
    span = _rest_horizon_days(comp, rest_minutes)
    for d in range(comp.days):
        for d2 in range(d + 1, min(comp.days, d + span + 1)):
            for early, late in rest_conflicts(comp, pv.by_day[d], pv.by_day[d2], rest_minutes):
                model.add_at_most_one(pv.a[oi] for oi in early + late)


def _windows(comp: Compiled, length: int, person: StaffInfo) -> Iterable[range]:
    """Every run of ``length`` consecutive days that holds a roster day and lies inside the roster or reaches
    back into the person's previous period (``worked_before``). Where the previous period alone already breaks a
    window's limit, the roster's part of it must stay empty (the roster cannot undo the past; it must not add)."""
    first = -(length - 1) if person.prior_minutes else 0
    for w0 in range(first, comp.days - length + 1):
        yield range(w0, w0 + length)


def add_consecutive_days(model: cp_model.CpModel, comp: Compiled, pv: PersonVars, person: StaffInfo) -> None:
    """No more than max_consecutive_days working days in a row (days worked before the roster count)."""
    k = comp.request.rules.max_consecutive_days
    for days in _windows(comp, k + 1, person):
        before = sum(1 for d in days if d < 0 and d in person.prior_minutes)
        terms = [pv.work(d) for d in days if d >= 0]
        model.add(cp_model.LinearExpr.sum(terms) <= max(0, k - before))


def add_days_off(model: cp_model.CpModel, comp: Compiled, pv: PersonVars, person: StaffInfo) -> None:
    """At least min_days_off_per_week days without a shift in every 7-day window of the roster."""
    cap = 7 - comp.request.rules.min_days_off_per_week
    for days in _windows(comp, 7, person):
        before = sum(1 for d in days if d < 0 and d in person.prior_minutes)
        model.add(cp_model.LinearExpr.sum([pv.work(d) for d in days if d >= 0]) <= max(0, cap - before))


def _minutes(comp: Compiled, pv: PersonVars, days: Iterable[int]) -> Any:
    ids = [oi for d in days if d >= 0 for oi in pv.by_day[d]]
    return cp_model.LinearExpr.weighted_sum([pv.a[oi] for oi in ids], [comp.options[oi].minutes for oi in ids])


def add_weekly_max(model: cp_model.CpModel, comp: Compiled, pv: PersonVars, person: StaffInfo) -> None:
    """At most max_minutes_per_week worked in every 7-day window (shifts count in the day they start)."""
    for days in _windows(comp, 7, person):
        before = sum(person.prior_minutes.get(d, 0) for d in days if d < 0)
        model.add(_minutes(comp, pv, days) <= max(0, comp.request.rules.max_minutes_per_week - before))


def add_contract(
    model: cp_model.CpModel, comp: Compiled, pv: PersonVars, person: StaffInfo, narrowed: bool = True
) -> None:
    """Contracted minutes on the average week, within the tolerance (pro-rated for leave days): the band narrowed
    to whole shifts (the same rosters), or with ``narrowed`` False the band itself (where relaxed families offer
    options of other lengths)."""
    lo, hi = (person.contract_lo, person.contract_hi) if narrowed else person.band
    total = _minutes(comp, pv, range(comp.days))
    model.add(total >= lo)
    model.add(total <= hi)


def add_pattern(model: cp_model.CpModel, comp: Compiled, pv: PersonVars, person: StaffInfo) -> None:
    """Follow one (pattern, offset): rest days off, working days on a template of the day's letter (a working
    day touched by unavailability may be left off)."""
    pv.z = {c: model.new_bool_var(f"z_{person.index}_{c[0]}_{c[1]}") for c in person.pattern_choices}
    model.add_exactly_one(pv.z.values())
    for d in range(comp.days):
        working = []
        for oi in pv.by_day[d]:
            tpl = comp.options[oi].template
            ok = [v for (pi, off), v in pv.z.items() if tpl in (comp.letter_templates(pi, off, d) or ())]
            model.add(pv.a[oi] <= cp_model.LinearExpr.sum(ok))
        working = [v for (pi, off), v in pv.z.items() if comp.letter_templates(pi, off, d) is not None]
        if d not in person.touched_days and working:
            model.add(pv.work(d) >= cp_model.LinearExpr.sum(working))


# ---------------------------------------------------------------------------------------------------------
# Stage 2: assignment with coverage and soft rules.
@dataclass
class AssignmentModel:
    """Handles of a built assignment model."""

    model: cp_model.CpModel
    people: list[PersonVars]
    count: dict[int, Any]
    y: dict[tuple, Any]
    under: dict[int, Any]
    over: dict[int, Any]
    coverage_cost: Any
    soft_cost: Any
    spreads: dict[str, tuple] = field(default_factory=dict)  # fairness name -> (max var, min var, option test)
    skill_under: dict[tuple[str, int], Any] = field(default_factory=dict)

    def hint_soft(self, comp: Compiled, roster: list[list[int]]) -> None:
        """Hint the soft-rule variables of a roster, completing a hint of the a[] variables."""
        for pv, options in zip(self.people, roster, strict=True):
            chosen = {comp.options[oi].day: comp.options[oi] for oi in options}
            iv = comp.request.interval_minutes
            for d, v in pv.stable.items():
                both = d in chosen and d + 1 in chosen
                gap = abs(chosen[d + 1].start_minute // iv - chosen[d].start_minute // iv) if both else 0
                self.model.add_hint(v, gap)
        for hi, lo, kind, (top, bottom) in self.spreads.values():
            counts = [
                sum(1 for oi in options if kind(comp.options[oi]))
                for pv, options in zip(self.people, roster, strict=True)
                if any(kind(comp.options[oi]) for oi in pv.a)
            ]
            self.model.add_hint(hi, max([*counts, top]))
            self.model.add_hint(lo, min([*counts, bottom]))


def build_assignment_model(
    comp: Compiled,
    candidates: list[list[list[int]]],
    targets: dict[int, int] | None = None,
    persons: Sequence[int] | None = None,
    fixed_ranges: dict[str, tuple[int, int]] | None = None,
) -> AssignmentModel:
    """Stage 2: who works which shift, under every hard rule, then soft penalties. Without ``targets`` it
    minimises the true coverage cost (breaks included); with them (stage 1's shift counts) it fills those
    shifts: an unfilled shift costs what its hours would cost uncovered, a surplus one what they cost over.
    ``persons`` restricts the model to a block of people (the others fixed: ``targets`` are then what is left
    for the block, ``fixed_ranges`` the others' (max, min) nights and weekend shifts), for large-neighbourhood
    search."""
    model = cp_model.CpModel()
    b = CpBackend(model)
    persons = list(range(len(comp.staff))) if persons is None else list(persons)
    people = [add_person(model, comp, comp.staff[p], candidates[p]) for p in persons]
    # Shifts counted per option; for the true coverage, per option and staff class when skills matter (who works
    # a shift then decides which rows it meets), while the fill's targets are per option.
    users: dict[CountKey, list[Any]] = defaultdict(list)
    for p, pv in zip(persons, people, strict=True):
        for oi, v in pv.a.items():
            users[class_key(comp, oi, comp.staff[p]) if targets is None else oi].append(v)
    count: dict[Any, Any] = {key: model.new_int_var(0, len(vs), f"n_{key}") for key, vs in sorted(users.items())}
    for key, vs in users.items():
        model.add(count[key] == cp_model.LinearExpr.sum(vs))
    skill_under: dict[tuple[str, int], Any] = {}
    if targets is None:
        y = add_break_counts(b, comp, count, {key: len(vs) for key, vs in users.items()})
        under, over, _ = add_coverage(b, comp, count, y, len(comp.staff))
        if comp.skill_required:
            skill_under = add_skill_coverage(b, comp, count, y)
        coverage_cost = coverage_objective(b, comp, under, over, skill_under)
    else:
        y = {}
        under, over, coverage_cost = add_fill_targets(model, comp, count, targets)
    w = comp.request.weights
    spreads: dict[str, tuple] = {}
    soft = [
        add_fairness(model, comp, people, _is_night, round(FAIRNESS_UNIT * w.night_fairness), "night", spreads,
                     (fixed_ranges or {}).get("night")),
        add_fairness(model, comp, people, _is_weekend, round(FAIRNESS_UNIT * w.weekend_fairness), "weekend",
                     spreads, (fixed_ranges or {}).get("weekend")),
        add_stable_starts(model, comp, people, round(STABLE_UNIT * w.stable_starts)),
        add_preferences(comp, people, round(PREFERENCE_UNIT * w.preferences), round(KEEP_UNIT * w.keep_published)),
    ]
    soft_cost = cp_model.LinearExpr.sum([s for s in soft if s is not None])
    model.minimize(coverage_cost + soft_cost)
    return AssignmentModel(model, people, count, y, under, over, coverage_cost, soft_cost, spreads, skill_under)


def add_fill_targets(
    model: cp_model.CpModel, comp: Compiled, count: dict[int, Any], targets: dict[int, int]
) -> tuple[dict[int, Any], dict[int, Any], Any]:
    """Shifts short of / beyond stage 1's count per option (returned as under/over keyed by option) and their
    cost: each interval a missing shift would have covered costs its under-coverage weight, each interval of a
    surplus shift the over-coverage unit."""
    w = interval_weights(comp.required)
    short: dict[int, Any] = {}
    surplus: dict[int, Any] = {}
    terms: list[Any] = []
    coefs: list[int] = []
    for oi, n in count.items():
        short_cost, surplus_cost = fill_costs(comp, oi, w)
        want = max(0, targets.get(oi, 0))
        surplus[oi] = model.new_int_var(0, len(comp.staff), f"surplus_{oi}")
        if want > 0:
            short[oi] = model.new_int_var(0, want, f"short_{oi}")
            model.add(n - want == surplus[oi] - short[oi])
            terms.append(short[oi])
            coefs.append(short_cost)
        else:
            model.add(n == surplus[oi])
        terms.append(surplus[oi])
        coefs.append(surplus_cost)
    return short, surplus, cp_model.LinearExpr.weighted_sum(terms, coefs)


def fill_costs(comp: Compiled, oi: int, w: Sequence[int]) -> tuple[int, int]:
    """(cost of one missing, cost of one surplus) shift of option ``oi`` in the fill objective."""
    o = comp.options[oi]
    span = range(max(0, o.first), min(comp.n_intervals, o.first + o.length))
    return UNDER_UNIT * sum(w[t] for t in span) or 1, OVER_UNIT * len(span) or 1


def fill_cost(comp: Compiled, targets: dict[int, int], roster: Iterable[Iterable[int]]) -> int:
    """Fill objective of a roster against stage 1's shift counts (the same costs as ``add_fill_targets``)."""
    w = interval_weights(comp.required)
    have: dict[int, int] = defaultdict(int)
    for options in roster:
        for oi in options:
            have[oi] += 1
    total = 0
    for oi in set(have) | set(targets):
        short_cost, surplus_cost = fill_costs(comp, oi, w)
        gap = have.get(oi, 0) - targets.get(oi, 0)
        total += surplus_cost * gap if gap > 0 else short_cost * -gap
    return total


def build_break_model(comp: Compiled, counts: dict[CountKey, int]) -> tuple[cp_model.CpModel, DesignModel]:
    """Breaks alone for fixed shift counts (per option, or per option and class with skill rows): where each
    shift's breaks go, minimising the coverage cost."""
    model = cp_model.CpModel()
    b = CpBackend(model)
    fixed = {key: c for key, c in counts.items() if c > 0}
    y = add_break_counts(b, comp, fixed, fixed)
    under, over, _ = add_coverage(b, comp, fixed, y, max(1, sum(fixed.values())))
    skill_under = add_skill_coverage(b, comp, fixed, y) if comp.skill_required else {}
    design = DesignModel(x=fixed, y=y, under=under, over=over,
                         objective=coverage_objective(b, comp, under, over, skill_under), skill_under=skill_under)
    model.minimize(design.objective)
    return model, design


def _is_night(o: Option) -> bool:
    return o.night


def _is_weekend(o: Option) -> bool:
    return o.weekend


def add_fairness(
    model: cp_model.CpModel,
    comp: Compiled,
    people: list[PersonVars],
    kind: Any,
    unit: int,
    name: str,
    spread_vars: dict[str, tuple],
    fixed_range: tuple[int, int] | None = None,
) -> Any:
    """Soft: spread (max - min) of the number of night (or weekend) shifts across the staff who can work them
    (``fixed_range``: the (max, min) of people outside the model, which the spread includes)."""
    if unit <= 0:
        return None
    counts = []
    for pv in people:
        ids = [oi for oi in pv.a if kind(comp.options[oi])]
        if ids:
            counts.append(cp_model.LinearExpr.sum([pv.a[oi] for oi in ids]))
    if len(counts) < (1 if fixed_range else 2):
        return None
    top, bottom = fixed_range if fixed_range else (0, comp.days)
    hi = model.new_int_var(top, comp.days, f"{name}_max")
    lo = model.new_int_var(0, bottom, f"{name}_min")
    spread_vars[name] = (hi, lo, kind, (top, bottom))
    for c in counts:
        model.add(hi >= c)
        model.add(lo <= c)
    return unit * (hi - lo)


def add_stable_starts(model: cp_model.CpModel, comp: Compiled, people: list[PersonVars], unit: int) -> Any:
    """Soft: on consecutive working days, penalise the change of local start time (per interval of change);
    diff >= |start(d+1) - start(d)| only binds when both days are worked (big-M on the two work indicators)."""
    if unit <= 0:
        return None
    iv = comp.request.interval_minutes
    big = 1440 // iv
    terms = []
    for pv in people:
        starts = []
        for d in range(comp.days):
            ids = pv.by_day[d]
            slots = [comp.options[oi].start_minute // iv for oi in ids]
            starts.append(cp_model.LinearExpr.weighted_sum([pv.a[oi] for oi in ids], slots) if ids else None)
        for d in range(comp.days - 1):
            if starts[d] is None or starts[d + 1] is None:
                continue
            diff = model.new_int_var(0, big, f"stable_{id(pv)}_{d}")
            off = 2 - pv.work(d) - pv.work(d + 1)
            model.add(diff >= starts[d + 1] - starts[d] - big * off)
            model.add(diff >= starts[d] - starts[d + 1] - big * off)
            pv.stable[d] = diff
            terms.append(diff)
    return unit * cp_model.LinearExpr.sum(terms) if terms else None


def preference_cost(info: StaffInfo, o: Option, unit: int, keep_unit: int) -> int:
    """Soft cost of person ``info`` working option ``o``: ``unit`` for a template they did not list as preferred
    and again on a preferred day off; with a published roster (re-rostering), ``keep_unit`` on a day they were
    published off and minus ``keep_unit`` for the very shift they were published on. A per-option price is what
    every model and move here takes; it differs from "keep_unit per changed day" only by a constant per person."""
    cost = unit * ((bool(info.preferred_templates) and o.template not in info.preferred_templates)
                   + (o.day in info.preferred_off_days))
    if info.published and keep_unit:
        published = info.published.get(o.day)
        cost += keep_unit if published is None else -keep_unit if published == o.idx else 0
    return cost


def add_preferences(comp: Compiled, people: list[PersonVars], unit: int, keep_unit: int = 0) -> Any:
    """Soft: ``preference_cost`` of every shift chosen."""
    if unit <= 0 and keep_unit <= 0:
        return None
    terms, coefs = [], []
    for p, pv in enumerate(people):
        info = comp.staff[p]
        for oi, v in pv.a.items():
            c = preference_cost(info, comp.options[oi], unit, keep_unit)
            if c:
                terms.append(v)
                coefs.append(c)
    return cp_model.LinearExpr.weighted_sum(terms, coefs) if terms else None
