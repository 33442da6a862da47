"""The independent audit catches every hard rule broken on purpose in a hand-built roster."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduling.rostering import Assignment, BreakAssignment, RosterRequest, audit_roster, parse_request
from scheduling.rostering.examples import request_body, staff_rows, template

TZ = ZoneInfo("Europe/London")
START = date(2027, 1, 4)


def request(**extra: Any) -> RosterRequest:
    tpls = [
        template("early", "06:00", "08:00", 600, breaks=((30, 180, 420),)),
        template("night", "21:00", "22:00", 600, breaks=((30, 180, 420),)),
    ]
    staff = staff_rows(1, contract_minutes_per_week=2400)
    body = request_body(START, 7, tpls, staff, lambda d, t: 1, **extra)
    for k, v in extra.get("staff_extra", {}).items():
        body["staff"][0][k] = v
    body.pop("staff_extra", None)
    return parse_request(body)


def shift(day: int, hhmm: str, name: str = "early", brk_after: int = 240, staff_id: str = "PCRO-001") -> Assignment:
    start = datetime.combine(START + timedelta(days=day), time.fromisoformat(hhmm), tzinfo=TZ).astimezone(UTC)
    b = start + timedelta(minutes=brk_after)
    brk = (BreakAssignment(b, b + timedelta(minutes=30)),)
    return Assignment(staff_id, name, start, start + timedelta(minutes=600), brk)


def good() -> list[Assignment]:
    return [shift(d, "07:00") for d in range(4)]


def rules_of(violations: list[Any]) -> set[str]:
    return {v.rule for v in violations}


def test_valid_roster_passes() -> None:
    assert audit_roster(request(), good()) == []


def test_start_outside_template_window() -> None:
    roster = good()
    roster[0] = shift(0, "05:00")
    assert rules_of(audit_roster(request(), roster)) == {"template"}


def test_wrong_length_is_a_template_violation() -> None:
    roster = good()
    roster[1] = dataclasses.replace(roster[1], end=roster[1].end - timedelta(minutes=60))
    assert "template" in rules_of(audit_roster(request(), roster))


def test_break_outside_its_window_and_missing_break() -> None:
    roster = good()
    roster[0] = shift(0, "07:00", brk_after=60)
    roster[1] = dataclasses.replace(roster[1], breaks=())
    got = audit_roster(request(), roster)
    assert rules_of(got) == {"breaks"} and len(got) == 2


def test_template_not_allowed() -> None:
    req = request(staff_extra={"allowed_templates": ["night"]})
    assert "allowed_templates" in rules_of(audit_roster(req, good()))


def test_unavailability_overlap() -> None:
    leave = {"start": "2027-01-06T12:00:00+00:00", "end": "2027-01-06T13:00:00+00:00"}
    req = request(staff_extra={"unavailable": [leave]})
    assert rules_of(audit_roster(req, good())) == {"unavailability"}


def test_two_shifts_in_a_day_overlap_and_rest() -> None:
    roster = [*good(), shift(1, "21:00", "night")]
    got = rules_of(audit_roster(request(), roster))
    assert {"one_shift_per_day", "rest", "contract"} <= got
    roster = [*good(), shift(0, "08:00")]
    assert {"overlap", "one_shift_per_day"} <= rules_of(audit_roster(request(), roster))


def test_short_rest_between_days() -> None:
    roster = [shift(0, "21:00", "night"), shift(1, "08:00"), shift(2, "08:00"), shift(3, "08:00")]
    assert rules_of(audit_roster(request(), roster)) == {"rest"}


def test_consecutive_days() -> None:
    req = request(rules={**request_body_rules(), "max_consecutive_days": 3})
    assert rules_of(audit_roster(req, good())) == {"consecutive_days"}


def test_days_off_per_week() -> None:
    req = request(rules={**request_body_rules(), "min_days_off_per_week": 4})
    assert rules_of(audit_roster(req, good())) == {"days_off"}


def test_weekly_maximum() -> None:
    req = request(rules={**request_body_rules(), "max_minutes_per_week": 2000})
    assert "weekly_max" in rules_of(audit_roster(req, good()))


def test_contract_outside_tolerance() -> None:
    assert rules_of(audit_roster(request(), good()[:3])) == {"contract"}
    roster = [*good(), shift(5, "07:00")]  # 3000 min: over the contract band (and the 2880 weekly maximum)
    req = request(rules={**request_body_rules(), "max_minutes_per_week": 3000})
    assert rules_of(audit_roster(req, roster)) == {"contract"}


def test_leave_day_pro_rates_the_contract() -> None:
    leave = {"start": "2027-01-09T00:00:00+00:00", "end": "2027-01-11T00:00:00+00:00"}  # Sat+Sun wholly off
    req = request(staff_extra={"unavailable": [leave]})
    # target 2400 * 5/7 = 1714 +/- 240: three shifts (1800) pass, four (2400) do not
    assert audit_roster(req, good()[:3]) == []
    assert rules_of(audit_roster(req, good())) == {"contract"}


PATTERN = {"name": "4on4off", "cycle": list("DDNN----"), "letters": {"D": ["early"], "N": ["night"]}}


def test_pattern_not_followed() -> None:
    req = request(patterns=[PATTERN], staff_extra={"pattern": "4on4off", "pattern_offset": 0})
    chosen = {"PCRO-001": {"pattern": "4on4off", "offset": 0}}
    follows = [shift(0, "07:00"), shift(1, "07:00"), shift(2, "21:00", "night"), shift(3, "21:00", "night")]
    assert audit_roster(req, follows, chosen) == []
    assert rules_of(audit_roster(req, good(), chosen)) == {"pattern"}  # early on an N day
    rest_day = [*follows[:3], shift(4, "21:00", "night")]
    assert "pattern" in rules_of(audit_roster(req, rest_day, chosen))
    assert rules_of(audit_roster(req, follows, {"PCRO-001": {"pattern": "4on4off", "offset": 3}})) == {"pattern"}
    assert rules_of(audit_roster(req, follows, None)) == {"pattern"}


def test_unknown_staff_and_template() -> None:
    roster = [*good(), dataclasses.replace(good()[0], staff_id="ghost")]
    assert "template" in rules_of(audit_roster(request(), roster))
    roster = [dataclasses.replace(a, template="late") if i == 0 else a for i, a in enumerate(good())]
    assert "template" in rules_of(audit_roster(request(), roster))


def request_body_rules() -> dict[str, int]:
    return {
        "min_rest_minutes": 660,
        "max_consecutive_days": 6,
        "min_days_off_per_week": 2,
        "max_minutes_per_week": 2880,
        "contract_tolerance_minutes": 240,
    }


@pytest.mark.parametrize("day", [0, 3])
def test_shift_outside_the_roster_days(day: int) -> None:
    roster = good()
    roster[day] = shift(day - 10 if day == 0 else day + 10, "07:00")
    assert "template" in rules_of(audit_roster(request(), roster))
