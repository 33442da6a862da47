"""Schemas for roster requests (documented shape; the rostering library does the semantic checks) and results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.schemas.jobs import JobProgress, JobStatus
from app.schemas.staffing import StaffingTargets

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BreakIn(_Strict):
    """A break inside a shift: its length, and the window (minutes after the shift starts) it must start in."""

    length_minutes: int = Field(ge=5, le=240)
    earliest_after_minutes: int = Field(ge=0, le=1440)
    latest_after_minutes: int = Field(ge=0, le=1440)


class TemplateIn(_Strict):
    """A shift type: local start window on a step, length in real minutes (may cross midnight), breaks."""

    name: str = Field(min_length=1, max_length=40)
    start_earliest: str = Field(pattern=HHMM)
    start_latest: str = Field(pattern=HHMM)
    start_step_minutes: int = Field(30, ge=5, le=720)
    length_minutes: int = Field(ge=60, le=960)
    breaks: list[BreakIn] = Field(default_factory=list, max_length=6)


class PeriodIn(_Strict):
    """A span of real time [start, end): time a person cannot work (leave, training, sickness), or a break."""

    start: AwareDatetime
    end: AwareDatetime


class WorkedShiftIn(PeriodIn):
    """A shift of the previous period: [start, end), with its breaks where known."""

    breaks: list[PeriodIn] = Field(
        default_factory=list,
        max_length=6,
        description="The shift's breaks, each within it. Where it runs into the roster, its person is off the phones "
        "for every interval a break touches (coverage[].on_break); without them the person counts as on the phones "
        "throughout.",
    )


class PublishedShiftIn(_Strict):
    """A shift of the published roster being re-rostered: template name and start (a start time of the template)."""

    template: str = Field(min_length=1, max_length=64)
    start: AwareDatetime


class PrefersIn(_Strict):
    """Soft wishes: templates liked, days preferred off (weekday names or ISO dates)."""

    templates: list[str] = Field(default_factory=list, max_length=50)
    days_off: list[str] = Field(default_factory=list, max_length=100)


class StaffIn(_Strict):
    """One PCRO."""

    id: str = Field(min_length=1, max_length=64)
    contract_minutes_per_week: int = Field(ge=0, le=4800)
    skills: list[str] = Field(default_factory=list, max_length=20)
    unavailable: list[PeriodIn] = Field(default_factory=list, max_length=200)
    allowed_templates: list[str] | None = Field(None, max_length=50)
    prefers: PrefersIn | None = None
    pattern: str | None = Field(None, max_length=40, description='A pattern name, or "auto".')
    pattern_offset: int | None = Field(None, ge=0, le=365)
    published: list[PublishedShiftIn] = Field(
        default_factory=list,
        max_length=100,
        description="Re-rostering: the person's shifts in the published roster for these days (days not listed were "
        "days off). The optimiser keeps them where it can; each day changed (a shift moved, dropped or added) costs "
        "weights.keep_published x 1,000 units, as much as one agent short for one quiet interval. The result's "
        "kpis.published_changes counts what changed.",
    )
    worked_before: list[WorkedShiftIn] = Field(
        default_factory=list,
        max_length=100,
        description="Shifts worked in the 14 days before the roster (the previous period), so that rest, "
        "consecutive days, days off and the weekly maximum hold across the boundary. Days before the roster "
        "without a listed shift count as days off; without this list the roster starts clean. A shift that runs "
        "into the roster covers its first hours (on the phones but for its breaks, where given): "
        "coverage[].carried_in.",
    )


class RulesIn(_Strict):
    """Hard rules (UK Working Time Regulations defaults)."""

    min_rest_minutes: int = Field(660, ge=0, le=2880)
    max_consecutive_days: int = Field(6, ge=1, le=14)
    min_days_off_per_week: int = Field(2, ge=0, le=7)
    max_minutes_per_week: int = Field(2880, ge=60, le=10_080)
    contract_tolerance_minutes: int = Field(240, ge=0, le=2880)


class WeightsIn(_Strict):
    """Weights of the soft rules (0 switches one off)."""

    night_fairness: float = Field(1.0, ge=0, le=1000)
    weekend_fairness: float = Field(1.0, ge=0, le=1000)
    stable_starts: float = Field(1.0, ge=0, le=1000)
    preferences: float = Field(1.0, ge=0, le=1000)
    keep_published: float = Field(1.0, ge=0, le=1000, description="Re-rostering: per day changed from published.")


class PatternIn(_Strict):
    """A rotating pattern: one letter per day ("-" = rest), each working letter mapped to templates."""

    name: str = Field(min_length=1, max_length=40)
    cycle: list[str] = Field(min_length=1, max_length=56)
    letters: dict[str, list[str]]


class RequirementIn(_Strict):
    """Agents required on the phones in the interval starting at `interval_start`. Without `skill` anyone on the
    phones counts (the pool); with one, only staff who list that skill, on top of the pool's row."""

    interval_start: AwareDatetime
    required: int = Field(ge=0, le=10_000)
    skill: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        description="Only staff listing this skill count towards this row (e.g. \"999\": at least this many 999-"
        "trained PCROs on the phones); one row per interval and skill, besides the interval's pool row.",
    )


ROSTER_EXAMPLE: dict[str, Any] = {
    "start_date": "2027-01-04",
    "days": 7,
    "interval_minutes": 30,
    "timezone": "Europe/London",
    "requirements": [
        {
            "interval_start": f"2027-01-{4 + d:02d}T{h // 2:02d}:{30 * (h % 2):02d}:00+00:00",
            "required": 2 if 16 <= h < 40 else 1,
        }
        for d in range(7)
        for h in range(48)
    ],
    "shift_templates": [
        {
            "name": "early",
            "start_earliest": "06:00",
            "start_latest": "08:00",
            "start_step_minutes": 30,
            "length_minutes": 600,
            "breaks": [{"length_minutes": 30, "earliest_after_minutes": 180, "latest_after_minutes": 420}],
        },
        {
            "name": "night",
            "start_earliest": "20:00",
            "start_latest": "22:00",
            "start_step_minutes": 30,
            "length_minutes": 600,
            "breaks": [{"length_minutes": 30, "earliest_after_minutes": 180, "latest_after_minutes": 420}],
        },
    ],
    "staff": [
        {"id": f"PCRO-{i:03d}", "contract_minutes_per_week": 2220, "skills": ["999", "101"]} for i in range(1, 7)
    ],  # PCRO-001 ends a night at 07:00 on the first morning (worked_before, added below)
    "rules": {
        "min_rest_minutes": 660,
        "max_consecutive_days": 6,
        "min_days_off_per_week": 2,
        "max_minutes_per_week": 2880,
        "contract_tolerance_minutes": 600,
    },
    "time_limit_seconds": 20,
}
ROSTER_EXAMPLE["staff"][0]["worked_before"] = [
    {"start": "2027-01-03T21:00:00+00:00", "end": "2027-01-04T07:00:00+00:00",
     "breaks": [{"start": "2027-01-04T02:00:00+00:00", "end": "2027-01-04T02:30:00+00:00"}]}
]


class RosterCreate(_Strict):
    """A rostering problem. Give `requirements`, or `forecasts` (a forecast id per channel) with `targets` and
    `shrinkage` so the staffing engine derives them (shared pool, 999 first). Where staff list skills and some
    lack a forecast channel's code, that channel also gets a skill row: the agents it needs on its own."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ROSTER_EXAMPLE]})

    start_date: date
    days: int = Field(ge=1, le=84)
    contract_period_start: date | None = Field(
        None,
        description="Re-rostering the rest of a period: the period's first day (at most 14 days before start_date). "
        "Contracts then hold over the whole period, each person's worked_before shifts since that day counted.",
    )
    interval_minutes: Literal[15, 30, 60] = 15
    timezone: str = Field("Europe/London", max_length=64)
    requirements: list[RequirementIn] | None = Field(None, max_length=84 * 96 * 5)  # 84 days of 15 min, pool + 4 skills
    forecasts: dict[str, str] | None = Field(
        None, min_length=1, max_length=8, description="Channel -> forecast id (done)."
    )
    targets: dict[str, StaffingTargets] | None = Field(None, description="Per channel; default: the stored targets.")
    patience_seconds: dict[str, float] | None = Field(None, description="Per channel; default: from its data.")
    quantile: float | None = Field(None, gt=0, lt=1, description="Staff for forecast calls at this quantile.")
    shrinkage: float = Field(0.0, ge=0, lt=1, description="Absence not modelled by the roster (breaks are).")
    shift_templates: list[TemplateIn] = Field(min_length=1, max_length=50)
    staff: list[StaffIn] = Field(min_length=1, max_length=1000)
    rules: RulesIn = Field(default_factory=RulesIn)
    weights: WeightsIn = Field(default_factory=WeightsIn)
    patterns: list[PatternIn] = Field(default_factory=list, max_length=20)
    time_limit_seconds: float = Field(120, ge=1, le=3600)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class RosterOut(BaseModel):
    """A roster job: status and progress (elapsed, best objective, best bound) while solving; `result` when done."""

    id: str
    status: JobStatus
    progress: JobProgress | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None = None


class RosterList(BaseModel):
    """A page of rosters, newest first (no results)."""

    items: list[RosterOut]
    next_cursor: str | None
