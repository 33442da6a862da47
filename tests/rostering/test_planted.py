"""The search against a known optimum: a rule-abiding roster's own cover made the requirement (bench/roster_planted.py
at test size), so a roster with 0 agent-hours under exists and the solver should find it or come close.

The plant is built by hand (each person one template, the same start every working day, 3-5 shifts in a week
that holds the spring-forward Sunday), not by a timed solve: a solver plant differs from run to run with the
machine's speed, and the test then measured a different instance each time (CI once failed on one). Everyone is
near the top of their contract band (36-40 h against 37 h +- 4 h), the case the search finds hardest (docs).

Tolerances, measured on the 2-core development machine (seeds 1-6, three of them with the other core busy):
- 10 staff, the bench's demand lowered to the plant's cover (``min``), one coverage model: 0 h under in every
  run, with or without the polish; allowed 0.5 h (two agent-intervals).
- 30 staff, every interval tight (``exact``), fill LNS plus polish: 0.0-1.0 h under of 1,048.5 h required;
  allowed 3.0 h. With the polish's moves disabled 6.0-7.5 h, so the test fails without them. With the polish's
  share of stage 2 at 0.7 (thirteenth session; its polish of 7 s is too short for window moves) 0.0-2.0 h.
- The same with a third of the staff 101-only and a 999 row, both rows tight to the plant (seeds 1-4, seed 2 four
  times with the other core busy): the pool 0.25-2.0 h under, the 999 row 1.75-4.5 h of 703.5 h; allowed 4.0 and
  10.0 h; with the polish's share at 0.7, seeds 2-6: 0.0-3.25 and 2.25-4.5 h (with 2-3 s of window moves
  squeezed in, before WINDOW_MIN_SECONDS: 1.25-4.75 and 3.75-10.25 h). With the polish's moves disabled
  8.75-10.25 and 58.75-72.75 h (the fill chases stage 1's counts per option, whoever works them).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.rostering import audit_roster, examples, parse_request, roster_coverage, solve_roster
from scheduling.rostering.examples import control_room_templates, request_body, requirement_rows, staff_rows
from scheduling.rostering.types import Assignment, BreakAssignment, RosterRequest

START = date(2027, 3, 22)  # Monday; Sunday 28 March 2027 is the spring-forward day (92 quarter-hours)
TZ = ZoneInfo("Europe/London")
# (template, shifts in the week): 8 h x 5 = 40 h, 10 h x 4 = 40 h, 12 h x 3 = 36 h, all inside 37 h +- 4 h
PLAN = [("early8", 5), ("late8", 5), ("night8", 5), ("day10", 4), ("evening10", 4), ("night10", 4),
        ("day12", 3), ("night12", 3), ("mid8", 5), ("twilight8", 5)]


def _hand_plant(request: RosterRequest) -> list[Assignment]:
    """A rule-abiding week: person i works PLAN[i]'s template at one start time (a different one for each lap of
    PLAN) on the days d with (d - i) mod 7 < its shift count; breaks at or 15 minutes after their earliest."""
    templates = {t.name: t for t in request.shift_templates}
    roster = []
    for i, person in enumerate(request.staff):
        name, shifts = PLAN[i % len(PLAN)]
        t = templates[name]
        starts = t.start_times()
        at = starts[(i // len(PLAN)) % len(starts)]
        for d in range(7):
            if (d - i) % 7 >= shifts:
                continue
            start = datetime.combine(START + timedelta(days=d), at, tzinfo=TZ).astimezone(UTC)
            late = 15 * ((i + d) % 2)
            breaks = tuple(
                BreakAssignment(start + timedelta(minutes=b.earliest_after_minutes + late),
                                start + timedelta(minutes=b.earliest_after_minutes + late + b.length_minutes))
                for b in t.breaks
            )
            roster.append(Assignment(person.id, name, start, start + timedelta(minutes=t.length_minutes), breaks))
    return roster


def _planted(n_staff: int, mode: str, skills: bool = False) -> RosterRequest:
    """A week for ``n_staff`` whose requirement the hand plant covers: its cover (exact) or a demand lowered to
    it where the plant falls short (min). ``skills``: every third person 101-only, and a 999 row (the plant's
    999-trained cover, or one at all times lowered to it)."""

    def demand(day: int, local: datetime) -> int:
        h = local.hour
        return 1 + (h >= 8) + (10 <= h < 20) + (12 <= h < 16) * (n_staff // 8)

    staff = staff_rows(n_staff)
    if skills:
        for i, s in enumerate(staff):
            s["skills"] = ["101"] if i % 3 == 0 else ["999", "101"]
    body = request_body(START, 7, control_room_templates(), staff, demand)
    if skills:
        body["requirements"] += [r | {"skill": "999"} for r in requirement_rows(START, 7, lambda d, t: 1)]
    request = parse_request(body)
    plant = _hand_plant(request)
    assert audit_roster(request, plant) == []
    planted = examples.planted(request, plant, mode)
    # the plant covers the planted requirement: recounted, so the optimum (0 under) is known, not assumed
    assert all(c.scheduled >= c.required for c in roster_coverage(planted, plant))
    assert all(v["scheduled"] >= v["required"] for c in roster_coverage(planted, plant) for v in c.skills.values())
    assert sum(r.required for r in planted.requirements) > 0
    return planted


def test_the_hand_plant_is_tight_where_exact() -> None:
    """The exact plant has no slack anywhere: every interval's requirement is what the plant puts on the phones."""
    planted = _planted(30, "exact")
    plant = _hand_plant(planted)
    assert all(c.scheduled == c.required for c in roster_coverage(planted, plant))


@pytest.mark.parametrize(("n_staff", "mode", "limit", "path", "tolerance_hours"), [
    (10, "min", 10.0, "one coverage model", 0.5),
    (30, "exact", 15.0, "fill stage-1 shifts by block LNS", 3.0),
])
def test_the_search_reaches_a_planted_optimum(
    n_staff: int, mode: str, limit: float, path: str, tolerance_hours: float
) -> None:
    planted = _planted(n_staff, mode)
    res = solve_roster(replace(planted, seed=2, time_limit_seconds=limit))
    assert res.kpis["stage2_mode"] == path
    assert res.violations == []
    assert res.kpis["under_coverage_lower_bound_agent_hours"] == pytest.approx(0, abs=1e-9)
    assert res.kpis["under_coverage_agent_hours"] <= tolerance_hours  # the optimum is 0 (module docstring)


def test_the_search_reaches_a_planted_optimum_with_a_skill_row() -> None:
    planted = _planted(30, "exact", skills=True)
    res = solve_roster(replace(planted, seed=2, time_limit_seconds=15.0))
    assert res.violations == [] and res.kpis["lp_bound_coverage_cost"] == pytest.approx(0, abs=1e-6)
    assert res.kpis["under_coverage_agent_hours"] <= 4.0
    assert res.kpis["skills"]["999"]["under_coverage_agent_hours"] <= 10.0  # the optimum is 0 for both rows
