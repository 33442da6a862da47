"""Input and output types of the rostering library: plain dataclasses mapping 1:1 onto the HTTP JSON body.

``RosterRequest.from_dict`` turns the JSON body into these types (raising ``RosterValidationError`` with
(field path, message) pairs for malformed fields); ``RosterResult.to_dict`` gives the JSON-ready result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

#: Letter that marks a rest day in a pattern cycle.
OFF_LETTER = "-"
#: Weekday names accepted in ``prefers.days_off`` (``date.weekday()`` order), full or first three letters.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class RosterValidationError(ValueError):
    """Bad input: ``errors`` is a list of (field path, message), e.g. ("staff[3].allowed_templates[0]", ...)."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in self.errors))


@dataclass(frozen=True)
class BreakRule:
    """One break of a shift: ``length_minutes`` starting between ``earliest_after`` and ``latest_after`` minutes
    after the shift's start (both inclusive)."""

    length_minutes: int
    earliest_after_minutes: int
    latest_after_minutes: int


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift type: starts at a local wall time in [start_earliest, start_latest] on a step, lasts
    ``length_minutes`` real minutes (so it may cross midnight and DST changes), with breaks off the phones."""

    name: str
    start_earliest: str
    start_latest: str
    start_step_minutes: int
    length_minutes: int
    breaks: tuple[BreakRule, ...] = ()

    def start_times(self) -> list[time]:
        """Local start times the template allows, earliest first."""
        first = _minutes(self.start_earliest)
        last = _minutes(self.start_latest)
        step = max(1, self.start_step_minutes)
        return [time(m // 60, m % 60) for m in range(first, last + 1, step)]


@dataclass(frozen=True)
class Period:
    """A half-open span of real time [start, end) with aware datetimes (leave, training, sickness)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class WorkedShift(Period):
    """A shift of the previous period (``Staff.worked_before``) with its breaks, where known: the person is off the
    phones for any interval of the roster a break touches."""

    breaks: tuple[Period, ...] = ()


@dataclass(frozen=True)
class Preferences:
    """Soft wishes of one person: templates they like (others cost a penalty) and days they would rather have
    off (weekday names such as "saturday"/"sat", or ISO dates)."""

    templates: tuple[str, ...] = ()
    days_off: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublishedShift:
    """A shift of the roster as published before a re-roster (``Staff.published``): a template and its start."""

    template: str
    start: datetime


@dataclass(frozen=True)
class Staff:
    """One PCRO. ``allowed_templates`` None means any template. ``pattern`` names a rotating pattern from the
    request (None: free rostering, or the optimiser's choice among the request's patterns when
    ``pattern_auto`` is set); ``pattern_offset`` None lets the optimiser choose where in the cycle they start."""

    id: str
    contract_minutes_per_week: int
    skills: tuple[str, ...] = ()
    unavailable: tuple[Period, ...] = ()
    allowed_templates: tuple[str, ...] | None = None
    prefers: Preferences = field(default_factory=Preferences)
    pattern: str | None = None
    pattern_offset: int | None = None
    pattern_auto: bool = False
    worked_before: tuple[WorkedShift, ...] = ()
    #: The person's shifts in the published roster this request re-rosters: kept where the optimiser can, each
    #: change (a shift moved, dropped or added on a day) a soft cost (``Weights.keep_published``). Empty: none.
    published: tuple[PublishedShift, ...] = ()


@dataclass(frozen=True)
class Rules:
    """Hard rules (UK Working Time Regulations defaults: 11 h daily rest, weekly rest, 48 h week).

    Days are local calendar days of the roster; a shift belongs to the day it starts on. "Per week" rules hold
    in every rolling 7-day window that lies inside the roster. The contract rule holds on the average week over
    the whole roster: |worked minutes / weeks - contract| <= tolerance, with the contract pro-rated for days
    wholly unavailable (leave); with ``RosterRequest.contract_period_start``, over the period from that day, the
    ``worked_before`` minutes since then counted."""

    min_rest_minutes: int = 660
    max_consecutive_days: int = 6
    min_days_off_per_week: int = 2
    max_minutes_per_week: int = 2880
    contract_tolerance_minutes: int = 240


@dataclass(frozen=True)
class Weights:
    """Weights of the soft rules (0 switches one off); see docs/rostering.md for the units."""

    night_fairness: float = 1.0
    weekend_fairness: float = 1.0
    stable_starts: float = 1.0
    preferences: float = 1.0
    keep_published: float = 1.0


@dataclass(frozen=True)
class Pattern:
    """A rotating pattern: ``cycle`` letters day by day ("-" = rest day), ``letters`` maps each working letter
    to the templates it allows, e.g. {"D": ["early", "day"], "N": ["night"]}."""

    name: str
    cycle: tuple[str, ...]
    letters: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class RequirementPoint:
    """Agents required on the phones in the interval starting at ``interval_start`` (an instant). Without a
    ``skill`` anyone on the phones counts (the pool); with one, only people who list that skill count, on top of
    the pool's requirement (e.g. at least 4 of the 12 on the phones trained for 999)."""

    interval_start: datetime
    required: int
    skill: str | None = None


@dataclass(frozen=True)
class RosterRequest:
    """A whole rostering problem (the body of POST /v1/rosters)."""

    start_date: date
    days: int
    interval_minutes: int
    timezone: str
    requirements: tuple[RequirementPoint, ...]
    shift_templates: tuple[ShiftTemplate, ...]
    staff: tuple[Staff, ...]
    rules: Rules = field(default_factory=Rules)
    weights: Weights = field(default_factory=Weights)
    patterns: tuple[Pattern, ...] = ()
    time_limit_seconds: float = 120.0
    seed: int = 0
    workers: int = 2
    #: Re-rostering the rest of a period: the first day of the period the contract band holds over (at most 14
    #: days before ``start_date``); each person's ``worked_before`` shifts from that day on count towards it.
    #: None: the band holds over this roster's days alone.
    contract_period_start: date | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RosterRequest:
        """Parse the JSON body; raises RosterValidationError naming every malformed field (types and formats
        only: call ``validate_request`` for the cross-field checks)."""
        return _Parser().request(data)


@dataclass(frozen=True)
class BreakAssignment:
    """A break taken: [start, end) as aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Assignment:
    """One shift worked by one person: template, [start, end) and the breaks within it."""

    staff_id: str
    template: str
    start: datetime
    end: datetime
    breaks: tuple[BreakAssignment, ...] = ()


@dataclass(frozen=True)
class CoveragePoint:
    """Per interval: required agents, agents on the phones (working and not on a break) and agents on break;
    ``carried_in``: of those on the phones, people still on a shift of the previous period (``worked_before``);
    ``skills``, where the request has skill requirements: per skill, {"required", "scheduled"} for the people on
    the phones who have it (the previous period's included)."""

    interval_start: datetime
    required: int
    scheduled: int
    on_break: int
    skills: dict[str, dict[str, int]] = field(default_factory=dict)
    carried_in: int = 0


@dataclass(frozen=True)
class Violation:
    """A hard rule broken by a roster, found by the independent audit."""

    rule: str
    staff_id: str | None
    message: str


@dataclass(frozen=True)
class Conflict:
    """Hard rules that cannot all hold: ``families`` are constraint families whose relaxation (one at a time)
    makes the named staff rosterable; empty when only relaxing several together would."""

    staff_id: str | None
    families: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Progress:
    """A progress report: stage name, fraction of the time budget used, elapsed seconds, and the best
    objective and bound of the current stage (None before the first solution)."""

    stage: str
    fraction: float
    elapsed_seconds: float
    best_objective: float | None
    best_bound: float | None


ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]


@dataclass
class RosterResult:
    """The outcome of a solve: the roster, its coverage, KPIs, the audit and any conflict diagnosis.

    ``status`` is one of OPTIMAL, FEASIBLE (time limit or gap), CANCELLED (best roster so far), CONFLICT (hard
    rules contradict each other: see ``conflicts``; no roster)."""

    status: str
    assignments: list[Assignment]
    coverage: list[CoveragePoint]
    kpis: dict[str, Any]
    violations: list[Violation]
    conflicts: list[Conflict] = field(default_factory=list)
    shortfall: list[dict[str, Any]] = field(default_factory=list)
    patterns_chosen: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601 strings with offsets)."""
        return _jsonable(dataclasses.asdict(self))


def _jsonable(value: Any) -> Any:
    """Recursively turn datetimes/dates into ISO strings and tuples into lists (json.dumps cannot)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _minutes(hhmm: str) -> int:
    """Minutes after midnight of an "HH:MM" string (validated elsewhere)."""
    t = time.fromisoformat(hhmm)
    return t.hour * 60 + t.minute


class _Parser:
    """Turns the JSON body into dataclasses, collecting (path, message) for each malformed field."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def request(self, data: Mapping[str, Any]) -> RosterRequest:
        if not isinstance(data, Mapping):
            raise RosterValidationError([("", "body must be an object")])
        start_date = self._date(data, "start_date", "start_date")
        days = self._int(data, "days", "days")
        interval = self._int(data, "interval_minutes", "interval_minutes", default=15)
        tz = self._str(data, "timezone", "timezone", default="Europe/London")
        reqs = tuple(
            self._requirement(item, f"requirements[{i}]") for i, item in enumerate(self._list(data, "requirements"))
        )
        templates = tuple(
            self._template(item, f"shift_templates[{i}]")
            for i, item in enumerate(self._list(data, "shift_templates"))
        )
        staff = tuple(self._staff(item, f"staff[{i}]") for i, item in enumerate(self._list(data, "staff")))
        rules = self._rules(data.get("rules") or {}, "rules")
        weights = self._weights(data.get("weights") or {}, "weights")
        patterns = tuple(
            self._pattern(item, f"patterns[{i}]") for i, item in enumerate(self._list(data, "patterns", required=False))
        )
        limit = self._num(data, "time_limit_seconds", "time_limit_seconds", default=120.0)
        seed = self._int(data, "seed", "seed", default=0)
        workers = self._int(data, "workers", "workers", default=2)
        period_start = (self._date(data, "contract_period_start", "contract_period_start")
                        if data.get("contract_period_start") is not None else None)
        if self.errors:
            raise RosterValidationError(self.errors)
        return RosterRequest(
            start_date=start_date,
            days=days,
            interval_minutes=interval,
            timezone=tz,
            requirements=reqs,
            shift_templates=templates,
            staff=staff,
            rules=rules,
            weights=weights,
            patterns=patterns,
            time_limit_seconds=limit,
            seed=seed,
            workers=workers,
            contract_period_start=period_start,
        )

    # -- field readers: each returns a placeholder and records an error when the field is bad --
    def _get(self, obj: Any, key: str, path: str, required: bool) -> Any:
        if not isinstance(obj, Mapping):
            self.errors.append((path.rsplit(".", 1)[0] if "." in path else path, "must be an object"))
            return None
        if key not in obj or obj[key] is None:
            if required:
                self.errors.append((path, "field required"))
            return None
        return obj[key]

    def _int(self, obj: Any, key: str, path: str, default: int | None = None) -> int:
        v = self._get(obj, key, path, default is None)
        if v is None:
            return default if default is not None else 0
        if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
            self.errors.append((path, "must be an integer"))
            return 0
        return int(v)

    def _num(self, obj: Any, key: str, path: str, default: float | None = None) -> float:
        v = self._get(obj, key, path, default is None)
        if v is None:
            return default if default is not None else 0.0
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.errors.append((path, "must be a number"))
            return 0.0
        return float(v)

    def _str(self, obj: Any, key: str, path: str, default: str | None = None) -> str:
        v = self._get(obj, key, path, default is None)
        if v is None:
            return default if default is not None else ""
        if not isinstance(v, str):
            self.errors.append((path, "must be a string"))
            return ""
        return v

    def _list(self, obj: Mapping[str, Any], key: str, required: bool = True, path: str | None = None) -> list[Any]:
        path = path or key
        v = self._get(obj, key, path, required)
        if v is None:
            return []
        if not isinstance(v, list | tuple):
            self.errors.append((path, "must be a list"))
            return []
        return list(v)

    def _date(self, obj: Any, key: str, path: str) -> date:
        v = self._str(obj, key, path)
        try:
            return date.fromisoformat(v)
        except ValueError:
            if v:
                self.errors.append((path, "must be an ISO date YYYY-MM-DD"))
            return date(2000, 1, 1)

    def _instant(self, obj: Any, key: str, path: str) -> datetime:
        v = self._get(obj, key, path, True)
        if isinstance(v, datetime):
            dt = v
        elif isinstance(v, str):
            try:
                dt = datetime.fromisoformat(v)
            except ValueError:
                self.errors.append((path, "must be an ISO 8601 datetime with an offset"))
                return datetime(2000, 1, 1).astimezone()
        else:
            if v is not None:
                self.errors.append((path, "must be an ISO 8601 datetime with an offset"))
            return datetime(2000, 1, 1).astimezone()
        if dt.tzinfo is None or dt.utcoffset() is None:
            self.errors.append((path, "must carry a UTC offset (an instant, not a wall time)"))
            return dt.astimezone()
        return dt

    def _hhmm(self, obj: Any, key: str, path: str) -> str:
        v = self._str(obj, key, path)
        try:
            t = time.fromisoformat(v)
            if t.second or t.microsecond or len(v) != 5:
                raise ValueError
        except ValueError:
            if v:
                self.errors.append((path, "must be a local time HH:MM"))
            return "00:00"
        return v

    def _names(self, obj: Any, key: str, path: str) -> tuple[str, ...] | None:
        v = self._get(obj, key, path, False)
        if v is None:
            return None
        if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
            self.errors.append((path, "must be a list of strings"))
            return ()
        return tuple(v)

    def _requirement(self, item: Any, path: str) -> RequirementPoint:
        skill = self._get(item, "skill", f"{path}.skill", False)
        if skill is not None and not isinstance(skill, str):
            self.errors.append((f"{path}.skill", "must be a string (a skill staff list) or null"))
            skill = None
        return RequirementPoint(
            interval_start=self._instant(item, "interval_start", f"{path}.interval_start"),
            required=self._int(item, "required", f"{path}.required"),
            skill=skill,
        )

    def _template(self, item: Any, path: str) -> ShiftTemplate:
        breaks = []
        for j, b in enumerate(self._list(item, "breaks", required=False, path=f"{path}.breaks")):
            bp = f"{path}.breaks[{j}]"
            breaks.append(
                BreakRule(
                    length_minutes=self._int(b, "length_minutes", f"{bp}.length_minutes"),
                    earliest_after_minutes=self._int(b, "earliest_after_minutes", f"{bp}.earliest_after_minutes"),
                    latest_after_minutes=self._int(b, "latest_after_minutes", f"{bp}.latest_after_minutes"),
                )
            )
        return ShiftTemplate(
            name=self._str(item, "name", f"{path}.name"),
            start_earliest=self._hhmm(item, "start_earliest", f"{path}.start_earliest"),
            start_latest=self._hhmm(item, "start_latest", f"{path}.start_latest"),
            start_step_minutes=self._int(item, "start_step_minutes", f"{path}.start_step_minutes", default=60),
            length_minutes=self._int(item, "length_minutes", f"{path}.length_minutes"),
            breaks=tuple(breaks),
        )

    def _staff(self, item: Any, path: str) -> Staff:
        unavailable = tuple(
            Period(
                start=self._instant(u, "start", f"{path}.unavailable[{j}].start"),
                end=self._instant(u, "end", f"{path}.unavailable[{j}].end"),
            )
            for j, u in enumerate(self._list(item, "unavailable", required=False, path=f"{path}.unavailable"))
        )
        worked_before = tuple(
            WorkedShift(
                start=self._instant(u, "start", f"{path}.worked_before[{j}].start"),
                end=self._instant(u, "end", f"{path}.worked_before[{j}].end"),
                breaks=tuple(
                    Period(
                        start=self._instant(b, "start", f"{path}.worked_before[{j}].breaks[{k}].start"),
                        end=self._instant(b, "end", f"{path}.worked_before[{j}].breaks[{k}].end"),
                    )
                    for k, b in enumerate(self._list(u, "breaks", required=False,
                                                     path=f"{path}.worked_before[{j}].breaks"))
                ),
            )
            for j, u in enumerate(self._list(item, "worked_before", required=False, path=f"{path}.worked_before"))
        )
        published = tuple(
            PublishedShift(
                template=self._str(u, "template", f"{path}.published[{j}].template"),
                start=self._instant(u, "start", f"{path}.published[{j}].start"),
            )
            for j, u in enumerate(self._list(item, "published", required=False, path=f"{path}.published"))
        )
        prefers_raw = self._get(item, "prefers", f"{path}.prefers", False) or {}
        prefers = Preferences(
            templates=self._names(prefers_raw, "templates", f"{path}.prefers.templates") or (),
            days_off=self._names(prefers_raw, "days_off", f"{path}.prefers.days_off") or (),
        )
        pattern = self._get(item, "pattern", f"{path}.pattern", False)
        offset = self._get(item, "pattern_offset", f"{path}.pattern_offset", False)
        auto = pattern == "auto"
        if pattern is not None and not isinstance(pattern, str):
            self.errors.append((f"{path}.pattern", "must be a pattern name or \"auto\""))
            pattern = None
        if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int)):
            self.errors.append((f"{path}.pattern_offset", "must be an integer"))
            offset = None
        return Staff(
            id=self._str(item, "id", f"{path}.id"),
            contract_minutes_per_week=self._int(item, "contract_minutes_per_week", f"{path}.contract_minutes_per_week"),
            skills=self._names(item, "skills", f"{path}.skills") or (),
            unavailable=unavailable,
            allowed_templates=self._names(item, "allowed_templates", f"{path}.allowed_templates"),
            prefers=prefers,
            pattern=None if auto else pattern,
            pattern_offset=offset,
            pattern_auto=auto,
            worked_before=worked_before,
            published=published,
        )

    def _rules(self, item: Any, path: str) -> Rules:
        d = Rules()
        return Rules(
            min_rest_minutes=self._int(item, "min_rest_minutes", f"{path}.min_rest_minutes", d.min_rest_minutes),
            max_consecutive_days=self._int(
                item, "max_consecutive_days", f"{path}.max_consecutive_days", d.max_consecutive_days
            ),
            min_days_off_per_week=self._int(
                item, "min_days_off_per_week", f"{path}.min_days_off_per_week", d.min_days_off_per_week
            ),
            max_minutes_per_week=self._int(
                item, "max_minutes_per_week", f"{path}.max_minutes_per_week", d.max_minutes_per_week
            ),
            contract_tolerance_minutes=self._int(
                item, "contract_tolerance_minutes", f"{path}.contract_tolerance_minutes", d.contract_tolerance_minutes
            ),
        )

    def _weights(self, item: Any, path: str) -> Weights:
        d = Weights()
        return Weights(
            **{f.name: self._num(item, f.name, f"{path}.{f.name}", getattr(d, f.name)) for f in dataclasses.fields(d)}
        )

    def _pattern(self, item: Any, path: str) -> Pattern:
        cycle = self._names(item, "cycle", f"{path}.cycle")
        if cycle is None:
            self.errors.append((f"{path}.cycle", "field required"))
        letters_raw = self._get(item, "letters", f"{path}.letters", True) or {}
        letters: dict[str, tuple[str, ...]] = {}
        if isinstance(letters_raw, Mapping):
            for k in letters_raw:
                letters[str(k)] = self._names(letters_raw, k, f"{path}.letters.{k}") or ()
        else:
            self.errors.append((f"{path}.letters", "must be an object mapping letters to template names"))
        return Pattern(name=self._str(item, "name", f"{path}.name"), cycle=cycle or (), letters=letters)
