"""Re-rostering a published roster (``staff[].published``): the published shifts are kept where the optimiser can,
each changed day a soft cost, and the result counts what changed; bad published shifts are named."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduling.rostering import parse_request, solve_roster, validate_request
from scheduling.rostering.examples import control_room_templates, request_body
from scheduling.rostering.grid import compile_request
from scheduling.rostering.model import KEEP_UNIT, preference_cost

TZ = ZoneInfo("Europe/London")
START = date(2027, 1, 4)


def demand(_day: int, local: datetime) -> int:
    h = local.hour + local.minute / 60
    return 1 if h < 7 else 3 if h < 10 else 4 if h < 19 else 2


def body(staff: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return request_body(START, 7, control_room_templates(), staff, demand, time_limit_seconds=10, seed=1, **extra)


def people(n: int = 10) -> list[dict[str, Any]]:
    return [{"id": f"P{i:02d}", "contract_minutes_per_week": 2220} for i in range(n)]


def at(day: int, hhmm: str) -> str:
    local = datetime.combine(START + timedelta(days=day), time.fromisoformat(hhmm), tzinfo=TZ)
    return local.astimezone(UTC).isoformat()


def published_from(result: Any) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for a in result.assignments:
        out.setdefault(a.staff_id, []).append({"template": a.template, "start": a.start.isoformat()})
    return out


def test_bad_published_shifts_are_named() -> None:
    staff = people(2)
    staff[0]["published"] = [
        {"template": "nosuch", "start": at(0, "06:00")},
        {"template": "early10", "start": at(0, "06:15")},  # early10 starts 06:00-07:30 every 30 min
        {"template": "early10", "start": at(9, "06:00")},  # the roster has days 0-6
        {"template": "early10", "start": at(1, "06:00")},
        {"template": "day10", "start": at(1, "08:00")},  # a second shift on day 1
    ]
    errors = dict(validate_request(body(staff)))
    assert "staff[0].published[0].template" in errors
    assert "not a start time of template 'early10'" in errors["staff[0].published[1].start"]
    assert "day of the roster" in errors["staff[0].published[2].start"]
    assert "staff[0].published[3].start" not in errors
    assert "second published shift" in errors["staff[0].published[4].start"]
    assert "weights.keep_published" in dict(validate_request(body(people(1), weights={"keep_published": -1})))


def test_the_published_shift_is_priced_below_any_other_and_a_day_published_off_above() -> None:
    staff = people(1)
    staff[0]["published"] = [{"template": "early10", "start": at(0, "06:30")}]
    comp = compile_request(parse_request(body(staff)))
    info = comp.staff[0]
    published = info.published[0]
    day0 = [o for o in comp.options if o.day == 0]
    assert [preference_cost(info, o, 0, KEEP_UNIT) for o in day0 if o.idx == published] == [-KEEP_UNIT]
    assert {preference_cost(info, o, 0, KEEP_UNIT) for o in day0 if o.idx != published} == {0}
    assert {preference_cost(info, o, 0, KEEP_UNIT) for o in comp.options if o.day == 1} == {KEEP_UNIT}


def changed_days(result: Any, published: dict[str, list[dict[str, str]]]) -> int:
    """Person-days whose shift differs from the published roster (moved, dropped or added), counted from the
    assignments alone."""
    def by_day(shifts: list[tuple[str, datetime]]) -> dict[int, tuple[str, datetime]]:
        return {(start.astimezone(TZ).date() - START).days: (t, start) for t, start in shifts}
    total = 0
    for sid in {s["id"] for s in people()}:
        was = by_day([(p["template"], datetime.fromisoformat(p["start"])) for p in published.get(sid, [])])
        now = by_day([(a.template, a.start) for a in result.assignments if a.staff_id == sid])
        total += sum(was.get(d) != now.get(d) for d in set(was) | set(now))
    return total


def test_a_re_roster_keeps_the_published_roster_but_where_it_must_change() -> None:
    # Roster ten people, then re-roster with that roster published and one person newly on leave for a day they
    # work: the re-roster drops that shift, keeps nearly everything else, and changes far less than a re-roster
    # from scratch (the same request without the published shifts).
    first = solve_roster(parse_request(body(people())))
    assert first.violations == []
    published = published_from(first)
    staff = people()
    sick = next(a for a in first.assignments if a.staff_id == "P00")
    day = (sick.start.astimezone(TZ).date() - START).days
    staff[0]["unavailable"] = [{"start": at(day, "00:00"), "end": at(day + 1, "00:00")}]
    scratch = solve_roster(parse_request(body(staff)))
    for s in staff:
        s["published"] = published.get(s["id"], [])
    kept = solve_roster(parse_request(body(staff)))
    assert kept.violations == [] and scratch.violations == []
    k = kept.kpis["published_changes"]
    total = len(first.assignments)
    assert k["kept"] + k["moved"] + k["dropped"] == total
    assert k["dropped"] >= 1  # the sick day
    changes = k["moved"] + k["dropped"] + k["added"]
    assert changes == changed_days(kept, published)  # the KPI agrees with a count from the assignments
    # Measured over nine runs: 3-9 changes of 46-48 shifts with the published roster (a change pays where it gains
    # more than a quiet agent-interval: the published roster is a 10-s one), 53-63 from scratch; 7-12 before the
    # adopted roster's breaks were placed again.
    assert changes <= total / 4, k
    assert changes < 0.5 * changed_days(scratch, published), k
    assert kept.kpis["published_adopted"] >= 1 and kept.status == "FEASIBLE"  # no optimality claimed
    # The re-roster is the better answer to its own question: the roster from scratch, priced with its changes,
    # costs more. And kept at little loss of cover: each kept day may cost up to one quiet agent-interval (a quarter
    # of an agent-hour), and some 40 are kept; measured 68.5-71.5 h against 68.25-69.5 from scratch.
    keep = KEEP_UNIT  # weights.keep_published 1
    assert (kept.kpis["coverage_cost"] + keep * changes
            < scratch.kpis["coverage_cost"] + keep * changed_days(scratch, published))
    assert kept.kpis["under_coverage_agent_hours"] <= scratch.kpis["under_coverage_agent_hours"] + 4.0


def test_people_on_a_pattern_keep_their_published_cycle() -> None:
    # Four people on 4-on-4-off with offsets the optimiser chose: published and re-rostered unchanged, they keep
    # every shift (same offsets, same starts) and the cycle.
    from scheduling.rostering.examples import staff_rows
    from tests.rostering.test_patterns import FOUR_ON, follows, solve

    staff = staff_rows(4, contract_minutes_per_week=2100, pattern="4on4off")
    first = solve(FOUR_ON, staff, 16)
    assert first.violations == []
    published = published_from(first)
    for s in staff:
        s["published"] = published.get(s["id"], [])
    again = solve(FOUR_ON, staff, 16)
    assert again.violations == []
    follows(again, FOUR_ON, 16)
    changes = again.kpis["published_changes"]
    assert changes["kept"] == len(first.assignments) and changes["people_changed"] == 0, changes


def test_re_rostering_the_rest_of_a_period_from_the_day_of_a_change() -> None:
    # The README's workflow: a 14-day roster; on day 7 someone falls sick for day 8. The re-roster starts on day 7,
    # takes days 0-6 as worked_before and days 7-13 as published, and contract_period_start = day 0 so that the
    # contracts hold over the fortnight with the first week's minutes counted: the rules hold across the new start
    # (the audit sees the previous days), the nights running into day 7 cover it, and most of the second week
    # stays (at keep_published 5: the published roster is a 10-s one, which a 7-day re-roster
    # can still improve by more than one quiet agent-interval a change in a few places).
    staff = people()
    b = request_body(START, 14, control_room_templates(), staff, demand, time_limit_seconds=10, seed=1)
    first = solve_roster(parse_request(b))
    assert first.violations == []
    split = datetime.fromisoformat(at(7, "00:00"))
    later = date(2027, 1, 11)  # START + 7
    for s in staff:
        mine = [a for a in first.assignments if a.staff_id == s["id"]]
        s["worked_before"] = [{"start": a.start.isoformat(), "end": a.end.isoformat(),
                               "breaks": [{"start": b.start.isoformat(), "end": b.end.isoformat()} for b in a.breaks]}
                              for a in mine if a.start < split]
        s["published"] = [{"template": a.template, "start": a.start.isoformat()} for a in mine if a.start >= split]
    staff[0]["unavailable"] = [{"start": at(8, "00:00"), "end": at(9, "00:00")}]
    again = solve_roster(parse_request(request_body(
        later, 7, control_room_templates(), staff, demand, time_limit_seconds=10, seed=1,
        contract_period_start=START.isoformat(), weights={"keep_published": 5})))
    assert again.violations == []
    carried = sum(c.carried_in for c in again.coverage)
    nights_in = [a for a in first.assignments if a.start < split < a.end]
    assert (carried > 0) == bool(nights_in)
    # the carried nights' breaks after the split (from the first roster's assignments) are off the phones again
    for c in again.coverage:
        on_shift = sum(1 for a in nights_in if a.start <= c.interval_start < a.end)
        on_break = sum(1 for a in nights_in for b in a.breaks if b.start <= c.interval_start < b.end)
        assert c.carried_in == on_shift - on_break, c
    k = again.kpis["published_changes"]
    assert k["kept"] + k["moved"] + k["dropped"] == sum(len(s["published"]) for s in staff)
    # Measured: 45 of 47, 46 of 49 and (in a CI run) 30 of 45 kept; 35-42 of 45-46 before the adopted roster's
    # breaks were placed again. Most, not all: the 7-day re-roster may still improve the 10-s published roster.
    assert k["kept"] >= 0.5 * (k["kept"] + k["moved"] + k["dropped"]), k


def test_the_contract_holds_over_its_period_with_the_previous_days_counted() -> None:
    # One person, 7 days from day 7 of a fortnight whose first week they worked 3 x 10 h (1,800 min): with the
    # period starting on day 0 and a 37-h week (+-4 h), the fortnight wants 4,440 +-480 min, so this week
    # 2,160-3,120; alone it would want 1,980-2,460. The audit agrees with the band the solver keeps.
    from scheduling.rostering import audit_roster

    before = [{"start": at(d, "07:00"), "end": at(d, "17:00")} for d in (0, 2, 4)]
    staff = [{"id": "P1", "contract_minutes_per_week": 2220, "worked_before": before}]
    later = date(2027, 1, 11)
    alone = compile_request(parse_request(request_body(later, 7, control_room_templates(), staff, demand)))
    period = parse_request(request_body(later, 7, control_room_templates(), staff, demand,
                                        contract_period_start=START.isoformat(), time_limit_seconds=5))
    comp = compile_request(period)
    assert alone.staff[0].band == (1980, 2460)
    assert comp.staff[0].band == (2160, 3120)
    result = solve_roster(period)
    assert result.violations == []
    worked = sum((a.end - a.start) // timedelta(minutes=1) for a in result.assignments)
    assert 2160 <= worked <= 3120
    short = list(result.assignments[:1])  # one shift alone is under the period's band: the audit says so
    assert [v.rule for v in audit_roster(period, short)] == ["contract"]
    bad = dict(validate_request(request_body(later, 7, control_room_templates(), staff, demand,
                                             contract_period_start="2026-12-01")))
    assert "contract_period_start" in bad


def test_adopting_the_published_roster_places_its_breaks_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # Adoption gives people their published shifts one at a time, each shift's breaks placed against a roster still
    # half the old one; the breaks are then placed again against the adopted roster. Measured on this instance
    # (one run): 720,464 with the breaks as adopted, 613,764 placed again (621,764 with the greedy placement of the
    # whole adopted roster); on the bench's large instance re-rostered after two days of leave, about 300 fewer
    # changed days and 0.3 M units less (docs/rostering.md).
    from scheduling.rostering import polish
    from scheduling.rostering.model import workable_options
    from scheduling.rostering.solver import _Clock, place_breaks, precheck

    first = solve_roster(parse_request(body(people())))
    published = published_from(first)
    staff = people()
    for s in staff:
        s["published"] = published.get(s["id"], [])
    comp = compile_request(parse_request(body(staff)))
    _, schedules = precheck(comp, _Clock(60, None, None))
    roster = [s or [] for s in schedules]
    workable = [workable_options(comp, p) for p in comp.staff]

    def adopted(rounds: int) -> polish.Polisher:
        monkeypatch.setattr(polish, "ADOPT_BREAK_ROUNDS", rounds)
        pol = polish.Polisher(comp, workable, roster, place_breaks(comp, roster)[0], seed=3)
        assert pol.adopt_published() == len(staff)
        return pol

    rounds = polish.ADOPT_BREAK_ROUNDS
    as_adopted, placed = adopted(0), adopted(rounds)
    assert placed.roster() == as_adopted.roster()
    assert placed.cost() < as_adopted.cost()
    assert polish.Polisher(comp, workable, placed.roster(), placed.breaks()).cost() == placed.cost()
