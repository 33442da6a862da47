"""Bad input is reported as (field path, message) pairs, never as a crash."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from scheduling.rostering import RosterValidationError, parse_request, validate_request
from scheduling.rostering.examples import request_body, staff_rows, template


def body(**extra: Any) -> dict[str, Any]:
    tpls = [template("early", "06:00", "08:00", 600, breaks=((30, 180, 420),))]
    return request_body(date(2027, 1, 4), 7, tpls, staff_rows(3), lambda d, t: 1, **extra)


def paths(errors: list[tuple[str, str]]) -> set[str]:
    return {p for p, _ in errors}


def test_valid_body_has_no_errors() -> None:
    assert validate_request(body()) == []
    assert parse_request(body()).days == 7


def test_unknown_template_in_allowed_templates_names_the_field() -> None:
    b = body()
    b["staff"][1]["allowed_templates"] = ["early", "nope"]
    assert "staff[1].allowed_templates[1]" in paths(validate_request(b))


def test_break_that_does_not_fit_its_shift() -> None:
    b = body()
    b["shift_templates"][0]["breaks"][0]["latest_after_minutes"] = 590
    errs = validate_request(b)
    assert "shift_templates[0].breaks[0].latest_after_minutes" in paths(errs)


def test_overlapping_break_windows_and_off_grid_lengths() -> None:
    b = body()
    b["shift_templates"][0]["breaks"].append(
        {"length_minutes": 20, "earliest_after_minutes": 300, "latest_after_minutes": 400}
    )
    got = paths(validate_request(b))
    assert "shift_templates[0].breaks[1].earliest_after_minutes" in got
    assert "shift_templates[0].breaks[1].length_minutes" in got


def test_requirement_off_the_grid_outside_and_duplicate() -> None:
    b = body()
    b["requirements"][3]["interval_start"] = "2027-01-04T00:50:00+00:00"
    b["requirements"].append({"interval_start": "2027-02-01T00:00:00+00:00", "required": 1})
    b["requirements"].append(copy.deepcopy(b["requirements"][0]))
    errs = validate_request(b)
    got = paths(errs)
    assert "requirements[3].interval_start" in got
    n = len(b["requirements"])
    assert f"requirements[{n - 2}].interval_start" in got
    assert any(p == f"requirements[{n - 1}].interval_start" and "duplicate" in m for p, m in errs)


def test_naive_requirement_instant_is_rejected() -> None:
    b = body()
    b["requirements"][0]["interval_start"] = "2027-01-04T00:00:00"
    assert "requirements[0].interval_start" in paths(validate_request(b))


def test_duplicate_staff_ids() -> None:
    b = body()
    b["staff"][2]["id"] = b["staff"][0]["id"]
    got = validate_request(b)
    assert ("staff[2].id", "duplicate staff id 'PCRO-001'") in got


@pytest.mark.parametrize("days", [0, 85, -3])
def test_days_outside_1_to_84(days: int) -> None:
    b = body()
    b["days"] = days
    assert "days" in paths(validate_request(b))


def test_types_timezone_and_missing_fields() -> None:
    b = body()
    b["timezone"] = "Mars/Olympus"
    b["interval_minutes"] = 7
    assert {"timezone", "interval_minutes"} <= paths(validate_request(b))
    b = body()
    del b["staff"][0]["contract_minutes_per_week"]
    b["shift_templates"][0]["start_earliest"] = "6am"
    b["rules"]["min_rest_minutes"] = "long"
    got = paths(validate_request(b))
    assert {"staff[0].contract_minutes_per_week", "shift_templates[0].start_earliest", "rules.min_rest_minutes"} <= got


def test_patterns_and_preferences_are_checked() -> None:
    b = body(patterns=[{"name": "4on4off", "cycle": list("DDNN----"), "letters": {"D": ["early"]}}])
    b["staff"][0]["pattern"] = "4on4off"
    b["staff"][0]["pattern_offset"] = 9
    b["staff"][1]["pattern"] = "panama"
    b["staff"][2]["prefers"] = {"templates": ["late"], "days_off": ["funday"]}
    got = paths(validate_request(b))
    assert {
        "patterns[0].letters",
        "staff[0].pattern_offset",
        "staff[1].pattern",
        "staff[2].prefers.templates[0]",
        "staff[2].prefers.days_off[0]",
    } <= got


def test_parse_request_raises_with_every_error() -> None:
    b = body()
    b["days"] = 99
    b["staff"][0]["allowed_templates"] = ["ghost"]
    with pytest.raises(RosterValidationError) as info:
        parse_request(b)
    assert {"days", "staff[0].allowed_templates[0]"} <= paths(info.value.errors)


def test_size_limits_name_the_field_and_say_what_to_change() -> None:
    from scheduling.rostering.validation import MAX_PERSON_OPTIONS, MAX_SHIFT_OPTIONS, MAX_STAFF

    b = body()
    b["staff"] = staff_rows(MAX_STAFF + 1)
    errs = dict(validate_request(b))
    assert f"at most {MAX_STAFF} people" in errs["staff"]
    # one template starting every 5 minutes of the day, 84 days: 288 x 84 = 24,192 shift options
    b = request_body(date(2027, 1, 4), 84, [template("any", "00:00", "23:55", 480, step=5)], staff_rows(2),
                     lambda d, t: 1, interval_minutes=5)
    errs = dict(validate_request(b))
    assert MAX_SHIFT_OPTIONS < 288 * 84 and "24192 shift options" in errs["shift_templates"]
    assert "start_step_minutes" in errs["shift_templates"]
    # within the option limit, too many people for it
    b = request_body(date(2027, 1, 4), 84, [template("any", "00:00", "23:30", 480)], staff_rows(2), lambda d, t: 1)
    options = 48 * 84
    b["staff"] = staff_rows(MAX_PERSON_OPTIONS // options + 1)
    errs = dict(validate_request(b))
    assert f"x {options} shift options" in errs["staff"] and "fewer people or days" in errs["staff"]
    b["staff"] = staff_rows(MAX_PERSON_OPTIONS // options)
    assert validate_request(b) == []
