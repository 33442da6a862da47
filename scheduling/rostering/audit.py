"""Independent audit of a finished roster against every hard rule, and its coverage per interval.

Deliberately separate from the model: it reads only the request and the assignments as datetimes (no grid
indices, no option tables), so a bug in how the model encodes a rule shows up here as a violation.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.rostering.types import (
    OFF_LETTER,
    Assignment,
    CoveragePoint,
    Period,
    RosterRequest,
    Staff,
    Violation,
)
from scheduling.rostering.validation import WORKED_BEFORE_DAYS

#: Rule families the audit checks (names shared with conflict diagnosis).
RULES = (
    "template",
    "breaks",
    "allowed_templates",
    "unavailability",
    "overlap",
    "one_shift_per_day",
    "rest",
    "consecutive_days",
    "days_off",
    "weekly_max",
    "contract",
    "pattern",
)


def audit_roster(
    request: RosterRequest,
    assignments: Iterable[Assignment],
    patterns_chosen: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Violation]:
    """Every hard-rule violation of a roster; empty for a valid one. ``patterns_chosen`` maps staff id to
    {"pattern": name, "offset": int} for people on patterns (as in RosterResult.patterns_chosen)."""
    tz = ZoneInfo(request.timezone)
    staff = {s.id: s for s in request.staff}
    templates = {t.name: t for t in request.shift_templates}
    per_person: dict[str, list[Assignment]] = defaultdict(list)
    out: list[Violation] = []
    for a in assignments:
        if a.staff_id not in staff:
            out.append(Violation("template", a.staff_id, f"unknown staff id {a.staff_id!r}"))
            continue
        per_person[a.staff_id].append(a)
        tpl = templates.get(a.template)
        if tpl is None:
            out.append(Violation("template", a.staff_id, f"unknown template {a.template!r}"))
            continue
        out += _check_shift_shape(request, tz, a, tpl)
        out += _check_breaks(a, tpl)
        s = staff[a.staff_id]
        if s.allowed_templates is not None and a.template not in s.allowed_templates:
            out.append(Violation("allowed_templates", a.staff_id, f"{a.template} at {a.start} is not allowed"))
        for p in s.unavailable:
            if p.start < a.end and a.start < p.end:
                out.append(
                    Violation("unavailability", a.staff_id, f"shift {a.start}..{a.end} overlaps unavailability")
                )
    chosen = patterns_chosen or {}
    for s in request.staff:
        shifts = sorted(per_person.get(s.id, []), key=lambda a: a.start)
        out += _check_person(request, tz, s, shifts, chosen.get(s.id))
    return out


def _local_day(request: RosterRequest, tz: ZoneInfo, instant: datetime) -> int:
    """Roster day index (0-based) of the local date an instant falls on."""
    return (instant.astimezone(tz).date() - request.start_date).days


def _check_shift_shape(request: RosterRequest, tz: ZoneInfo, a: Assignment, tpl: Any) -> list[Violation]:
    """Start inside the template's window and on its step, on a roster day, and the right length."""
    out = []
    local = a.start.astimezone(tz)
    minute = local.hour * 60 + local.minute
    first = time.fromisoformat(tpl.start_earliest)
    last = time.fromisoformat(tpl.start_latest)
    lo, hi = first.hour * 60 + first.minute, last.hour * 60 + last.minute
    if local.second or not lo <= minute <= hi or (minute - lo) % tpl.start_step_minutes:
        out.append(Violation("template", a.staff_id, f"{a.template} starts at {local.time()} outside its window/step"))
    if not 0 <= _local_day(request, tz, a.start) < request.days:
        out.append(Violation("template", a.staff_id, f"shift at {a.start} starts outside the roster's days"))
    if a.end - a.start != timedelta(minutes=tpl.length_minutes):
        out.append(
            Violation("template", a.staff_id, f"{a.template} at {a.start} lasts {a.end - a.start}, not template length")
        )
    return out


def _check_breaks(a: Assignment, tpl: Any) -> list[Violation]:
    """Each template break present once, of its length, starting inside its window, inside the shift."""
    if len(a.breaks) != len(tpl.breaks):
        return [Violation("breaks", a.staff_id, f"{a.template} at {a.start} has {len(a.breaks)} breaks")]
    out = []
    for b, rule in zip(sorted(a.breaks, key=lambda b: b.start), tpl.breaks, strict=True):
        after = (b.start - a.start) / timedelta(minutes=1)
        if b.end - b.start != timedelta(minutes=rule.length_minutes):
            out.append(Violation("breaks", a.staff_id, f"break at {b.start} has the wrong length"))
        if not rule.earliest_after_minutes <= after <= rule.latest_after_minutes:
            out.append(Violation("breaks", a.staff_id, f"break at {b.start} is outside its window"))
        if b.start < a.start or b.end > a.end:
            out.append(Violation("breaks", a.staff_id, f"break at {b.start} is not inside the shift"))
    return out


def _days_wholly_unavailable(request: RosterRequest, tz: ZoneInfo, periods: tuple[Period, ...]) -> int:
    """Count roster days whose whole local day is inside unavailability (leave credits the contract)."""
    count = 0
    for d in range(request.days):
        day = request.start_date + timedelta(days=d)
        lo = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        hi = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        # walk minute marks of the day in 5-minute steps: slow but obviously right, and days are few
        t, ok = lo, True
        while t < hi and ok:
            ok = any(p.start <= t < p.end for p in periods)
            t += timedelta(minutes=5)
        count += ok
    return count


def _check_person(
    request: RosterRequest,
    tz: ZoneInfo,
    s: Staff,
    shifts: list[Assignment],
    chosen: Mapping[str, Any] | None,
) -> list[Violation]:
    """Rules over one person's whole roster: overlap, rest, days, weekly limits, contract and pattern."""
    rules = request.rules
    out: list[Violation] = []
    before = sorted(s.worked_before, key=lambda w: w.start)  # the previous period, as given
    for prev, nxt in itertools.pairwise([*before, *shifts]):
        if isinstance(nxt, Period):
            continue  # two shifts of the previous period: not this roster's to judge
        gap = (nxt.start - prev.end) / timedelta(minutes=1)
        if gap < 0:
            out.append(Violation("overlap", s.id, f"shifts at {prev.start} and {nxt.start} overlap"))
        elif gap < rules.min_rest_minutes:
            out.append(Violation("rest", s.id, f"only {gap:.0f} min rest between {prev.end} and {nxt.start}"))
    day_minutes: dict[int, int] = defaultdict(int)
    day_count: dict[int, int] = defaultdict(int)
    day_templates: dict[int, str] = {}
    for a in shifts:
        d = _local_day(request, tz, a.start)
        day_count[d] += 1
        day_minutes[d] += int((a.end - a.start) / timedelta(minutes=1))
        day_templates[d] = a.template
    for d, c in day_count.items():
        if c > 1:
            out.append(Violation("one_shift_per_day", s.id, f"{c} shifts start on day {d}"))
    # Days before the roster (negative) hold the previous period's shifts; windows reach back into it.
    back = WORKED_BEFORE_DAYS if before else 0
    prior_minutes: dict[int, int] = defaultdict(int)
    for w in before:
        prior_minutes[_local_day(request, tz, w.start)] += int((w.end - w.start) / timedelta(minutes=1))
    minutes_on = {**prior_minutes, **day_minutes}
    worked = {d: (d in prior_minutes if d < 0 else day_count.get(d, 0) > 0) for d in range(-back, request.days)}
    run, flagged = 0, False
    for d in range(-back, request.days):
        run = run + 1 if worked[d] else 0
        flagged = flagged and run > 0
        if run > rules.max_consecutive_days and d >= 0 and not flagged:
            msg = f"more than {rules.max_consecutive_days} working days in a row up to day {d}"
            out.append(Violation("consecutive_days", s.id, msg))
            flagged = True
    for w0 in range(-6 if before else 0, request.days - 6):
        if not any(worked[d] for d in range(max(0, w0), w0 + 7)):
            continue  # nothing of this roster in the window: a breach there is the previous period's alone
        off = sum(not worked[d] for d in range(w0, w0 + 7))
        if off < rules.min_days_off_per_week:
            out.append(Violation("days_off", s.id, f"only {off} days off in days {w0}..{w0 + 6}"))
        minutes = sum(minutes_on.get(d, 0) for d in range(w0, w0 + 7))
        if minutes > rules.max_minutes_per_week:
            out.append(Violation("weekly_max", s.id, f"{minutes} min in days {w0}..{w0 + 6}"))
    # The contract over its period: the roster's days, or from contract_period_start with the previous period's
    # minutes since then; where those alone pass the top, a roster that adds nothing is not to blame.
    pre = (request.start_date - request.contract_period_start).days if request.contract_period_start else 0
    leave = _days_wholly_unavailable(request, tz, s.unavailable) if s.unavailable else 0
    target = s.contract_minutes_per_week * (request.days + pre - leave) / 7
    tol = rules.contract_tolerance_minutes * (request.days + pre) / 7
    ours = sum(day_minutes.values())
    earlier = sum(m for d, m in prior_minutes.items() if d >= -pre) if pre else 0
    total = ours + earlier
    if not (target - tol - 1e-6 <= total <= target + tol + 1e-6 or (ours == 0 and total > target)):
        since = f" ({earlier} of them before the roster)" if pre else ""
        out.append(Violation("contract", s.id, f"{total} min worked{since} against {target:.0f} +/- {tol:.0f} "
                                               "(pro-rated contract)"))
    out += _check_pattern(request, tz, s, day_templates, chosen)
    return out


def _check_pattern(
    request: RosterRequest,
    tz: ZoneInfo,
    s: Staff,
    day_templates: dict[int, str],
    chosen: Mapping[str, Any] | None,
) -> list[Violation]:
    """A person on a pattern works its letters' templates on its working days and rests on its rest days; a
    working day touched by unavailability may be left off."""
    if s.pattern is None and not s.pattern_auto:
        return []
    if not chosen:
        return [Violation("pattern", s.id, "on a pattern but no pattern/offset reported")]
    patterns = {p.name: p for p in request.patterns}
    pat = patterns.get(chosen.get("pattern", ""))
    offset = chosen.get("offset")
    if pat is None or not isinstance(offset, int):
        return [Violation("pattern", s.id, f"unknown pattern choice {chosen!r}")]
    out = []
    if s.pattern is not None and s.pattern != pat.name:
        out.append(Violation("pattern", s.id, f"assigned {s.pattern} but follows {pat.name}"))
    if s.pattern_offset is not None and s.pattern_offset % len(pat.cycle) != offset % len(pat.cycle):
        out.append(Violation("pattern", s.id, f"offset {offset} differs from the assigned {s.pattern_offset}"))
    for d in range(request.days):
        letter = pat.cycle[(d + offset) % len(pat.cycle)]
        worked = day_templates.get(d)
        day: date = request.start_date + timedelta(days=d)
        lo = datetime.combine(day, time(0), tzinfo=tz)
        hi = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        touched = any(p.start < hi and lo < p.end for p in s.unavailable)
        if letter == OFF_LETTER:
            if worked is not None:
                out.append(Violation("pattern", s.id, f"works {worked} on rest day {day}"))
        elif worked is None:
            if not touched:
                out.append(Violation("pattern", s.id, f"off on working day {day} ({letter})"))
        elif worked not in pat.letters.get(letter, ()):
            out.append(Violation("pattern", s.id, f"works {worked} on {day}, pattern letter {letter} allows other"))
    return out


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of time spans, as disjoint sorted spans."""
    out: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def roster_coverage(request: RosterRequest, assignments: Iterable[Assignment]) -> list[CoveragePoint]:
    """Per interval of the roster: required, on the phones (working and not on a break, the previous period's
    shifts that run into the roster included) and on break (theirs included); with skill requirement rows, per
    skill the requirement and the people with the skill on the phones.

    An agent counts in an interval only when present for all of it (the roster's shifts and breaks are on the grid;
    a previous period's break, which need not be, takes its person off the phones for every interval it touches)."""
    tz = ZoneInfo(request.timezone)
    step = timedelta(minutes=request.interval_minutes)
    start = datetime.combine(request.start_date, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(request.start_date + timedelta(days=request.days), time(0), tzinfo=tz).astimezone(UTC)
    n = int((end - start) / step)
    working = [0] * (n + 1)  # difference arrays: +1 at the first interval, -1 after the last
    breaking = [0] * (n + 1)

    def add(arr: list[int], lo: datetime, hi: datetime) -> None:
        a = max(0, -(-int((lo - start).total_seconds()) // int(step.total_seconds())))
        b = min(n, int((hi - start).total_seconds()) // int(step.total_seconds()))
        if a < b:
            arr[a] += 1
            arr[b] -= 1

    skill_names = sorted({r.skill for r in request.requirements if r.skill is not None})
    skills_of = {s.id: set(s.skills) for s in request.staff}
    # per skill: working and on break, as difference arrays, for the people who have it
    sk_working = {sk: [0] * (n + 1) for sk in skill_names}
    sk_breaking = {sk: [0] * (n + 1) for sk in skill_names}
    # The previous period's shifts that run into the roster (``worked_before``): on the phones wherever they cover a
    # whole interval, but on break in any interval one of their breaks touches (person by person from the
    # datetimes: a person counts once where listed shifts overlap).
    carried_on = [0] * n
    carried_break = [0] * n
    for s in request.staff:
        shifts = _merged((w.start, w.end) for w in s.worked_before if w.end > start)
        if not shifts:
            continue
        pauses = [(b.start, b.end) for w in s.worked_before for b in w.breaks]
        last = shifts[-1][1]  # merged spans are sorted and disjoint: the last ends last
        for k in range(n):
            t = start + k * step
            if t >= last:
                break
            if not any(lo <= t and t + step <= hi for lo, hi in shifts):
                continue
            if any(lo < t + step and t < hi for lo, hi in pauses):
                carried_break[k] += 1
                continue
            carried_on[k] += 1
            for sk in skill_names:
                if sk in s.skills:
                    sk_working[sk][k] += 1
                    sk_working[sk][k + 1] -= 1
    for a in assignments:
        add(working, a.start, a.end)
        for b in a.breaks:
            add(breaking, b.start, b.end)
        for sk in skill_names:
            if sk in skills_of.get(a.staff_id, ()):
                add(sk_working[sk], a.start, a.end)
                for b in a.breaks:
                    add(sk_breaking[sk], b.start, b.end)
    required = {r.interval_start.astimezone(UTC): r.required for r in request.requirements if r.skill is None}
    skill_req = {(r.interval_start.astimezone(UTC), r.skill): r.required
                 for r in request.requirements if r.skill is not None}
    out, w, br = [], 0, 0
    run = dict.fromkeys(skill_names, 0)
    for k in range(n):
        w += working[k]
        br += breaking[k]
        c = carried_on[k]
        t = start + k * step
        per_skill = {}
        for sk in skill_names:
            run[sk] += sk_working[sk][k] - sk_breaking[sk][k]
            per_skill[sk] = {"required": skill_req.get((t, sk), 0), "scheduled": run[sk]}
        out.append(CoveragePoint(interval_start=t, required=required.get(t, 0), scheduled=w - br + c,
                                 on_break=br + carried_break[k], skills=per_skill, carried_in=c))
    return out
