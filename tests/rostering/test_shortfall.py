"""Why an interval is short (shortfall.py): the counts agree with the independent audit run on each person's
roster with a covering shift added, and the solver's result carries them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from scheduling.rostering import audit_roster, parse_request, solve_roster
from scheduling.rostering.examples import control_room_templates, request_body, staff_rows
from scheduling.rostering.grid import compile_request
from scheduling.rostering.model import workable_options
from scheduling.rostering.shortfall import REASONS, explain_shortfall
from scheduling.rostering.solver import _assignments

#: The audit's rule names for what adding one shift can break, as the REASONS they stand for.
AUDIT_REASON = {"one_shift_per_day": "other_shift", "overlap": "rest", "rest": "rest",
                "consecutive_days": "consecutive_days", "days_off": "days_off", "weekly_max": "weekly_max",
                "contract": "contract"}


def demand(day: int, local: datetime) -> int:
    """More than 16 people can cover on the busiest days, so some intervals stay short for every reason."""
    base = 8 if 7 <= local.hour < 22 else 4
    return base + (4 if day in (3, 4, 10) and 17 <= local.hour < 24 else 0)


def short_body() -> dict:
    """16 staff for 14 days, one with a night before the roster, one on leave, part-timers on days only."""
    start = date(2027, 1, 4)
    staff = staff_rows(12) + staff_rows(4, 1332, prefix="PT", allowed_templates=["early8", "mid8", "late8"])
    staff[0]["worked_before"] = [{"start": "2027-01-03T21:00:00+00:00", "end": "2027-01-04T07:00:00+00:00"}]
    staff[1]["unavailable"] = [{"start": "2027-01-08T00:00:00+00:00", "end": "2027-01-12T00:00:00+00:00"}]
    return request_body(start, 14, control_room_templates(), staff, demand, time_limit_seconds=4)


def test_reasons_agree_with_the_audit_of_each_added_shift() -> None:
    body = short_body()
    request = parse_request(body)
    comp = compile_request(request)
    res = solve_roster(request)
    assert res.violations == [] and res.shortfall
    ids = {s.id: p for p, s in enumerate(request.staff)}
    roster: list[list[int]] = [[] for _ in comp.staff]
    by_key = {(o.name, o.start): o.idx for o in comp.options}
    for a in res.assignments:
        roster[ids[a.staff_id]].append(by_key[(a.template, a.start)])
    workable = [workable_options(comp, p) for p in comp.staff]
    sample = res.shortfall[:: max(1, len(res.shortfall) // 20)]  # the audit per person and shift is slow
    seen: set[str] = set()
    for entry in sample:
        t = comp.index_of(entry["interval_start"])
        assert entry["why"] == explain_shortfall(comp, workable, roster, [t])[t]
        expected = dict.fromkeys(("able", "on_shift", "pattern", *REASONS), 0)
        for p, person in enumerate(request.staff):
            own = [a for a in res.assignments if a.staff_id == person.id]
            on = any(comp.options[oi].first <= t < comp.options[oi].first + comp.options[oi].length for oi in roster[p])
            covering = [oi for day in workable[p] for oi in day
                        if comp.options[oi].first <= t < comp.options[oi].first + comp.options[oi].length]
            if on or covering:
                expected["able"] += 1
            if on:
                expected["on_shift"] += 1
                continue
            if not covering:
                continue
            furthest = 0
            for oi in covering:
                added = _assignments(comp, [[oi] if q == p else [] for q in range(len(comp.staff))], {})[0]
                broken = {v.rule for v in audit_roster(request, [*own, added]) if v.staff_id == person.id}
                assert broken <= set(AUDIT_REASON), broken  # nothing but the rules one more shift can break
                first = min((REASONS.index(AUDIT_REASON[r]) for r in broken), default=len(REASONS) - 1)
                furthest = max(furthest, first)
            expected[REASONS[furthest]] += 1
            seen.add(REASONS[furthest])
        assert entry["why"] == expected, entry["interval_start"]
    assert len(seen) >= 3  # the sample exercises several rules, not one


def test_no_one_is_able_before_the_first_shift_can_start() -> None:
    """The roster's first hours (before the earliest template starts; no night of the previous period is in the
    request) are short with no one able to cover them: that is the templates', not the staff's, limit."""
    request = parse_request(short_body() | {"time_limit_seconds": 2})
    res = solve_roster(request)
    first = [e for e in res.shortfall if e["interval_start"] < datetime.fromisoformat("2027-01-04T05:00:00+00:00")]
    assert first and all(e["why"]["able"] == 0 and e["why"]["on_shift"] == 0 for e in first)


@pytest.mark.parametrize(
    ("name", "contract", "shifts", "reason"),
    [
        ("day10", 1200, 2, "contract"),  # 16-24 h over the 7 days: two 10-h shifts, a third breaks the band
        ("day12", 1920, 3, "contract"),  # 28-36 h: three 12-h shifts; a fourth would just fit the 48-h maximum
        ("day12", 2880, 4, "weekly_max"),  # 44-52 h: four 12-h shifts reach the 48-h maximum before the band
    ],
)
def test_a_person_at_a_limit_is_held_by_it(name: str, contract: int, shifts: int, reason: str) -> None:
    """One person, one day template, two agents required all week: they work as much as their limits allow, and
    on each of their free days the intervals their template reaches are put down to the limit they meet first."""
    start = date(2027, 1, 4)
    templates = [t for t in control_room_templates() if t["name"] == name]
    request = parse_request(request_body(start, 7, templates, staff_rows(1, contract), lambda d, local: 2,
                                         time_limit_seconds=2))
    tz = compile_request(request).tz
    res = solve_roster(request)
    assert res.violations == [] and len(res.assignments) == shifts
    worked = {a.start.astimezone(tz).date() for a in res.assignments}
    for d in range(7):
        day = start + timedelta(days=d)
        reachable = [e["why"] for e in res.shortfall
                     if e["interval_start"].astimezone(tz).date() == day and e["why"]["able"] == 1]
        assert reachable  # the template's hours can be reached on every day
        if day in worked:
            assert all(w["on_shift"] == 1 or w["other_shift"] == 1 for w in reachable)
        else:
            assert all(w["on_shift"] == 0 and w[reason] == 1 for w in reachable)
    nights = [e for e in res.shortfall if 1 <= e["interval_start"].astimezone(tz).hour < 5]
    assert nights and all(e["why"]["able"] == 0 for e in nights)  # no template reaches the small hours
    # Beyond the one person able, every short interval needs another agent; where no one is able, both.
    beyond = sum(min(e["short"], e["required"] - e["why"]["able"]) for e in res.shortfall) * 0.25
    assert res.kpis["under_coverage_beyond_able_agent_hours"] == pytest.approx(beyond)
    assert 0 < beyond < res.kpis["under_coverage_agent_hours"]
