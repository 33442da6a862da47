"""Rotating patterns: 4-on-4-off, 6-on-4-off and Panama (2-2-3) are expressible and followed, with fixed or
optimiser-chosen offsets, and a pattern that breaks a hard rule is diagnosed rather than crashing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.rostering import RosterResult, parse_request, solve_roster
from scheduling.rostering.examples import request_body, staff_rows, template

TZ = ZoneInfo("Europe/London")
START = date(2027, 1, 4)
BREAK = ((30, 180, 300),)
FOUR_ON = {"name": "4on4off", "cycle": list("DDNN----"), "letters": {"D": ["early"], "N": ["night"]}}
SIX_ON = {"name": "6on4off", "cycle": list("DDDNNN----"), "letters": {"D": ["early8"], "N": ["night8"]}}
PANAMA = {"name": "panama", "cycle": list("DD--DDD--DD---"), "letters": {"D": ["day12"]}}
TEMPLATES = [
    template("early", "06:00", "08:00", 600, breaks=BREAK),
    template("night", "21:00", "22:00", 600, breaks=BREAK),
    template("early8", "06:00", "07:00", 480, breaks=BREAK),
    template("night8", "22:00", "22:00", 480, breaks=BREAK),
    template("day12", "07:00", "08:00", 720, breaks=BREAK),
]


def solve(pattern: dict[str, Any], staff: list[dict[str, Any]], days: int, rules: dict[str, int] | None = None,
          required: int = 1) -> RosterResult:
    body = request_body(START, days, TEMPLATES, staff, lambda d, t: required, patterns=[pattern],
                        time_limit_seconds=4)
    body["rules"].update(rules or {})
    return solve_roster(parse_request(body))


def follows(res: RosterResult, pattern: dict[str, Any], days: int) -> None:
    """Check the roster against the cycle day by day (independently of the library's audit)."""
    worked = {(a.staff_id, (a.start.astimezone(TZ).date() - START).days): a.template for a in res.assignments}
    assert res.patterns_chosen
    for sid, choice in res.patterns_chosen.items():
        assert choice["pattern"] == pattern["name"]
        for d in range(days):
            letter = pattern["cycle"][(d + choice["offset"]) % len(pattern["cycle"])]
            if letter == "-":
                assert (sid, d) not in worked, (sid, d)
            else:
                assert worked.get((sid, d)) in pattern["letters"][letter], (sid, d, letter)


def test_four_on_four_off_fixed_offsets() -> None:
    staff = staff_rows(8, contract_minutes_per_week=2100, pattern="4on4off")
    for i, s in enumerate(staff):
        s["pattern_offset"] = i
    res = solve(FOUR_ON, staff, 16)
    assert res.violations == []
    follows(res, FOUR_ON, 16)
    assert {c["offset"] for c in res.patterns_chosen.values()} == set(range(8))


def test_four_on_four_off_optimiser_chooses_offsets() -> None:
    staff = staff_rows(4, contract_minutes_per_week=2100, pattern="4on4off")
    res = solve(FOUR_ON, staff, 16)
    assert res.violations == []
    follows(res, FOUR_ON, 16)
    for d in range(16):  # cover 24/7 with four people: each day one on D and one on N
        letters = sorted(FOUR_ON["cycle"][(d + c["offset"]) % 8] for c in res.patterns_chosen.values())
        assert letters == ["-", "-", "D", "N"], (d, letters)


def test_six_on_four_off() -> None:
    staff = staff_rows(5, contract_minutes_per_week=2016, pattern="6on4off")
    for i, s in enumerate(staff):
        s["pattern_offset"] = 2 * i
    res = solve(SIX_ON, staff, 20, rules={"min_days_off_per_week": 1})
    assert res.violations == []
    follows(res, SIX_ON, 20)


def test_six_on_four_off_against_two_days_off_a_week_is_diagnosed() -> None:
    staff = staff_rows(1, contract_minutes_per_week=2016, pattern="6on4off", pattern_offset=0)
    res = solve(SIX_ON, staff, 20)
    assert res.status == "CONFLICT"
    assert {"days_off", "pattern"} <= set(res.conflicts[0].families)


def test_panama_auto_pattern() -> None:
    staff = staff_rows(4, contract_minutes_per_week=2520, pattern="auto")
    res = solve(PANAMA, staff, 14, rules={"max_minutes_per_week": 3600})
    assert res.violations == []
    follows(res, PANAMA, 14)
    assert all(a.template == "day12" for a in res.assignments)


def test_pattern_working_day_on_leave_is_left_off() -> None:
    staff = staff_rows(1, contract_minutes_per_week=2100, pattern="4on4off", pattern_offset=0)
    day1 = START + timedelta(days=1)
    staff[0]["unavailable"] = [{"start": f"{day1}T00:00:00+00:00", "end": f"{day1 + timedelta(days=1)}T00:00:00+00:00"}]
    res = solve(FOUR_ON, staff, 16, required=0)
    assert res.violations == []
    days = {(a.start.astimezone(TZ).date() - START).days for a in res.assignments}
    assert 1 not in days and {0, 2, 3} <= days
