"""Builders of request bodies (plain dicts, as the HTTP API receives them) for tests, the bench and the docs.

``control_room_templates`` is a realistic FCR template set (13 templates, day/late/night, 8/10/12 h, with start
windows and refreshment breaks); ``requirement_rows`` spreads a per-local-time requirement onto the roster's
real intervals (DST days included); ``request_body`` fills in the rest. ``planted`` turns a request and a
roster into one whose optimum is known (the roster's own cover as the requirement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.rostering.audit import roster_coverage
from scheduling.rostering.types import Assignment, RosterRequest


def template(
    name: str,
    earliest: str,
    latest: str,
    length_minutes: int,
    step: int = 30,
    breaks: tuple[tuple[int, int, int], ...] = (),
) -> dict[str, Any]:
    """A shift template body; breaks as (length, earliest_after, latest_after) minutes."""
    return {
        "name": name,
        "start_earliest": earliest,
        "start_latest": latest,
        "start_step_minutes": step,
        "length_minutes": length_minutes,
        "breaks": [
            {"length_minutes": b[0], "earliest_after_minutes": b[1], "latest_after_minutes": b[2]} for b in breaks
        ],
    }


def control_room_templates() -> list[dict[str, Any]]:
    """13 templates of a Force Control Room: earlies, days, lates, twilights, nights; 6, 8, 10 and 12 hours."""
    b10 = ((30, 180, 300), (30, 360, 480))
    b8 = ((30, 150, 330),)
    b12 = ((30, 180, 300), (30, 420, 540))
    return [
        template("early10", "06:00", "07:30", 600, breaks=b10),
        template("day10", "08:00", "10:00", 600, breaks=b10),
        template("late10", "12:00", "14:00", 600, breaks=b10),
        template("evening10", "15:00", "17:00", 600, breaks=b10),
        template("night10", "20:00", "22:00", 600, breaks=b10),
        template("early8", "06:00", "08:00", 480, breaks=b8),
        template("mid8", "10:00", "12:00", 480, breaks=b8),
        template("late8", "14:00", "16:00", 480, breaks=b8),
        template("twilight8", "17:00", "19:00", 480, breaks=b8),
        template("night8", "22:00", "23:30", 480, breaks=b8),
        template("day12", "07:00", "08:00", 720, breaks=b12),
        template("night12", "19:00", "20:00", 720, breaks=b12),
        template("peak6", "10:00", "13:00", 360, breaks=((15, 120, 240),)),
    ]


def requirement_rows(
    start_date: date,
    days: int,
    required: Callable[[int, datetime], int],
    timezone: str = "Europe/London",
    interval_minutes: int = 15,
) -> list[dict[str, Any]]:
    """Requirement rows for every real interval of the roster; ``required(day, local_start)`` gives the value."""
    tz = ZoneInfo(timezone)
    t = datetime.combine(start_date, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(start_date + timedelta(days=days), time(0), tzinfo=tz).astimezone(UTC)
    rows = []
    while t < end:
        local = t.astimezone(tz)
        day = (local.date() - start_date).days
        rows.append({"interval_start": t.isoformat(), "required": int(required(day, local))})
        t += timedelta(minutes=interval_minutes)
    return rows


def staff_rows(
    count: int, contract_minutes_per_week: int = 2220, prefix: str = "PCRO", **extra: Any
) -> list[dict[str, Any]]:
    """``count`` staff bodies with ids PCRO-001..., the same contract and any extra fields."""
    base = {"contract_minutes_per_week": contract_minutes_per_week, "skills": ["999", "101"]}
    return [{"id": f"{prefix}-{i + 1:03d}"} | base | extra for i in range(count)]


def request_body(
    start_date: date,
    days: int,
    templates: list[dict[str, Any]],
    staff: list[dict[str, Any]],
    required: Callable[[int, datetime], int],
    timezone: str = "Europe/London",
    interval_minutes: int = 15,
    **extra: Any,
) -> dict[str, Any]:
    """A full request body; ``extra`` adds or overrides top-level fields (rules, patterns, time limit...)."""
    body: dict[str, Any] = {
        "start_date": start_date.isoformat(),
        "days": days,
        "interval_minutes": interval_minutes,
        "timezone": timezone,
        "requirements": requirement_rows(start_date, days, required, timezone, interval_minutes),
        "shift_templates": templates,
        "staff": staff,
        "rules": {
            "min_rest_minutes": 660,
            "max_consecutive_days": 6,
            "min_days_off_per_week": 2,
            "max_minutes_per_week": 2880,
            "contract_tolerance_minutes": 240,
        },
        "time_limit_seconds": 20,
        "seed": 0,
        "workers": 2,
    }
    body.update(extra)
    return body


def planted(request: RosterRequest, roster: Iterable[Assignment], mode: str = "exact") -> RosterRequest:
    """``request`` with its requirement made what ``roster`` puts on the phones (``exact``: every interval tight)
    or lowered to it where the roster falls short (``min``), skill rows likewise from the people with the skill: the
    roster covers it, so a roster with 0 under exists
    and a solver's shortfall there is its search's (bench/roster_planted.py)."""
    if mode not in ("exact", "min"):
        raise ValueError(f"mode must be 'exact' or 'min', not {mode!r}")
    on: dict[tuple, int] = {}
    for c in roster_coverage(request, roster):
        on[(c.interval_start, None)] = c.scheduled
        on.update(((c.interval_start, skill), v["scheduled"]) for skill, v in c.skills.items())
    rows = tuple(
        replace(r, required=have if mode == "exact" else min(r.required, have))
        for r in request.requirements
        for have in [on[(r.interval_start, r.skill)]]
    )
    return replace(request, requirements=rows)
