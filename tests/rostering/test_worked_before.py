"""The previous period (``staff[].worked_before``): rest, consecutive days, days off and the weekly maximum hold
across the roster's first midnight, in the model and in the independent audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.rostering import audit_roster, parse_request, solve_roster, validate_request
from scheduling.rostering.examples import request_body, template

from .test_audit import shift

TZ = ZoneInfo("Europe/London")
START = date(2027, 1, 4)
BREAK = ((30, 180, 420),)
TEMPLATES = [
    template("early", "06:00", "08:00", 600, breaks=BREAK),
    template("late", "14:00", "18:00", 600, breaks=BREAK),
]


def at(day: int, hhmm: str) -> datetime:
    return datetime.combine(START + timedelta(days=day), time.fromisoformat(hhmm), tzinfo=TZ).astimezone(UTC)


def period(day: int, hhmm: str, minutes: int = 600) -> dict[str, str]:
    s = at(day, hhmm)
    return {"start": s.isoformat(), "end": (s + timedelta(minutes=minutes)).isoformat()}


def body(worked_before: list[dict[str, str]], staff_contract: int = 2400, **extra: Any) -> dict[str, Any]:
    staff = [{"id": "P1", "contract_minutes_per_week": staff_contract, "worked_before": worked_before}]
    return request_body(START, 7, TEMPLATES, staff, lambda d, t: 1, time_limit_seconds=10, **extra)


def worked_days(result: Any) -> set[int]:
    return {(a.start.astimezone(TZ).date() - START).days for a in result.assignments}


def test_rest_after_a_night_that_ends_on_the_first_morning() -> None:
    # A night 21:00 on the day before the roster ending 07:00 on day 0: with 11 h rest the earliest legal start
    # on day 0 is 18:00, so no early (06:00-08:00) and no late before 18:00 that day.
    night = period(-1, "21:00")
    result = solve_roster(parse_request(body([night])))
    assert result.violations == []
    first = min(a.start for a in result.assignments)
    assert first >= datetime.fromisoformat(night["end"]) + timedelta(minutes=660)


def test_days_off_and_runs_continue_from_the_previous_period() -> None:
    # Five days worked up to the day before the roster: the 7-day window of days -5..1 already holds five working
    # days (two days off a week), so days 0 and 1 must both be off; a clean start may work them.
    before = [period(d, "07:00") for d in range(-5, 0)]
    result = solve_roster(parse_request(body(before)))
    assert result.violations == []
    assert not {0, 1} & worked_days(result)
    # Six days worked before, no weekly days-off rule, at most 6 in a row, and six 10-hour shifts to work in the
    # seven days: day 0 would be the seventh in a row, so the only roster is days 1..6.
    rules = {"min_days_off_per_week": 0, "max_consecutive_days": 6, "max_minutes_per_week": 6000,
             "contract_tolerance_minutes": 0}
    result = solve_roster(parse_request(body([period(d, "07:00") for d in range(-6, 0)], rules=rules,
                                             staff_contract=3600)))
    assert result.violations == []
    assert worked_days(result) == {1, 2, 3, 4, 5, 6}


def test_audit_catches_rest_and_runs_across_the_boundary() -> None:
    req = parse_request(body([period(-1, "21:00")]))
    rules = {v.rule for v in audit_roster(req, [shift(0, "08:00", staff_id="P1")])}
    assert "rest" in rules
    req = parse_request(body([period(d, "07:00") for d in range(-6, 0)]))
    rules = {v.rule for v in audit_roster(req, [shift(0, "07:00", staff_id="P1")])}
    assert {"consecutive_days", "days_off"} <= rules
    # The previous period alone breaks days -6..0; a roster that stays off until day 3 is not to blame.
    rules = {v.rule for v in audit_roster(req, [shift(3, "07:00", staff_id="P1")])}
    assert not {"consecutive_days", "days_off", "weekly_max"} & rules
    req = parse_request(body([period(d, "07:00", 720) for d in range(-4, 0)], rules={"max_minutes_per_week": 2880}))
    rules = {v.rule for v in audit_roster(req, [shift(0, "07:00", staff_id="P1")])}
    assert "weekly_max" in rules  # 4 x 12 h + 10 h in days -4..2 is over 48 h
    # Without the previous period the same shifts break only the (one-shift) contract.
    assert {v.rule for v in audit_roster(parse_request(body([])), [shift(0, "07:00", staff_id="P1")])} == {"contract"}


def test_bad_previous_shifts_are_named() -> None:
    errors = dict(validate_request(body([period(0, "07:00"), period(-20, "07:00"), period(-1, "07:00", 0)])))
    assert "staff[0].worked_before[0].start" in errors
    assert "staff[0].worked_before[1].start" in errors
    assert "staff[0].worked_before[2].end" in errors


def test_pre_check_rosters_respect_each_persons_previous_period() -> None:
    # Two people alike but for the previous period: the pre-check (cached per identical circumstances) must not
    # hand the clean starter's roster to the one who worked the six days before.
    from scheduling.rostering.grid import compile_request
    from scheduling.rostering.solver import _assignments, _Clock, precheck

    b = body([])
    b["staff"].append({"id": "P2", "contract_minutes_per_week": 2400,
                       "worked_before": [period(d, "07:00") for d in range(-6, 0)]})
    req = parse_request(b)
    comp = compile_request(req)
    conflicts, schedules = precheck(comp, _Clock(10, None, None))
    assert conflicts == []
    roster = _assignments(comp, [s or [] for s in schedules], None)
    assert [v for v in audit_roster(req, roster) if v.rule != "breaks"] == []


def test_a_night_that_runs_into_the_roster_covers_its_first_hours() -> None:
    # P1's night of the day before ends at 07:00 on day 0: the coverage counts them on the phones 00:00-07:00
    # (carried_in), those intervals are not short, and the KPI adds up the 7 agent-hours.
    result = solve_roster(parse_request(body([period(-1, "21:00")])))
    assert result.violations == []
    tz_hours = {c.interval_start: c for c in result.coverage}
    for k in range(28):  # the 28 quarter-hours 00:00-07:00 of day 0
        c = tz_hours[at(0, "00:00") + timedelta(minutes=15 * k)]
        assert (c.carried_in, c.scheduled) == (1, 1), c
    assert tz_hours[at(0, "07:00")].carried_in == 0
    assert result.kpis["carried_in_agent_hours"] == 7.0
    assert not [e for e in result.shortfall if e["interval_start"] < at(0, "07:00")]
    clean = solve_roster(parse_request(body([])))  # without the previous period the same hours are short
    assert len([e for e in clean.shortfall if e["interval_start"] < at(0, "06:00")]) == 24


def test_the_optimiser_counts_the_previous_periods_cover() -> None:
    # One day; P2 works exactly one 10-h shift: 00:00-10:00 or 14:00-24:00. Needed: one agent 00:00-10:00 and one
    # 14:00-22:00. P1's night runs to 07:00, so the early would add only 3 h of cover, the late 8 h: the late is
    # the better roster (blind to P1's night, the early's 10 h would win).
    templates = [template("early", "00:00", "00:00", 600), template("late", "14:00", "14:00", 600)]
    staff = [{"id": "P1", "contract_minutes_per_week": 0, "worked_before": [period(-1, "21:00")]},
             {"id": "P2", "contract_minutes_per_week": 4200}]

    def need(_day: int, local: datetime) -> int:
        return 1 if local.hour < 10 or 14 <= local.hour < 22 else 0

    b = request_body(START, 1, templates, staff, need, time_limit_seconds=10,
                     rules={"contract_tolerance_minutes": 0})
    result = solve_roster(parse_request(b))
    assert result.violations == []
    assert [(a.staff_id, a.template) for a in result.assignments] == [("P2", "late")]
    assert result.kpis["under_coverage_agent_hours"] == 3.0  # 07:00-10:00
    assert result.kpis["gap"] is not None and result.kpis["gap"] >= -1e-9  # the LP bound counts P1's night too


def test_previous_period_cover_counts_for_skills() -> None:
    from scheduling.rostering.grid import compile_request

    b = body([period(-1, "21:00")])
    b["staff"][0]["skills"] = ["999"]
    b["requirements"] += [{"interval_start": at(0, "01:00").isoformat(), "required": 2, "skill": "999"}]
    comp = compile_request(parse_request(b))
    k = comp.index_of(at(0, "01:00"))
    assert comp.carried[k] == 1 and comp.skill_carried["999"][k] == 1
    assert comp.required[k] == 0 and comp.skill_required["999"][k] == 1  # net of P1's night
    result = solve_roster(parse_request(b))
    entry = next(e for e in result.shortfall if e["skill"] == "999" and e["interval_start"] == at(0, "01:00"))
    assert (entry["scheduled"], entry["carried_in"], entry["short"]) == (1, 1, 1)


def test_a_person_counts_once_where_their_previous_shifts_overlap() -> None:
    from scheduling.rostering import roster_coverage
    from scheduling.rostering.grid import compile_request

    req = parse_request(body([period(-1, "21:00"), period(-1, "23:00", 360)]))  # 21:00-07:00 and 23:00-05:00
    comp = compile_request(req)
    assert max(comp.carried) == 1 and sum(comp.carried) == 28
    assert [c.carried_in for c in roster_coverage(req, [])][:29] == [1] * 28 + [0]


def test_the_previous_periods_breaks_take_its_people_off_the_phones() -> None:
    # P1's night 21:00-07:00 with a break 02:10-02:40, off the 15-minute grid: off the phones in every interval it
    # touches (02:00, 02:15 and 02:30), on break there in the coverage, and the optimiser plans for the gap (the
    # grid's net requirement and the independent coverage agree); a skill row sees the same.
    from scheduling.rostering import roster_coverage
    from scheduling.rostering.grid import compile_request

    night = period(-1, "21:00") | {"breaks": [{"start": at(0, "02:10").isoformat(), "end": at(0, "02:40").isoformat()}]}
    b = body([night])
    b["staff"][0]["skills"] = ["999"]
    b["requirements"] += [{"interval_start": at(0, "02:15").isoformat(), "required": 1, "skill": "999"}]
    req = parse_request(b)
    comp = compile_request(req)
    off = [comp.index_of(at(0, hhmm)) for hhmm in ("02:00", "02:15", "02:30")]
    assert [comp.carried[k] for k in off] == [0, 0, 0] and sum(comp.carried) == 25
    assert [comp.required[k] for k in off] == [1, 1, 1]  # the requirement is no longer covered there
    assert comp.skill_carried["999"][off[1]] == 0 and comp.skill_required["999"][off[1]] == 1
    coverage = roster_coverage(req, [])
    assert [c.carried_in for c in coverage] == comp.carried
    assert [(coverage[k].scheduled, coverage[k].on_break) for k in off] == [(0, 1)] * 3
    assert coverage[off[1]].skills["999"]["scheduled"] == 0
    result = solve_roster(req)
    assert result.violations == [] and result.kpis["carried_in_agent_hours"] == 6.25
    bad = period(-1, "21:00") | {"breaks": [{"start": at(0, "06:45").isoformat(), "end": at(0, "07:15").isoformat()}]}
    assert "staff[0].worked_before[0].breaks[0]" in dict(validate_request(body([bad])))
