"""Input validation: every problem with a request as (field path, message), so the API can answer 422 naming the
field. Checks here are about the input alone; rules that contradict each other are diagnosed by the solver."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduling.rostering.types import OFF_LETTER, WEEKDAYS, RosterRequest, RosterValidationError

MAX_DAYS = 84
INTERVAL_CHOICES = (5, 10, 15, 20, 30, 60)
MAX_SHIFT_MINUTES = 24 * 60
#: Size limits, so that a request too large to solve well is a clear 422 rather than a solve that runs out of
#: memory or time (docs/rostering.md, "Limits", has the measurements behind them). Shift options are template x
#: start time x day; person-options are staff x shift options, an upper bound on the solver's variables.
MAX_STAFF = 1_000
MAX_TEMPLATES = 100
MAX_SHIFT_OPTIONS = 20_000
MAX_PERSON_OPTIONS = 2_000_000


def validate_request(data: Mapping[str, Any] | RosterRequest) -> list[tuple[str, str]]:
    """All problems with a request (a JSON body or a parsed RosterRequest); an empty list means it can be solved."""
    if not isinstance(data, RosterRequest):
        try:
            data = RosterRequest.from_dict(data)
        except RosterValidationError as exc:
            return exc.errors
    return _Checker(data).run()


def parse_request(data: Mapping[str, Any]) -> RosterRequest:
    """Parse and validate a JSON body; raises RosterValidationError listing every bad field."""
    request = RosterRequest.from_dict(data)
    errors = validate_request(request)
    if errors:
        raise RosterValidationError(errors)
    return request


def _hhmm_minutes(s: str) -> int:
    t = time.fromisoformat(s)
    return t.hour * 60 + t.minute


#: How far back ``worked_before`` shifts may start (covers the longest rule: max_consecutive_days <= 14).
WORKED_BEFORE_DAYS = 14


class _Checker:
    """Cross-field checks of a parsed request."""

    def __init__(self, request: RosterRequest) -> None:
        self.r = request
        self.errors: list[tuple[str, str]] = []

    def err(self, path: str, msg: str) -> None:
        self.errors.append((path, msg))

    def run(self) -> list[tuple[str, str]]:
        r = self.r
        if not 1 <= r.days <= MAX_DAYS:
            self.err("days", f"must be between 1 and {MAX_DAYS}")
        if r.interval_minutes not in INTERVAL_CHOICES:
            self.err("interval_minutes", f"must be one of {INTERVAL_CHOICES}")
        try:
            tz = ZoneInfo(r.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.err("timezone", f"unknown IANA time zone {r.timezone!r}")
            tz = None
        if not 0 < r.time_limit_seconds <= 3600:
            self.err("time_limit_seconds", "must be > 0 and <= 3600")
        if not 1 <= r.workers <= 64:
            self.err("workers", "must be between 1 and 64")
        for f in ("night_fairness", "weekend_fairness", "stable_starts", "preferences", "keep_published"):
            if getattr(r.weights, f) < 0:
                self.err(f"weights.{f}", "must be >= 0")
        self.rules()
        if tz is not None and not any(p[0] in ("days", "interval_minutes") for p in self.errors):
            self.requirements(tz)
        templates = self.templates()
        patterns = self.patterns(templates)
        self.staff(templates, patterns)
        if r.contract_period_start is not None and not (
            timedelta(0) <= r.start_date - r.contract_period_start <= timedelta(days=WORKED_BEFORE_DAYS)
        ):
            self.err("contract_period_start", f"must be on or before start_date and at most {WORKED_BEFORE_DAYS} "
                                              "days before it (as far back as worked_before reaches)")
        if tz is not None and 1 <= r.days <= MAX_DAYS:
            self.worked_before(tz)
            self.published(tz, templates)
        if not self.errors:
            self.size()
        return self.errors

    def size(self) -> None:
        """The limits on staff, templates and shift options (MAX_*), checked on an otherwise valid request."""
        r = self.r
        if len(r.staff) > MAX_STAFF:
            self.err("staff", f"at most {MAX_STAFF} people per request, got {len(r.staff)}")
        if len(r.shift_templates) > MAX_TEMPLATES:
            self.err("shift_templates", f"at most {MAX_TEMPLATES} templates per request, got {len(r.shift_templates)}")
        per_day = sum(len(t.start_times()) for t in r.shift_templates)
        options = per_day * r.days
        if options > MAX_SHIFT_OPTIONS:
            self.err("shift_templates", f"{per_day} start times a day x {r.days} days = {options} shift options, "
                                        f"more than the {MAX_SHIFT_OPTIONS} a roster can be solved with: use fewer "
                                        "templates, narrower start windows, a larger start_step_minutes or fewer days")
        elif len(r.staff) * options > MAX_PERSON_OPTIONS:
            self.err("staff", f"{len(r.staff)} people x {options} shift options = {len(r.staff) * options}, more "
                              f"than the {MAX_PERSON_OPTIONS} a roster can be solved with: roster fewer people or "
                              "days at a time, or offer fewer start times")

    def worked_before(self, tz: ZoneInfo) -> None:
        """Shifts of the previous period: each starts before the roster and at most 14 days before it, lasts
        more than nothing and at most 24 hours; its breaks lie within it."""
        start = datetime.combine(self.r.start_date, time(0), tzinfo=tz).astimezone(UTC)
        for i, s in enumerate(self.r.staff):
            for j, w in enumerate(s.worked_before):
                path = f"staff[{i}].worked_before[{j}]"
                if not start - timedelta(days=WORKED_BEFORE_DAYS) <= w.start < start:
                    self.err(f"{path}.start", f"must be before the roster starts ({start.isoformat()}) and at most "
                                              f"{WORKED_BEFORE_DAYS} days before it")
                if not timedelta(0) < w.end - w.start <= timedelta(hours=24):
                    self.err(f"{path}.end", "must be after start and at most 24 hours after it")
                for k, b in enumerate(w.breaks):
                    if not w.start <= b.start < b.end <= w.end:
                        self.err(f"{path}.breaks[{k}]", "must start before it ends and lie within its shift "
                                                        f"({w.start.isoformat()} to {w.end.isoformat()})")

    def published(self, tz: ZoneInfo, templates: dict[str, int]) -> None:
        """Shifts of the published roster: a known template, started at one of its start times on a day of the
        roster (a shift option of this request), at most one per person and local day."""
        r = self.r
        for i, s in enumerate(r.staff):
            days_seen: set[int] = set()
            for j, ps in enumerate(s.published):
                path = f"staff[{i}].published[{j}]"
                if ps.template not in templates:
                    self.err(f"{path}.template", f"unknown template {ps.template!r}")
                    continue
                local = ps.start.astimezone(tz)
                day = (local.date() - r.start_date).days
                wall = local.time().replace(tzinfo=None)
                tpl = r.shift_templates[templates[ps.template]]
                if not 0 <= day < r.days:
                    self.err(f"{path}.start", "must be on a day of the roster")
                elif wall not in tpl.start_times() or datetime.combine(local.date(), wall, tzinfo=tz) != ps.start:
                    self.err(f"{path}.start", f"{local.isoformat()} is not a start time of template "
                                              f"{ps.template!r} ({tpl.start_earliest}-{tpl.start_latest} every "
                                              f"{tpl.start_step_minutes} min, local time)")
                elif day in days_seen:
                    self.err(f"{path}.start", f"a second published shift on local day {local.date().isoformat()}")
                days_seen.add(day)

    def rules(self) -> None:
        rules = self.r.rules
        for name in ("min_rest_minutes", "max_minutes_per_week", "contract_tolerance_minutes"):
            if getattr(rules, name) < 0:
                self.err(f"rules.{name}", "must be >= 0")
        if rules.max_consecutive_days < 1:
            self.err("rules.max_consecutive_days", "must be >= 1")
        if not 0 <= rules.min_days_off_per_week <= 7:
            self.err("rules.min_days_off_per_week", "must be between 0 and 7")

    def requirements(self, tz: ZoneInfo) -> None:
        r = self.r
        step = timedelta(minutes=r.interval_minutes)
        start = datetime.combine(r.start_date, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(r.start_date + timedelta(days=r.days), time(0), tzinfo=tz).astimezone(UTC)
        seen: dict[tuple[datetime, str | None], int] = {}
        held = {skill for s in r.staff for skill in s.skills}
        for i, req in enumerate(r.requirements):
            path = f"requirements[{i}]"
            if req.required < 0:
                self.err(f"{path}.required", "must be >= 0")
            if req.skill is not None and req.skill not in held:
                self.err(f"{path}.skill", f"no staff member lists skill {req.skill!r} in their skills")
            t = req.interval_start
            if not start <= t < end:
                self.err(f"{path}.interval_start", f"outside the roster ({start.isoformat()} to {end.isoformat()})")
            elif (t - start) % step:
                self.err(f"{path}.interval_start", f"not on the {r.interval_minutes}-minute grid")
            key = (t.astimezone(UTC), req.skill)
            if key in seen:
                self.err(f"{path}.interval_start", f"duplicate of requirements[{seen[key]}]"
                                                   + (f" (skill {req.skill!r})" if req.skill is not None else ""))
            else:
                seen[key] = i

    def templates(self) -> dict[str, int]:
        r = self.r
        iv = r.interval_minutes
        names: dict[str, int] = {}
        if not r.shift_templates:
            self.err("shift_templates", "at least one shift template is required")
        for i, t in enumerate(r.shift_templates):
            path = f"shift_templates[{i}]"
            if not t.name:
                self.err(f"{path}.name", "must not be empty")
            elif t.name in names:
                self.err(f"{path}.name", f"duplicate template name {t.name!r}")
            else:
                names[t.name] = i
            if t.start_step_minutes <= 0 or t.start_step_minutes % iv:
                self.err(f"{path}.start_step_minutes", f"must be a positive multiple of interval_minutes ({iv})")
            first, last = _hhmm_minutes(t.start_earliest), _hhmm_minutes(t.start_latest)
            if first % iv:
                self.err(f"{path}.start_earliest", f"must be on the {iv}-minute grid")
            if last < first:
                self.err(f"{path}.start_latest", "must not be before start_earliest (the same local day)")
            if not 0 < t.length_minutes <= MAX_SHIFT_MINUTES or t.length_minutes % iv:
                self.err(
                    f"{path}.length_minutes",
                    f"must be a positive multiple of interval_minutes ({iv}), at most {MAX_SHIFT_MINUTES}",
                )
            if t.length_minutes > self.r.rules.max_minutes_per_week:
                self.err(f"{path}.length_minutes", "longer than rules.max_minutes_per_week")
            prev_end = 0
            for j, b in enumerate(t.breaks):
                bp = f"{path}.breaks[{j}]"
                if b.length_minutes <= 0 or b.length_minutes % iv:
                    self.err(f"{bp}.length_minutes", f"must be a positive multiple of interval_minutes ({iv})")
                if b.earliest_after_minutes % iv or b.latest_after_minutes % iv:
                    self.err(f"{bp}.earliest_after_minutes", f"break window must be on the {iv}-minute grid")
                if b.earliest_after_minutes < prev_end:
                    self.err(f"{bp}.earliest_after_minutes", "break window overlaps the previous break's window")
                if b.latest_after_minutes < b.earliest_after_minutes:
                    self.err(f"{bp}.latest_after_minutes", "must not be before earliest_after_minutes")
                if b.latest_after_minutes + b.length_minutes > t.length_minutes:
                    self.err(f"{bp}.latest_after_minutes", "a break starting this late does not fit inside the shift")
                prev_end = b.latest_after_minutes + b.length_minutes
        return names

    def patterns(self, templates: dict[str, int]) -> dict[str, int]:
        names: dict[str, int] = {}
        for i, p in enumerate(self.r.patterns):
            path = f"patterns[{i}]"
            if not p.name or p.name == "auto":
                self.err(f"{path}.name", "must be a non-empty name other than 'auto'")
            elif p.name in names:
                self.err(f"{path}.name", f"duplicate pattern name {p.name!r}")
            else:
                names[p.name] = len(p.cycle)
            if not p.cycle:
                self.err(f"{path}.cycle", "must not be empty")
            if p.cycle and all(c == OFF_LETTER for c in p.cycle):
                self.err(f"{path}.cycle", "has no working day")
            for letter in sorted(set(p.cycle) - {OFF_LETTER}):
                if letter not in p.letters or not p.letters[letter]:
                    self.err(f"{path}.letters", f"letter {letter!r} of the cycle maps to no template")
            for letter, tpls in p.letters.items():
                for j, t in enumerate(tpls):
                    if t not in templates:
                        self.err(f"{path}.letters.{letter}[{j}]", f"unknown template {t!r}")
        return names

    def staff(self, templates: dict[str, int], patterns: dict[str, int]) -> None:
        r = self.r
        if not r.staff:
            self.err("staff", "at least one member of staff is required")
        counts = Counter(s.id for s in r.staff)
        for i, s in enumerate(r.staff):
            path = f"staff[{i}]"
            if not s.id:
                self.err(f"{path}.id", "must not be empty")
            elif counts[s.id] > 1:
                self.err(f"{path}.id", f"duplicate staff id {s.id!r}")
            if s.contract_minutes_per_week < 0:
                self.err(f"{path}.contract_minutes_per_week", "must be >= 0")
            for j, u in enumerate(s.unavailable):
                if u.end <= u.start:
                    self.err(f"{path}.unavailable[{j}].end", "must be after start")
            for j, t in enumerate(s.allowed_templates or ()):
                if t not in templates:
                    self.err(f"{path}.allowed_templates[{j}]", f"unknown template {t!r}")
            for j, t in enumerate(s.prefers.templates):
                if t not in templates:
                    self.err(f"{path}.prefers.templates[{j}]", f"unknown template {t!r}")
            for j, d in enumerate(s.prefers.days_off):
                if not _day_spec_ok(d):
                    self.err(f"{path}.prefers.days_off[{j}]", "must be a weekday name or an ISO date")
            if s.pattern is not None and s.pattern not in patterns:
                self.err(f"{path}.pattern", f"unknown pattern {s.pattern!r}")
            if s.pattern_auto and not r.patterns:
                self.err(f"{path}.pattern", "'auto' needs the request to define patterns")
            if s.pattern_offset is not None:
                if s.pattern is None:
                    self.err(f"{path}.pattern_offset", "given without a pattern")
                elif s.pattern in patterns and not 0 <= s.pattern_offset < patterns[s.pattern]:
                    self.err(f"{path}.pattern_offset", f"must be in 0..{patterns[s.pattern] - 1}")


def _day_spec_ok(spec: str) -> bool:
    """A weekday name (3+ letters) or an ISO date."""
    w = spec.strip().lower()
    if len(w) >= 3 and any(name.startswith(w) for name in WEEKDAYS):
        return True
    try:
        datetime.strptime(w, "%Y-%m-%d")
    except ValueError:
        return False
    return True
